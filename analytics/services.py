"""Writes of the analytics app: requesting segment runs (the run itself is analytics.runs)."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics import runs
from analytics.models import SegmentRun
from analytics.selectors import active_run
from analytics.tasks import run_segments
from crm.lib.tasks import publish


class RunAlreadyActive(Exception):
    """A second run while one is queued or running is refused, not doubled."""


class RunNotActive(Exception):
    """Only a queued or running run can be cancelled."""


@transaction.atomic
def run_request(*, as_of: date | None = None, requested_by: User | None = None) -> SegmentRun:
    """Create a queued run and queue its Celery task once the transaction commits; a
    publish that fails (the broker is down) fails the run at once, with the reason."""
    run = _run_create(as_of=as_of, requested_by=requested_by)
    transaction.on_commit(lambda: _publish_run(run.pk))
    return run


def _publish_run(run_id: int) -> None:
    if not publish(run_segments, run_id):
        runs.fail(
            run_id,
            _("The job system (Redis) could not take the run; nothing was computed. Try again."),
        )


@transaction.atomic
def _run_create(*, as_of: date | None, requested_by: User | None) -> SegmentRun:
    runs.sweep_stale()  # a run whose worker is gone blocks nobody, beat or no beat
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


def run_cancel(*, run: SegmentRun, by: User) -> None:
    """Cancel an active run (a manager on the segments page): it fails with who cancelled
    it, its task stops at its next heartbeat and writes nothing; the current run stays."""
    if not runs.cancel(run.pk, by_name=by.get_full_name() or by.get_username()):
        raise RunNotActive(_("This segment run has ended already."))
    run.refresh_from_db()
