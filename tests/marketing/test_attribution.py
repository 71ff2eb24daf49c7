"""Attribution: the first order inside the window after sending, or a coupon redemption."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from marketing.models import CampaignRecipient
from marketing.reports import campaign_figures
from marketing.services.campaigns import coupon_redeem
from tests.factories import CampaignFactory, CampaignRecipientFactory, OrderFactory

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
SENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def sent_recipient(campaign=None, sent_at=SENT, **kwargs):
    return CampaignRecipientFactory(
        campaign=campaign or CampaignFactory(),
        status=CampaignRecipient.Status.SENT,
        sent_at=sent_at,
        **kwargs,
    )


def order(recipient, at, total="100.00", **kwargs):
    return OrderFactory(customer=recipient.customer, ordered_at=at, total=Decimal(total), **kwargs)


@pytest.mark.parametrize(
    ("offset", "converts"),
    [
        (timedelta(0), True),  # the very instant it was sent
        (timedelta(days=30) - timedelta(microseconds=1), True),
        (timedelta(days=30), False),  # exactly 30 days later: the window is half-open
        (timedelta(days=31), False),
        (-timedelta(microseconds=1), False),  # before it was sent
    ],
)
def test_the_30_day_window_boundaries(offset, converts):
    recipient = sent_recipient()
    order(recipient, SENT + offset)
    figures = campaign_figures(recipient.campaign)
    assert figures.conversions == (1 if converts else 0)
    assert figures.revenue == (Decimal("100.00") if converts else 0)


def test_the_window_is_in_absolute_time_whatever_the_time_zone():
    # 20:00 in Shanghai on the 31st is 12:00 UTC: exactly 30 days after sending, outside.
    recipient = sent_recipient()
    order(recipient, datetime(2026, 3, 31, 20, 0, tzinfo=SHANGHAI))
    assert campaign_figures(recipient.campaign).conversions == 0
    # One second earlier in Shanghai time is inside.
    other = sent_recipient(campaign=recipient.campaign)
    order(other, datetime(2026, 3, 31, 19, 59, 59, tzinfo=SHANGHAI))
    assert campaign_figures(recipient.campaign).conversions == 1


def test_daylight_saving_does_not_stretch_the_window(settings):
    """New York moves its clocks on 8 March 2026: 30 days are still 720 hours."""
    settings.TIME_ZONE = "America/New_York"
    sent = datetime(2026, 3, 1, 9, 0, tzinfo=NEW_YORK)  # 14:00 UTC
    recipient = sent_recipient(sent_at=sent)
    # 9:00 local on 31 March is 13:00 UTC (summer time): 719 hours later, inside.
    order(recipient, datetime(2026, 3, 31, 9, 0, tzinfo=NEW_YORK))
    late = sent_recipient(campaign=recipient.campaign, sent_at=sent)
    order(late, datetime(2026, 3, 31, 10, 0, tzinfo=NEW_YORK))  # 720 hours: outside
    assert campaign_figures(recipient.campaign).conversions == 1


def test_a_custom_window_is_used():
    campaign = CampaignFactory(attribution_days=7)
    inside = sent_recipient(campaign)
    order(inside, SENT + timedelta(days=6, hours=23))
    outside = sent_recipient(campaign)
    order(outside, SENT + timedelta(days=7))
    figures = campaign_figures(campaign)
    assert (figures.conversions, figures.revenue) == (1, Decimal("100.00"))


def test_only_the_first_order_in_the_window_counts():
    recipient = sent_recipient()
    order(recipient, SENT + timedelta(days=5), total="80.00")
    order(recipient, SENT + timedelta(days=2), total="30.00")
    order(recipient, SENT + timedelta(days=9), total="500.00")
    figures = campaign_figures(recipient.campaign)
    assert (figures.conversions, figures.revenue) == (1, Decimal("30.00"))


def test_an_unsent_recipient_does_not_convert_by_ordering():
    recipient = CampaignRecipientFactory(status=CampaignRecipient.Status.QUEUED, sent_at=None)
    order(recipient, SENT)
    assert campaign_figures(recipient.campaign).conversions == 0


def test_another_customers_order_does_not_count():
    recipient = sent_recipient()
    OrderFactory(ordered_at=SENT + timedelta(days=1))
    assert campaign_figures(recipient.campaign).conversions == 0


def test_a_coupon_redemption_converts_even_outside_the_window():
    recipient = sent_recipient(coupon_code="SPRING-ABCDEFGH23")
    late = order(
        recipient, SENT + timedelta(days=60), total="250.00", coupon_code="spring-abcdefgh23"
    )
    coupon_redeem(order=late)
    figures = campaign_figures(recipient.campaign)
    assert (figures.conversions, figures.revenue) == (1, Decimal("250.00"))


def test_a_coupon_order_wins_over_an_earlier_window_order_and_counts_once():
    recipient = sent_recipient(coupon_code="SPRING-ABCDEFGH24")
    order(recipient, SENT + timedelta(days=1), total="10.00")
    coupon = order(
        recipient, SENT + timedelta(days=3), total="70.00", coupon_code="SPRING-ABCDEFGH24"
    )
    coupon_redeem(order=coupon)
    figures = campaign_figures(recipient.campaign)
    assert (figures.conversions, figures.revenue) == (1, Decimal("70.00"))


def test_the_report_is_one_query_however_many_recipients(django_assert_num_queries):
    campaign = CampaignFactory()
    for _i in range(20):
        recipient = sent_recipient(campaign)
        order(recipient, SENT + timedelta(days=1))
    with django_assert_num_queries(1):
        figures = campaign_figures(campaign)
    assert figures.conversions == 20


def test_the_converted_list_names_the_attributed_order():
    from marketing.reports import converted_recipients

    recipient = sent_recipient()
    first = order(recipient, SENT + timedelta(days=2), total="45.00")
    order(recipient, SENT + timedelta(days=3), total="99.00")
    sent_recipient(campaign=recipient.campaign)  # no order: not listed
    (row,) = converted_recipients(recipient.campaign)
    assert (row.pk, row.attributed_order, row.attributed_revenue) == (
        recipient.pk,
        first.pk,
        Decimal("45.00"),
    )
