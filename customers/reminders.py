"""Task reminders and snoozing: when a task reminds its assignee, and the beat task's work.

A task with a reminder has `remind_at` (its due time less the reminder); every minute
`task_reminders_send` turns the reminders whose time has come into notifications, once
per task and due time (the notification's key), and marks them sent (`reminded_at`), so
the partial index on pending reminders stays small. Snoozing moves the due time and arms
the reminder again.

A task without a reminder still tells its assignee once when it falls due
(`task_due_notices_send`, in the same beat task): the notification's key is the task and
its due time, and `reminded_at` marks it told.
"""

from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from core.notifications import notify
from customers.choices import DEFAULT_DUE_TIME
from customers.models import Task

REMINDER_BATCH = 500
SNOOZE_CHOICES = ("later_today", "tomorrow", "next_week")
LATER_TODAY = timedelta(hours=3)
END_OF_DAY = time(21, 0)  # "later today" past this moves to tomorrow morning
# Only tasks that fell due within this window are told: on the first deploy (or after beat
# was stopped for days) the old overdue tasks do not flood the bell at once; they are on
# the task list already, in red.
DUE_NOTICE_WINDOW = timedelta(days=1)


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


def _reminder_message(task: Task) -> tuple[str, dict[str, str | int]]:
    """The untranslated words and their params: the assignee reads them in their language."""
    params: dict[str, str | int] = {"title": task.title, "customer": task.customer.name}
    if task.is_overdue:
        return gettext_noop("Overdue: %(title)s (%(customer)s)"), params
    params["when"] = timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M")
    return gettext_noop("Due %(when)s: %(title)s (%(customer)s)"), params


def _notify_assignee(task: Task, *, key: str) -> bool:
    message, params = _reminder_message(task)
    return (
        notify(
            recipient=task.assignee,
            kind="task_due",
            message=message,
            params=params,
            url=task.customer.get_absolute_url(),
            key=key,
        )
        is not None
    )


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
            sent += _notify_assignee(task, key=f"task-reminder:{task.pk}:{stamp}")
            Task.objects.filter(pk=task.pk).update(reminded_at=now)
    return sent


def _time_compares(lookup: str, moment: datetime) -> Q:
    """A due time that compares `lookup` ("lte" or "gt") with `moment`'s time of day; a
    task with no time counts as due at DEFAULT_DUE_TIME."""
    when = moment.time().replace(tzinfo=None)
    default_matches = when >= DEFAULT_DUE_TIME if lookup == "lte" else when < DEFAULT_DUE_TIME
    with_time = Q(**{f"due_time__{lookup}": when})
    return with_time | Q(due_time__isnull=True) if default_matches else with_time


def _due_between(since: datetime, now: datetime) -> Q:
    """Tasks whose due time (Task.due_at) is after `since` and not after `now`, as a
    database filter (local dates and times, as due_at reads them)."""
    since, now = timezone.localtime(since), timezone.localtime(now)
    not_after_now = Q(due_date__lt=now.date()) | Q(due_date=now.date()) & _time_compares("lte", now)
    after_since = Q(due_date__gt=since.date()) | Q(due_date=since.date()) & _time_compares(
        "gt", since
    )
    return not_after_now & after_since


def task_due_notices_send(*, now: datetime | None = None) -> int:
    """Tell the assignee of each open task without a reminder that fell due within the last
    DUE_NOTICE_WINDOW, once per task and due time; returns how many were told."""
    now = now or timezone.now()
    due = (
        Task.objects.filter(reminder__isnull=True, reminded_at__isnull=True, done=False)
        .filter(_due_between(now - DUE_NOTICE_WINDOW, now))
        .select_related("customer", "assignee")
        .order_by("due_date", "pk")
    )
    sent = 0
    for task in due[:REMINDER_BATCH]:
        with transaction.atomic():
            stamp = task.due_at.strftime("%Y%m%d%H%M")
            sent += _notify_assignee(task, key=f"task-due:{task.pk}:{stamp}")
            Task.objects.filter(pk=task.pk).update(reminded_at=now)
    return sent
