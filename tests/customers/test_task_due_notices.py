"""A task without a reminder tells its assignee once when it falls due (issue 16: notify "a
task due or overdue"); before, only tasks with a reminder ever notified."""

from datetime import datetime, time, timedelta

import pytest
from django.conf import settings
from django.utils import timezone, translation

from core.models import Notification, UserProfile
from customers.models import Task
from customers.reminders import task_due_notices_send
from customers.services import task_create, task_set_done
from customers.tasks import send_task_reminders
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def a_task(rep, *, due=None, day=None, title="Call Acme"):
    """A task without a reminder, due at `due` (local), or some time on `day`."""
    if due is not None:
        due = timezone.localtime(due)
        day = due.date()
    assert day is not None
    return task_create(
        customer=CustomerFactory(owner=rep, name="Acme"),
        title=title,
        due_date=day,
        due_time=due.time().replace(second=0, microsecond=0) if due else None,
        reminder=None,
        assignee=rep,
        created_by=rep,
    )


def test_a_task_without_reminder_notifies_once_when_it_falls_due(rep):
    task = a_task(rep, due=timezone.now() + timedelta(hours=1))
    assert task_due_notices_send(now=task.due_at - timedelta(minutes=1)) == 0
    assert task_due_notices_send(now=task.due_at) == 1
    assert task_due_notices_send(now=task.due_at + timedelta(hours=2)) == 0  # once
    note = Notification.objects.get(recipient=rep)
    assert note.kind == "task_due" and "Call Acme (Acme)" in note.text
    assert note.url == task.customer.get_absolute_url()


def test_the_beat_task_sends_them_on_its_schedule(rep):
    a_task(rep, due=timezone.now() - timedelta(minutes=10))
    assert settings.CELERY_BEAT_SCHEDULE["customers-task-reminders"]["task"] == (
        "customers.tasks.send_task_reminders"
    )
    assert send_task_reminders() == 1
    assert send_task_reminders() == 0


def test_not_for_a_done_task(rep):
    task = a_task(rep, due=timezone.now() - timedelta(minutes=10))
    task_set_done(task=task, done=True)
    assert task_due_notices_send() == 0


def test_old_overdue_tasks_do_not_flood_the_bell_on_first_run(rep):
    a_task(rep, due=timezone.now() - timedelta(days=3), title="Long overdue")
    a_task(rep, due=timezone.now() - timedelta(hours=25), title="Just over a day")
    recent = a_task(rep, due=timezone.now() - timedelta(hours=23), title="Fell due today")
    assert task_due_notices_send() == 1
    assert "Fell due today" in Notification.objects.get().text
    recent.refresh_from_db()
    assert recent.reminded_at is not None


def test_a_task_without_a_time_falls_due_at_the_start_of_the_working_day(rep):
    day = timezone.localdate() + timedelta(days=1)
    a_task(rep, day=day)
    start = timezone.make_aware(datetime.combine(day, time(9, 0)))
    assert task_due_notices_send(now=start - timedelta(minutes=1)) == 0
    assert task_due_notices_send(now=start) == 1


def test_a_task_with_a_reminder_is_left_to_its_reminder(rep):
    task = a_task(rep, due=timezone.now() - timedelta(minutes=10))
    Task.objects.filter(pk=task.pk).update(reminder=15)
    assert task_due_notices_send() == 0


def test_the_assignee_reads_it_in_their_language(rep, rep_client):
    UserProfile.objects.create(user=rep, language="zh-hans")
    task = a_task(rep, due=timezone.now() - timedelta(hours=30))
    Task.objects.filter(pk=task.pk).update(due_date=timezone.localdate() - timedelta(days=1))
    task.refresh_from_db()
    with translation.override("en"):  # the beat worker's language is not the reader's
        assert task_due_notices_send(now=task.due_at + timedelta(hours=1)) == 1
    with translation.override("zh-hans"):
        assert Notification.objects.get().display_text == "已逾期：Call Acme（Acme）"
    with translation.override("en"):
        assert Notification.objects.get().display_text == "Overdue: Call Acme (Acme)"
