"""The segment run, step by step (analytics.tasks chains these as Celery tasks).

1. start: aggregate the orders into the staging table (SQL), fit the models on a sample and
   compute the quintile breakpoints over everyone, then plan customer-id chunks.
2. score_chunk (one per chunk, on any worker): score its customers, COPY its rows.
3. finish: segment summaries, the migration matrix, then ONE transaction that makes this run
   current and the previous one not. Until then nothing reads this run's rows, so readers
   never see a half-written run; on any error fail() deletes them and the previous run stays.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Avg, Count, F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics import recommend, reports
from analytics.models import (
    STEP_LABELS,
    CustomerValue,
    ProductAffinity,
    Recommendation,
    SegmentMigration,
    SegmentRun,
    SegmentSummary,
)
from analytics.pipeline import scoring, staging
from analytics.pipeline.copying import copy_columns

logger = logging.getLogger(__name__)

# Progress (percent) after each step; the chunks share the span between fitted and scored.
PROGRESS_AGGREGATED, PROGRESS_FITTED, PROGRESS_SCORED = 10, 25, 90


class RunStopped(Exception):
    """The run is no longer running (it failed or was recovered as stale): stop quietly."""


def _chunk_size() -> int:
    return settings.CRM_SEGMENTS_CHUNK_SIZE


def _set(run_id: int, **fields) -> None:
    updated = SegmentRun.objects.filter(pk=run_id, status=SegmentRun.Status.RUNNING).update(
        **fields
    )
    if not updated:
        raise RunStopped(run_id)


def start(run_id: int) -> list[tuple[int, int]]:
    """Aggregate and fit; returns the customer-id ranges to score."""
    claimed = SegmentRun.objects.filter(pk=run_id, status=SegmentRun.Status.QUEUED).update(
        status=SegmentRun.Status.RUNNING, started_at=timezone.now(), step="aggregate", progress=0
    )
    if not claimed:
        raise RunStopped(run_id)
    run = SegmentRun.objects.get(pk=run_id)
    timings = {}
    started = time.perf_counter()
    staging.clear_staging()  # rows a killed run may have left
    customers = staging.aggregate_orders(run.pk, run.as_of)
    timings["aggregate"] = time.perf_counter() - started
    _set(run_id, step="fit", progress=PROGRESS_AGGREGATED, customers=customers)

    started = time.perf_counter()
    stats = staging.read_stats(run.pk)
    derived = scoring.derived(stats, run.as_of)
    timings["read"] = time.perf_counter() - started
    started = time.perf_counter()
    parameters: dict = {}
    quintiles: dict = {}
    if customers:
        rate = settings.CRM_LTV_DISCOUNT_PERCENT / 100
        parameters, quintiles = scoring.fit(derived, discount_rate=rate)
    timings["fit"] = time.perf_counter() - started
    _set(
        run_id,
        step="score",
        progress=PROGRESS_FITTED,
        parameters=parameters,
        quintiles=quintiles,
        timings=timings,
    )
    return scoring.chunk_ranges(derived["ids"], _chunk_size())


def score_chunk(run_id: int, low: int, high: int, chunks: int, index: int) -> dict:
    """Score customers low..high (ids, inclusive) and write their rows; returns timings."""
    run = SegmentRun.objects.get(pk=run_id)
    if run.status != SegmentRun.Status.RUNNING:
        raise RunStopped(run_id)
    started = time.perf_counter()
    stats = staging.read_stats(run_id, (low, high))
    derived = scoring.derived(stats, run.as_of)
    scores = scoring.score(derived, run.parameters, run.quintiles)
    scored = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Nothing reads these rows before finish() publishes them in a later transaction:
            # no need to wait for this commit's WAL flush.
            cursor.execute("SET LOCAL synchronous_commit = off")
        # A chunk that runs again (a worker lost mid-chunk) replaces what it wrote.
        CustomerValue.objects.filter(
            run_id=run_id, customer_id__gte=low, customer_id__lte=high
        )._raw_delete(connection.alias)
        copy_columns(CustomerValue, scoring.value_columns(run_id, stats, derived, scores))
    written = time.perf_counter()
    span = PROGRESS_SCORED - PROGRESS_FITTED
    step = span * (index + 1) // chunks - span * index // chunks
    SegmentRun.objects.filter(pk=run_id).update(progress=F("progress") + step)
    return {"score": scored - started, "write": written - scored}


def recommendations(run_id: int) -> dict:
    """Product affinities and per-customer recommendations (a task beside the chunks)."""
    run = SegmentRun.objects.get(pk=run_id)
    if run.status != SegmentRun.Status.RUNNING:
        raise RunStopped(run_id)
    started = time.perf_counter()
    recommend.compute(run)
    return {"recommend": time.perf_counter() - started}


def finish(run_id: int, results: list[dict]) -> SegmentRun:
    """Summaries and migration matrix, then publish the run in one transaction."""
    started = time.perf_counter()
    _set(run_id, step="finish")
    run = SegmentRun.objects.get(pk=run_id)
    timings = dict(run.timings)
    for result in results or []:
        for key, seconds in (result or {}).items():
            timings[key] = timings.get(key, 0) + seconds
    _write_summaries(run)
    previous = SegmentRun.objects.filter(is_current=True).first()
    if previous:
        _write_migrations(run, previous)
    with transaction.atomic():
        run = SegmentRun.objects.select_for_update().get(pk=run_id)
        if run.status != SegmentRun.Status.RUNNING:
            raise RunStopped(run_id)
        SegmentRun.objects.filter(is_current=True).update(is_current=False)
        now = timezone.now()
        timings["finish"] = time.perf_counter() - started
        if run.started_at is not None:  # always: start() set it with RUNNING
            timings["total"] = (now - run.started_at).total_seconds()
        run.status, run.is_current, run.step, run.progress = "succeeded", True, "done", 100
        run.finished_at, run.timings = now, timings
        run.save()
    staging.clear_staging()
    if connection.vendor == "postgresql":
        # A million new rows: fresh statistics for the dashboards' query plans.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(CustomerValue._meta.db_table)}")
    _warm_reports(run)
    return run


def _warm_reports(run: SegmentRun) -> None:
    """Fill the value dashboard's per-run caches (the Pareto curve, the LTV histogram and
    the "cannot lose them" count read the whole run: 1-2 s at 1M customers), so its first
    visitor does not wait for them. The run is already published: a failure here only
    leaves the caches cold, it must not fail the run (fail() would delete its rows)."""
    started = time.perf_counter()
    try:
        reports.pareto(run)
        reports.ltv_histogram(run)
        reports.cannot_lose_count(run)
    except Exception:
        logger.exception("warming the report caches of run %s failed", run.pk)
        return
    run.timings = {**run.timings, "warm": time.perf_counter() - started}
    SegmentRun.objects.filter(pk=run.pk).update(timings=run.timings)


def _write_summaries(run: SegmentRun) -> None:
    rows = (
        CustomerValue.objects.filter(run=run)
        .values("segment")
        .annotate(customers=Count("pk"), revenue=Sum("revenue"), average_ltv=Avg("predicted_ltv"))
        .order_by("segment")
    )
    SegmentSummary.objects.bulk_create(
        SegmentSummary(
            run=run,
            segment=row["segment"],
            customers=row["customers"],
            revenue=row["revenue"],
            average_ltv=round(row["average_ltv"], 2),
        )
        for row in rows
    )


def _write_migrations(run: SegmentRun, previous: SegmentRun) -> None:
    """One grouped join: how many customers moved from each segment to each other one."""
    q = connection.ops.quote_name
    values = q(CustomerValue._meta.db_table)
    sql = f"""
        INSERT INTO {q(SegmentMigration._meta.db_table)}
            ({q("run_id")}, {q("from_segment")}, {q("to_segment")}, {q("customers")})
        SELECT %s, COALESCE(p.segment, ''), c.segment, COUNT(*)
        FROM {values} c LEFT JOIN {values} p ON p.customer_id = c.customer_id AND p.run_id = %s
        WHERE c.run_id = %s
        GROUP BY COALESCE(p.segment, ''), c.segment
    """  # noqa: S608 - quoted names only; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [run.pk, previous.pk, run.pk])


def fail(run_id: int, error: str) -> None:
    """Mark the run failed and delete what it wrote; the current run is untouched."""
    with transaction.atomic():
        SegmentRun.objects.filter(pk=run_id, status__in=SegmentRun.ACTIVE_STATUSES).update(
            status=SegmentRun.Status.FAILED,
            error=error[:2000],
            finished_at=timezone.now(),
            is_current=False,
        )
        delete_results(run_id)
    staging.clear_staging()


def delete_results(run_id: int) -> None:
    for model in (CustomerValue, Recommendation, ProductAffinity, SegmentMigration, SegmentSummary):
        model.objects.filter(run_id=run_id)._raw_delete(connection.alias)


def readable_error(run_id: int, error: BaseException) -> str:
    step = SegmentRun.objects.filter(pk=run_id).values_list("step", flat=True).first()
    return _("The run failed at step “%(step)s”: %(error)s") % {
        "step": STEP_LABELS.get(step or "", step or "?"),
        "error": str(error) or error.__class__.__name__,
    }


def recover_stale(*, older_than: timedelta) -> int:
    """Runs queued or running for too long lost their worker: fail them so they block nothing."""
    cutoff = timezone.now() - older_than
    stale = list(
        SegmentRun.objects.filter(
            status__in=SegmentRun.ACTIVE_STATUSES, created_at__lt=cutoff
        ).values_list("pk", flat=True)
    )
    for run_id in stale:
        logger.warning("segment run %s recovered as stale", run_id)
        fail(run_id, _("The worker stopped before finishing."))
    return len(stale)
