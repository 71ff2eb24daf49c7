"""A campaign as one customer gets it: the preview beside the editor, and a test send to
the marketer through the outbox."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.models import OutboxMessage
from core.services import outbox_email_enqueue
from customers.models import Customer
from marketing.audience import CONSENT_CHANNEL
from marketing.channels import Composer, email_message
from marketing.consent import unsubscribe_url
from marketing.models import Campaign, CampaignRecipient


@dataclass(frozen=True)
class Preview:
    subject: str
    body: str
    coupon_code: str


def preview_for(campaign: Campaign, customer: Customer) -> Preview:
    """What `customer` gets: their frozen coupon if sent already, else a sample code."""
    code = (
        CampaignRecipient.objects.filter(campaign=campaign, customer=customer)
        .values_list("coupon_code", flat=True)
        .first()
    )
    if code is None:
        code = f"{campaign.coupon_prefix}-XXXXXXXXXX" if campaign.coupon_prefix else ""
    subject, body, _link = Composer(campaign, [customer.pk]).texts(customer, code)
    return Preview(subject=subject, body=body, coupon_code=code)


def send_test(*, campaign: Campaign, customer: Customer, to: str) -> OutboxMessage:
    """Email `customer`'s version of the message to `to` (the marketer), marked as a test,
    through the outbox (delivered with retries; the row says whether it left yet)."""
    if not to:
        raise ValidationError(_("Your user account has no email address to send the test to."))
    preview = preview_for(campaign, customer)
    # A name stored with a line break (admin, restore) must not become a header break.
    fallback = " ".join(campaign.name.split())
    subject = _("[Test] %(subject)s") % {"subject": preview.subject or fallback}
    link = unsubscribe_url(customer_id=customer.pk, channel=CONSENT_CHANNEL[campaign.channel])
    message = email_message(subject=subject, body=preview.body, to=to, link=link)
    return outbox_email_enqueue(message=message, about=campaign)
