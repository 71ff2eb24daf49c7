"""crm.lib.tasks: tasks are queued after commit; a broker that is down is logged, not raised."""

import logging

import pytest
from celery import Celery
from django.db import transaction

from crm.lib.tasks import publish, publish_report, queue_on_commit

pytestmark = pytest.mark.django_db


def app_without_broker() -> Celery:
    """A real Celery app whose broker is a closed port: every publish fails to connect."""
    app = Celery("broker-down", broker="redis://127.0.0.1:9/0", set_as_current=False)
    app.conf.task_publish_retry = False
    app.conf.broker_connection_timeout = 1
    return app


def test_a_task_is_published_only_when_the_transaction_commits(django_capture_on_commit_callbacks):
    app = Celery("inline", set_as_current=False)
    app.conf.task_always_eager = True
    ran = []

    @app.task(name="tests.record")
    def record(value: int) -> None:
        ran.append(value)

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        queue_on_commit(record, 7)
        assert ran == []  # not inside the transaction
    assert (len(callbacks), ran) == (1, [7])


def test_a_broker_that_is_down_is_logged_not_raised(caplog, django_capture_on_commit_callbacks):
    app = app_without_broker()

    @app.task(name="tests.noop")
    def noop(value: int) -> int:
        return value

    logged = caplog.at_level(logging.ERROR, logger="crm.lib.tasks")
    with logged, django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        queue_on_commit(noop, 7)
    assert "could not queue tests.noop(7,)" in caplog.text


def test_inline_a_failing_task_still_raises():
    app = Celery("inline-failing", set_as_current=False)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True

    @app.task(name="tests.fails")
    def fails() -> None:
        raise ValueError("the task's own error")

    with pytest.raises(ValueError, match="the task's own error"):
        publish(fails)


def test_a_publish_reports_whether_the_broker_took_the_task():
    down = app_without_broker()

    @down.task(name="tests.lost")
    def lost() -> None:
        pass

    inline = Celery("inline-report", set_as_current=False)
    inline.conf.task_always_eager = True

    @inline.task(name="tests.taken")
    def taken() -> None:
        pass

    with publish_report() as outer:
        assert publish(lost) is False
        with publish_report() as inner:
            assert publish(taken) is True
    assert (outer.published, outer.failed) == (["tests.taken"], ["tests.lost"])
    assert (inner.published, inner.failed) == (["tests.taken"], [])
    assert publish(taken) is True  # outside a report: nothing collects it
    assert outer.published == ["tests.taken"]
