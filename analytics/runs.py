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
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Avg, Count, F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from psycopg.errors import LockNotAvailable

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
from analytics.pipeline import partitions, scoring, staging
from analytics.pipeline.copying import copy_columns
from core.events import event_record

logger = logging.getLogger(__name__)

# Progress (percent) after each step; the chunks share the span between fitted and scored.
PROGRESS_AGGREGATED, PROGRESS_FITTED, PROGRESS_SCORED = 10, 25, 90


class RunStopped(Exception):
    """The run is no longer running (it failed or was recovered as stale): stop quietly."""


def _chunk_size() -> int:
    return settings.CRM_SEGMENTS_CHUNK_SIZE


def _set(run_id: int, **fields) -> None:
    """Record progress (and a heartbeat); a run no longer running (cancelled, failed by
    the sweep) raises RunStopped, so its task stops here and writes nothing more."""
    updated = SegmentRun.objects.filter(pk=run_id, status=SegmentRun.Status.RUNNING).update(
        heartbeat_at=timezone.now(), **fields
    )
    if not updated:
        raise RunStopped(run_id)


def heartbeat(run_id: int) -> None:
    """The running task is alive. Its own short transaction (the caller is in none), so the
    sweep sees it at once."""
    _set(run_id)


def _pause_for_tests() -> None:
    """settings.CRM_SEGMENTS_STEP_PAUSE_SECONDS (0 in production): time to kill a worker."""
    if settings.CRM_SEGMENTS_STEP_PAUSE_SECONDS:
        time.sleep(settings.CRM_SEGMENTS_STEP_PAUSE_SECONDS)


def _lock_running(run_id: int) -> None:
    """In the transaction that writes a step's rows: raise RunStopped unless the run is
    running, and keep it so until the commit. FOR KEY SHARE lets the other chunks write
    and beat (their UPDATEs change no key) but makes fail() (FOR UPDATE: a cancel, the
    sweep) wait for this commit, and then delete these rows too; after fail() commits,
    this check sees the run failed. So a cancelled run is left with no rows."""
    table = connection.ops.quote_name(SegmentRun._meta.db_table)
    lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE id = %s AND status = %s{lock}",  # noqa: S608 - quoted name
            [run_id, SegmentRun.Status.RUNNING],
        )
        if cursor.fetchone() is None:
            raise RunStopped(run_id)


def start(run_id: int) -> list[tuple[int, int]]:
    """Aggregate and fit; returns the customer-id ranges to score."""
    claimed = SegmentRun.objects.filter(pk=run_id, status=SegmentRun.Status.QUEUED).update(
        status=SegmentRun.Status.RUNNING,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        step="aggregate",
        progress=0,
    )
    if not claimed:
        raise RunStopped(run_id)
    run = SegmentRun.objects.get(pk=run_id)
    timings = {}
    started = time.perf_counter()
    staging.clear_staging()  # rows a killed run may have left
    from_stats = staging.uses_order_stats(run.as_of)
    customers = staging.aggregate_orders(run.pk, run.as_of)
    unconverted = staging.unconverted_orders(run.as_of)
    timings["aggregate"] = time.perf_counter() - started
    _pause_for_tests()
    _set(
        run_id,
        step="fit",
        progress=PROGRESS_AGGREGATED,
        customers=customers,
        unconverted=unconverted,
    )

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
        parameters["aggregated_from"] = "order statistics" if from_stats else "orders"
    timings["fit"] = time.perf_counter() - started
    if partitions.enabled():
        partitions.create(run_id)  # the table the chunks write into
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
    heartbeat(run_id)
    run = SegmentRun.objects.get(pk=run_id)
    started = time.perf_counter()
    stats = staging.read_stats(run_id, (low, high))
    derived = scoring.derived(stats, run.as_of)
    scores = scoring.score(derived, run.parameters, run.quintiles)
    _pause_for_tests()
    heartbeat(run_id)
    scored = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_running(run_id)  # a run cancelled meanwhile gets no rows
        if connection.vendor == "postgresql":
            # Nothing reads these rows before finish() publishes them in a later transaction:
            # no need to wait for this commit's WAL flush.
            cursor.execute("SET LOCAL synchronous_commit = off")
        # A chunk that runs again (a worker lost mid-chunk) replaces what it wrote.
        columns = scoring.value_columns(run_id, stats, derived, scores)
        if partitions.enabled():
            table = connection.ops.quote_name(partitions.table_of(run_id))
            cursor.execute(
                f"DELETE FROM {table} WHERE customer_id BETWEEN %s AND %s",  # noqa: S608
                [low, high],
            )
            copy_columns(CustomerValue, columns, table=partitions.table_of(run_id))
        else:
            CustomerValue.objects.filter(
                run_id=run_id, customer_id__gte=low, customer_id__lte=high
            )._raw_delete(connection.alias)
            copy_columns(CustomerValue, columns)
    written = time.perf_counter()
    span = PROGRESS_SCORED - PROGRESS_FITTED
    step = span * (index + 1) // chunks - span * index // chunks
    _set(run_id, progress=F("progress") + step)
    return {"score": scored - started, "write": written - scored}


