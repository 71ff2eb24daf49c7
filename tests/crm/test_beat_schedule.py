"""The beat schedule names tasks that exist, and each entry runs as beat would send it.

Beat sends a task by name: a misspelt or renamed task is accepted by beat and dropped by
the worker ("unregistered task"), so nothing fails until someone misses the nightly run.
"""

from datetime import timedelta

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


# Every periodic job and the task it sends: an entry lost, renamed or pointed at another
# task fails here, however the schedule is assembled.
TASKS = {
    "escalate-tickets": "service.tasks.escalate_tickets",
    "marketing-sweep-sending": "marketing.tasks.sweep_sending",
    "marketing-send-scheduled": "marketing.tasks.send_scheduled",
    "marketing-decide-subject-tests": "marketing.tasks.decide_subject_tests",
    "analytics-sweep-runs": "analytics.tasks.sweep_runs",
    "customers-sweep-imports": "customers.tasks.sweep_imports",
    "sales-sweep-imports": "sales.tasks.sweep_order_imports",
    "core-sweep-outbox": "core.tasks.sweep_outbox",
    "integrations-sweep-webhooks": "integrations.tasks.sweep_webhooks",
    "core-sweep-export-files": "core.tasks.sweep_export_files",
    "customers-refresh-duplicates": "customers.tasks.refresh_duplicates",
    "nightly-segments": "analytics.tasks.nightly_segments",
    "nightly-loyalty": "marketing.tasks.nightly_loyalty",
    "nightly-lead-purge": "marketing.tasks.purge_lead_submissions",
    "beat-tick": "crm.tasks.beat_tick",
    "core-notification-digests": "core.tasks.send_notification_digests",
    "customers-task-reminders": "customers.tasks.send_task_reminders",
    "core-purge-idempotency-keys": "core.tasks.purge_idempotency_keys",
    "integrations-poll-mailboxes": "integrations.tasks.poll_mailboxes",
}


def test_the_schedule_has_every_periodic_job_and_no_other():
    assert {entry: spec["task"] for entry, spec in SCHEDULE.items()} == TASKS


def test_each_entry_runs_as_often_as_its_setting_says():
    sweep = timedelta(seconds=settings.CRM_SWEEP_SECONDS)
    hour = settings.CRM_SEGMENTS_HOUR
    assert {entry: spec["schedule"] for entry, spec in SCHEDULE.items()} == {
        "escalate-tickets": timedelta(minutes=settings.CRM_SLA_ESCALATION_MINUTES),
        "marketing-sweep-sending": sweep,
        "marketing-send-scheduled": sweep,
        "marketing-decide-subject-tests": sweep,
        "analytics-sweep-runs": sweep,
        "customers-sweep-imports": timedelta(minutes=1),
        "sales-sweep-imports": timedelta(hours=1),
        "core-sweep-outbox": sweep,
        "integrations-sweep-webhooks": sweep,
        "core-sweep-export-files": timedelta(minutes=5),
        "customers-refresh-duplicates": timedelta(minutes=settings.CRM_DUPLICATES_REFRESH_MINUTES),
        "nightly-segments": crontab(hour=hour, minute=0),
        "nightly-loyalty": crontab(hour=hour, minute=30),
        "nightly-lead-purge": crontab(hour=hour, minute=45),
        "beat-tick": min(timedelta(minutes=1), sweep),
        "core-notification-digests": crontab(hour=7, minute=0),
        "customers-task-reminders": timedelta(minutes=1),
        "core-purge-idempotency-keys": timedelta(hours=1),
        "integrations-poll-mailboxes": timedelta(seconds=settings.CRM_MAIL_POLL_SECONDS),
    }


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
