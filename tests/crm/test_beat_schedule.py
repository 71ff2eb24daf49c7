"""The beat schedule names tasks that exist, and each entry runs as beat would send it.

Beat sends a task by name: a misspelt or renamed task is accepted by beat and dropped by
the worker ("unregistered task"), so nothing fails until someone misses the nightly run.
"""

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.utils import timezone

from analytics.models import SegmentRun
from crm.celery import app
from tests.factories import CustomerFactory, OrderFactory

SCHEDULE = settings.CELERY_BEAT_SCHEDULE


def registered_tasks() -> set[str]:
    """What a worker registers: the tasks of every installed app (autodiscovered)."""
    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith("celery.")}


def beat_task(entry: str):
    """The task beat sends for the entry, looked up by name as the worker does."""
    app.loader.import_default_modules()
    return app.tasks[SCHEDULE[entry]["task"]]


def test_celery_reads_the_schedule_from_the_settings():
    assert app.conf.beat_schedule == SCHEDULE
    assert {"nightly-segments", "nightly-loyalty", "marketing-sweep-sending"} <= set(SCHEDULE)


@pytest.mark.parametrize("entry", SCHEDULE)
def test_every_beat_entry_names_a_registered_task(entry):
    assert SCHEDULE[entry]["task"] in registered_tasks(), entry


def test_the_nightly_entries_run_at_the_configured_hour():
    for entry in ("nightly-segments", "nightly-loyalty"):
        schedule = SCHEDULE[entry]["schedule"]
        assert isinstance(schedule, crontab), entry
        assert schedule.hour == {settings.CRM_SEGMENTS_HOUR}, entry


@pytest.mark.django_db
@pytest.mark.parametrize("entry", SCHEDULE)
def test_every_beat_entry_runs_with_its_arguments(entry, django_capture_on_commit_callbacks):
    CustomerFactory()
    OrderFactory()
    task = beat_task(entry)
    with django_capture_on_commit_callbacks(execute=True):
        result = task.apply(
            args=SCHEDULE[entry].get("args", ()), kwargs=SCHEDULE[entry].get("kwargs", {})
        )
    assert result.successful(), result.traceback


@pytest.mark.django_db
def test_the_nightly_segments_entry_runs_as_of_today(django_capture_on_commit_callbacks):
    OrderFactory(ordered_at=timezone.now())
    entry = SCHEDULE["nightly-segments"]
    with django_capture_on_commit_callbacks(execute=True):
        beat_task("nightly-segments").apply(
            args=entry.get("args", ()), kwargs=entry.get("kwargs", {})
        )
    run = SegmentRun.objects.get()
    assert run.status == SegmentRun.Status.SUCCEEDED, run.error
    assert run.as_of == timezone.localdate()
    assert run.values.get().recency_days == 0  # today's order counts
