"""The last run of every periodic task, recorded by Celery's signals in the worker (the
writes of core.models.PeriodicTaskRun), for the admins' jobs page.

Only the tasks named in CELERY_BEAT_SCHEDULE are recorded, however they were started (by
beat, or by hand). Recording must never fail a task: a database error is logged and the
task's own outcome stands.
"""

import logging
import sys
from datetime import datetime
from typing import Any

from celery import Task
from celery.signals import task_failure, task_postrun, task_prerun
from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from core.models import PeriodicTaskRun

logger = logging.getLogger(__name__)

OUTCOME_OF_STATE = {
    "SUCCESS": PeriodicTaskRun.Outcome.SUCCEEDED,
    "FAILURE": PeriodicTaskRun.Outcome.FAILED,
    "RETRY": PeriodicTaskRun.Outcome.RETRYING,
}


def beat_task_names() -> set[str]:
    return {str(entry["task"]) for entry in settings.CELERY_BEAT_SCHEDULE.values()}


def periodic_task_started(*, task: str, at: datetime) -> None:
    PeriodicTaskRun.objects.update_or_create(
        task=task,
        defaults={
            "outcome": PeriodicTaskRun.Outcome.RUNNING,
            "started_at": at,
            "finished_at": None,
            "duration_seconds": None,
        },
    )


def periodic_task_failed(*, task: str, at: datetime, error: str) -> None:
    """The error of a failed run (task_failure comes before task_postrun)."""
    PeriodicTaskRun.objects.filter(task=task).update(error=error[:4000])


def periodic_task_finished(*, task: str, at: datetime, state: str, error: str = "") -> None:
    """A run ended: its outcome and duration. `error` is given when the exception is
    propagating to the caller (a task run inline), which sends no task_failure."""
    outcome = OUTCOME_OF_STATE.get(state, PeriodicTaskRun.Outcome.FAILED)
    run = PeriodicTaskRun.objects.filter(task=task).first()
    if run is None:
        return
    run.outcome = outcome
    run.finished_at = at
    run.duration_seconds = max(0.0, (at - run.started_at).total_seconds())
    fields = ["outcome", "finished_at", "duration_seconds"]
    if outcome == PeriodicTaskRun.Outcome.SUCCEEDED:
        run.last_success_at, run.failures_in_a_row, run.error = at, 0, ""
        fields += ["last_success_at", "failures_in_a_row", "error"]
    elif outcome == PeriodicTaskRun.Outcome.FAILED:
        run.last_failure_at, run.failures_in_a_row = at, run.failures_in_a_row + 1
        fields += ["last_failure_at", "failures_in_a_row"]
        if error:
            run.error = error[:4000]
            fields.append("error")
    run.save(update_fields=fields)


def _describe(error: BaseException | None) -> str:
    return f"{type(error).__name__}: {error}" if error is not None else ""


def _record(write: Any, sender: Task | None, **values: Any) -> None:
    name = getattr(sender, "name", None)
    if name not in beat_task_names():
        return
    try:
        with transaction.atomic():  # a failed write leaves a caller's transaction usable
            write(task=name, at=timezone.now(), **values)
    except DatabaseError:
        logger.warning("could not record the run of %s", name, exc_info=True)


@task_prerun.connect(dispatch_uid="core.job_runs.started")
def _started(sender: Task | None = None, **kwargs: Any) -> None:
    _record(periodic_task_started, sender)


@task_failure.connect(dispatch_uid="core.job_runs.failed")
def _failed(sender: Task | None = None, exception: BaseException | None = None, **kw: Any) -> None:
    _record(periodic_task_failed, sender, error=_describe(exception))


@task_postrun.connect(dispatch_uid="core.job_runs.finished")
def _finished(sender: Task | None = None, state: str | None = None, **kwargs: Any) -> None:
    # An inline run's exception is on its way to the caller: sys.exc_info() holds it.
    propagating = sys.exc_info()[1] if state not in OUTCOME_OF_STATE else None
    _record(periodic_task_finished, sender, state=state or "", error=_describe(propagating))
