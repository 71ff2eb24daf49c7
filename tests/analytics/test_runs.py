"""The segment run end to end: aggregation in the database, scoring, publication."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from analytics import selectors
from analytics.models import CustomerValue, SegmentMigration, SegmentRun, SegmentSummary
from analytics.pipeline import staging
from analytics.services import run_compute_now
from tests.factories import CustomerFactory, OrderFactory

AS_OF = date(2026, 6, 30)


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def order(customer, day: str, total: str, hour: int = 10):
    return OrderFactory(customer=customer, ordered_at=at(day, hour), total=Decimal(total))


@pytest.fixture
def baskets(db):
    """Three customers; the expected aggregate is written out by hand in the tests."""
    ann, bob, cy = (CustomerFactory(name=n) for n in ("Ann", "Bob", "Cy"))
    order(ann, "2026-01-10", "100.00")
    order(ann, "2026-01-10", "50.00", hour=15)  # same day: one purchase day worth 150
    order(ann, "2026-03-01", "40.00")
    order(ann, "2026-06-01", "60.00")
    order(ann, "2026-07-05", "999.00")  # after the as-of date: ignored
    order(bob, "2026-06-29", "80.00")
    order(cy, "2026-07-01", "10.00")  # only after the as-of date: no row at all
    return ann, bob, cy


def staged(run_id):
    stats = staging.read_stats(run_id)
    return {
        int(cid): (str(first), str(last), int(days), int(orders), float(rev), float(rep))
        for cid, first, last, days, orders, rev, rep in zip(*stats.values(), strict=True)
    }


def test_the_aggregate_merges_same_day_orders_and_ignores_later_ones(baskets):
    ann, bob, cy = baskets
    run = SegmentRun.objects.create(as_of=AS_OF, status="running")
    assert staging.aggregate_orders(run.pk, AS_OF) == 2
    assert staged(run.pk) == {
        # first day, last day, purchase days, orders, revenue, repeat value (first day excluded)
        ann.pk: ("2026-01-10", "2026-06-01", 3, 4, 250.0, 100.0),
        bob.pk: ("2026-06-29", "2026-06-29", 1, 1, 80.0, 0.0),
    }


def test_purchase_days_are_local_dates(db, settings):
    settings.TIME_ZONE = "Asia/Shanghai"  # UTC+8
    customer = CustomerFactory()
    order(customer, "2026-03-01", "10.00", hour=17)  # 2026-03-02 01:00 in Shanghai
    order(customer, "2026-03-02", "20.00", hour=3)  # 2026-03-02 11:00: the same local day
    order(customer, "2026-06-30", "5.00", hour=17)  # 2026-07-01 in Shanghai: after as-of
    run = SegmentRun.objects.create(as_of=AS_OF, status="running")
    staging.aggregate_orders(run.pk, AS_OF)
    assert staged(run.pk) == {customer.pk: ("2026-03-02", "2026-03-02", 1, 2, 30.0, 0.0)}


def test_a_run_scores_every_customer_and_becomes_current(baskets):
    ann, bob, _cy = baskets
    run = run_compute_now(as_of=AS_OF)
    assert run.status == SegmentRun.Status.SUCCEEDED, run.error
    assert run.is_current and run.progress == 100 and run.step == "done"
    assert run.customers == 2
    assert selectors.current_run() == run
    a = selectors.customer_value(ann)
    assert (a.first_purchase, a.last_purchase) == (date(2026, 1, 10), date(2026, 6, 1))
    assert (a.recency_days, a.purchase_days, a.orders) == (29, 3, 4)
    assert a.revenue == Decimal("250.00") and a.average_order_value == Decimal("62.50")
    assert 0 <= a.probability_alive <= 1 and a.expected_purchases >= 0 and a.predicted_ltv >= 0
    b = selectors.customer_value(bob)
    assert b.recency_days == 1 and b.probability_alive == 1.0
    # Bob bought more recently, Ann more often and for more.
    assert (b.r_score > a.r_score) and (a.f_score > b.f_score) and (a.m_score > b.m_score)
    assert set(run.parameters) >= {"r", "alpha", "a", "b", "p", "q", "gamma", "time_unit"}
    assert run.parameters["time_unit"] == "weeks" and run.parameters["discount_rate"] == 0.1
    assert set(run.timings) >= {"aggregate", "fit", "score", "write", "finish", "total"}
    summaries = {s.segment: s for s in SegmentSummary.objects.filter(run=run)}
    assert sum(s.customers for s in summaries.values()) == 2
    assert summaries[a.segment].revenue >= Decimal("250.00")
    assert not SegmentMigration.objects.filter(run=run).exists()  # nothing to compare with
    assert not staging.read_stats(run.pk)["customer_id"].size  # staging emptied


def test_a_second_run_replaces_the_first_and_records_the_migrations(baskets):
    ann, bob, _cy = baskets
    first = run_compute_now(as_of=AS_OF - timedelta(days=60))  # Bob had not bought yet
    second = run_compute_now(as_of=AS_OF)
    first.refresh_from_db()
    assert second.is_current and not first.is_current
    assert first.status == second.status == SegmentRun.Status.SUCCEEDED
    assert CustomerValue.objects.filter(run=first).count() == 1
    assert CustomerValue.objects.filter(run=second).count() == 2
    moves = {
        (m.from_segment, m.to_segment): m.customers
        for m in SegmentMigration.objects.filter(run=second)
    }
    old = CustomerValue.objects.get(run=first, customer=ann).segment
    new_ann = CustomerValue.objects.get(run=second, customer=ann).segment
    new_bob = CustomerValue.objects.get(run=second, customer=bob).segment
    expected = {(old, new_ann): 1}
    expected[("", new_bob)] = expected.get(("", new_bob), 0) + 1
    assert moves == expected
    assert selectors.customer_value(ann).run == second
    assert selectors.customer_value(ann, run=first).run == first


def test_a_run_with_no_orders_succeeds_empty(db):
    run = run_compute_now(as_of=AS_OF)
    assert run.status == SegmentRun.Status.SUCCEEDED and run.customers == 0
    assert not CustomerValue.objects.exists()


def test_chunks_score_like_one_pass(db, settings):
    """Many small chunks give the same scores as one chunk: breakpoints are global."""
    customers = CustomerFactory.create_batch(23)
    for i, customer in enumerate(customers):
        for k in range(1 + i % 4):
            order(customer, f"2026-0{1 + k}-{10 + i % 9}", f"{10 + (i * 7) % 30}.00")
    settings.CRM_SEGMENTS_CHUNK_SIZE = 1000
    one = run_compute_now(as_of=AS_OF)
    settings.CRM_SEGMENTS_CHUNK_SIZE = 4
    many = run_compute_now(as_of=AS_OF)
    assert many.status == SegmentRun.Status.SUCCEEDED, many.error
    fields = ["customer_id", "r_score", "f_score", "m_score", "segment", "predicted_ltv"]
    rows = [
        list(CustomerValue.objects.filter(run=run).order_by("customer_id").values_list(*fields))
        for run in (one, many)
    ]
    assert len(rows[0]) == 23 and rows[0] == rows[1]
    assert many.progress == 100


def test_the_demo_data_comes_with_two_runs_to_compare(db):
    from devtools.demo import seed_demo

    seed_demo(count=40, interactions_per_customer=0, seed=7)
    earlier, latest = SegmentRun.objects.order_by("as_of")
    assert earlier.status == latest.status == SegmentRun.Status.SUCCEEDED, latest.error
    assert latest.is_current and latest.as_of - earlier.as_of == timedelta(days=30)
    assert latest.customers > 0
    assert SegmentMigration.objects.filter(run=latest).exists()


def test_a_run_warms_the_value_reports(baskets):
    from django.core.cache import cache

    from analytics import reports

    cache.clear()
    run = run_compute_now(as_of=AS_OF)
    assert cache.get(reports._cache_key("pareto", run)) is not None
    assert cache.get(reports._cache_key("ltv-histogram", run)) is not None
    assert cache.get(reports._cache_key("cannot-lose-count", run)) is not None
    assert "warm" in run.timings or "warm" in SegmentRun.objects.get(pk=run.pk).timings
