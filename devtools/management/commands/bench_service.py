"""Server time of the service desk over a large PostgreSQL data set (`manage.py bench_service`).

Loads with COPY (once; a second run finds the data and measures at once) 200,000 open
tickets with about two messages each on at least 20,000 customers, 20,000 resolved ones,
and 10,000 knowledge articles; then measures p95 server time and queries per request of the
agent queue, the ticket page and the knowledge-base search, and times the escalation job
over the open tickets, twice (the second run must find nothing new). The escalation runs
in a transaction that is rolled back afterwards, so every bench run measures the same work.
"""

import random
import time
from datetime import timedelta
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from faker import Faker

from crm import roles
from crm.lib.bulk import bulk_insert
from customers.models import Customer
from devtools import bench
from devtools.demo import seed_demo
from devtools.demo.customers import ensure_demo_users
from service.escalation import escalate_tickets
from service.knowledge_models import forget_suggestions
from service.models import KnowledgeArticle, SLAPolicy, Team, Ticket, TicketMessage

TARGET_MS = 100.0
AGENTS = 20
BENCH_SUBJECT = "[bench] "
TICKET_FIELDS = [
    "customer_id", "subject", "description", "channel", "category", "priority", "status",
    "assignee_id", "team_id", "root_cause", "first_response_due", "resolution_due",
    "first_responded_at", "sla_paused_at", "first_response_at_risk_at", "resolution_at_risk_at",
    "sla_paused_minutes", "resolved_at", "closed_at", "version", "created_at", "updated_at",
]  # fmt: skip
MESSAGE_FIELDS = ["ticket_id", "kind", "author_id", "from_customer", "body", "created_at"]
ARTICLE_FIELDS = [
    "title", "body", "category_id", "is_published", "helpful_votes", "not_helpful_votes",
    "view_count", "author_id", "created_at", "updated_at",
]  # fmt: skip
PRIORITIES = [("low", 20), ("normal", 50), ("high", 22), ("urgent", 8)]
CHINESE = ["打印机", "发票", "退款", "密码 重置"]
PROBLEMS = ["cannot log in", "invoice is wrong", "parcel is late", "router keeps rebooting",
            "refund not received", "printer offline", "password reset fails", "app crashes",
            "无法登录", "发票金额错误", "包裹延迟", "退款未到账"]  # fmt: skip


