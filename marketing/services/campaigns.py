"""Writes: campaigns and coupon redemption (consent is written by customers.services)."""

import logging
import secrets
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm.lib.concurrency import ExpectedVersion, lock_for_update, save_new_version
from customers.models import Customer
from marketing.models import Campaign, CampaignChannel, CampaignRecipient, SubjectTest
from sales.models import Order

logger = logging.getLogger(__name__)

# Fields a campaign form may set; status, owner and version are handled on their own.
CAMPAIGN_FIELDS = [
    "name",
    "objective",
    "channel",
    "audience",
    "budget",
    "actual_cost",
    "starts_on",
    "ends_on",
    "subject",
    "body",
    "offer",
    "coupon_prefix",
    "attribution_days",
    "form_title",
    "form_questions",
]
# Fields that define who gets what; frozen once a campaign is running.
_FROZEN_WHEN_RUNNING = {"channel", "audience", "subject", "body", "coupon_prefix"}
# Without 0/O and 1/I/L: codes are read aloud and typed from paper.
COUPON_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
COUPON_LENGTH = 10  # 31**10 ≈ 8e14 codes: guessing one of 100,000 takes ~4e9 tries
_S = Campaign.Status
# The status changes a person makes; sending moves a campaign to running then sent, and the
# sweep completes it after its end date.
# Keyed by the stored status (a str); Campaign.Status members are equal to their values.
MANUAL_TRANSITIONS: dict[str, set[str]] = {
    _S.DRAFT: {_S.SCHEDULED, _S.CANCELLED},
    _S.SCHEDULED: {_S.DRAFT, _S.CANCELLED},
    _S.RUNNING: {_S.CANCELLED},
    _S.SENT: {_S.COMPLETED, _S.CANCELLED},  # end it before its end date
    _S.CANCELLED: {_S.DRAFT},
    _S.COMPLETED: set(),
}
NEW_CAMPAIGN_STATUSES: set[str] = {_S.DRAFT, _S.SCHEDULED}


@transaction.atomic
def campaign_create(*, owner: User, data: dict, status: str = Campaign.Status.DRAFT) -> Campaign:
    campaign = Campaign(owner=owner, status=status)
    for key in CAMPAIGN_FIELDS:
        if key in data:
            setattr(campaign, key, data[key])
    if status not in NEW_CAMPAIGN_STATUSES:
        raise ValidationError({"status": _("A new campaign is a draft or scheduled.")})
    _check_schedule(campaign, status)
    campaign.full_clean()
    campaign.save()
    return campaign


def _refuse_leaving_email_with_a_subject_test(campaign: Campaign, data: dict) -> None:
    """A subject-line test only means something for email: the marketer removes it first
    (refused rather than deleted, so no setting is lost without them knowing)."""
    leaving = campaign.channel == CampaignChannel.EMAIL and data.get("channel", "email") != "email"
    if leaving and SubjectTest.objects.filter(campaign=campaign, winner="").exists():
        raise ValidationError(
            {"channel": _("Remove the subject-line test before changing the channel from email.")}
        )


@transaction.atomic
def campaign_update(
    *,
    campaign: Campaign,
    expected_version: ExpectedVersion,
    data: dict,
    status: str | None = None,
    owner: User | None = None,
) -> Campaign:
    """Save an edit unless someone saved the campaign since `expected_version` was read."""
    locked = lock_for_update(
        campaign,
        expected_version=expected_version,
        conflict_message=_(
            "Someone else saved this campaign while you were editing. Your changes were not saved."
        ),
    )
    if not locked.is_editable:
        changed = {k for k in _FROZEN_WHEN_RUNNING if k in data and data[k] != getattr(locked, k)}
        if changed:
            raise ValidationError(
                _("Only a draft or scheduled campaign's channel, audience and message can change.")
            )
    _refuse_leaving_email_with_a_subject_test(locked, data)
    for key in CAMPAIGN_FIELDS:
        if key in data:
            setattr(locked, key, data[key])
    if status is not None and status != locked.status:
        if status not in MANUAL_TRANSITIONS[locked.status]:
            raise ValidationError(
                {"status": _("The status cannot change from “%(old)s” to “%(new)s” by hand.")
                 % {"old": locked.get_status_display(), "new": _S(status).label}}
            )  # fmt: skip
        locked.status = status
        if status != _S.SCHEDULED:
            locked.send_at = None  # not scheduled any more: the beat must not send it
    _check_schedule(locked, locked.status)
    if owner is not None:
        locked.owner = owner
    save_new_version(locked)
    return locked


def _check_schedule(campaign: Campaign, status: str) -> None:
    if status == Campaign.Status.SCHEDULED and not campaign.starts_on:
        raise ValidationError({"starts_on": _("Give a start date to schedule the campaign.")})


def coupon_codes(n: int, *, prefix: str = "") -> list[str]:
    """`n` new random codes (secrets, not guessable), unique among themselves and stored ones."""
    if not 0 <= n <= 1_000_000:
        raise ValueError("n out of range")
    prefix = f"{prefix.upper()}-" if prefix else ""
    codes: set[str] = set()
    while len(codes) < n:
        wanted = n - len(codes)
        batch = {
            prefix + "".join(secrets.choice(COUPON_ALPHABET) for _i in range(COUPON_LENGTH))
            for _j in range(wanted)
        }
        batch -= codes
        taken = set(
            CampaignRecipient.objects.filter(coupon_code__in=batch).values_list(
                "coupon_code", flat=True
            )
        )
        codes |= batch - taken
    return sorted(codes)


@transaction.atomic
def coupon_redeem(*, order: Order) -> CampaignRecipient | None:
    """An order carrying a campaign's coupon converts that recipient (once, first order wins).

    A coupon is its recipient's: another customer's order with the code redeems nothing
    (a shared or leaked code must not be used by, nor credit the campaign with, a stranger).
    """
    code = (order.coupon_code or "").strip().upper()
    if not code:
        return None
    recipient = (
        CampaignRecipient.objects.select_for_update()
        .filter(coupon_code=code, customer_id=order.customer_id)
        .first()
    )
    if recipient is None:
        if CampaignRecipient.objects.filter(coupon_code=code).exists():
            logger.warning("order %s carries another customer's coupon: not redeemed", order.pk)
        return None
    if recipient.conversion_order_id is not None:
        return recipient
    recipient.conversion_order = order
    recipient.converted_at = order.ordered_at
    recipient.revenue = Decimal(order.total)
    recipient.outcome = CampaignRecipient.Outcome.CONVERTED
    recipient.save(update_fields=["conversion_order", "converted_at", "revenue", "outcome"])
    return recipient


@transaction.atomic
def marketing_merge(*, kept: Customer, duplicate: Customer) -> None:
    """Move a merged duplicate's campaign rows; where both were recipients, keep `kept`'s."""
    kept_campaigns = CampaignRecipient.objects.filter(customer=kept).values("campaign_id")
    CampaignRecipient.objects.filter(customer=duplicate, campaign_id__in=kept_campaigns).delete()
    CampaignRecipient.objects.filter(customer=duplicate).update(customer=kept)