def recommendations(run_id: int) -> dict:
    """Product affinities and per-customer recommendations (a task beside the chunks)."""
    heartbeat(run_id)
    run = SegmentRun.objects.get(pk=run_id)
    started = time.perf_counter()
    with transaction.atomic():
        _lock_running(run_id)  # a run cancelled meanwhile gets no rows
        recommend.compute(run)
    heartbeat(run_id)
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
    if partitions.enabled():
        indexed = time.perf_counter()
        partitions.build_indexes(run_id)  # before the publishing transaction: no lock held
        timings["index"] = time.perf_counter() - indexed
        heartbeat(run_id)
    with transaction.atomic():
        # Hold the row from the first write: a cancel waits for the publication, or came
        # first and this writes nothing.
        run = SegmentRun.objects.select_for_update().get(pk=run_id)
        if run.status != SegmentRun.Status.RUNNING:
            raise RunStopped(run_id)
        if partitions.enabled():
            partitions.attach(run_id)
        _write_summaries(run)
        previous = SegmentRun.objects.filter(is_current=True).first()
        if previous:
            _write_migrations(run, previous)
        SegmentRun.objects.filter(is_current=True).update(is_current=False)
        now = timezone.now()
        timings["finish"] = time.perf_counter() - started - timings.get("index", 0)
        if run.started_at is not None:  # always: start() set it with RUNNING
            timings["total"] = (now - run.started_at).total_seconds()
        run.status, run.is_current, run.step, run.progress = "succeeded", True, "done", 100
        run.finished_at, run.timings = now, timings
        run.save()
        event_record(type="segment_run.completed", target=run, data=_run_keys(run))
    staging.clear_staging()  # the run's own table was analysed with its indexes
    _analyze_published()
    _warm_reports(run)
    _prune_after_publishing()
    return run


def _run_keys(run: SegmentRun) -> dict:
    return {"as_of": run.as_of.isoformat(), "customers": run.customers, "is_current": True}


def _analyze_published() -> None:
    """The published run in the partitioned table's statistics (partitions.analyze_parent).
    Like the warming below, a failure must not fail the published run: the planner keeps
    the previous statistics."""
    if not partitions.enabled():
        return
    try:
        with transaction.atomic():  # a savepoint where the caller holds a transaction
            partitions.analyze_parent()
    except DatabaseError:
        logger.exception("analysing %s after a run failed", partitions.PARENT)


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


# Old runs pruned by one call at most: the first prune after an upgrade finds every run
# since the first, and the next nights take the rest.
PRUNE_AT_ONCE = 10


def prune(keep: int | None = None) -> int:
    """Remove the per-customer rows (values, recommendations, product affinities) of the
    succeeded runs older than the newest `keep` (settings.CRM_KEEP_RUN_DETAILS), the
    current run always kept; PRUNE_AT_ONCE runs at most, oldest first. A run a night adds a
    row per customer with orders, and nothing reads an older run's rows: the dashboards,
    panels, API and audiences read the current run, and a new run compares itself with the
    current one. The run, its summaries and its movements stay for the trends. Returns how
    many runs were pruned.

    The recommendations and affinities go first, in their own transaction: deleting a few
    million rows must not happen while the values table is locked. The values' partition is
    dropped last, in a transaction of its own (partitions.drop_published), which also marks
    the run pruned."""
    keep = settings.CRM_KEEP_RUN_DETAILS if keep is None else keep
    if keep < 1:
        raise ValueError("keep at least the current run")
    succeeded = SegmentRun.objects.filter(status=SegmentRun.Status.SUCCEEDED)
    newest = succeeded.order_by("-finished_at", "-id").values_list("pk", flat=True)[:keep]
    old = succeeded.filter(is_current=False, details_pruned_at__isnull=True)
    old_ids = old.exclude(pk__in=list(newest)).order_by("pk").values_list("pk", flat=True)
    pruned = 0
    for run_id in old_ids[:PRUNE_AT_ONCE]:
        with transaction.atomic():
            for model in (Recommendation, ProductAffinity):
                model.objects.filter(run_id=run_id)._raw_delete(connection.alias)
        with transaction.atomic():
            if partitions.enabled():
                partitions.drop_published(run_id)
            CustomerValue.objects.filter(run_id=run_id)._raw_delete(connection.alias)
            SegmentRun.objects.filter(pk=run_id).update(details_pruned_at=timezone.now())
        pruned += 1
    return pruned


