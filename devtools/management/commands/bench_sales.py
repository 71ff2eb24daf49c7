"""Server time of the board, the deal list, the pipeline report and the forecast over many
deals (`make bench-sales`).

Needs the customers loaded by `make bench` (bench_pages). Adds deals with COPY until the
database holds --deals of them, measures the board, the deal list and the pipeline report,
then adds more until it holds --forecast-deals and measures the forecast page. The same
seed gives the same deals.
"""

import random
import time
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from crm.lib.bulk import bulk_insert
from customers.models import Customer
from devtools import bench
from devtools.demo.customers import ensure_demo_users
from sales.models import Deal, Pipeline

TARGETS_MS = {
    "board": 150,
    "board (rep)": 150,
    "deal list": 150,
    "deal list (rep)": 150,
    "pipeline report": 200,
    "pipeline report (rep)": 200,
    "forecast": 500,
}
PIPELINE_PERIODS = ["90d", "12m"]
DEAL_FIELDS = [
    "customer_id", "title", "amount", "currency", "pipeline_id", "stage_id", "probability",
    "expected_close_date", "owner_id", "status", "lost_reason", "closed_at", "last_activity_at",
    "version", "created_at", "updated_at",
]  # fmt: skip


# The board's column totals over every deal it shows (the default pipeline's open deals and
# those closed in 30 days), grouped by stage, currency and close day.
BOARD_FLOOR = """
    SELECT stage_id, currency, (closed_at AT TIME ZONE 'UTC')::date, count(*), sum(amount)
    FROM sales_deal WHERE pipeline_id = (SELECT pipeline_id FROM sales_stage WHERE id = %s)
    AND (status = 'open' OR closed_at >= now() - interval '30 days') GROUP BY 1, 2, 3"""
# The forecast's open deals of the next six months, grouped by day, owner and currency.
FORECAST_FLOOR = """
    SELECT expected_close_date, owner_id, currency, sum(amount) FILTER (WHERE probability >= 60),
           sum(amount), sum(amount * probability / 100), count(*)
    FROM sales_deal WHERE status = 'open' AND expected_close_date >= date_trunc('month', now())
    AND expected_close_date < date_trunc('month', now()) + interval '6 months' GROUP BY 1, 2, 3"""


def _floor(sql: str, params: list, requests: int) -> float:
    """p95 in ms of `sql` run `requests` times (after a few warm-up runs)."""
    times = []
    with connection.cursor() as cursor:
        for n in range(requests + 5):
            started = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            if n >= 5:
                times.append((time.perf_counter() - started) * 1000)
    return bench.PageResult("floor", times).percentile(0.95)


