"""A failing or killed run never replaces the current one, and leaves none of its rows."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from analytics import clv, selectors
from analytics.models import (
    CustomerStats,
    CustomerValue,
    ProductAffinity,
    Recommendation,
    SegmentRun,
    SegmentSummary,
)
from analytics.pipeline import partitions
from analytics.services import RunAlreadyActive, run_compute_now, run_request
from tests.analytics.test_runs import order
from tests.factories import CustomerFactory, OrderLineFactory, ProductFactory

AS_OF = date(2026, 6, 30)


@pytest.fixture
def shop(db):
    """Nine customers with orders and order lines (three chunks of three)."""
    products = ProductFactory.create_batch(3)
    for i in range(9):
        customer = CustomerFactory()
        for k in range(1 + i % 3):
            placed = order(customer, f"2026-0{1 + k}-1{i}", f"{20 + 5 * i}.00")
            OrderLineFactory(order=placed, product=products[(i + k) % 3])
    return products


def rows_of(run) -> dict:
    return {
        model.__name__: model.objects.filter(run=run).count()
        for model in (CustomerValue, SegmentSummary, ProductAffinity, Recommendation)
    }


def test_a_chunk_failing_mid_run_leaves_the_previous_run_current(shop, settings, monkeypatch):
    previous = run_compute_now(as_of=AS_OF - timedelta(days=30))
    assert previous.is_current and rows_of(previous)["CustomerValue"] == 9
    before = rows_of(previous)
    settings.CRM_SEGMENTS_CHUNK_SIZE = 3
    real_predicted_value = clv.predicted_value
    seen = []

    def fails_on_the_second_chunk(*args, **kwargs):
        running = SegmentRun.objects.get(status="running")
        seen.append((running.step, running.progress, partitions.written(running.pk)))
        if len(seen) == 2:
            raise FloatingPointError("injected failure in chunk 2")
        return real_predicted_value(*args, **kwargs)

    monkeypatch.setattr(clv, "predicted_value", fails_on_the_second_chunk)
    failed = run_compute_now(as_of=AS_OF)

    # Fitted at 25%; the first chunk of three wrote its rows and moved the bar on by 65/3.
    assert seen == [("score", 25, 0), ("score", 46, 3)]
    assert failed.status == SegmentRun.Status.FAILED and not failed.is_current
    assert "Scoring customers" in failed.error and "injected failure in chunk 2" in failed.error
    assert failed.finished_at is not None
    assert rows_of(failed) == dict.fromkeys(before, 0)  # nothing of the failed run remains
    assert not CustomerStats.objects.exists()
    previous.refresh_from_db()
    assert previous.is_current and previous.status == SegmentRun.Status.SUCCEEDED
    assert selectors.current_run() == previous and rows_of(previous) == before
    # The failure blocks nothing: the next run goes through.
    monkeypatch.setattr(clv, "predicted_value", real_predicted_value)
    assert run_compute_now(as_of=AS_OF).is_current


def test_a_run_killed_while_running_is_recovered_by_the_next_request(shop):
    killed = SegmentRun.objects.create(
        as_of=AS_OF, status="running", step="score", progress=40,
        created_at=timezone.now() - timedelta(hours=4),
    )  # fmt: skip
    customer = CustomerFactory()
    CustomerValue.objects.create(
        run=killed, customer=customer, first_purchase=AS_OF, last_purchase=AS_OF,
        recency_days=0, purchase_days=1, orders=1, revenue=1, average_order_value=1,
        r_score=1, f_score=1, m_score=1, segment="new", probability_alive=1,
        expected_purchases=0, predicted_ltv=0,
    )  # fmt: skip
    CustomerStats.objects.create(
        run=killed, customer=customer, first_day=AS_OF, last_day=AS_OF, purchase_days=1,
        orders=1, revenue=1, repeat_value=0,
    )  # fmt: skip
    run = run_compute_now(as_of=AS_OF)
    killed.refresh_from_db()
    assert killed.status == SegmentRun.Status.FAILED
    assert killed.error.startswith("The worker stopped before finishing: no sign of life for")
    assert "at step “Scoring customers”" in killed.error
    assert not CustomerValue.objects.filter(run=killed).exists()
    assert run.status == SegmentRun.Status.SUCCEEDED and run.is_current


def test_a_second_run_while_one_is_going_is_refused(db):
    going = SegmentRun.objects.create(as_of=AS_OF, status="running", step="fit")
    with pytest.raises(RunAlreadyActive, match="already running"):
        run_request(as_of=AS_OF)
    with pytest.raises(RunAlreadyActive):
        run_compute_now()
    assert list(SegmentRun.objects.all()) == [going]


def test_a_queued_run_blocks_too_and_its_task_runs_it(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued = run_request(as_of=AS_OF)
        with pytest.raises(RunAlreadyActive, match="already queued"):
            run_request(as_of=AS_OF)
    assert queued.status == SegmentRun.Status.QUEUED and queued.step == "queued"
    assert len(callbacks) == 1
    callbacks[0]()  # the Celery task, inline in tests
    queued.refresh_from_db()
    assert queued.status == SegmentRun.Status.SUCCEEDED and queued.is_current


def test_only_one_run_can_be_current(db):
    SegmentRun.objects.create(as_of=AS_OF, status="succeeded", is_current=True)
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        SegmentRun.objects.create(as_of=AS_OF, status="succeeded", is_current=True)
