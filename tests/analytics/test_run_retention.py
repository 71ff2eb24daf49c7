"""Only the newest segment runs keep their per-customer rows (CRM_KEEP_RUN_DETAILS): a run
a night added a million rows for good. Summaries and movements stay for the trends."""

from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
import pytest
from django.db import OperationalError, connection
from django.urls import reverse

from analytics import reports
from analytics.models import (
    CustomerValue,
    ProductAffinity,
    Recommendation,
    SegmentMigration,
    SegmentRun,
    SegmentSummary,
)
from analytics.pipeline import partitions
from analytics.runs import prune
from analytics.services import run_compute_now
from tests.factories import CustomerFactory, OrderFactory, OrderLineFactory, ProductFactory

AS_OF = [date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30)]


def buyers():
    """Six customers, each buying two neighbours of four products: the others' pairs make
    each customer a recommendation."""
    products = [ProductFactory() for _ in range(4)]
    for n in range(6):
        customer = CustomerFactory(name=f"Buyer {n}")
        for month in range(1, n % 3 + 3):
            at = datetime(2026, month, 10 + n, tzinfo=UTC)
            order = OrderFactory(customer=customer, ordered_at=at, total=Decimal(50 + n))
            for product in (products[n % 4], products[(n + 1) % 4]):
                OrderLineFactory(order=order, product=product)


def runs_in_order(settings, keep: int) -> list[SegmentRun]:
    settings.CRM_KEEP_RUN_DETAILS = keep
    buyers()
    return [run_compute_now(as_of=day) for day in AS_OF]


def rows_of(run) -> dict[str, int]:
    return {
        model.__name__: model.objects.filter(run=run).count()
        for model in (CustomerValue, Recommendation, ProductAffinity, SegmentSummary)
    }


@pytest.mark.django_db
def test_only_the_newest_runs_keep_their_per_customer_rows(settings, manager_client):
    runs = runs_in_order(settings, keep=2)
    for run in runs:
        run.refresh_from_db()
    old, kept = runs[:2], runs[2:]
    assert all(run.status == "succeeded" for run in runs) and runs[-1].is_current
    for run in old:
        assert run.details_pruned_at is not None
        assert rows_of(run) | {"SegmentSummary": 0} == dict.fromkeys(rows_of(run), 0)
        assert SegmentSummary.objects.filter(run=run).exists()  # the trend's
    for run in kept:
        assert run.details_pruned_at is None
        counts = rows_of(run)
        assert counts["CustomerValue"] == 6 and counts["Recommendation"] > 0
    assert SegmentMigration.objects.filter(run=runs[-1]).exists()
    assert [r["pk"] for r in reports.segment_trend()["runs"]] == [r.pk for r in runs]
    assert manager_client.get(reverse("analytics:segments")).status_code == 200


@pytest.mark.django_db
def test_pruning_again_removes_nothing(settings):
    runs = runs_in_order(settings, keep=2)
    assert prune() == 0  # each run pruned the ones before the newest two
    current = SegmentRun.objects.get(is_current=True)
    assert current == runs[-1] and rows_of(current)["CustomerValue"] == 6
    with pytest.raises(ValueError):
        prune(keep=0)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_pruned_runs_partition_is_dropped(postgres, settings):
    runs = runs_in_order(settings, keep=2)

    def table_exists(run):
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [partitions.table_of(run.pk)])
            return cursor.fetchone()[0] is not None

    assert [table_exists(run) for run in runs] == [False, False, True, True]
    assert CustomerValue.objects.count() == 12  # the two kept runs' rows, read through the parent


class Report:
    """A second PostgreSQL session reading one run's values, holding them until it ends."""

    def __init__(self) -> None:
        db = connection.settings_dict
        self.session = psycopg.connect(
            dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"] or None,
            host=db["HOST"], port=db["PORT"] or None, autocommit=False,
        )  # fmt: skip
        # Were the prune to wait without end, the server ends this session after 10 s and
        # the test fails on what the prune then did, rather than hang.
        self.session.execute("SET idle_in_transaction_session_timeout = '10s'")

    def read(self, run) -> None:
        self.session.execute(
            "SELECT count(*) FROM analytics_customervalue WHERE run_id = %s", [run.pk]
        )

    def end(self) -> None:
        self.session.close()


@pytest.fixture
def report(postgres):
    report = Report()
    yield report
    report.end()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_long_report_makes_the_prune_wait_a_moment_then_give_up(settings, report):
    """A report reading an old run is not queued behind the prune: it gives up after
    PRUNE_LOCK_WAIT, the run keeps its values and is not marked, and the next prune does it."""
    runs = runs_in_order(settings, keep=4)
    report.read(runs[0])
    with pytest.raises(OperationalError) as refused:
        prune(keep=2)
    assert isinstance(refused.value.__cause__, psycopg.errors.LockNotAvailable)
    assert rows_of(runs[0])["CustomerValue"] == 6
    assert not SegmentRun.objects.filter(details_pruned_at__isnull=False).exists()
    report.end()
    assert prune(keep=2) == 2
    assert rows_of(runs[0])["CustomerValue"] == rows_of(runs[1])["CustomerValue"] == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_run_is_published_while_a_report_holds_the_run_to_prune(settings, report, caplog):
    """The prune after publishing gives up (a warning, not an error), the new run is
    published and current, and the held run keeps its rows for the next run to prune."""
    runs = runs_in_order(settings, keep=4)
    settings.CRM_KEEP_RUN_DETAILS = 2
    report.read(runs[0])
    new = run_compute_now(as_of=date(2026, 7, 31))
    assert (new.status, new.is_current) == ("succeeded", True)
    assert "gave up waiting for a report" in caplog.text
    assert rows_of(runs[0])["CustomerValue"] == 6
    assert not SegmentRun.objects.filter(pk=runs[0].pk, details_pruned_at__isnull=False).exists()


@pytest.mark.django_db
def test_one_prune_removes_at_most_prune_at_once_runs(settings, monkeypatch):
    """The first prune after an upgrade finds every run since the first: the next runs
    take the rest."""
    runs_in_order(settings, keep=4)
    monkeypatch.setattr("analytics.runs.PRUNE_AT_ONCE", 1)
    assert [prune(keep=2), prune(keep=2), prune(keep=2)] == [1, 1, 0]