class Command(BaseCommand):
    help = "Load many tickets and articles into PostgreSQL; print p95 of the service pages."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=200_000, help="Open tickets.")
        bench.add_count_options(
            parser, resolved=20_000, articles=10_000, customers=20_000, requests=200, seed=11
        )
        parser.add_argument("--skip-escalation", action="store_true")

    def handle(self, *args, tickets, resolved, articles, customers, requests, seed, **options):
        bench.require_postgresql("bench_service")
        bench.ensure_database(self.stdout)
        call_command("migrate", interactive=False, verbosity=0)
        rng = random.Random(seed)
        users = ensure_demo_users()
        agents = [users["agent"], *_bench_agents()]
        team, _created = Team.objects.get_or_create(name="Support")
        if team.manager_id is None:
            team.manager = users["manager"]
            team.save(update_fields=["manager"])
        if Customer.objects.count() < customers:
            self._timed("customers", lambda: seed_demo(
                count=customers - Customer.objects.count(), interactions_per_customer=1, seed=seed))  # fmt: skip
        loaded = Ticket.objects.filter(subject__startswith=BENCH_SUBJECT).count()
        if loaded < tickets + resolved:
            self._timed("tickets", lambda: _load_tickets(
                rng, tickets + resolved - loaded, resolved / (tickets + resolved), agents, team))  # fmt: skip
        if KnowledgeArticle.objects.count() < articles:
            self._timed("articles", lambda: _load_articles(
                rng, articles - KnowledgeArticle.objects.count(), users["agent"]))  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        results = self._pages(rng, users, requests)
        bench.report(self, results, dict.fromkeys((r.name for r in results), TARGET_MS), options["verbosity"])  # fmt: skip
        if not options["skip_escalation"]:
            self._escalation()

    def _timed(self, what, load):
        self.stdout.write(f"Loading {what}...")
        started = time.perf_counter()
        load()
        self.stdout.write(f"Loaded {what} in {time.perf_counter() - started:.1f} s.")

    def _pages(self, rng, users, requests):
        agent, manager = (
            bench.logged_in_client(users["agent"]),
            bench.logged_in_client(users["manager"]),
        )
        host = manager.defaults["HTTP_HOST"]
        visitor = Client(HTTP_HOST=host)
        open_ids = list(Ticket.objects.filter(status="open").values_list("pk", flat=True)[:5000])
        words = _search_words(rng)
        queue = reverse("service:ticket-list")

        def filtered():
            return queue + "?" + urlencode({
                "view": "open", "priority": rng.choice(["high", "urgent", "normal"]),
                "status": rng.choice(["open", "new", "waiting"]), "page": rng.randint(1, 3)})  # fmt: skip

        def search(name):
            # One search in ten is in Chinese (a substring match, no index).
            text = rng.choice(CHINESE) if rng.random() < 0.1 else " ".join(rng.sample(words, rng.randint(1, 2)))  # fmt: skip
            return reverse(name) + "?" + urlencode({"q": text})

        pages = [
            ("queue: my open", agent, lambda: queue + f"?page={rng.randint(1, 3)}"),
            ("queue: unassigned", agent, lambda: queue + "?view=unassigned"),
            ("queue: filtered", manager, filtered),
            (
                "ticket page",
                agent,
                lambda: reverse("service:ticket-detail", args=[rng.choice(open_ids)]),
            ),  # fmt: skip
            ("help search", visitor, lambda: search("help:home")),
            ("knowledge list search", agent, lambda: search("knowledge:article-list")),
            (
                "help suggestions",
                visitor,
                lambda: (
                    reverse("help:suggest")
                    + "?"
                    + urlencode(
                        {
                            "subject": rng.choice(PROBLEMS),
                            "description": " ".join(rng.sample(words, 12)),
                        }
                    )
                ),
            ),  # fmt: skip
        ]
        self.stdout.write(f"Measuring {requests} requests per page (after a warm-up)...")
        return [bench.measure(name, client, url, requests) for name, client, url in pages]

    def _escalation(self):
        open_count = Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES).count()
        self.stdout.write(f"\nEscalation job over {open_count} open tickets (rolled back after):")
        dummy_mail = override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend")
        with dummy_mail, transaction.atomic():
            for run in ("first run", "second run"):
                started = time.perf_counter()
                counts = escalate_tickets()
                self.stdout.write(f"  {run}: {time.perf_counter() - started:.2f} s {counts}")
            transaction.set_rollback(True)


def _bench_agents():
    group = Group.objects.get(name=roles.SERVICE_AGENT)
    agents = []
    for n in range(1, AGENTS + 1):
        user, created = get_user_model().objects.get_or_create(
            username=f"bench-agent-{n:02d}", defaults={"email": f"bench-agent-{n:02d}@example.com"}
        )
        if created:
            user.groups.add(group)
        agents.append(user)
    return agents


