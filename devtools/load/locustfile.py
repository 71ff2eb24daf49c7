"""The users of `make bench-load`: a sales rep, a service agent, a marketer and a manager,
each logging in through the login form and spending a working day's clicks on their pages.

Run by `manage.py bench_load` (which starts gunicorn, Celery and this file) with:
    LOAD_WRITES_FILE  where every write is recorded (kind, marker, outcome) as JSON lines
    LOAD_STATS_FILE   where the statistics per page are written at the end (JSON)
    LOAD_RUN          this run's id, part of every write's marker
    LOAD_PASSWORD     the demo users' password
    LOAD_WAIT         "min,max" seconds a user thinks between clicks
    LOAD_SECONDS      how long the users work once every one of them has logged in
    LOAD_FLOOR=1      only the floor: the same users asking /healthz (for --run-time)

Logging in hashes the password (PBKDF2, about a second of CPU by design), so 32 users
logging in at once would fill the first half minute: the users wait until all have logged
in, the statistics start afresh then, and the run lasts LOAD_SECONDS from there; each user
thinks once before its first click. The login phase is written to LOAD_WRITES_FILE as kind
"logins".

Every write carries a marker `<LOAD_RUN>-<uuid>` in its text (a deal move is known by its
deal and target stage), so the command can count afterwards what landed in the database.
"""

import json
import os
import random
import re
import time
import uuid
from itertools import count

import gevent
from gevent.event import Event
from locust import HttpUser, between, events, task

from devtools.load.pages import board, csrf_token, form_posting_to, ids_linked

RUN = os.environ.get("LOAD_RUN", "LOAD-adhoc")
PASSWORD = os.environ.get("LOAD_PASSWORD", "demo")
WAIT_MIN, WAIT_MAX = (float(x) for x in os.environ.get("LOAD_WAIT", "1,3").split(","))
FLOOR = os.environ.get("LOAD_FLOOR") == "1"
SECONDS = float(os.environ.get("LOAD_SECONDS", "60"))
KNOWLEDGE_WORDS = ["password", "invoice", "refund", "account", "card", "shipping", "退款"]
_writes_file = None


def record_write(kind: str, outcome: str, marker: str = "", **extra: object) -> None:
    """One JSON line per write: outcome "ok", "conflict" (a refused concurrent edit) or "error"."""
    global _writes_file
    path = os.environ.get("LOAD_WRITES_FILE")
    if not path:
        return
    if _writes_file is None:
        _writes_file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - kept for the run
    line = {"kind": kind, "outcome": outcome, "marker": marker, **extra}
    _writes_file.write(json.dumps(line) + "\n")
    _writes_file.flush()


class LoginPhase:
    """Holds every user until all have logged in, then starts the measured run."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.done, self.failed = 0, 0
        self.all_in = Event()

    def logged_in(self, user: HttpUser, ok: bool) -> None:
        self.done += 1
        self.failed += not ok
        if self.done >= user.environment.parsed_options.num_users and not self.all_in.is_set():
            # `at`: when the measured run starts (the command reads the servers' CPU from then).
            record_write("logins", "ok" if not self.failed else "error", users=self.done,
                         failed=self.failed, seconds=round(time.monotonic() - self.started, 1),
                         at=time.time())  # fmt: skip
            runner = user.environment.runner
            runner.stats.reset_all()
            gevent.spawn_later(SECONDS, runner.quit)
            self.all_in.set()
        self.all_in.wait()
        # Then each reads the page the login led to before the first click, as between any
        # two clicks: released together, 32 users would all click in the same instant, a
        # burst no working day has, and its queue would be most of the run's p95.
        gevent.sleep(random.uniform(WAIT_MIN, WAIT_MAX))


login_phase = LoginPhase()


@events.quitting.add_listener
def write_stats(environment, **_kwargs) -> None:
    """Requests, failures, requests/s and percentiles per page ("Aggregated" last), and the
    exceptions a user's code raised (those are no request, so no failure in the table)."""
    path = os.environ.get("LOAD_STATS_FILE")
    stats = environment.runner.stats
    if not path or stats is None:
        return
    pages = [
        {"method": e.method or "", "name": e.name, "requests": e.num_requests,
         "failures": e.num_failures, "rps": e.total_rps,
         "p50": e.get_response_time_percentile(0.5), "p95": e.get_response_time_percentile(0.95),
         "p99": e.get_response_time_percentile(0.99), "max": e.max_response_time or 0}
        for e in [*sorted(stats.entries.values(), key=lambda e: e.name), stats.total]
        if e.num_requests
    ]  # fmt: skip
    exceptions = [e["msg"] for e in environment.runner.exceptions.values()]
    with open(path, "w", encoding="utf-8") as file:
        json.dump({"pages": pages, "exceptions": exceptions}, file)


_request_numbers = count()


def labelled(name: str) -> dict[str, str]:
    """An X-Request-ID naming the page: gunicorn's access log shows it beside the time the
    request spent in the worker (a redirect followed keeps it), so the command can tell the
    server's time from the time waiting for a free worker."""
    return {"X-Request-ID": f"load:{name}:{next(_request_numbers)}"}


