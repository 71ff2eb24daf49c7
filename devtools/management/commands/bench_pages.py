"""Server time of the main customer pages over a large PostgreSQL data set (`make bench`).

Loads the reproducible demo data (100,000 customers, about 1,000,000 interactions by
default) unless the database already holds that many customers, then requests each
page a few hundred times through django.test.Client with varying realistic inputs and
prints p50/p95/max server time and the number of queries per request, beside each page's
floor: the SQL its requests ran, replayed as plain statements in the same run.
"""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse

from customers.models import Customer, Tag
from devtools import bench
from devtools.demo import seed_demo
from devtools.demo.customers import ensure_demo_users
from devtools.timeline_bench import busy_customer, deep_cursors, event_count

TARGET_P95_MS = 100.0
HISTORY_CUSTOMERS = 300  # of the sampled customers, edited so their 360° page shows history


class Command(BaseCommand):
    help = (
        "Load a large data set into PostgreSQL (unless present) and print p50/p95 server time "
        "and queries per request of the home page, the customer list, the 360° page and its "
        "timeline, and the global search, each beside its floor (its own SQL replayed)."
    )

    def add_arguments(self, parser):
        bench.add_count_options(parser, customers=100_000, interactions_per_customer=10, seed=42)
        parser.add_argument("--requests", type=int, default=300, help="Requests per page.")

    def handle(
        self,
        *args: str,
        customers: int,
        interactions_per_customer: int,
        requests: int,
        seed: int,
        verbosity: int,
        **options: object,
    ) -> None:
        bench.require_postgresql("bench_pages")
        if customers < 1 or requests < 1 or interactions_per_customer < 0:
            raise CommandError("--customers and --requests must be positive.")
        bench.ensure_database(self.stdout)
        call_command("migrate", interactive=False, verbosity=0)
        self._load(customers, interactions_per_customer, seed)

        rng = random.Random(seed)
        samples = _Samples.collect(rng)
        users = ensure_demo_users()
        _add_history(samples.customer_ids[:HISTORY_CUSTOMERS], rng)
        manager, rep = (
            bench.logged_in_client(users["manager"]),
            bench.logged_in_client(users["rep"]),
        )
        home = reverse("home")
        pages: list[tuple[str, Client, Callable[[], str]]] = [
            ("home", manager, lambda: home),
            ("home (rep)", rep, lambda: home),
            ("list: filtered", manager, lambda: samples.list_filtered_url(rng)),
            ("list: searched", manager, lambda: samples.list_searched_url(rng)),
            ("list: sorted, paged", manager, lambda: samples.list_sorted_url(rng)),
            ("list: mine (rep)", rep, lambda: samples.list_mine_url(rng)),
            ("360° page", manager, lambda: samples.detail_url(rng)),
            ("360° page (rep)", rep, lambda: samples.detail_url(rng)),
            ("global search", manager, lambda: samples.search_url(rng)),
            ("my tasks (rep)", rep, lambda: samples.my_tasks_url(rng)),
            *self._busy_timeline_pages(users, manager, rep, rng),
        ]
        self.stdout.write(f"Measuring {requests} requests per page (after a warm-up)...")
        results = [bench.measure(name, client, url, requests) for name, client, url in pages]
        floors = {r.name: bench.replay_floor(r) for r in results}
        bench.report(
            self,
            results,
            dict.fromkeys((r.name for r in results), TARGET_P95_MS),
            verbosity,
            floors=floors,
        )

    def _busy_timeline_pages(self, users, manager, rep, rng):
        """The 360° page of a customer with 10,000 events, and "Older" pages at any depth."""
        self.busy = busy_customer(users["rep"])
        self.stdout.write(
            f"Customer #{self.busy.pk}: {event_count(users['manager'], self.busy)} timeline events."
        )
        detail = reverse("customers:customer-detail", args=[self.busy.pk])
        older = reverse("customers:customer-timeline", args=[self.busy.pk])
        cursors = deep_cursors(users["manager"], self.busy)
        return [
            ("360°: 10,000 events", manager, lambda: detail),
            ("360°: 10k events (rep)", rep, lambda: detail),
            ("timeline: Older, 10k", manager,
             lambda: f"{older}?{urlencode({'before': rng.choice(cursors).encode()})}"),
        ]  # fmt: skip

    def _load(self, customers, interactions_per_customer, seed):
        existing = Customer.objects.count()
        if existing < customers:
            if existing:
                raise CommandError(
                    f"The database holds {existing} customers, fewer than --customers "
                    f"{customers}: drop it (dropdb {connection.settings_dict['NAME']}) or "
                    "ask for fewer customers."
                )
            self.stdout.write(
                f"Loading {customers} customers with about "
                f"{customers * interactions_per_customer} interactions..."
            )
            started = time.perf_counter()
            result = seed_demo(
                count=customers, interactions_per_customer=interactions_per_customer, seed=seed
            )
            loaded = time.perf_counter() - started
            self.stdout.write(
                f"Loaded {result.customers} customers, {result.interactions} interactions, "
                f"{result.tasks} tasks in {loaded:.1f} s."
            )
        else:
            self.stdout.write(f"The database already holds {existing} customers; not loading.")
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        self.stdout.write(f"VACUUM ANALYZE took {time.perf_counter() - started:.1f} s.")


