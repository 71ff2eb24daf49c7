"""Delivery feedback on campaign emails: bounces, opens and clicks.

Bounces come from delivery-status notifications in the bounces mailbox
(integrations.mail.bounces); opens and clicks from the public pixel and redirect
(marketing.views.tracking). Each writes with one UPDATE, so concurrent opens of the
same message never lose a count, and the first time of each stays as it was.

A hard bounce (a 5.x.x status: the address does not exist) also marks the address
undeliverable on every customer who has it (customers.Customer.email_bounced): audiences
and sending skip them until the address changes. A soft bounce (4.x.x: a full mailbox,
a server down for days) is recorded on the recipient and suppresses nothing.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.models import OutboxMessage
from customers.models import Customer
from customers.services import customers_mark_email_undeliverable
from marketing.models import BounceKind, CampaignRecipient

R = CampaignRecipient.Status
# The Message-ID the sender gives each campaign email (marketing.channels): deterministic,
# so a retry keeps it and a bounce that quotes it finds its recipient without a lookup table.
_CAMPAIGN_MESSAGE_ID = re.compile(r"^<?crm-campaign\.(\d{1,18})\.(\d{1,18})@[^>]+>?$")


def campaign_message_id(*, campaign_id: int, recipient_id: int, domain: str) -> str:
    return f"<crm-campaign.{campaign_id}.{recipient_id}@{domain}>"


@dataclass(frozen=True)
class BounceResult:
    recipient: CampaignRecipient | None
    suppressed: int  # customers whose address is now undeliverable


def recipient_for_message_id(message_id: str) -> CampaignRecipient | None:
    """The recipient a campaign email with this Message-ID was sent to, if it was one."""
    message_id = message_id.strip()
    if not message_id:
        return None
    match = _CAMPAIGN_MESSAGE_ID.match(message_id)
    if match:
        campaign_id, recipient_id = int(match[1]), int(match[2])
        return CampaignRecipient.objects.filter(pk=recipient_id, campaign_id=campaign_id).first()
    # A campaign email sent through the outbox (core.services.outbox_email_enqueue, about=row).
    row = OutboxMessage.objects.filter(
        message_id=message_id,
        about_type=ContentType.objects.get_for_model(CampaignRecipient),
    ).first()
    if row is None or not row.about_id.isdigit():
        return None
    return CampaignRecipient.objects.filter(pk=int(row.about_id)).first()


def recipient_for_address(address: str) -> CampaignRecipient | None:
    """The recipient of the most recent campaign sent to this address."""
    if not address or "@" not in address:
        return None
    return (
        CampaignRecipient.objects.filter(
            customer__email__iexact=address, status__in=(R.SENT, R.BOUNCED), sent_at__isnull=False
        )
        .order_by("-sent_at", "-id")
        .first()
    )


@transaction.atomic
def recipient_bounce_record(
    *, address: str, hard: bool, detail: str, message_id: str = "", now: datetime | None = None
) -> BounceResult:
    """Record a bounce reported for `address` (and the original `message_id` when the
    notification quotes it); a hard bounce makes the address undeliverable."""
    now = now or timezone.now()
    by_message = recipient_for_message_id(message_id)
    # Anyone can mail the bounces address a report naming any address: only a report that
    # quotes one of our messages to that very address may make it undeliverable. Without
    # that proof the bounce is recorded as soft (security review).
    hard = hard and by_message is not None and _sent_to(by_message, address)
    recipient = by_message or recipient_for_address(address)
    if recipient is not None:
        kind = BounceKind.HARD if hard else BounceKind.SOFT
        CampaignRecipient.objects.filter(pk=recipient.pk).update(
            status=R.BOUNCED,
            bounce_kind=kind,
            bounced_at=now,
            failure_reason=detail[:500],
            sent_at=Coalesce("sent_at", Value(now)),
        )
        recipient.refresh_from_db()
    suppressed = customers_mark_email_undeliverable(address=address, now=now) if hard else 0
    return BounceResult(recipient=recipient, suppressed=suppressed)


def _sent_to(recipient: CampaignRecipient, address: str) -> bool:
    email = Customer.objects.filter(pk=recipient.customer_id).values_list("email", flat=True)
    return (email.first() or "").strip().lower() == address.strip().lower()


def recipient_opened(*, recipient_id: int, now: datetime | None = None) -> bool:
    """Count one open (a load of the pixel); the first open's time is kept."""
    now = now or timezone.now()
    return bool(
        CampaignRecipient.objects.filter(pk=recipient_id).update(
            open_count=F("open_count") + 1,
            first_opened_at=Coalesce("first_opened_at", Value(now)),
        )
    )


def recipient_clicked(*, recipient_id: int, now: datetime | None = None) -> bool:
    """Count one click. A click proves the message was opened, even with images blocked
    (no pixel load): the first open's time is set if it was not."""
    now = now or timezone.now()
    return bool(
        CampaignRecipient.objects.filter(pk=recipient_id).update(
            click_count=F("click_count") + 1,
            first_clicked_at=Coalesce("first_clicked_at", Value(now)),
            first_opened_at=Coalesce("first_opened_at", Value(now)),
        )
    )
