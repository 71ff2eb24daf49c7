"""A run written into its own table (analytics.pipeline.partitions) and attached when it is
published: the pages that read it still read its indexes, built after the COPY, and only its
partition (issue 18: the indexes moved from the COPY to one pass each afterwards).

The other EXPLAIN tests (test_dashboards, test_customer_list_segments) write their values
with factories, into the default partition; these go through a real run."""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from analytics import reports
from analytics.models import CustomerValue, SegmentRun
from analytics.pipeline import partitions
from analytics.selectors import customer_value
from analytics.services import run_compute_now
from customers.models import Customer
from marketing.audience import audience_queryset
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(postgres) -> SegmentRun:
    """A run over 30 customers with orders in the last year, written by the real path."""
    rng = random.Random(18)
    today = timezone.localdate()
    zone = timezone.get_current_timezone()
    for _ in range(30):
        customer = CustomerFactory()
        for _ in range(rng.randint(1, 6)):
            day = today - timedelta(days=rng.randint(0, 365))
            OrderFactory(
                customer=customer,
                ordered_at=datetime.combine(day, time(12), tzinfo=zone),
                total=Decimal(rng.randint(1, 900)),
            )
    run = run_compute_now(as_of=today)
    assert run.status == SegmentRun.Status.SUCCEEDED, run.error
    assert CustomerValue.objects.filter(run=run).count() == 30
    return run


def _plan(queryset) -> str:
    """EXPLAIN of the queryset with scans of whole tables priced out (a test's tables are
    tiny: PostgreSQL would read them whole whatever the indexes)."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _only_the_run(plan: str, run: SegmentRun) -> None:
    """The plan reads the run's own partition and no other (pruned by run_id)."""
    assert partitions.table_of(run.pk) in plan, plan
    assert f"{CustomerValue._meta.db_table}_default" not in plan, plan


def test_the_run_is_a_partition_of_its_own_with_the_model_indexes(run):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = %s", [partitions.table_of(run.pk)]
        )
        names = {row[0] for row in cursor.fetchall()}
    suffix = f"_r{run.pk}"
    assert names == {
        "one_value_per_run" + suffix,
        "analytics_cv_run_segment" + suffix,
        "analytics_cv_cannot_lose" + suffix,
    }


def test_the_value_panel_reads_one_row_by_the_unique_index(run):
    customer = Customer.objects.order_by("pk").first()
    queryset = CustomerValue.objects.filter(run=run, customer=customer)
    plan = _plan(queryset)
    _only_the_run(plan, run)
    assert f"one_value_per_run_r{run.pk}" in plan, plan
    assert customer_value(customer, run) is not None


def test_the_cannot_lose_list_reads_its_partial_index_in_order(run):
    plan = _plan(reports.cannot_lose(run).select_related(None)[:25])
    _only_the_run(plan, run)
    assert f"analytics_cv_cannot_lose_r{run.pk}" in plan and "Sort" not in plan, plan


def test_a_segment_audience_reads_the_run_segment_index(run):
    segment = CustomerValue.objects.filter(run=run).values_list("segment", flat=True).first()
    audience = audience_queryset({"segments": [segment]}, channel="email")
    plan = _plan(audience.values("pk"))
    _only_the_run(plan, run)
    assert f"analytics_cv_run_segment_r{run.pk}" in plan, plan


def test_the_pareto_curve_reads_only_the_run(run):
    plan = _plan(CustomerValue.objects.filter(run_id=run.pk).values("revenue"))
    _only_the_run(plan, run)
    assert reports.pareto(run)


def test_publishing_a_run_gives_the_partitioned_table_statistics(run):
    # Autovacuum never analyses a partitioned table; without its statistics the planner
    # took a segment's semi-join for 200 customers (issue 18: 0.8-1.1 s audience counts on
    # 1,000,000 customers, a nested loop and a sort on disk instead of a merge).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_distinct FROM pg_stats WHERE tablename = %s AND attname = 'customer_id'"
            " AND inherited",
            [CustomerValue._meta.db_table],
        )
        assert cursor.fetchone() is not None
