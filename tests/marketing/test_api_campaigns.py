"""The campaigns API: campaigns and their results, read by the roles that read them on the
pages (tests/marketing/test_access.py), with the numbers of the campaign page's report."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from marketing.models import CampaignRecipient
from marketing.reports import campaign_figures
from tests.factories import CampaignFactory, CampaignRecipientFactory, OrderFactory

pytestmark = pytest.mark.django_db

LIST = reverse("api:campaign-list")


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def results_url(campaign) -> str:
    return reverse("api:campaign-results", args=[campaign.pk])


def recipient(campaign, status=CampaignRecipient.Status.SENT, **kwargs):
    return CampaignRecipientFactory(
        campaign=campaign, status=status, sent_at=timezone.now() - timedelta(days=2), **kwargs
    )


@pytest.fixture
def campaign(marketer):
    """10 sent (2 bounced), 1 queued, 3 responses, 2 orders worth 300 + 500, cost 200."""
    campaign = CampaignFactory(
        owner=marketer, name="Spring sale", budget=Decimal("999"), actual_cost=Decimal("200")
    )
    rows = [recipient(campaign) for _i in range(8)]
    rows += [recipient(campaign, status=CampaignRecipient.Status.BOUNCED) for _i in range(2)]
    recipient(campaign, status=CampaignRecipient.Status.QUEUED)
    for row, outcome in zip(rows, ["responded", "declined", "interested"], strict=False):
        row.outcome = outcome
        row.save()
    OrderFactory(customer=rows[0].customer, total=Decimal("300.00"))
    OrderFactory(customer=rows[1].customer, total=Decimal("500.00"))
    return campaign


@pytest.mark.parametrize("persona", ["rep", "marketer", "manager"])
def test_roles_that_read_campaigns_list_and_read_them(request, persona, campaign):
    client = api(request.getfixturevalue(persona))
    rows = client.get(LIST).json()["results"]
    assert [row["id"] for row in rows] == [campaign.pk]
    response = client.get(reverse("api:campaign-detail", args=[campaign.pk]))
    assert response.status_code == 200 and response["ETag"] == f'"{campaign.version}"'
    assert response.json()["budget"] == "999.00" and response.json()["currency"]


@pytest.mark.parametrize("persona", ["agent", "nobody"])
def test_agents_get_nothing_of_marketing(request, persona, campaign):
    client = api(request.getfixturevalue(persona))
    for url in (LIST, reverse("api:campaign-detail", args=[campaign.pk]), results_url(campaign)):
        response = client.get(url)
        assert response.status_code == 403, url
        assert response["Content-Type"] == "application/problem+json"


def test_login_is_required(campaign):
    assert APIClient().get(LIST).status_code in (401, 403)
    assert APIClient().get(results_url(campaign)).status_code in (401, 403)


def test_results_are_the_campaign_reports_numbers(rep, campaign):
    body = api(rep).get(results_url(campaign)).json()
    figures = campaign_figures(campaign)
    assert (body["sent"], body["delivered"], body["bounced"]) == (10, 8, 2)
    assert (body["responses"], body["conversions"]) == (figures.responses, figures.conversions)
    assert Decimal(body["revenue"]) == figures.revenue == Decimal("800.00")
    assert Decimal(body["cost"]) == figures.cost and body["cost_is_budget"] is False
    assert Decimal(body["roi"]) == figures.roi == Decimal("3")
    assert Decimal(body["conversion_rate"]) == figures.conversion_rate
    assert Decimal(body["cost_per_conversion"]) == figures.cost_per_conversion
    assert body["recipients"] == {"queued": 1, "sending": 0, "sent": 8, "failed": 0, "bounced": 2}


def test_results_of_an_unsent_campaign_have_no_ratios(manager):
    campaign = CampaignFactory(budget=Decimal("0"))
    body = api(manager).get(results_url(campaign)).json()
    assert body["sent"] == 0 and body["roi"] is None and body["conversion_rate"] is None
    assert body["cost_per_conversion"] is None and body["cost_is_budget"] is True


def test_the_list_filters_like_the_page(marketer, manager, campaign):
    other = CampaignFactory(owner=manager, channel="sms", status="completed")
    client = api(marketer)
    assert [r["id"] for r in client.get(LIST, {"mine": "true"}).json()["results"]] == [campaign.pk]
    assert [r["id"] for r in client.get(LIST, {"channel": "sms"}).json()["results"]] == [other.pk]
    assert [r["id"] for r in client.get(LIST, {"q": "spring"}).json()["results"]] == [campaign.pk]
    ordered = client.get(LIST, {"ordering": "name"}).json()["results"]
    assert [r["name"] for r in ordered] == sorted(r["name"] for r in ordered)


def test_a_missing_campaign_is_404(manager):
    assert api(manager).get("/api/v1/campaigns/999999/").status_code == 404
    assert api(manager).get(f"/api/v1/campaigns/{'9' * 30}/results/").status_code == 404


HOSTILE = [
    {"q": "a\x00b"},
    {"status": "\x00"},
    {"channel": "<script>alert(1)</script>"},
    {"mine": "١"},
    {"page_size": "9" * 40},
    {"cursor": "%%%"},
    {"ordering": "budget\x00"},
    {"starts_on": "2024-02-30"},
]


@pytest.mark.parametrize("params", HOSTILE)
def test_hostile_query_strings_never_500(marketer, campaign, params):
    response = api(marketer).get(LIST, params)
    assert response.status_code in (200, 400, 404), (params, response.status_code)
    if response.status_code != 200:
        assert response["Content-Type"] == "application/problem+json"


def test_list_queries_do_not_grow(rep, django_assert_max_num_queries):
    client = api(rep)
    CampaignFactory.create_batch(2)
    with django_assert_max_num_queries(10) as few:
        assert client.get(LIST).status_code == 200
    CampaignFactory.create_batch(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(LIST).json()["results"]) == 32
