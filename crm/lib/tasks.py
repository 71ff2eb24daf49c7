"""Queueing Celery tasks from services: once the transaction commits, never before.

A task queued inside a transaction could run before the rows it reads are committed (or
for rows a rollback removed), so services queue with `queue_on_commit` (the HackSoftware
Styleguide's pattern). Outside a transaction the task is queued at once.

A publish that fails (the broker is down) is logged, not raised: the change it follows is
committed already, and an error page would only hide that it was saved. A beat sweep
publishes the job later or fails it with a message (the sending sweep, the import sweep,
the segment-run sweep, the nightly catch-ups). `publish` returns whether the broker took
the task; a view learns it through `publish_report`, which collects the outcome of every
publish made inside it (queue_on_commit publishes when the view's transaction commits):

    with publish_report() as report:
        campaign_send(campaign=campaign, by=request.user)
    if report.failed:
        messages.warning(request, QUEUED_UNTIL_BROKER_IS_BACK)

The broker's connection and publish timeouts in settings (CELERY_BROKER_*) keep a failed
publish under a second or two. Inline (no broker, CELERY_TASK_ALWAYS_EAGER) the task runs
in the callback and its errors propagate.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from celery import Task
from django.db import transaction
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

# What the user is told when the job they started could not be handed to the workers.
QUEUED_UNTIL_BROKER_IS_BACK = _("Queued: it will start when the job system is back.")


@dataclass
class PublishReport:
    """The tasks published (and not) while a `publish_report` block ran."""

    published: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


_reports: ContextVar[tuple[PublishReport, ...]] = ContextVar("publish_reports", default=())


@contextmanager
def publish_report() -> Iterator[PublishReport]:
    """Collect the outcome of every publish made inside the block (nested blocks both see it)."""
    report = PublishReport()
    token = _reports.set((*_reports.get(), report))
    try:
        yield report
    finally:
        _reports.reset(token)


def queue_on_commit(task: Task, *args: Any, using: str | None = None) -> None:
    """Queue `task(*args)` when the current transaction (on `using`) commits."""
    transaction.on_commit(lambda: publish(task, *args), using=using)


def publish(task: Task, *args: Any) -> bool:
    """Queue `task(*args)` now; True when the broker took it (see the module)."""
    if task.app.conf.task_always_eager:
        task.delay(*args)
        published = True
    else:
        try:
            task.delay(*args)
            published = True
        except Exception:
            logger.exception("could not queue %s%r", task.name, args)
            published = False
    for report in _reports.get():
        (report.published if published else report.failed).append(task.name)
    return published
