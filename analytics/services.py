"""Writes of the analytics app: requesting segment runs (the run itself is analytics.runs)."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics import runs
from analytics.models import SegmentRun
from analytics.selectors import active_run
from analytics.tasks import run_segments
from crm.lib.tasks import queue_on_commit

# A run queued or running for longer than this lost its worker (a run of a million
# customers takes about a minute): it is failed so that it does not block new runs forever.
STALE_AFTER = timedelta(hours=3)


class RunAlreadyActive(Exception):
    """A second run while one is queued or running is refused, not doubled."""


@transaction.atomic
def run_request(*, as_of: date | None = None, requested_by: User | None = None) -> SegmentRun:
    """Create a queued run and queue its Celery task once the transaction commits."""
    run = _run_create(as_of=as_of, requested_by=requested_by)
    queue_on_commit(run_segments, run.pk)
    return run


@transaction.atomic
def _run_create(*, as_of: date | None, requested_by: User | None) -> SegmentRun:
    runs.recover_stale(older_than=STALE_AFTER)
    run = SegmentRun(as_of=as_of or timezone.localdate(), requested_by=requested_by, step="queued")
    run.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError as error:
        active = active_run()
        raise RunAlreadyActive(
            _("A segment run is already %(status)s (requested %(when)s); wait for it to finish.")
            % {
                "status": active.get_status_display().lower() if active else _("running"),
                "when": timezone.localtime(active.created_at).strftime("%Y-%m-%d %H:%M")
                if active
                else "?",
            }
        ) from error
    return run


@contextmanager
def _tasks_inline() -> Iterator[None]:
    from crm.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


def run_compute_now(*, as_of: date | None = None, requested_by: User | None = None) -> SegmentRun:
    """Run the same chunked path in this process (the command and the demo data).

    Not atomic on purpose: the run publishes itself in its own transaction at the end.
    """
    with _tasks_inline():
        run = _run_create(as_of=as_of, requested_by=requested_by)
        run_segments.apply(args=[run.pk])
    run.refresh_from_db()
    return run
