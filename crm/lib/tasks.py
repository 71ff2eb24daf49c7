"""Queueing Celery tasks from services: once the transaction commits, never before.

A task queued inside a transaction could run before the rows it reads are committed (or
for rows a rollback removed), so services queue with `queue_on_commit` (the HackSoftware
Styleguide's pattern). Outside a transaction the task is queued at once.

A publish that fails (the broker is down) is logged, not raised: the change it follows is
committed already, and an error page would only hide that it was saved (the sending sweep
and the nightly catch-ups redo what their jobs missed). Inline (no broker,
CELERY_TASK_ALWAYS_EAGER) the task runs in the callback and its errors propagate.
"""

import logging
from typing import Any

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def queue_on_commit(task: Task, *args: Any, using: str | None = None) -> None:
    """Queue `task(*args)` when the current transaction (on `using`) commits."""
    transaction.on_commit(lambda: publish(task, *args), using=using)


def publish(task: Task, *args: Any) -> bool:
    """Queue `task(*args)` now; a broker that cannot take it is logged (see the module).
    Returns whether the task was queued, so a caller can record a job that never will run."""
    if task.app.conf.task_always_eager:
        task.delay(*args)
        return True
    try:
        task.delay(*args)
    except Exception:
        logger.exception("could not queue %s%r", task.name, args)
        return False
    return True