class Command(BaseCommand):
    help = "Load many deals into PostgreSQL and print p95 server time of the board, deal list and forecast."

    def add_arguments(self, parser):
        bench.add_count_options(
            parser, deals=100_000, forecast_deals=1_000_000, requests=200, seed=7
        )

    def handle(self, *args, deals, forecast_deals, requests, seed, **options):
        bench.require_postgresql("bench_sales")
        bench.ensure_database(self.stdout)
        call_command("migrate", interactive=False, verbosity=0)
        if not Customer.objects.exists():
            raise CommandError("Load the customers first: make bench (or manage.py bench_pages).")
        rng = random.Random(seed)
        users = ensure_demo_users()
        manager, rep = (
            bench.logged_in_client(users["manager"]),
            bench.logged_in_client(users["rep"]),
        )
        owners = [users["rep"].pk, users["rep2"].pk, users["manager"].pk]

        self._fill(deals, rng, owners)
        months = [f"{(timezone.localdate() + timedelta(days=31 * n)):%Y-%m}" for n in range(6)]
        stages = list(Pipeline.objects.get(is_default=True).stages.values_list("pk", flat=True))
        pages = [
            ("board", manager, lambda: reverse("sales:board") + "?" + urlencode({"owner": rng.choice(["", *owners])})),
            ("board (rep)", rep, lambda: reverse("sales:board")),
            ("deal list", manager, lambda: reverse("sales:deal-list") + "?" + urlencode(
                {"stage": rng.choice(stages), "close_month": rng.choice(months), "page": rng.randint(1, 5)})),
            ("deal list (rep)", rep, lambda: reverse("sales:deal-list") + "?" + urlencode({"status": "open"})),
            ("pipeline report", manager, lambda: reverse("analytics:pipeline") + "?" + urlencode(
                {"period": rng.choice(PIPELINE_PERIODS)})),
            ("pipeline report (rep)", rep, lambda: reverse("analytics:pipeline") + "?" + urlencode(
                {"period": rng.choice(PIPELINE_PERIODS)})),
        ]  # fmt: skip
        results = [bench.measure(name, client, url, requests) for name, client, url in pages]
        floors = {"board": _floor(BOARD_FLOOR, [stages[0]], requests)}

        self._fill(forecast_deals, rng, owners)

        def forecast_url():
            return reverse("sales:forecast") + "?" + urlencode({"months": rng.choice([6, 12])})

        results.append(bench.measure("forecast", manager, forecast_url, max(requests // 4, 10)))
        floors["forecast"] = _floor(FORECAST_FLOOR, [], max(requests // 4, 10))
        bench.report(self, results, TARGETS_MS, options["verbosity"])
        self.stdout.write("Floors, measured in this run (p95 of the plain SQL of the grouped query")
        self.stdout.write(
            "each page ran over the deals before issue 18; the pages read totals now):"
        )
        for name, ms in floors.items():
            self.stdout.write(f"  {name:<10} {ms:8.1f} ms")

    def _fill(self, wanted: int, rng: random.Random, owners: list[int]) -> None:
        """Make the database hold exactly `wanted` deals: load more, or delete the newest."""
        existing = Deal.objects.count()
        if existing > wanted:
            started = time.perf_counter()
            cutoff = Deal.objects.order_by("pk").values_list("pk", flat=True)[wanted]
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM sales_dealstagechange WHERE deal_id >= %s", [cutoff])
                cursor.execute("DELETE FROM sales_deal WHERE id >= %s", [cutoff])
                cursor.execute("VACUUM ANALYZE sales_deal")
            self.stdout.write(
                f"Deleted {existing - wanted} deals in {time.perf_counter() - started:.1f} s."
            )
            return
        if existing == wanted:
            self.stdout.write(f"The database holds {existing} deals; measuring.")
            return
        self.stdout.write(f"Loading {wanted - existing} deals...")
        started = time.perf_counter()
        customer_ids = list(Customer.objects.values_list("pk", flat=True))
        stages = list(Pipeline.objects.get(is_default=True).stages.order_by("order"))
        open_stages = [s for s in stages if not s.is_closed]
        now = timezone.now()
        rows = (
            self._row(rng, customer_ids, stages, open_stages, owners, now)
            for _ in range(wanted - existing)
        )
        bulk_insert(Deal, DEAL_FIELDS, rows)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE sales_deal")
        self.stdout.write(f"Loaded in {time.perf_counter() - started:.1f} s.")

    def _row(self, rng, customer_ids, stages, open_stages, owners, now):
        stage = rng.choice(open_stages) if rng.random() < 0.7 else rng.choice(stages)
        created = now - timedelta(days=rng.randint(1, 700))
        closed = created + timedelta(days=rng.randint(1, 60)) if stage.is_closed else None
        status = "won" if stage.is_won else "lost" if stage.is_lost else "open"
        expected = (closed or now + timedelta(days=rng.randint(-30, 365))).date()
        return (
            rng.choice(customer_ids), "Bench deal", Decimal(rng.randrange(100, 100_000)), settings.CRM_CURRENCY,
            stage.pipeline_id, stage.pk, stage.probability, expected, rng.choice(owners), status,
            "Price" if stage.is_lost else "", closed, closed or created, 1, created, closed or created,
        )  # fmt: skip
