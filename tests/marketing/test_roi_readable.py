"""ROI a marketer can read (issue 17): no "130,270.8%" on a cost of 7.73 without a
small-sample note, ROI on the campaign list, a date filter on the matrix."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from marketing.models import Campaign
from marketing.reports import ROI_MIN_COST, ROI_MIN_SENT, Figures, channel_segment_matrix, roi_text
from tests.factories import CampaignFactory, CampaignRecipientFactory, OrderFactory

pytestmark = pytest.mark.django_db


def sent(campaign, n, *, days_ago=2):
    at = timezone.now() - timedelta(days=days_ago)
    return CampaignRecipientFactory.create_batch(n, campaign=campaign, status="sent", sent_at=at)


@pytest.fixture
def tiny(marketer):
    """The issue's case: a cost of 7.73, one order of 10,077.70 from 5 recipients."""
    campaign = CampaignFactory(owner=marketer, status="sent", actual_cost=Decimal("7.73"))
    rows = sent(campaign, 5)
    OrderFactory(customer=rows[0].customer, total=Decimal("10077.70"))
    return campaign


def test_a_huge_roi_on_a_tiny_cost_is_whole_percent_and_marked_small(marketer_client, tiny):
    response = marketer_client.get(reverse("marketing:campaign-report", args=[tiny.pk]))
    page = response.content.decode()
    assert "130,270.8%" not in page
    assert "130,271%" in page
    assert 'id="roi-small-sample"' in page and 'id="roi-small-sample-note"' in page


def test_an_ordinary_campaign_has_no_note(marketer_client, marketer):
    campaign = CampaignFactory(owner=marketer, status="sent", actual_cost=Decimal("500"))
    rows = sent(campaign, ROI_MIN_SENT)
    OrderFactory(customer=rows[0].customer, total=Decimal("800.00"))
    page = marketer_client.get(reverse("marketing:campaign-report", args=[campaign.pk]))
    assert "roi-small-sample" not in page.content.decode()
    assert "60.0%" in page.content.decode()


def test_the_thresholds():
    assert not Figures().small_sample  # no ROI at all: nothing to warn about
    big = Figures(sent=ROI_MIN_SENT, cost=ROI_MIN_COST)
    assert not big.small_sample
    assert Figures(sent=ROI_MIN_SENT - 1, cost=ROI_MIN_COST).small_sample
    assert Figures(sent=ROI_MIN_SENT, cost=ROI_MIN_COST - Decimal("0.01")).small_sample
    assert roi_text(Decimal("1302.708")) == "130,271%"
    assert roi_text(Decimal("0.25")) == "25.0%"
    assert roi_text(None) == "—"


def test_the_campaign_list_shows_roi_for_sent_campaigns_only(marketer_client, marketer, tiny):
    CampaignFactory(owner=marketer, name="Draft one", budget=Decimal("100"))
    response = marketer_client.get(reverse("marketing:campaign-list"))
    rows = {c.name: result for c, result in response.context["rows"]}
    assert rows["Draft one"] is None
    assert {key: rows[tiny.name][key] for key in ("roi", "small")} == {
        "roi": "130,271%",
        "small": True,
    }
    assert "small sample" in response.content.decode()


def test_the_campaign_list_keeps_its_queries(
    marketer_client, marketer, django_assert_max_num_queries
):
    for days in (7, 30, 30, 90):
        sent(CampaignFactory(owner=marketer, status="sent", attribution_days=days), 2)
    with django_assert_max_num_queries(14):
        marketer_client.get(reverse("marketing:campaign-list"))


def test_the_matrix_filters_by_send_date(manager_client, manager):
    campaign = CampaignFactory(owner=manager, status="sent", actual_cost=Decimal("100"))
    sent(campaign, 3, days_ago=40)
    sent(campaign, 1, days_ago=2)
    today = timezone.localdate()
    (cell,) = channel_segment_matrix(
        Campaign.objects.all(), sent_from=today - timedelta(days=7), sent_to=today
    ).cells.values()
    assert cell.sent == 1
    assert cell.cost == Decimal(
        "25"
    )  # a quarter of the campaign's recipients: a quarter of its cost
    url = reverse("marketing:channel-segment-matrix")
    page = manager_client.get(url, {"sent_from": (today - timedelta(days=7)).isoformat()})
    assert page.status_code == 200 and 'id="matrix-dates"' in page.content.decode()
    csv = manager_client.get(
        url, {"sent_from": (today - timedelta(days=7)).isoformat(), "export": "matrix"}
    )
    rows = csv.content.decode("utf-8-sig").strip().splitlines()
    assert len(rows) == 2 and ",1," in rows[1]


@pytest.mark.parametrize(
    "params",
    [
        {"sent_from": "2026-02-30"},
        {"sent_from": "1000-01-01"},
        {"sent_to": "x" * 3000},
        {"sent_from": "2026-05-01", "sent_to": "2026-04-01"},
        {"sent_from": "２０２６-01-01"},
        {"sent_to": "\x00"},
    ],
)
def test_bad_dates_are_shown_as_errors_and_ignored(manager_client, params):
    response = manager_client.get(reverse("marketing:channel-segment-matrix"), params)
    assert response.status_code == 200


def test_the_matrix_scrolls_sideways_on_a_phone(manager_client, manager):
    sent(CampaignFactory(owner=manager, status="sent"), 1)
    page = manager_client.get(reverse("marketing:channel-segment-matrix")).content.decode()
    assert 'class="table-responsive mb-4 matrix-scroll"' in page
