"""Marketing events on the customer's timeline (crm.lib.timeline): campaigns the customer
received and conversions (a coupon redeemed with an order). Read through
recipients_visible_to: a user who may not see campaigns sees neither. Both are dates of
a campaign's recipient: one group, asked with one query."""

from django.utils.translation import gettext_lazy as _

from crm.lib.timeline import (
    Cursor,
    GroupMember,
    TimelineEvent,
    TimelineSource,
    grouped_older_than,
    register_group,
)
from customers.models import Customer
from marketing.selectors import recipients_visible_to


def _received(recipient, when) -> TimelineEvent:
    return TimelineEvent(
        when=when,
        kind="campaign",
        pk=recipient.pk,
        text=_("Received the campaign “%(name)s” (%(channel)s)")
        % {
            "name": recipient.campaign.name,
            "channel": recipient.campaign.get_channel_display(),
        },
        url=recipient.campaign.get_absolute_url(),
        badge=str(recipient.get_status_display()),
    )


def _converted(recipient, when) -> TimelineEvent:
    return TimelineEvent(
        when=when,
        kind="converted",
        pk=recipient.pk,
        text=(
            _("Redeemed the coupon %(code)s of “%(name)s”")
            if recipient.coupon_code
            else _("Converted from the campaign “%(name)s”")
        )
        % {"code": recipient.coupon_code, "name": recipient.campaign.name},
        url=recipient.campaign.get_absolute_url(),
        badge_class="text-bg-success",
    )


RECIPIENT_KINDS = {"campaign": ("sent_at", _received), "converted": ("converted_at", _converted)}


def recipient_events(user, customer: Customer, cursor: Cursor | None, limit: int, kinds):
    recipients = recipients_visible_to(user).filter(customer=customer).select_related("campaign")
    members = [
        GroupMember(kind, column) for kind, (column, _event) in RECIPIENT_KINDS.items()
        if kind in kinds
    ]  # fmt: skip
    return [
        RECIPIENT_KINDS[kind][1](recipient, when)
        for kind, when, recipient in grouped_older_than(recipients, members, cursor, limit)
    ]


def register_marketing_timeline() -> None:
    register_group("campaign_recipient", recipient_events, (
        TimelineSource("campaign", _("Campaigns received"), "✉",
                       "marketing.view_campaignrecipient", order=70),
        TimelineSource("converted", _("Coupons redeemed"), "✂",
                       "marketing.view_campaignrecipient", order=71),
    ))  # fmt: skip
