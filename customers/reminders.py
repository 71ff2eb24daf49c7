"""Task reminders and snoozing: when a task reminds its assignee, and the beat task's work.

A task with a reminder has `remind_at` (its due time less the reminder); every minute
`task_reminders_send` turns the reminders whose time has come into notifications, once
per task and due time (the notification's key), and marks them sent (`reminded_at`), so
the partial index on pending reminders stays small. Snoozing moves the due time and arms
the reminder again.
"""

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.notifications import notify
from customers.choices import DEFAULT_DUE_TIME
from customers.models import Task

REMINDER_BATCH = 500
SNOOZE_CHOICES = ("later_today", "tomorrow", "next_week")
LATER_TODAY = timedelta(hours=3)
END_OF_DAY = time(21, 0)  # "later today" past this moves to tomorrow morning


def task_remind_at(task: Task) -> datetime | None:
    if task.reminder is None or task.done:
        return None
    return task.due_at - timedelta(minutes=task.reminder)


def task_arm_reminder(task: Task) -> None:
    """Set the reminder's time from the due time; a new time is reminded again."""
    task.remind_at = task_remind_at(task)
    task.reminded_at = None


def snooze_target(choice: str, *, now: datetime) -> datetime:
    """The new due time of a task snoozed `choice` ("later_today", "tomorrow", "next_week")."""
    local = timezone.localtime(now).replace(second=0, microsecond=0)
    if choice == "later_today":
        later = local + LATER_TODAY
        if later.date() == local.date() and later.time() <= END_OF_DAY:
            return later
        choice = "tomorrow"
    if choice == "tomorrow":
        day = local.date() + timedelta(days=1)
    elif choice == "next_week":
        day = local.date() + timedelta(days=7 - local.weekday())  # next Monday
    else:
        raise ValueError(f"unknown snooze {choice!r}")
    return timezone.make_aware(datetime.combine(day, DEFAULT_DUE_TIME))


@transaction.atomic
def task_snooze(*, task: Task, choice: str, now: datetime | None = None) -> Task:
    due = timezone.localtime(snooze_target(choice, now=now or timezone.now()))
    task.due_date, task.due_time = due.date(), due.time()
    if task.reminder is None:
        task.reminder = 0  # a snoozed task comes back: it reminds at its new time
    task_arm_reminder(task)
    task.full_clean()
    task.save(update_fields=["due_date", "due_time", "reminder", "remind_at", "reminded_at"])
    return task


def _reminder_text(task: Task) -> str:
    if task.is_overdue:
        return _("Overdue: %(title)s (%(customer)s)") % {
            "title": task.title,
            "customer": task.customer.name,
        }
    return _("Due %(when)s: %(title)s (%(customer)s)") % {
        "when": timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M"),
        "title": task.title,
        "customer": task.customer.name,
    }


def task_reminders_send(*, now: datetime | None = None) -> int:
    """Notify the assignee of every task whose reminder time has come; returns how many."""
    now = now or timezone.now()
    sent = 0
    due = (
        Task.objects.filter(remind_at__lte=now, reminded_at__isnull=True, done=False)
        .select_related("customer", "assignee")
        .order_by("remind_at", "pk")
    )
    for task in due[:REMINDER_BATCH]:
        with transaction.atomic():
            stamp = task.remind_at.strftime("%Y%m%d%H%M") if task.remind_at else ""
            if notify(
                recipient=task.assignee,
                kind="task_due",
                text=_reminder_text(task),
                url=task.customer.get_absolute_url(),
                key=f"task-reminder:{task.pk}:{stamp}",
            ):
                sent += 1
            Task.objects.filter(pk=task.pk).update(reminded_at=now)
    return sent
