"""What beat runs for email in (integrations.tasks): the poll of every active mailbox, and
the sweep of messages a killed worker left `received` (stored, never processed)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from integrations.mail.imap import PollResult, fetch_mailbox
from integrations.mail.ingest import process_inbound
from integrations.models import InboundEmail, Mailbox

SWEEP_LIMIT = 500


def stuck_after() -> timedelta:
    """A message still `received` this long after it was stored lost its worker
    (CRM_RUN_STALE_SECONDS, 5 minutes by default): processing one takes well under a
    second, and a worker still on it holds its row lock (the sweep waits, finds it done)."""
    return timedelta(seconds=settings.CRM_RUN_STALE_SECONDS)


def active_mailbox_ids() -> list[int]:
    return list(Mailbox.objects.filter(is_active=True).values_list("pk", flat=True))


def mailbox_poll(*, mailbox_id: int) -> PollResult | None:
    mailbox = Mailbox.objects.filter(pk=mailbox_id, is_active=True).first()
    return fetch_mailbox(mailbox) if mailbox else None


def inbound_sweep(*, now=None) -> int:
    """Process again what stayed `received` past stuck_after(); how many were."""
    cutoff = (now or timezone.now()) - stuck_after()
    stuck = InboundEmail.objects.filter(
        status=InboundEmail.Status.RECEIVED, received_at__lt=cutoff
    ).order_by("received_at", "pk")
    ids = list(stuck.values_list("pk", flat=True)[:SWEEP_LIMIT])
    for pk in ids:
        process_inbound(pk)
    return len(ids)
