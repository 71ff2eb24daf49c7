"""Task reminders (the beat task's function), snoozing, undoing a completion, the "Today"
group of My tasks, and who may touch another's task."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import Notification
from customers.models import Task
from customers.reminders import snooze_target, task_reminders_send, task_snooze
from customers.services import task_create, task_set_done
from customers.tasks import send_task_reminders
from tests.factories import CustomerFactory, TaskFactory

pytestmark = pytest.mark.django_db


def a_task(rep, *, due_in=timedelta(hours=2), reminder=15, title="Call Acme"):
    due = timezone.localtime() + due_in
    return task_create(
        customer=CustomerFactory(owner=rep),
        title=title,
        due_date=due.date(),
        due_time=due.time().replace(second=0, microsecond=0),
        reminder=reminder,
        assignee=rep,
        created_by=rep,
    )


def test_reminder_fires_once_at_its_time(rep):
    task = a_task(rep, due_in=timedelta(hours=1), reminder=60)
    assert task.remind_at is not None
    assert task_reminders_send(now=task.remind_at - timedelta(minutes=1)) == 0
    assert task_reminders_send(now=task.remind_at) == 1
    assert task_reminders_send(now=task.remind_at + timedelta(minutes=1)) == 0
    note = Notification.objects.get(recipient=rep)
    assert note.kind == "task_due" and "Call Acme" in note.text
    assert note.url == task.customer.get_absolute_url()


def test_the_beat_task_sends_due_reminders(rep):
    a_task(rep, due_in=timedelta(minutes=5), reminder=15)  # its time passed 10 minutes ago
    assert send_task_reminders() == 1
    assert send_task_reminders() == 0


def test_no_reminder_without_one_and_none_for_a_done_task(rep):
    a_task(rep, reminder=None)
    done = a_task(rep, due_in=timedelta(minutes=1), reminder=0)
    task_set_done(task=done, done=True)
    assert task_reminders_send(now=timezone.now() + timedelta(days=1)) == 0


def test_snooze_moves_the_due_time_and_arms_the_reminder_again(rep):
    task = a_task(rep, due_in=timedelta(minutes=1), reminder=0)
    assert task_reminders_send(now=timezone.now() + timedelta(minutes=2)) == 1
    task_snooze(task=task, choice="tomorrow")
    task.refresh_from_db()
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert (task.due_date, task.due_time) == (tomorrow, time(9, 0))
    assert task.reminded_at is None and task.remind_at == task.due_at
    assert task_reminders_send(now=task.due_at) == 1  # reminds again at the new time
    assert Notification.objects.filter(recipient=rep).count() == 2


def test_snooze_targets():
    tz = timezone.get_current_timezone()
    monday_10 = datetime(2026, 3, 2, 10, 0, tzinfo=tz)
    assert snooze_target("later_today", now=monday_10) == monday_10 + timedelta(hours=3)
    evening = datetime(2026, 3, 2, 20, 0, tzinfo=tz)
    assert snooze_target("later_today", now=evening) == datetime(2026, 3, 3, 9, 0, tzinfo=tz)
    assert snooze_target("next_week", now=monday_10) == datetime(2026, 3, 9, 9, 0, tzinfo=tz)
    sunday = datetime(2026, 3, 8, 10, 0, tzinfo=tz)
    assert snooze_target("next_week", now=sunday) == datetime(2026, 3, 9, 9, 0, tzinfo=tz)


def test_snooze_view(rep, rep_client):
    task = a_task(rep)
    response = rep_client.post(
        reverse("customers:task-snooze", args=[task.pk]), {"until": "next_week"}
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.due_date > timezone.localdate()
    bad = rep_client.post(reverse("customers:task-snooze", args=[task.pk]), {"until": "never"})
    assert bad.status_code == 302  # refused, back to the list; nothing moved
    assert Task.objects.get(pk=task.pk).due_date == task.due_date


def test_done_with_htmx_offers_undo_and_undo_restores(rep, rep_client):
    task = a_task(rep)
    url = reverse("customers:task-toggle", args=[task.pk])
    done = rep_client.post(url, {"done": "1"}, HTTP_HX_REQUEST="true")
    assert done.status_code == 200 and "Undo" in done.text and "data-undo-seconds" in done.text
    assert Task.objects.get(pk=task.pk).done
    undone = rep_client.post(url, {"done": "0"}, HTTP_HX_REQUEST="true")
    assert undone.status_code == 200 and "Undo" not in undone.text
    task.refresh_from_db()
    assert not task.done and task.done_at is None
    assert task_reminders_send(now=task.remind_at) == 1  # the reminder still comes


def test_my_tasks_groups_overdue_today_and_later(rep, rep_client):
    today = timezone.localdate()
    TaskFactory(assignee=rep, title="Past one", due_date=today - timedelta(days=2))
    TaskFactory(assignee=rep, title="Today one", due_date=today)
    TaskFactory(assignee=rep, title="Later one", due_date=today + timedelta(days=3))
    page = rep_client.get(reverse("customers:my-tasks")).text
    overdue, today_at, later = (
        page.index(f'data-group="{g}"') for g in ("overdue", "today", "later")
    )
    assert overdue < page.index("Past one") < today_at < page.index("Today one") < later
    assert page.index("Later one") > later


def test_another_reps_task_cannot_be_snoozed_or_done(rep, rep2_client):
    task = a_task(rep)
    snooze = reverse("customers:task-snooze", args=[task.pk])
    assert rep2_client.post(snooze, {"until": "tomorrow"}).status_code in (403, 404)
    toggle = reverse("customers:task-toggle", args=[task.pk])
    assert rep2_client.post(toggle, {"done": "1"}).status_code in (403, 404)
    assert not Task.objects.get(pk=task.pk).done


def test_task_form_takes_a_time_and_a_reminder(rep, rep_client):
    customer = CustomerFactory(owner=rep)
    tomorrow = timezone.localdate() + timedelta(days=1)
    rep_client.post(
        reverse("customers:task-create", args=[customer.pk]),
        {"title": "Demo", "due_date": tomorrow, "due_time": "14:30", "reminder": "60",
         "assignee": rep.pk},
    )  # fmt: skip
    task = Task.objects.get(title="Demo")
    assert task.due_time == time(14, 30) and task.reminder == 60
    assert timezone.localtime(task.remind_at).time() == time(13, 30)
