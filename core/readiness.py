"""What `/readyz` asks the outbox (crm/lib/readiness.py).

Stuck (the status fails): a claim no live worker has renewed for twice
CRM_OUTBOX_CLAIM_SECONDS, or a due message nobody has tried for that long. The outbox
sweep releases such claims and delivers due messages every CRM_SWEEP_SECONDS, so either means
the sweep (beat, or every worker) is not running.

Warning ("outbox": "warn", the status stays ok): messages waiting for a retry after a failed
attempt, that is, the mail server refuses or does not answer. The site keeps working and the
messages are delivered when the server is back; a monitor should alert a person.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from core.models import OutboxMessage
from crm.lib.readiness import register_stuck_check, register_warning_check


def count_stuck_messages(*, now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - 2 * timedelta(seconds=settings.CRM_OUTBOX_CLAIM_SECONDS)
    return OutboxMessage.objects.filter(
        Q(status=OutboxMessage.Status.SENDING, claimed_at__lt=cutoff)
        | Q(status=OutboxMessage.Status.PENDING, next_attempt_at__lt=cutoff)
    ).count()


def count_retrying_messages() -> int:
    return OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, attempts__gt=0).count()


def register_readiness_checks() -> None:
    register_stuck_check("outbox messages", count_stuck_messages)
    register_warning_check("outbox", count_retrying_messages)