def _load_tickets(rng, count, resolved_share, agents, team):
    policies = {p.priority: p for p in SLAPolicy.objects.all()}
    customer_ids = list(Customer.objects.values_list("pk", flat=True))
    first_id = (Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    now = timezone.now()
    rows = [_ticket(rng, now, policies, customer_ids, agents, team, resolved_share) for _ in range(count)]  # fmt: skip
    bulk_insert(Ticket, TICKET_FIELDS, rows)
    ids = Ticket.objects.filter(pk__gte=first_id).order_by("pk").values_list("pk", flat=True)
    messages = []
    for pk, row in zip(ids, rows, strict=True):
        created, assignee, answered = row[-2], row[7], row[12]
        messages.append((pk, "reply", None, True, row[2], created))
        if answered:
            messages.append((pk, "reply", assignee, False, "Thanks, we are looking into it.", answered))  # fmt: skip
        elif rng.random() < 0.5:
            messages.append((pk, "note", assignee, False, "Checked the logs.", created + timedelta(minutes=5)))  # fmt: skip
    bulk_insert(TicketMessage, MESSAGE_FIELDS, messages)


def _ticket(rng, now, policies, customer_ids, agents, team, resolved_share):
    """A ticket with due times around now: a few breached, some at risk, most on track."""
    priority = rng.choices([p for p, _w in PRIORITIES], [w for _p, w in PRIORITIES])[0]
    policy = policies.get(priority)
    first_minutes = policy.first_response_minutes if policy else 240
    resolution_minutes = policy.resolution_minutes if policy else 1440
    risk = (policy.at_risk_percent if policy else 75) / 100
    roll = rng.random()
    status = "resolved" if roll < resolved_share else rng.choices(["new", "open", "waiting"], [10, 65, 25])[0]  # fmt: skip
    if status == "new":
        created = now - timedelta(minutes=rng.uniform(0, 1.5 * first_minutes))
    else:
        due_in = rng.uniform(-0.1, 2.0) * resolution_minutes
        created = now + timedelta(minutes=due_in - resolution_minutes)
    first_due = created + timedelta(minutes=first_minutes)
    due = created + timedelta(minutes=resolution_minutes)
    answered = None if status == "new" else created + timedelta(minutes=rng.uniform(1, first_minutes))  # fmt: skip
    unassigned = (status == "new" and rng.random() < 0.6) or rng.random() < 0.1
    assignee = None if unassigned else rng.choice(agents).pk
    resolved_at = answered + timedelta(hours=rng.uniform(1, 48)) if status == "resolved" else None  # fmt: skip
    paused = now - timedelta(minutes=rng.uniform(1, 2000)) if status == "waiting" else None
    subject = f"{BENCH_SUBJECT}{rng.choice(PROBLEMS)} #{rng.randint(1, 10**6)}"
    return (
        rng.choice(customer_ids), subject, f"Details: {subject}.", rng.choice(Ticket.Channel.values),
        rng.choice(Ticket.Category.values), priority, status, assignee, team.pk,
        "other" if status == "resolved" else "", first_due, due, answered, paused,
        first_due - timedelta(minutes=(1 - risk) * first_minutes),
        due - timedelta(minutes=(1 - risk) * resolution_minutes), 0, resolved_at, None, 1,
        created, resolved_at or answered or created,
    )  # fmt: skip


def _load_articles(rng, count, author):
    faker = Faker("en_US")
    faker.seed_instance(rng.randint(0, 10**6))
    now = timezone.now()
    rows = []
    for _ in range(count):
        views = rng.randint(0, 2000)
        title = faker.sentence(nb_words=rng.randint(3, 7)).rstrip(".")
        body = "\n\n".join(faker.paragraphs(nb=rng.randint(2, 5)))
        when = now - timedelta(days=rng.randint(0, 700))
        rows.append((title, body, None, rng.random() < 0.9, rng.randint(0, views // 10),
                     rng.randint(0, views // 30), views, author.pk, when, when))  # fmt: skip
    bulk_insert(KnowledgeArticle, ARTICLE_FIELDS, rows)
    forget_suggestions()  # a bulk insert sends no save signal


def _search_words(rng) -> list[str]:
    """Words people search for: taken from random article titles."""
    titles = KnowledgeArticle.objects.order_by("?").values_list("title", flat=True)[:300]
    words = {w.lower().strip(".,") for t in titles for w in t.split() if len(w) > 3}
    return sorted(words) or ["password", "invoice"]
