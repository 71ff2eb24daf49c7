"""The customers app's events on the customer's timeline (crm.lib.timeline).

Interactions, tasks added and done, consent changes (simple-history's rows of Consent)
and merges: one query each, tasks added and done one query for both (a group: two dates
of a task). The viewer has already been allowed the customer's page.
"""

from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from core.attachments import with_attachment_files
from crm.lib.timeline import (
    Cursor,
    GroupMember,
    TimelineEvent,
    TimelineSource,
    grouped_older_than,
    older_than,
    register_group,
    register_source,
)
from customers.models import Consent, Customer, CustomerMerge, Interaction, Task


def _username(user) -> str:
    return user.get_username() if user is not None else ""


def interaction_events(
    user, customer: Customer, cursor: Cursor | None, limit: int
) -> list[TimelineEvent]:
    rows = Interaction.objects.filter(customer=customer).select_related("logged_by", "contact")
    interactions = list(older_than(rows, "occurred_at", "interaction", cursor, limit))
    for interaction in interactions:
        interaction.customer = customer  # the access rule reads it: no query per row
    with_attachment_files(user, interactions)
    events = []
    for i in interactions:
        parts = [str(i.get_channel_display()), str(i.get_direction_display())]
        if i.contact is not None:
            parts.append(i.contact.name)
        if i.ends_at is not None:  # a meeting
            until = formats.time_format(timezone.localtime(i.ends_at), "TIME_FORMAT")
            parts.append(_("until %(time)s") % {"time": until})
        events.append(
            TimelineEvent(
                when=i.occurred_at,
                kind="interaction",
                pk=i.pk,
                text=" · ".join(parts),
                who=_username(i.logged_by) or str(_("system")),
                detail=i.summary,
                files=i.attachment_files,
            )
        )
    return events


def _task_line(task: Task) -> str:
    due = formats.date_format(task.due_date, "SHORT_DATE_FORMAT")
    return _("Task “%(title)s”, due %(due)s") % {"title": task.title, "due": due}


def _task_added(task: Task, when) -> TimelineEvent:
    return TimelineEvent(
        when=when,
        kind="task",
        pk=task.pk,
        text=_task_line(task),
        who=_username(task.assignee),
        badge=str(_("Done")) if task.done else str(_("Overdue")) if task.is_overdue else "",
        badge_class="text-bg-success" if task.done else "text-bg-danger",
        css="done" if task.done else "",
    )


def _task_done(task: Task, when) -> TimelineEvent:
    return TimelineEvent(
        when=when,
        kind="task_done",
        pk=task.pk,
        text=_("Task “%(title)s” done") % {"title": task.title},
        who=_username(task.assignee),
    )


TASK_KINDS = {
    "task": GroupMember("task", "created_at"),
    "task_done": GroupMember("task_done", "done_at", Q(done=True)),
}
TASK_EVENTS = {"task": _task_added, "task_done": _task_done}


def task_events(user, customer: Customer, cursor: Cursor | None, limit: int, kinds):
    rows = Task.objects.filter(customer=customer).select_related("assignee")
    members = [member for kind, member in TASK_KINDS.items() if kind in kinds]
    return [
        TASK_EVENTS[kind](task, when)
        for kind, when, task in grouped_older_than(rows, members, cursor, limit)
    ]


def consent_events(
    user, customer: Customer, cursor: Cursor | None, limit: int
) -> list[TimelineEvent]:
    history = Consent.history.model.objects.filter(customer_id=customer.pk)
    rows = history.select_related("history_user").only(
        "history_id", "history_date", "channel", "granted", "source", "history_user__username"
    )
    events = []
    for row in older_than(rows, "history_date", "consent", cursor, limit):
        channel = Consent(channel=row.channel).get_channel_display()
        state = _("granted") if row.granted else _("withdrawn")
        events.append(
            TimelineEvent(
                when=row.history_date,
                kind="consent",
                pk=row.pk,
                text=_("Consent to %(channel)s %(state)s") % {"channel": channel, "state": state},
                who=_username(row.history_user) or row.source,
            )
        )
    return events


def merge_events(user, customer: Customer, cursor: Cursor | None, limit: int):
    merges = CustomerMerge.objects.filter(customer=customer).select_related("merged_by")
    events = []
    for merge in older_than(merges, "merged_at", "merge", cursor, limit):
        detail = _("Moved: %(moved)s") % {"moved": merge.moved_text or _("nothing")}
        if merge.taken_fields:
            taken = ", ".join(merge.taken_fields)
            detail += "\n" + _("Values taken from it: %(fields)s") % {"fields": taken}
        events.append(
            TimelineEvent(
                when=merge.merged_at,
                kind="merge",
                pk=merge.pk,
                text=_("Merged the duplicate “%(name)s” (#%(pk)s) into this customer")
                % {"name": merge.duplicate_name, "pk": merge.duplicate_id},
                detail=detail,
                who=_username(merge.merged_by),
            )
        )
    return events


def register_customer_timeline() -> None:
    for source in (
        TimelineSource(
            "interaction", _("Interactions"), "☎", "customers.view_interaction",
            interaction_events, order=10,
        ),
        TimelineSource(
            "consent", _("Consent"), "✉", "customers.view_customer", consent_events, order=90
        ),
        TimelineSource(
            "merge", _("Merges"), "⇄", "customers.view_customer", merge_events, order=91
        ),
    ):  # fmt: skip
        register_source(source)
    register_group("task", task_events, (
        TimelineSource("task", _("Tasks"), "☐", "customers.view_task", order=20),
        TimelineSource("task_done", _("Tasks done"), "☑", "customers.view_task", order=21),
    ))  # fmt: skip
