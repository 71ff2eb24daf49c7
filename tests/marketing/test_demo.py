"""Demo marketing data: reproducible campaigns in several states, conversions and loyalty."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from marketing.models import Campaign, CampaignRecipient, LoyaltyEntry
from marketing.reports import campaign_figures
from tests.helpers import seed_demo_twice

pytestmark = pytest.mark.django_db


def _snapshot():
    return list(
        CampaignRecipient.objects.order_by("campaign__name", "customer__email").values_list(
            "campaign__name", "customer__email", "status", "outcome", "revenue"
        )
    )


def test_the_demo_campaigns_are_reproducible():
    first, second = seed_demo_twice(_snapshot, customers=160, seed=7)
    assert second == first
    assert len(first) > 20


def test_the_demo_shows_campaigns_on_several_channels_with_conversions(manager_client):
    call_command("seed_demo", customers=200, seed=3, verbosity=0)
    campaigns = list(Campaign.objects.all())
    assert len({c.channel for c in campaigns}) >= 3
    assert {Campaign.Status.COMPLETED, Campaign.Status.SENT, Campaign.Status.SCHEDULED} <= {
        c.status for c in campaigns
    }
    # A campaign with recipients says when it went out (its page never says "Not sent yet").
    assert all(c.send_started_at for c in campaigns if c.recipients.exists())
    coupon = CampaignRecipient.objects.exclude(coupon_code="").filter(
        conversion_order__isnull=False
    )
    assert coupon.exists()
    assert all(r.conversion_order.coupon_code == r.coupon_code for r in coupon)
    assert LoyaltyEntry.objects.filter(kind="earned").exists()
    assert LoyaltyEntry.objects.filter(kind="adjusted").exists()
    win_back = Campaign.objects.get(name__startswith="Win back")
    figures = campaign_figures(win_back)
    assert figures.sent > 0 and figures.conversions > 0 and figures.roi is not None
    assert manager_client.get(reverse("marketing:channel-segment-matrix")).status_code == 200
    report = reverse("marketing:campaign-report", args=[win_back.pk])
    assert manager_client.get(report).status_code == 200
