"""Time of the possible-duplicates refresh and page on PostgreSQL (`make bench-duplicates`).

Loads demo customers (100,000 by default, no interactions) unless present, then times the
refresh (customers.duplicate_refresh) beside its floor, the pair query alone counted, and
the page's p50/p95 over random pages beside its floor, the plain page query of the stored
pairs, each measured in the same run."""

import random
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from customers.duplicate_refresh import duplicates_refresh
from customers.duplicates import duplicate_candidates, pairs_sql
from customers.models import Customer
from devtools import bench
from devtools.demo.customers import ensure_demo_users, seed_customers

TARGET_P95_MS = 100.0
PAGE_SIZE = 25


class Command(BaseCommand):
    help = "Time the duplicates refresh and the possible-duplicates page on PostgreSQL."

    def add_arguments(self, parser):
        bench.add_count_options(parser, customers=100_000, requests=200, refreshes=2, seed=42)

    def handle(self, *args, customers, requests, refreshes, seed, verbosity, **options):
        bench.require_postgresql("bench_duplicates")
        bench.ensure_database(self.stdout)
        call_command("migrate", interactive=False, verbosity=0)
        self._load(customers, seed)
        floor = min(_timed(_count_pairs)[0] for _ in range(refreshes))
        runs = [_timed(duplicates_refresh) for _ in range(refreshes)]
        found = runs[-1][1]
        self.stdout.write(
            f"refresh ({found} pairs): best {min(t for t, _ in runs):.1f} s, "
            f"worst {max(t for t, _ in runs):.1f} s; floor (the pair query alone) {floor:.1f} s"
        )
        pages = max(1, -(-duplicate_candidates().count() // PAGE_SIZE))
        rng = random.Random(seed)
        client = bench.logged_in_client(ensure_demo_users()["manager"])
        url = reverse("customers:duplicate-list")
        result = bench.measure(
            "duplicates page", client, lambda: f"{url}?page={rng.randint(1, pages)}", requests
        )
        floors = sorted(_timed(lambda: _page_rows(rng.randint(1, pages)))[0] for _ in range(50))
        self.stdout.write(
            f"page floor (the stored pairs' page query, {len(floors)} runs): "
            f"p95 {floors[int(len(floors) * 0.95) - 1] * 1000:.1f} ms"
        )
        bench.report(self, [result], {result.name: TARGET_P95_MS}, verbosity)

    def _load(self, customers: int, seed: int) -> None:
        existing = Customer.objects.count()
        if existing < customers:
            self.stdout.write(f"Loading {customers - existing} customers...")
            rng = random.Random(seed)
            started = time.perf_counter()
            seed_customers(
                rng=rng,
                seed=seed,
                now=timezone.now(),
                count=customers - existing,
                interactions_per_customer=0,
            )
            self.stdout.write(f"Loaded in {time.perf_counter() - started:.1f} s.")
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        self.stdout.write(f"{Customer.objects.count()} customers.")


def _timed(work):
    started = time.perf_counter()
    value = work()
    return time.perf_counter() - started, value


def _count_pairs() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({pairs_sql()}) pairs")  # noqa: S608
        return cursor.fetchone()[0]


def _page_rows(page: int) -> int:
    offset = (page - 1) * PAGE_SIZE
    return len(list(duplicate_candidates()[offset : offset + PAGE_SIZE]))