def _prune_after_publishing() -> None:
    """Like the warming above, a failure must not fail the published run: the next run
    prunes what this one left."""
    try:
        pruned = prune()
    except DatabaseError as error:
        if isinstance(error.__cause__, LockNotAvailable):
            logger.warning("pruning old segment runs gave up waiting for a report: %s", error)
        else:
            logger.exception("pruning the details of old segment runs failed")
        return
    if pruned:
        logger.info("removed the per-customer rows of %s old segment runs", pruned)


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


def fail(run_id: int, error: str, *, only_if_before: datetime | None = None) -> bool:
    """Mark the run failed and delete what it wrote; the current run is untouched.

    `only_if_before` (the sweep): only if the run has shown no sign of life since then,
    checked under the row lock, so a heartbeat that just arrived wins. False when the run
    was not failed (it had ended, or it is alive)."""
    with transaction.atomic():
        run = (
            SegmentRun.objects.select_for_update()
            .filter(pk=run_id, status__in=SegmentRun.ACTIVE_STATUSES)
            .first()
        )
        if run is None:
            return False
        last_sign = run.heartbeat_at or run.started_at or run.created_at
        if only_if_before is not None and last_sign >= only_if_before:
            return False
        SegmentRun.objects.filter(pk=run_id).update(
            status=SegmentRun.Status.FAILED,
            error=error[:2000],
            finished_at=timezone.now(),
            is_current=False,
        )
        delete_results(run_id)
    staging.clear_staging()
    return True


def delete_results(run_id: int) -> None:
    if partitions.enabled():
        partitions.drop(run_id)
    for model in (CustomerValue, Recommendation, ProductAffinity, SegmentMigration, SegmentSummary):
        model.objects.filter(run_id=run_id)._raw_delete(connection.alias)


def readable_error(run_id: int, error: BaseException) -> str:
    step = SegmentRun.objects.filter(pk=run_id).values_list("step", flat=True).first()
    return _("The run failed at step “%(step)s”: %(error)s") % {
        "step": STEP_LABELS.get(step or "", step or "?"),
        "error": str(error) or error.__class__.__name__,
    }


def stale_after() -> timedelta:
    return timedelta(seconds=settings.CRM_RUN_STALE_SECONDS)


def sweep_stale(*, now: datetime | None = None, older_than: timedelta | None = None) -> int:
    """Fail the runs whose worker is gone, so they block no new run (the beat's sweep, and
    every new request): a queued run no worker picked up in time (its message was lost, or
    no worker runs), and a running run whose heartbeat stopped. Returns how many."""
    older_than = older_than or stale_after()
    cutoff = (now or timezone.now()) - older_than
    minutes = _minutes(older_than)
    never_started = SegmentRun.objects.filter(
        status=SegmentRun.Status.QUEUED, created_at__lt=cutoff
    ).values_list("pk", flat=True)
    silent = (
        SegmentRun.objects.filter(status=SegmentRun.Status.RUNNING)
        .annotate(last_sign=Coalesce("heartbeat_at", "started_at", "created_at"))
        .filter(last_sign__lt=cutoff)
        .values_list("pk", "step")
    )
    stale = [
        (run_id, _("No worker started the run within %(minutes)s: is a Celery worker running?"))
        for run_id in never_started
    ]
    stale += [
        (
            run_id,
            _(
                "The worker stopped before finishing: no sign of life for %(minutes)s "
                "at step “%(step)s”."
            ),
        )
        for run_id, step in silent
    ]
    steps = dict(silent)
    for run_id, message in stale:
        logger.warning("segment run %s failed by the sweep: its worker is gone", run_id)
        step_name = steps.get(run_id) or ""
        step = STEP_LABELS.get(step_name, step_name or "?")
        fail(run_id, message % {"minutes": minutes, "step": step}, only_if_before=cutoff)
    return len(stale)


def _minutes(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds % 60:
        return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    minutes = seconds // 60
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def cancel(run_id: int, *, by_name: str) -> bool:
    """Fail an active run on a manager's request; its task stops at its next heartbeat
    and writes nothing more. False when the run had ended already."""
    return fail(run_id, _("Cancelled by %(name)s.") % {"name": by_name})