def new_marker() -> str:
    return f"{RUN}-{uuid.uuid4().hex[:12]}"


class CrmUser(HttpUser):
    abstract = True
    wait_time = between(WAIT_MIN, WAIT_MAX)
    logins: tuple[str, ...] = ()
    _next = count()

    def on_start(self) -> None:
        self.username = self.logins[next(self._next) % len(self.logins)]
        self.customer_ids: list[int] = []
        self.csrf = ""
        if FLOOR:
            return
        ok = False
        try:
            page = self.client.get("/accounts/login/", name="login", headers=labelled("login"))
            data = {"username": self.username, "password": PASSWORD}
            data["csrfmiddlewaretoken"] = csrf_token(page.text)
            with self.client.post(
                "/accounts/login/", data=data, name="login", catch_response=True,
                headers=labelled("login"),
            ) as response:  # fmt: skip
                ok = response.status_code == 200 and "/accounts/login/" not in response.url
                if not ok:
                    response.failure(f"{self.username} could not log in")
        finally:  # counted even when the login raised, or the others would wait for it
            login_phase.logged_in(self, ok)

    def page(self, url: str, name: str) -> str:
        """GET a page and the panels it loads at once (hx-trigger="load"), as a browser does."""
        with self.client.get(
            url, name=name, catch_response=True, headers=labelled(name)
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
                return ""
            html = response.text
        self.csrf = csrf_token(html) or self.csrf
        for panel in _loaded_panels(html):
            self.client.get(panel, name=f"{name} panel", headers=labelled(f"{name} panel"))
        return html

    def post_form(
        self, html: str, action: str, label: str, write: str, values: dict[str, str],
        marker: str, page_url: str = "",
    ) -> None:  # fmt: skip
        """Fill in the page's form posting to `action` (or the form posting to `page_url`
        itself) with `values` over its defaults, submit it, and record the outcome."""
        form = form_posting_to(html, action)
        if form is None:
            return  # not the user's to change (read-only for this role): nothing sent
        url = form.action or page_url
        with self.client.post(url, data=form.data(**values), name=label, catch_response=True,
                              headers=labelled(label)) as r:  # fmt: skip
            # Saved: a redirect to the page that shows it; a form with errors comes back
            # without one (422 or 200), which a user would see as "it did not save".
            if r.status_code == 200 and r.history:
                record_write(write, "ok", marker)
            else:
                r.failure(f"{r.status_code}" if r.status_code >= 400 else "form refused")
                record_write(write, "error", marker, status=r.status_code)

    # Shared pages

    def customer_list(self, mine: bool = False) -> None:
        query = f"?page={random.randint(1, 20)}" + ("&mine=true" if mine else "")
        html = self.page(f"/customers/{query}", "customer list")
        self.customer_ids = ids_linked(html, "/customers/") or self.customer_ids

    def customer_360(self) -> str:
        if not self.customer_ids:
            self.customer_list(mine=True)
        if not self.customer_ids:
            return ""
        pk = random.choice(self.customer_ids)
        return self.page(f"/customers/{pk}/", "customer 360")

    def log_interaction(self) -> None:
        html = self.customer_360()
        marker = new_marker()
        summary = f"Called about the order; {marker}"
        self.post_form(html, "/interactions/", "log interaction", "interaction",
                       {"summary": summary}, marker)  # fmt: skip

    def create_task(self) -> None:
        html = self.customer_360()
        marker = new_marker()
        self.post_form(html, "/tasks/", "create task", "task",
                       {"title": f"Follow up {marker}"}, marker)  # fmt: skip

    def move_deal(self) -> None:
        html = self.page("/sales/board/", "board")
        b = board(html)
        if not b.cards or len(b.open_stages) < 2:
            return
        card = random.choice(b.cards)
        stage = random.choice([s for s in b.open_stages if s != card.stage])
        data = {"stage": str(stage), "version": card.version, "lost_reason": "", "owner": ""}
        headers = {"X-CSRFToken": self.csrf, "Accept": "application/json", **labelled("move deal")}
        with self.client.post(f"/sales/deals/{card.deal}/move/", data=data, headers=headers,
                              name="move deal", catch_response=True) as r:  # fmt: skip
            outcome = "ok" if r.status_code == 200 else "error"
            if r.status_code == 409:  # someone moved it since the board was drawn: refused
                outcome = "conflict"
                r.success()
            elif outcome == "error":
                r.failure(f"{r.status_code}")
            record_write("deal move", outcome, deal=card.deal, stage=stage)


def _loaded_panels(html: str) -> list[str]:
    return re.findall(r'hx-get="([^"]+)" hx-trigger="load"', html)


class FloorUser(HttpUser):
    """The floor: the same number of users asking the cheapest page there is."""

    abstract = not FLOOR
    wait_time = between(WAIT_MIN, WAIT_MAX)

    @task
    def healthz(self) -> None:
        self.client.get("/healthz", name="floor /healthz", headers=labelled("floor /healthz"))


class SalesRep(CrmUser):
    abstract = FLOOR
    weight = 3
    logins = ("rep", "rep2")

    @task(2)
    def home(self) -> None:
        self.page("/", "home")

    @task(3)
    def customers(self) -> None:
        self.customer_list(mine=random.random() < 0.7)

    @task(4)
    def customer(self) -> None:
        self.customer_360()

    @task(2)
    def the_board(self) -> None:
        self.page("/sales/board/", "board")

    @task(2)
    def deals(self) -> None:
        self.page(f"/sales/deals/?page={random.randint(1, 5)}", "deal list")

    @task(1)
    def forecast(self) -> None:
        self.page("/sales/forecast/", "forecast")

    @task(1)
    def my_tasks(self) -> None:
        self.page("/customers/tasks/", "my tasks")

    @task(3)
    def interaction(self) -> None:
        self.log_interaction()

    @task(2)
    def follow_up(self) -> None:
        self.create_task()

    @task(2)
    def move(self) -> None:
        self.move_deal()

    @task(1)
    def new_customer(self) -> None:
        html = self.page("/customers/new/", "new customer form")
        marker = new_marker()
        self.post_form(html, "", "create customer", "customer",
                       {"name": f"Load test company {marker}"}, marker, "/customers/new/")  # fmt: skip


class ServiceAgent(CrmUser):
    abstract = FLOOR
    weight = 3
    logins = ("agent",)

    def on_start(self) -> None:
        super().on_start()
        self.ticket_ids: list[int] = []

    @task(4)
    def queue(self) -> None:
        html = self.page(f"/service/tickets/?page={random.randint(1, 3)}", "ticket queue")
        self.ticket_ids = ids_linked(html, "/service/tickets/") or self.ticket_ids

    def ticket_page(self) -> tuple[int, str]:
        if not self.ticket_ids:
            self.queue()
        if not self.ticket_ids:
            return 0, ""
        pk = random.choice(self.ticket_ids)
        return pk, self.page(f"/service/tickets/{pk}/", "ticket page")

    @task(4)
    def ticket(self) -> None:
        self.ticket_page()

    @task(3)
    def reply(self) -> None:
        _pk, html = self.ticket_page()
        marker = new_marker()
        kind = random.choice(["public", "internal"])
        body = f"Thank you, we are on it. {marker}"
        self.post_form(html, "/reply/", "reply to ticket", "ticket reply",
                       {"kind": kind, "body": body}, marker)  # fmt: skip

    @task(3)
    def knowledge(self) -> None:
        self.page(f"/knowledge/?q={random.choice(KNOWLEDGE_WORDS)}", "knowledge search")

    @task(2)
    def customer(self) -> None:
        self.customer_360()

    @task(1)
    def customers(self) -> None:
        self.customer_list()

    @task(1)
    def service_report(self) -> None:
        self.page("/analytics/service/", "service dashboard")


class Marketer(CrmUser):
    abstract = FLOOR
    weight = 1
    logins = ("marketer",)

    @task(3)
    def campaigns(self) -> None:
        html = self.page("/marketing/campaigns/", "campaign list")
        ids = ids_linked(html, "/marketing/campaigns/")
        if ids:
            self.page(f"/marketing/campaigns/{random.choice(ids)}/", "campaign page")

    @task(2)
    def segments(self) -> None:
        self.page("/analytics/segments/", "segments dashboard")

    @task(1)
    def value(self) -> None:
        self.page("/analytics/value/", "value dashboard")

    @task(1)
    def matrix(self) -> None:
        self.page("/marketing/campaigns/channel-segment/", "channel x segment")

    @task(1)
    def customers(self) -> None:
        self.customer_list()

    @task(1)
    def new_campaign(self) -> None:
        html = self.page("/marketing/campaigns/new/", "new campaign form")
        marker = new_marker()
        self.post_form(html, "", "create campaign", "campaign",
                       {"name": f"Spring offer {marker}"}, marker, "/marketing/campaigns/new/")  # fmt: skip


class Manager(CrmUser):
    abstract = FLOOR
    weight = 1
    logins = ("manager",)

    @task(2)
    def home(self) -> None:
        self.page("/", "home")

    @task(2)
    def dashboards(self) -> None:
        name, url = random.choice(
            [("segments dashboard", "/analytics/segments/"), ("value dashboard", "/analytics/value/"),
             ("pipeline dashboard", "/analytics/pipeline/"), ("service dashboard", "/analytics/service/")]
        )  # fmt: skip
        self.page(url, name)

    @task(2)
    def forecast(self) -> None:
        self.page("/sales/forecast/", "forecast")

    @task(1)
    def the_board(self) -> None:
        self.page("/sales/board/?owner=all", "board")

    @task(1)
    def deals(self) -> None:
        self.page("/sales/deals/", "deal list")

    @task(1)
    def queue(self) -> None:
        self.page("/service/tickets/", "ticket queue")

    @task(2)
    def customer(self) -> None:
        self.customer_360()

    @task(1)
    def move(self) -> None:
        self.move_deal()

    @task(1)
    def follow_up(self) -> None:
        self.create_task()

    @task(1)
    def interaction(self) -> None:
        self.log_interaction()
