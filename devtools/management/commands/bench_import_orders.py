"""Time import_orders of 1,000,000 rows beside PostgreSQL's own COPY of the same file.

python manage.py bench_import_orders [--rows 1000000] [--customers 100000] [--seed 42]
    [--grouped]

The file lists the orders in time order, as a shop's export does; --grouped sorts it by
customer instead (the layout earlier benchmarks used).

1. Creates the customers the file names (external ids BENCH-000001...) by COPY, if absent,
   and writes a reproducible CSV in /tmp (kept for the next run).
2. Deletes the orders of those customers (TRUNCATE when the table holds no others),
   so the import starts from none.
3. Times, in the same run: (a) COPY of the file into a bare temporary table (the floor),
   (b) import_orders into the real tables, (b') its follow-up (loyalty points, coupons
   and tiers of the new orders, inline without a broker) in orders per second beside its
   floor, an INSERT ... SELECT of the same orders' points into a bare temporary table,
   (c) import_orders of the same file again (creates nothing). Prints the times and the
   ratio (b) / (a), and (d) the floor of (b)'s writing alone: the orders it created
   INSERTed ... SELECTed into an empty table with sales_order's columns and indexes but no
   triggers or foreign keys (what the heap, the indexes and the WAL cost without the
   import's own work), with its ratio to (a).
"""

import csv
import random
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max, Min

from customers.models import Customer
from customers.services import customers_create_for_import
from devtools.bench import add_count_options, ensure_database
from sales.import_services import order_import
from sales.importing import check_binary
from sales.models import Order

PREFIX = "BENCH-"


