"""Marketing events on the customer's timeline (crm.lib.timeline): campaigns the customer
received and conversions (a coupon redeemed with an order). Read through
recipients_visible_to: a user who may not see campaigns sees neither."""

from django.utils.translation import gettext_lazy as _

from crm.lib.timeline import Cursor, TimelineEvent, TimelineSource, older_than, register_source
from customers.models import Customer
from marketing.selectors import recipients_visible_to


def campaign_received_events(user, customer: Customer, cursor: Cursor | None, limit: int):
    recipients = recipients_visible_to(user).filter(customer=customer).select_related("campaign")
    return [
        TimelineEvent(
            when=recipient.sent_at,
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
        for recipient in older_than(recipients, "sent_at", "campaign", cursor, limit)
    ]


def coupon_redeemed_events(user, customer: Customer, cursor: Cursor | None, limit: int):
    recipients = recipients_visible_to(user).filter(customer=customer).select_related("campaign")
    return [
        TimelineEvent(
            when=recipient.converted_at,
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
        for recipient in older_than(recipients, "converted_at", "converted", cursor, limit)
    ]


def register_marketing_timeline() -> None:
    for source in (
        TimelineSource("campaign", _("Campaigns received"), "✉",
                       "marketing.view_campaignrecipient", campaign_received_events, order=70),
        TimelineSource("converted", _("Coupons redeemed"), "✂",
                       "marketing.view_campaignrecipient", coupon_redeemed_events, order=71),
    ):  # fmt: skip
        register_source(source)
