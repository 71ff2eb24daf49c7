"""A full segment run over 1,000,000 customers and 10,000,000 orders (`make bench-analytics`).

Loads the data unless present (numpy draws each customer's BG/NBD-like behaviour: a purchase
rate, a dropout time and an average spend; PostgreSQL expands them into orders), times the
database's own plain grouped aggregate over the orders (the floor), then one run through the
real code path (chunks in-process, Celery eager) broken into its steps, the peak memory, and
the dashboards' p95 server time.
"""

import io
import resource
import time
from datetime import timedelta

import numpy as np
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from analytics import recommend
from analytics.models import CustomerValue, SegmentRun
from analytics.pipeline.staging import AGGREGATE_WORK_MEM, aggregate_sql
from analytics.runs import delete_results
from analytics.services import run_compute_now
from customers.models import Customer
from devtools import bench
from devtools.demo.customers import ensure_demo_users
from sales.models import Order, OrderLine, Product

PREFIX = "BENCH-A-"  # external ids and order numbers of the loaded rows
PRODUCTS = 200
TARGET_RUN_S, TARGET_MEMORY_MB, TARGET_PAGE_MS = 60.0, 2048.0, 200.0  # issue 18
DAYS = 730  # two years of history
LAYOUTS = ("time", "customer")
ORDER_BY = {"time": "ordered_at", "customer": "customer_id, k"}