class Command(BaseCommand):
    help = "Benchmark import_orders against PostgreSQL COPY of the same file (PostgreSQL only)."

    def add_arguments(self, parser):
        add_count_options(parser, rows=1_000_000, customers=100_000, seed=42)
        parser.add_argument(
            "--grouped", action="store_true", help="Orders grouped by customer, not in time order."
        )

    def handle(self, *args, rows, customers, seed, grouped, **options):
        if rows < 1 or customers < 1:
            raise CommandError("--rows and --customers must be positive.")
        ensure_database(self.stdout)
        if connection.vendor != "postgresql":
            raise CommandError("bench_import_orders measures PostgreSQL only: set DATABASE_URL.")
        call_command("migrate", interactive=False, verbosity=0)
        self._customers(customers)
        path = self._file(rows, customers, seed, grouped)
        size_mb = path.stat().st_size / 1e6
        layout = "grouped by customer" if grouped else "in time order"
        self.stdout.write(f"File: {path} ({rows:,} rows {layout}, {size_mb:.0f} MB)")

        bench_orders = Order.objects.filter(customer__external_id__startswith=PREFIX)
        started = time.perf_counter()
        if Order.objects.exclude(pk__in=bench_orders.values("pk")).exists():
            deleted = bench_orders._raw_delete(bench_orders.db)
        else:  # only orders of earlier runs: start from an empty table, not a bloated one
            deleted = Order.objects.count()
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE sales_order CASCADE")
        with connection.cursor() as cursor:  # the follow-up starts from no points
            # (the ledger has no database key to the orders, so no cascade clears it)
            cursor.execute(
                "DELETE FROM marketing_loyaltyentry e USING customers_customer c"
                " WHERE c.id = e.customer_id AND c.external_id LIKE %s",
                [PREFIX + "%"],
            )
            cursor.execute(
                "DELETE FROM marketing_loyaltyaccount a USING customers_customer c"
                " WHERE c.id = a.customer_id AND c.external_id LIKE %s",
                [PREFIX + "%"],
            )
        self.stdout.write(
            f"Deleted {deleted:,} orders of earlier runs in {time.perf_counter() - started:.1f} s."
        )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE sales_order")

        floor = self._copy_floor(path)
        self.stdout.write(f"(a) COPY into a bare table:   {floor:6.1f} s")

        started = time.perf_counter()
        committed = []
        with transaction.atomic():
            # Registered before the import's own after-commit work, so it runs first: the
            # time between it and the end is what receivers of orders_imported do.
            transaction.on_commit(lambda: committed.append(time.perf_counter()))
            first = _import(path)
        after_commit = time.perf_counter() - committed[0]
        imported = committed[0] - started
        self.stdout.write(
            f"(b) import_orders:             {imported:6.1f} s  "
            f"({first.created:,} created, {first.already_present:,} already present)"
        )
        for step, seconds in first.timings.items():
            self.stdout.write(f"      {step}: {seconds:.1f} s")
        rest = imported - sum(first.timings.values())
        self.stdout.write(f"      file check, commit (deferred foreign key checks): {rest:.1f} s")
        self.stdout.write(
            f"(b') after commit, the receivers of orders_imported (inline without a broker;"
            f" marketing awards points, coupons and tiers): {after_commit:.1f} s,"
            f" {first.created / after_commit:,.0f} orders/s"
        )
        follow_floor = _follow_up_floor(bench_orders)
        self.stdout.write(
            f"     its floor, the points of the same orders INSERTed ... SELECTed into a bare"
            f" table: {follow_floor:.1f} s, {first.created / follow_floor:,.0f} orders/s"
        )
        started = time.perf_counter()
        again = _import(path)
        reimported = time.perf_counter() - started
        self.stdout.write(
            f"(c) import_orders again:       {reimported:6.1f} s  "
            f"({again.created:,} created, {again.already_present:,} already present)"
        )
        self.stdout.write(f"Ratio (b) / (a): {imported / floor:.1f}×")
        indexed = _indexed_floor(bench_orders)
        self.stdout.write(
            f"(d) the same orders INSERTed ... SELECTed into an empty table with sales_order's"
            f" indexes (no triggers, no foreign keys): {indexed:.1f} s, {indexed / floor:.1f}× (a)"
        )
        if first.created != rows or again.created != 0:
            raise CommandError("Unexpected counts: the import should create every row once.")

    def _customers(self, count: int) -> None:
        wanted = [f"{PREFIX}{i:06d}" for i in range(1, count + 1)]
        present = set(
            Customer.objects.filter(external_id__startswith=PREFIX).values_list(
                "external_id", flat=True
            )
        )
        missing = [external_id for external_id in wanted if external_id not in present]
        if missing:
            started = time.perf_counter()
            with transaction.atomic():
                customers_create_for_import(external_ids=missing)
            self.stdout.write(
                f"Created {len(missing):,} customers by COPY in {time.perf_counter() - started:.1f} s."
            )

    def _file(self, rows: int, customers: int, seed: int, grouped: bool) -> Path:
        """Half the rows with an order number, half keyed by customer, time and total; in
        time order, or (grouped) sorted by customer."""
        name = f"crm-bench-orders-{rows}-{customers}-{seed}{'-grouped' if grouped else ''}.csv"
        path = Path(tempfile.gettempdir()) / name
        if path.exists():
            return path
        if grouped:
            return _grouped(self._file(rows, customers, seed, grouped=False), path)
        rng = random.Random(seed)
        start = datetime(2023, 1, 1)
        channels = ["sales", "web", "web", "store", "partner"]
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(
                [
                    "customer_external_id",
                    "ordered_at",
                    "total",
                    "order_number",
                    "channel",
                    "currency",
                    "coupon_code",
                ]
            )
            for i in range(rows):
                ordered_at = start + timedelta(seconds=i * 90 + rng.randrange(60))
                writer.writerow(
                    [
                        f"{PREFIX}{rng.randrange(1, customers + 1):06d}",
                        ordered_at.isoformat(),
                        f"{rng.randrange(100, 50_000_00) / 100:.2f}",
                        f"BENCH-{i:08d}" if i % 2 else "",
                        rng.choice(channels),
                        "" if rng.random() < 0.9 else "EUR",
                        "" if rng.random() < 0.8 else f"SAVE{rng.randrange(5, 30)}",
                    ]
                )
        partial.rename(path)
        return path

    def _copy_floor(self, path: Path) -> float:
        """PostgreSQL's COPY of the file into a bare table (no keys, no indexes): the floor."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE bench_order_floor (customer_external_id text,"
                " ordered_at timestamptz, total numeric(14, 2), order_number text, channel text,"
                " currency text, coupon_code text) ON COMMIT DROP"
            )
            started = time.perf_counter()
            with (
                path.open("rb") as source,
                cursor.cursor.copy("COPY bench_order_floor FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            ):  # fmt: skip
                while block := source.read(1 << 20):
                    copy.write(block)
            return time.perf_counter() - started


def _grouped(source: Path, path: Path) -> Path:
    """The file's rows sorted by customer, then time."""
    with source.open(encoding="utf-8", newline="") as text:
        header, *rows = csv.reader(text)
    rows.sort(key=lambda row: (row[0], row[1]))
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    partial.rename(path)
    return path


def _follow_up_floor(orders) -> float:
    """PostgreSQL's own INSERT ... SELECT of the orders' points and reasons into a bare
    temporary table (no keys, no indexes): the floor of the import's follow-up."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_points_floor (customer_id bigint, points integer,"
            " reason text, order_id bigint) ON COMMIT DROP"
        )
        ids = orders.aggregate(first=Min("pk"), last=Max("pk"))
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO bench_points_floor SELECT customer_id, FLOOR(total), 'Order ' || number,"
            " id FROM sales_order WHERE id BETWEEN %s AND %s AND total > 0",
            [ids["first"], ids["last"]],
        )
        return time.perf_counter() - started


def _indexed_floor(orders) -> float:
    """The imported orders written again into an empty, logged table with sales_order's
    columns, defaults and indexes (no triggers, no foreign keys): the cost of the heap, the
    indexes and the WAL alone, which (b) cannot go below. Rolled back."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_order_indexed (LIKE sales_order INCLUDING DEFAULTS"
            " INCLUDING INDEXES)"
        )
        ids = orders.aggregate(first=Min("pk"), last=Max("pk"))
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO bench_order_indexed SELECT * FROM sales_order WHERE id BETWEEN %s AND %s",
            [ids["first"], ids["last"]],
        )
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
        return seconds


def _import(path: Path):
    """What import_orders does with the file."""
    with path.open("rb") as stream:
        check_binary(stream)
    with path.open(encoding="utf-8-sig", newline="") as text:
        return order_import(source=text)