def _add_history(customer_ids: list[int], rng: random.Random) -> None:
    """Edits (fields and tags), as simple-history records them; the seeder loads rows in bulk,
    without history. Each customer gets up to 25 entries, more than the 360° page shows."""
    tags = list(Tag.objects.all())
    for customer in Customer.objects.filter(pk__in=customer_ids):
        for n in range(25 - customer.history.count()):
            if n % 3 == 0:
                customer.tags.add(rng.choice(tags))
            elif n % 3 == 1:
                customer.tags.remove(rng.choice(tags))
            else:
                customer.stage = rng.choice(Customer.Stage.values)
                customer.notes = f"Called back ({n})."
                customer.save()


@dataclass
class _Samples:
    """Realistic inputs taken from the loaded data."""

    customer_ids: list[int]
    names: list[str]
    emails: list[str]
    phones: list[str]
    regions: list[str]
    owner_ids: list[int]
    tag_ids: list[int]
    page_count: int

    @classmethod
    def collect(cls, rng: random.Random, size: int = 2000) -> "_Samples":
        low, high = (
            Customer.objects.order_by("pk").values_list("pk", flat=True).first(),
            Customer.objects.order_by("-pk").values_list("pk", flat=True).first(),
        )
        if low is None or high is None:
            raise CommandError("There are no customers to sample: seed some first.")
        ids = sorted(rng.sample(range(low, high + 1), min(size, high - low + 1)))
        rows = list(Customer.objects.filter(pk__in=ids).values_list("pk", "name", "email", "phone"))
        total = Customer.objects.count()
        return cls(
            customer_ids=[row[0] for row in rows],
            names=[row[1] for row in rows],
            emails=[row[2] for row in rows if row[2]],
            phones=[row[3] for row in rows if row[3]],
            regions=sorted(
                Customer.objects.exclude(region="").values_list("region", flat=True).distinct()
            ),
            owner_ids=sorted(
                Customer.objects.exclude(owner=None)
                .values_list("owner_id", flat=True)
                .distinct()
                .order_by()
            ),
            tag_ids=list(Tag.objects.values_list("pk", flat=True)),
            page_count=max(1, -(-total // 25)),
        )

    # Inputs -------------------------------------------------------------------------------

    def name_fragment(self, rng) -> str:
        """What people type to find someone by name: its start, or a part of a word."""
        name = rng.choice(self.names)
        if not name.isascii():  # a Chinese surname, full name, or company name's start
            return name[: rng.choice((1, 2, 2, 3, 4))]
        words = [w for w in name.replace(",", " ").split() if len(w) >= 4] or [name]
        word = rng.choice(words)
        start = rng.choice((0, 0, rng.randrange(max(1, len(word) - 3))))
        return word[start : start + rng.randint(3, 6)].lower()

    def email_fragment(self, rng) -> str:
        email = rng.choice(self.emails)
        local, _, domain = email.partition("@")
        kind = rng.random()
        if kind < 0.4:
            return local[: rng.randint(4, len(local))]
        if kind < 0.7:
            return local
        return email if kind < 0.95 else domain  # a free-mail domain matches a third of all

    def phone_fragment(self, rng) -> str:
        digits = rng.choice(self.phones).rsplit(" ", 1)[-1]
        length = rng.randint(4, len(digits))
        start = rng.randrange(len(digits) - length + 1)
        return digits[start : start + length]

    def search_term(self, rng) -> str:
        kind = rng.random()
        if kind < 0.5:
            return self.name_fragment(rng)
        if kind < 0.75:
            return self.email_fragment(rng)
        return self.phone_fragment(rng)

    def page(self, rng, pages: int) -> int:
        """Mostly the first pages; a quarter of the requests go deep, a tenth to the last."""
        kind = rng.random()
        if kind < 0.75:
            return rng.randint(1, min(pages, 3))
        if kind < 0.9:
            return rng.randint(1, pages)
        return pages  # "Last"; past a filtered list's end, the view shows its last page

    # URLs ---------------------------------------------------------------------------------

    def _list_url(self, params: list[tuple[str, object]]) -> str:
        url = reverse("customers:customer-list")
        return f"{url}?{urlencode(params)}" if params else url

    def _filters(self, rng, *, by_owner=True) -> list[tuple[str, object]]:
        choices = [
            lambda: [("stage", s) for s in rng.sample(Customer.Stage.values, rng.randint(1, 2))],
            lambda: [("region", rng.choice(self.regions))],
            lambda: [("tags", t) for t in rng.sample(self.tag_ids, rng.randint(1, 2))],
            lambda: [("is_key_account", "true")],
            lambda: [("kind", rng.choice(Customer.Kind.values))],
        ]
        if by_owner:
            choices.append(lambda: [("owner", rng.choice(self.owner_ids))])
        params = []
        for make in rng.sample(choices, rng.choice((1, 1, 2, 3))):
            params += make()
        return params

    def list_filtered_url(self, rng) -> str:
        params = self._filters(rng)
        if rng.random() < 0.5:
            params.append(("sort", rng.choice(("name", "-updated", "region", "-name"))))
        params.append(("page", self.page(rng, max(1, self.page_count // 10))))
        return self._list_url(params)

    def list_searched_url(self, rng) -> str:
        params: list[tuple[str, object]] = [("q", self.search_term(rng))]
        if rng.random() < 0.3:
            params += self._filters(rng)
        if rng.random() < 0.3:
            params.append(("sort", rng.choice(("name", "-updated", "region"))))
        if rng.random() < 0.2:
            params.append(("page", rng.randint(2, 4)))
        return self._list_url(params)

    def list_sorted_url(self, rng) -> str:
        sorts = ("name", "-name", "-updated", "updated", "region", "-created")
        params = [("sort", rng.choice(sorts))]
        params.append(("page", self.page(rng, self.page_count)))
        return self._list_url(params)

    def list_mine_url(self, rng) -> str:
        params: list[tuple[str, object]] = [("mine", "true")]
        if rng.random() < 0.4:
            params += self._filters(rng, by_owner=False)
        if rng.random() < 0.3:
            params.append(("q", self.search_term(rng)))
        if rng.random() < 0.5:
            params.append(("sort", rng.choice(("name", "-updated", "region"))))
        params.append(("page", self.page(rng, max(1, self.page_count // 3))))
        return self._list_url(params)

    def detail_url(self, rng) -> str:
        return reverse("customers:customer-detail", args=[rng.choice(self.customer_ids)])

    def search_url(self, rng) -> str:
        return f"{reverse('customers:search')}?{urlencode({'q': self.search_term(rng)})}"

    def my_tasks_url(self, rng) -> str:
        params = {"show": rng.choice(("open", "open", "all"))}
        if rng.random() < 0.3:
            params["page"] = rng.randint(1, 20)
        return f"{reverse('customers:my-tasks')}?{urlencode(params)}"
