"""Celery tasks of the analytics app: interfaces only, the work is in analytics.runs.

Services queue these (analytics.services imports this module); a task imports the
services it calls inside its body, so the two never import each other while loading.
analytics.runs queues nothing, so it is imported here at the top.

run_segments aggregates and fits on one worker, then a chord spreads the chunks (and the
recommendations) over every worker on the queue; finish_run publishes the run.
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


@shared_task(name="analytics.tasks.run_segments")
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
@shared_task(name="analytics.tasks.score_chunk", acks_late=True, reject_on_worker_lost=True)
def score_chunk(run_id: int, low: int, high: int, chunks: int, index: int) -> dict:
    return _guarded(
        run_id, lambda: runs.score_chunk(run_id, low, high, chunks, index), reraise=True
    )


@shared_task(name="analytics.tasks.recommend")
def recommend(run_id: int) -> dict:
    return _guarded(run_id, lambda: runs.recommendations(run_id), reraise=True)


@shared_task(name="analytics.tasks.finish_run")
def finish_run(results: list, run_id: int) -> None:
    _guarded(run_id, lambda: runs.finish(run_id, results), reraise=False)
