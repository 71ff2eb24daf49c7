"""A recipient marked "Converted" by hand is a conversion, shown as manual (issue 17)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from marketing.models import Campaign, CampaignRecipient
from marketing.reports import campaign_figures, channel_segment_matrix
from tests.factories import CampaignFactory, CampaignRecipientFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(marketer):
    campaign = CampaignFactory(owner=marketer, status="sent", actual_cost=Decimal("100"))
    sent_at = timezone.now() - timedelta(days=2)
    for _i in range(4):
        CampaignRecipientFactory(campaign=campaign, status="sent", sent_at=sent_at)
    return campaign


def mark_converted(client, recipient):
    return client.post(
        reverse("marketing:recipient-outcome", args=[recipient.pk]),
        {"outcome": "converted", "note": "Bought in the shop"},
        HTTP_HX_REQUEST="true",
    )


def test_a_hand_recorded_conversion_counts_and_is_marked_manual(marketer_client, campaign):
    first = campaign.recipients.order_by("id").first()
    assert campaign_figures(campaign).conversions == 0
    assert mark_converted(marketer_client, first).status_code == 200
    figures = campaign_figures(campaign)
    assert (figures.conversions, figures.manual_conversions) == (1, 1)
    assert figures.revenue == 0  # nothing to attribute: no order
    report = marketer_client.get(reverse("marketing:campaign-report", args=[campaign.pk]))
    page = report.content.decode()
    assert 'id="figure-manual"' in page and "(1 by hand)" in page
    assert "recorded by hand" in page and first.customer.name in page
    csv = marketer_client.get(
        reverse("marketing:campaign-report", args=[campaign.pk]), {"export": "report"}
    )
    assert "Conversions recorded by hand" in csv.content.decode("utf-8-sig")


def test_an_order_and_a_hand_mark_on_one_recipient_count_once_not_manual(marketer_client, campaign):
    first = campaign.recipients.order_by("id").first()
    OrderFactory(customer=first.customer, total=Decimal("250.00"))
    mark_converted(marketer_client, first)
    figures = campaign_figures(campaign)
    assert (figures.conversions, figures.manual_conversions) == (1, 0)
    assert figures.revenue == Decimal("250.00")


def test_the_matrix_counts_hand_recorded_conversions(marketer_client, campaign):
    for recipient in campaign.recipients.all()[:2]:
        mark_converted(marketer_client, recipient)
    (cell,) = channel_segment_matrix(Campaign.objects.all()).cells.values()
    assert (cell.conversions, cell.manual_conversions) == (2, 2)


def test_the_api_reports_manual_conversions(campaign, marketer_client):
    CampaignRecipient.objects.filter(pk=campaign.recipients.first().pk).update(outcome="converted")
    from marketing.api import campaign_results

    results = campaign_results(campaign)
    assert (results["conversions"], results["manual_conversions"]) == (1, 1)
