"""Reads for the admins' jobs page (issue 12): every background job that is stuck or
failed, the outbox, and the last run of each beat task. `integrations` may read every app;
each section is one query, so the page costs the same however many rows there are."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery.schedules import crontab, maybe_schedule
from django.conf import settings
from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from analytics.models import SegmentRun
from analytics.runs import stale_after
from core.models import OutboxMessage, PeriodicTaskRun
from core.selectors import outbox_troubled
from customers.import_services import REQUEUE_AFTER
from customers.models import CustomerImport
from integrations.mail.polling import stuck_after
from integrations.models import InboundEmail, Mailbox
from marketing.models import CampaignRecipient
from marketing.services.sending import claim_timeout

RECENT = timedelta(days=7)  # how far back failed runs and sends are listed
LIST_LIMIT = 25
# A periodic task is overdue when its next run is this late (beat ticks, queues wait).
OVERDUE_GRACE = timedelta(minutes=2)


@dataclass
class BeatTask:
    entry: str
    task: str
    schedule: str
    last: PeriodicTaskRun | None
    overdue: bool


def describe_schedule(value: Any) -> str:
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
        if seconds % 3600 == 0:
            hours = seconds // 3600
            return ngettext("every hour", "every %(count)d hours", hours) % {"count": hours}
        if seconds % 60 == 0:
            minutes = seconds // 60
            return ngettext("every minute", "every %(count)d minutes", minutes) % {"count": minutes}
        return ngettext("every second", "every %(count)d seconds", seconds) % {"count": seconds}
    if isinstance(value, crontab) and len(value.hour) == 1 and len(value.minute) == 1:
        hour, minute = next(iter(value.hour)), next(iter(value.minute))
        return _("daily at %(time)s") % {"time": f"{hour:02d}:{minute:02d}"}
    return str(value)


def _overdue(value: Any, last: PeriodicTaskRun | None, now: datetime) -> bool:
    """The next run after the last start should have begun more than the grace ago. A
    task never run is not called overdue (a nightly task on a new deployment)."""
    if last is None:
        return False
    # Celery's estimate counts from its own clock: shift it to `now`.
    remaining = maybe_schedule(value).remaining_estimate(last.started_at)
    due_at = timezone.now() + remaining
    return due_at < now - OVERDUE_GRACE


def beat_tasks(*, now: datetime | None = None) -> list[BeatTask]:
    now = now or timezone.now()
    last_runs = {run.task: run for run in PeriodicTaskRun.objects.all()}
    rows = []
    for entry, spec in sorted(settings.CELERY_BEAT_SCHEDULE.items()):
        last = last_runs.get(spec["task"])
        rows.append(
            BeatTask(
                entry=entry,
                task=spec["task"],
                schedule=describe_schedule(spec["schedule"]),
                last=last,
                overdue=_overdue(spec["schedule"], last, now),
            )
        )
    return rows


def troubled_segment_runs(*, now: datetime | None = None) -> list[SegmentRun]:
    """Active runs (flagged `stuck` once silent longer than the sweep allows) and runs
    that failed in the last week, newest first."""
    now = now or timezone.now()
    runs = list(
        SegmentRun.objects.filter(
            Q(status__in=SegmentRun.ACTIVE_STATUSES)
            | Q(status=SegmentRun.Status.FAILED, created_at__gte=now - RECENT)
        ).select_related("requested_by")[:LIST_LIMIT]
    )
    for run in runs:
        last_sign = run.heartbeat_at or run.started_at or run.created_at
        stuck = run.status in SegmentRun.ACTIVE_STATUSES and last_sign < now - stale_after()
        setattr(run, "stuck", stuck)  # noqa: B010 - an annotation for the template
    return runs


def troubled_campaign_sends(*, now: datetime | None = None) -> list[dict[str, Any]]:
    """Campaigns with recipients claimed by a worker or failed (sends of the last week)."""
    now = now or timezone.now()
    sending = Q(status=CampaignRecipient.Status.SENDING)
    failed = Q(status=CampaignRecipient.Status.FAILED)
    rows = list(
        CampaignRecipient.objects.filter(sending | failed)
        .filter(
            Q(campaign__send_finished_at__isnull=True)
            | Q(campaign__send_finished_at__gte=now - RECENT)
        )
        .values("campaign_id", "campaign__name", "campaign__status")
        .annotate(
            claimed=Count("pk", filter=sending),
            failed=Count("pk", filter=failed),
            oldest_claim=Min("claimed_at", filter=sending),
        )
        .order_by("-claimed", "-failed", "campaign_id")[:LIST_LIMIT]
    )
    stale = now - claim_timeout()
    return [
        {**row, "stuck": row["oldest_claim"] is not None and row["oldest_claim"] < stale}
        for row in rows
    ]


def waiting_customer_imports(*, now: datetime | None = None) -> list[CustomerImport]:
    """Imports queued for the workers; `stuck` once the import sweep should have re-sent them."""
    now = now or timezone.now()
    imports = list(
        CustomerImport.objects.filter(status=CustomerImport.Status.QUEUED)
        .select_related("user")
        .defer("text", "row_errors")
        .order_by("queued_at", "pk")[:LIST_LIMIT]
    )
    for customer_import in imports:
        queued = customer_import.queued_at or customer_import.created_at
        setattr(customer_import, "stuck", queued < now - REQUEUE_AFTER)  # noqa: B010
    return imports


def outbox_counts() -> dict[str, int]:
    counts = dict.fromkeys(OutboxMessage.Status.values, 0)
    for row in OutboxMessage.objects.values("status").annotate(n=Count("pk")).order_by():
        counts[row["status"]] = row["n"]
    counts["retrying"] = outbox_troubled(
        OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
    ).count()
    return counts


def outbox_problems() -> QuerySet[OutboxMessage]:
    """Failed messages first, then those waiting for a retry, the soonest first."""
    return outbox_troubled(OutboxMessage.objects.all()).order_by("status", "next_attempt_at", "pk")[
        :LIST_LIMIT
    ]


def mailboxes() -> list[Mailbox]:
    """Every mailbox with its last poll and error, its quarantined messages and those
    still waiting to be processed (`stuck` once the sweep should have taken them)."""
    stale = timezone.now() - stuck_after()
    quarantined = Q(messages__status=InboundEmail.Status.QUARANTINED)
    received = Q(messages__status=InboundEmail.Status.RECEIVED)
    return list(
        Mailbox.objects.annotate(
            quarantined_count=Count("messages", filter=quarantined),
            waiting_count=Count("messages", filter=received),
            stuck_count=Count("messages", filter=received & Q(messages__received_at__lt=stale)),
        ).order_by("-is_active", "name")[:LIST_LIMIT]
    )
