"""Celery tasks of the analytics app: interfaces only, the work is in analytics.runs.

Services queue these (analytics.services imports this module); a task imports the
services it calls inside its body, so the two never import each other while loading.
analytics.runs queues nothing, so it is imported here at the top.

run_segments aggregates and fits on one worker, then a chord spreads the chunks (and the
recommendations) over every worker on the queue; finish_run publishes the run.

A worker may die at any point. Every step is safe to run twice (a step whose run is no
longer where it expects stops with RunStopped; a chunk replaces its own rows; the rows of
a step are written in one transaction), so every task is acknowledged only once done
(acks_late) and sent again when its pool process is lost (retry_on_worker_lost). What no retry brings back (the whole worker killed, the run's
heartbeat silent) the beat's sweep_runs fails, so the next run can start.
"""

import logging

from celery import chord, shared_task
from django.utils import timezone

from analytics import runs

logger = logging.getLogger(__name__)


@shared_task(name="analytics.tasks.nightly_segments")
def nightly_segments() -> int | None:
    """The beat schedule's entry point (settings.CRM_SEGMENTS_HOUR)."""
    from analytics.services import RunAlreadyActive, run_request

    try:
        return run_request(as_of=timezone.localdate()).pk
    except RunAlreadyActive as refused:
        logger.warning("nightly segment run skipped: %s", refused)
        return None


def _guarded(run_id: int, work, *, reraise: bool):
    """Run one step; any error fails the run (rows deleted, previous run stays current)."""
    try:
        return work()
    except runs.RunStopped:
        logger.info("segment run %s is no longer running; step skipped", run_id)
        if reraise:
            raise
    except Exception as error:
        logger.exception("segment run %s failed", run_id)
        runs.fail(run_id, runs.readable_error(run_id, error))
        if reraise:
            raise
    return None


# Each step may run again after its worker was lost (see the module). A lost pool process
# (the out-of-memory killer) has the step sent again at once (retry_on_worker_lost, twice
# at most), well before the sweep's stale time; a lost worker leaves the message to Redis's
# visibility timeout, and the sweep fails the run first.
RETRY_SAFE = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "retry_on_worker_lost": True,
    "default_retry_delay": 0,
    "max_retries": 2,
}


@shared_task(name="analytics.tasks.sweep_runs", ignore_result=True)
def sweep_runs() -> int:
    """Every minute (beat): fail the runs whose worker is gone; returns how many."""
    return runs.sweep_stale()


@shared_task(name="analytics.tasks.run_segments", **RETRY_SAFE)
def run_segments(run_id: int) -> None:
    def work():
        ranges = runs.start(run_id)
        header = [
            score_chunk.si(run_id, low, high, len(ranges), index)
            for index, (low, high) in enumerate(ranges)
        ]
        chord([*header, recommend.si(run_id)])(finish_run.s(run_id))

    # Errors raised by the chunks of an inline (eager) chord arrive here too; they have
    # failed the run already, and a failed run must not fail the caller.
    _guarded(run_id, work, reraise=False)


# A chunk that fails re-raises so that the chord never calls finish_run.
@shared_task(name="analytics.tasks.score_chunk", **RETRY_SAFE)
def score_chunk(run_id: int, low: int, high: int, chunks: int, index: int) -> dict:
    return _guarded(
        run_id, lambda: runs.score_chunk(run_id, low, high, chunks, index), reraise=True
    )


@shared_task(name="analytics.tasks.recommend", **RETRY_SAFE)
def recommend(run_id: int) -> dict:
    return _guarded(run_id, lambda: runs.recommendations(run_id), reraise=True)


@shared_task(name="analytics.tasks.finish_run", **RETRY_SAFE)
def finish_run(results: list, run_id: int) -> None:
    _guarded(run_id, lambda: runs.finish(run_id, results), reraise=False)