class Command(BaseCommand):
    help = "Benchmark the nightly segment run and the analytics dashboards on PostgreSQL."

    def add_arguments(self, parser):
        bench.add_count_options(
            parser, customers=1_000_000, orders=10_000_000, lines=1_000_000, seed=42
        )
        parser.add_argument("--requests", type=int, default=100, help="Requests per page.")
        parser.add_argument(
            "--layout",
            choices=LAYOUTS,
            default="time",
            help="How the orders table is laid out on disk: 'time' (inserted in order of "
            "ordered_at across all customers, as a shop's table grows: the default) or "
            "'customer' (each customer's orders together: the first round's layout).",
        )
        parser.add_argument("--skip-pages", action="store_true")
        parser.add_argument("--skip-run", action="store_true", help="Measure the pages only.")

    def handle(
        self,
        *args,
        customers,
        orders,
        lines,
        requests,
        seed,
        layout,
        skip_pages,
        skip_run,
        **options,
    ):
        bench.require_postgresql("bench_analytics")
        if customers < 1 or orders < customers or lines < 0 or requests < 1:
            raise CommandError("Need --customers >= 1, --orders >= --customers, --requests >= 1.")
        bench.ensure_database(self.stdout)
        call_command("migrate", interactive=False, verbosity=0)
        users = ensure_demo_users()
        self._load(customers, orders, lines, seed, layout)
        self._ensure_layout(layout)
        if not skip_run:
            floor = self._floor()
            self._run(options["verbosity"], floor)
        if not skip_pages:
            self._pages(users, requests, options["verbosity"])

    # --- loading -------------------------------------------------------------------------

    def _step(self, label, work):
        started = time.perf_counter()
        result = work()
        self.stdout.write(f"{label}: {time.perf_counter() - started:.1f} s")
        return result

    def _load(self, customers, orders, lines, seed, layout):
        have = Customer.objects.filter(external_id__startswith=PREFIX).count()
        if have < customers:
            self._step(f"Loading {customers - have} customers", lambda: _customers(have, customers))
        have_orders = Order.objects.filter(number__startswith=PREFIX).count()
        if not have_orders:
            self._step(
                f"Loading about {orders} orders in {layout} order",
                lambda: _orders(customers, orders, seed, layout),
            )
        elif have_orders < orders * 0.9:
            raise CommandError(f"{have_orders} bench orders already loaded; drop the database.")
        _products()
        if lines and not OrderLine.objects.filter(description__startswith=PREFIX).exists():
            self._step(f"Loading {lines} order lines", lambda: _lines(lines))
        self._step("VACUUM ANALYZE", _vacuum)
        self.stdout.write(
            f"Data: {Customer.objects.count()} customers, {_count(Order)} orders, "
            f"{_count(OrderLine)} order lines."
        )

    # --- measuring -----------------------------------------------------------------------

    def _floor(self):
        # The outer query uses every column: PostgreSQL skips aggregates nobody reads.
        sql = (
            "SELECT count(*), sum(n), sum(s), min(f), max(l) FROM (SELECT customer_id, "
            "count(*) AS n, sum(total) AS s, min(ordered_at) AS f, max(ordered_at) AS l "
            "FROM sales_order GROUP BY customer_id) grouped"
        )
        best = float("inf")
        for work_mem in ("4MB", AGGREGATE_WORK_MEM):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL work_mem = '{work_mem}'")
                started = time.perf_counter()
                cursor.execute(sql)
                elapsed = time.perf_counter() - started
            best = min(best, elapsed)
            self.stdout.write(
                f"Floor: the plain grouped aggregate over the orders (work_mem {work_mem}): "
                f"{elapsed:.1f} s"
            )
        return best

    def _ensure_layout(self, layout):
        """Reorder the orders table on disk (CLUSTER) when it is not in `layout` already: the
        same orders, laid out by customer or by time. The correlation of a column with the
        physical order of rows (pg_stats, after ANALYZE) tells which layout the table has."""
        column = {"time": "ordered_at", "customer": "customer_id"}[layout]
        correlation = _correlation(column)
        if abs(correlation) < 0.9:
            index = _index_on(
                "sales_order",
                "(customer_id, ordered_at DESC)" if layout == "customer" else "(ordered_at DESC)",
            )
            self._step(
                f"Reordering the orders by {column} (CLUSTER on {index})", lambda: _cluster(index)
            )
            correlation = _correlation(column)
        self.stdout.write(
            f"Orders laid out in {layout} order: correlation of {column} with the rows' "
            f"physical order {correlation:+.2f} (customer_id: {_correlation('customer_id'):+.2f})"
        )

    def _run(self, verbosity, floor):
        self._keep_only_current_run()
        if verbosity >= 2:
            self._explain()
        temp_before = _temp_bytes()
        started = time.perf_counter()
        run = run_compute_now(as_of=timezone.localdate())
        wall = time.perf_counter() - started
        if run.status != SegmentRun.Status.SUCCEEDED:
            raise CommandError(f"The run failed: {run.error}")
        t = run.timings
        p = run.parameters
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write("")
        self.stdout.write(
            f"Segment run of {run.customers} customers: {wall:.1f} s in all "
            f"(floor: the grouped aggregate over the orders, {floor:.1f} s; {wall / floor:.1f}x)"
        )
        copy_floor = _copy_floor(run)
        beside = {
            "aggregate": f"from {p.get('aggregated_from', 'orders')}; floor {floor:.1f} s",
            "write": f"floor: COPY of the same rows into a bare table {copy_floor:.1f} s",
            "index": "the run's own table, one pass per index",
            "recommend": f"floor: reading the bought (customer, product) pairs "
            f"{_pairs_floor(run):.1f} s",
        }
        for key in ("aggregate", "read", "fit", "score", "write", "index", "recommend", "finish"):
            note = f"   ({beside[key]})" if key in beside else ""
            self.stdout.write(f"  {key:<10} {t.get(key, 0):7.1f} s{note}")
        self.stdout.write(
            f"  (score and write are summed over the chunks; recommend runs beside them)\n"
            f"Fitted on {p['fitted_on']} customers: r={p['r']:.4f} alpha={p['alpha']:.4f} "
            f"a={p['a']:.4f} b={p['b']:.4f} (alpha in weeks); "
            f"p={p['p']:.4f} q={p['q']:.4f} gamma={p['gamma']:.4f}"
        )
        self.stdout.write(
            f"Peak memory of this process (ru_maxrss): {peak_mb:.0f} MB; PostgreSQL temporary "
            f"files written during the run: {(_temp_bytes() - temp_before) / 2**20:.0f} MB"
        )
        ok = wall < TARGET_RUN_S and peak_mb < TARGET_MEMORY_MB
        verdict = self.style.SUCCESS("PASS") if ok else self.style.ERROR("FAIL")
        self.stdout.write(f"{verdict}: targets {TARGET_RUN_S:.0f} s and {TARGET_MEMORY_MB:.0f} MB")
        return run

    def _keep_only_current_run(self):
        """Earlier bench runs would only grow the tables; the current one is kept to compare."""
        for run in SegmentRun.objects.filter(is_current=False):
            delete_results(run.pk)
            run.delete()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE analytics_customervalue")

    def _explain(self):
        sql, params = aggregate_sql(0, timezone.localdate())
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL work_mem = '{AGGREGATE_WORK_MEM}'")
            cursor.execute("EXPLAIN (ANALYZE, TIMING OFF) " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            transaction.set_rollback(True)
        self.stdout.write(f"The run's aggregate (rolled back):\n{plan}\n")

    def _pages(self, users, requests, verbosity):
        client = bench.logged_in_client(users["manager"])
        pages = [
            ("segments", reverse("analytics:segments")),
            ("value", reverse("analytics:value")),
            ("pipeline", reverse("analytics:pipeline")),
            ("service", reverse("analytics:service")),
            ("customers by segment", reverse("customers:customer-list") + "?segment=at_risk"),
        ]
        results = []
        for name, url in pages:
            try:
                results.append(bench.measure(name, client, lambda url=url: url, requests))
            except CommandError as error:
                self.stdout.write(f"{name}: not measured ({error})")
        if results:
            bench.report(self, results, {r.name: TARGET_PAGE_MS for r in results}, verbosity)


def _correlation(column: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT correlation FROM pg_stats WHERE tablename = 'sales_order' AND attname = %s",
            [column],
        )
        row = cursor.fetchone()
    return float(row[0]) if row and row[0] is not None else 0.0


def _index_on(table: str, columns: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
            [table, f"%btree {columns}"],
        )
        row = cursor.fetchone()
    if row is None:
        raise CommandError(f"No index on {table} {columns} to reorder the orders by.")
    return row[0]


def _cluster(index: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute(f"CLUSTER sales_order USING {connection.ops.quote_name(index)}")
        cursor.execute("RESET maintenance_work_mem")
        cursor.execute("ANALYZE sales_order")


def _copy_floor(run) -> float:
    """PostgreSQL's own COPY of the run's result rows (as text) into a bare table: what the
    write step cannot beat. Rolled back."""
    table = connection.ops.quote_name(CustomerValue._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        buffer = io.BytesIO()
        with cursor.cursor.copy(
            f"COPY (SELECT * FROM {table} WHERE run_id = {int(run.pk)}) TO STDOUT"  # noqa: S608
        ) as copy:
            for block in copy:
                buffer.write(block)
        cursor.execute(f"CREATE TABLE bench_copy_floor (LIKE {table})")  # logged, as the run's
        started = time.perf_counter()
        with cursor.cursor.copy("COPY bench_copy_floor FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


def _pairs_floor(run) -> float:
    """Reading the distinct (customer, product) pairs the recommendations start from: what
    the recommend step cannot beat."""
    started = time.perf_counter()
    recommend.purchases(run.as_of)
    return time.perf_counter() - started


def _count(model) -> int:
    """The planner's row estimate (exact counts of 10M rows take seconds)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [model._meta.db_table]
        )
        return int(cursor.fetchone()[0])


def _temp_bytes() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


def _vacuum():
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _customers(first: int, last: int) -> None:
    bench.insert_bench_customers(first, last, prefix=PREFIX, name="Bench customer", email="bench")


def _orders(customers: int, orders: int, seed: int, layout: str) -> None:
    """Per customer (numpy): when they start, how long they stay, how often and how much they
    buy; PostgreSQL expands that into orders (generate_series), so the load takes minutes.

    layout "time" inserts them sorted by ordered_at, as a shop's table grows (each page holds
    orders of many customers); "customer" inserts each customer's orders together."""
    rng = np.random.default_rng(seed)
    ids = np.array(
        Customer.objects.filter(external_id__startswith=PREFIX)
        .order_by("pk")
        .values_list("pk", flat=True)[:customers]
    )
    n = len(ids)
    # Purchase counts: heterogeneous (gamma-mixed Poisson, i.e. NBD) with the requested mean.
    rate = rng.gamma(shape=0.9, scale=(orders / n - 1) / 0.9, size=n)
    counts = 1 + rng.poisson(rate)
    first = rng.uniform(0, DAYS, n)
    # Dropout: an exponential lifetime; orders fall between the first day and the dropout.
    stay = np.minimum(first + rng.exponential(DAYS / 2, n), DAYS)
    spend = rng.gamma(shape=3.0, scale=40.0, size=n)  # each customer's average order value
    buffer = io.StringIO()
    for row in zip(ids, counts, first, stay, spend, strict=True):
        buffer.write("%d\t%d\t%.4f\t%.4f\t%.2f\n" % row)  # noqa: UP031
    start = timezone.now() - timedelta(days=DAYS)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '512MB'")  # the sort of the generated orders
        cursor.execute(
            "CREATE TEMP TABLE bench_people (customer_id bigint, n int, first float8, "
            "stay float8, spend float8) ON COMMIT DROP"
        )
        with cursor.cursor.copy("COPY bench_people FROM STDIN") as copy:
            copy.write(buffer.getvalue())
        cursor.execute(
            f"""
            INSERT INTO sales_order (customer_id, number, ordered_at, channel, total, currency,
                                     total_reporting, coupon_code, created_at)
            SELECT customer_id, number, ordered_at, 'web', total, 'USD', total, '', now()
            FROM (
                SELECT customer_id, k, %s::text || customer_id || '-' || k AS number,
                       %s + make_interval(secs => 86400 * CASE WHEN k = 1 THEN first
                            ELSE first + random() * (stay - first) END) AS ordered_at,
                       round((spend * (0.2 + 1.6 * random()))::numeric + 1, 2) AS total
                FROM bench_people, generate_series(1, n) AS k
            ) generated
            ORDER BY {ORDER_BY[layout]}
            """,  # noqa: S608 - a fixed ORDER BY
            [PREFIX, start],
        )


def _products() -> None:
    for i in range(PRODUCTS):
        Product.objects.get_or_create(
            sku=f"{PREFIX}{i:03d}", defaults={"name": f"Bench product {i}", "unit_price": 10}
        )


def _lines(lines: int) -> None:
    """One line per order for customers in every third id; tastes cluster by customer, so
    products bought together are related (customer id mod 20 picks a group of 10 products)."""
    ids = list(
        Product.objects.filter(sku__startswith=PREFIX).order_by("sku").values_list("pk", flat=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO sales_orderline (order_id, product_id, description, quantity,
                                         unit_price, discount_percent, tax_rate)
            SELECT o.id, (%s::bigint[])[1 + (o.customer_id %% 20) * 10 + floor(random() * 10)::int],
                   %s::text || 'line', 1, o.total, 0, 0
            FROM sales_order o
            WHERE o.customer_id %% 3 = 0 AND o.number LIKE %s
            LIMIT %s
            """,
            [ids, PREFIX, PREFIX + "%", lines],
        )
