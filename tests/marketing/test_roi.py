"""The campaign report: figures, ROI, "—" when undefined, CSV export and who may read it."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import ExchangeRate
from marketing.models import CampaignRecipient
from marketing.reports import Figures, campaign_figures
from tests.factories import CampaignFactory, CampaignRecipientFactory, OrderFactory

pytestmark = pytest.mark.django_db


def recipient(campaign, status=CampaignRecipient.Status.SENT, **kwargs):
    return CampaignRecipientFactory(
        campaign=campaign, status=status, sent_at=timezone.now() - timedelta(days=2), **kwargs
    )


@pytest.fixture
def campaign(marketer):
    """10 sent (2 bounced), 3 responses, 2 orders worth 300 + 500, actual cost 200."""
    campaign = CampaignFactory(owner=marketer, budget=Decimal("999"), actual_cost=Decimal("200"))
    rows = [recipient(campaign) for _i in range(8)]
    rows += [recipient(campaign, status=CampaignRecipient.Status.BOUNCED) for _i in range(2)]
    recipient(campaign, status=CampaignRecipient.Status.QUEUED)  # not sent yet
    for row, outcome in zip(rows, ["responded", "declined", "interested"], strict=False):
        row.outcome = outcome
        row.save()
    OrderFactory(customer=rows[0].customer, total=Decimal("300.00"))
    OrderFactory(customer=rows[1].customer, total=Decimal("500.00"))
    return campaign


def test_the_figures(campaign):
    figures = campaign_figures(campaign)
    assert (figures.sent, figures.delivered, figures.responses) == (10, 8, 3)
    assert (figures.conversions, figures.revenue, figures.cost) == (2, Decimal("800.00"), 200)
    assert figures.cost_per_conversion == Decimal("100")
    assert figures.roi == Decimal("3")  # (800 - 200) / 200
    assert figures.conversion_rate == Decimal("0.2")


def test_revenue_is_in_the_reporting_currency_and_orders_without_a_rate_are_flagged(
    marketer, marketer_client, settings
):
    """A EUR window order counts at its day's rate, a coupon order too; a GBP order (no
    rate) converts the recipient but adds nothing and is flagged."""
    settings.CRM_CURRENCY = "USD"
    ExchangeRate.objects.create(currency="EUR", day=timezone.localdate() - timedelta(days=30),
                                rate="1.10")  # fmt: skip
    campaign = CampaignFactory(owner=marketer, actual_cost=Decimal("100"))
    eur, gbp, coupon = (recipient(campaign) for _i in range(3))
    OrderFactory(customer=eur.customer, total=Decimal("100.00"), currency="EUR")
    OrderFactory(customer=gbp.customer, total=Decimal("50.00"), currency="GBP")
    coupon.conversion_order = OrderFactory(
        customer=coupon.customer, total=Decimal("20.00"), currency="EUR",
        ordered_at=timezone.now() - timedelta(days=10),
    )  # fmt: skip
    coupon.save()
    figures = campaign_figures(campaign)
    assert (figures.conversions, figures.revenue) == (3, Decimal("132.00"))  # 110 + 22
    assert figures.unconverted == 1
    html = marketer_client.get(reverse("marketing:campaign-report", args=[campaign.pk])).text
    assert 'id="figure-revenue">132.00 USD' in html and 'id="figure-unconverted"' in html
    assert "1 order has no exchange rate and is not included" in html


def test_the_budget_is_the_cost_until_an_actual_cost_is_recorded(campaign):
    campaign.actual_cost = 0
    campaign.save()
    figures = campaign_figures(campaign)
    assert figures.cost == Decimal("999")
    assert figures.roi == (Decimal("800") - 999) / 999  # a loss: negative


def test_undefined_figures_are_none():
    figures = Figures()
    assert figures.cost_per_conversion is None
    assert figures.roi is None
    assert figures.conversion_rate is None
    assert Figures(revenue=Decimal("50")).roi is None  # free campaign: no ROI
    assert Figures(cost=Decimal("10")).roi == -1  # spent and earned nothing


def test_the_report_card_shows_the_figures(marketer_client, campaign, settings):
    response = marketer_client.get(reverse("marketing:campaign-report", args=[campaign.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="figure-roi">300.0%' in html
    assert f'id="figure-revenue">800.00 {settings.CRM_CURRENCY}<' in html
    assert f'id="figure-cost-per-conversion">100.00 {settings.CRM_CURRENCY}<' in html


def test_an_empty_campaign_shows_dashes(manager_client):
    campaign = CampaignFactory(budget=0, actual_cost=0)
    html = manager_client.get(reverse("marketing:campaign-report", args=[campaign.pk])).content
    assert b'id="figure-roi">\xe2\x80\x94<' in html
    assert b'id="figure-cost-per-conversion">\xe2\x80\x94<' in html
    assert b'id="no-conversions"' in html


def test_the_csv_export(marketer_client, campaign):
    campaign.name = "=HYPERLINK(evil)"
    campaign.save()
    url = reverse("marketing:campaign-report", args=[campaign.pk])
    response = marketer_client.get(url, {"export": "report"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Campaign", "Channel", "Sent"]
    assert rows[1][0] == "'=HYPERLINK(evil)"  # neutralised for spreadsheets
    assert rows[1][2:11] == ["10", "8", "3", "2", "20.0", "800.00", "200.00", "100.00", "300.0"]
    # Delivery feedback: bounced, opened and clicked, with their rates per recipient sent.
    assert rows[0][11:] == [
        "Bounced",
        "Bounce rate",
        "Opened",
        "Open rate",
        "Clicked",
        "Click rate",
        "Conversions recorded by hand",
    ]
    assert rows[1][11:] == ["2", "20.0", "0", "0.0", "0", "0.0", "0"]


def test_the_campaign_page_includes_the_report_and_the_lead_form_snippet(marketer_client, campaign):
    html = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert reverse("marketing:campaign-report", args=[campaign.pk]) in html
    assert "&lt;iframe src=" in html
    assert reverse("public-marketing:lead-form", args=[campaign.lead_form_token]) in html


def test_the_report_takes_a_constant_number_of_queries(
    marketer_client, campaign, django_assert_max_num_queries
):
    url = reverse("marketing:campaign-report", args=[campaign.pk])
    marketer_client.get(url)
    for _i in range(30):
        row = recipient(campaign)
        OrderFactory(customer=row.customer)
    with django_assert_max_num_queries(8):
        assert marketer_client.get(url).status_code == 200


@pytest.mark.parametrize("persona", ["marketer_client", "manager_client", "rep_client"])
def test_marketers_managers_and_reps_read_the_report(request, persona, campaign):
    client = request.getfixturevalue(persona)
    url = reverse("marketing:campaign-report", args=[campaign.pk])
    assert client.get(url).status_code == 200
    assert client.get(url, {"export": "report"}).status_code == 200


@pytest.mark.parametrize("persona", ["agent_client", "nobody_client"])
def test_agents_get_403(request, persona, campaign):
    client = request.getfixturevalue(persona)
    url = reverse("marketing:campaign-report", args=[campaign.pk])
    assert client.get(url).status_code == 403
    assert client.get(url, {"export": "report"}).status_code == 403


def test_anonymous_is_sent_to_log_in(client, campaign):
    response = client.get(reverse("marketing:campaign-report", args=[campaign.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_an_unknown_campaign_is_404(manager_client):
    assert (
        manager_client.get(reverse("marketing:campaign-report", args=[999999])).status_code == 404
    )


def test_a_rep_reads_the_report_but_is_not_shown_the_embed_code(rep_client, campaign):
    html = rep_client.get(campaign.get_absolute_url()).content.decode()
    assert reverse("marketing:campaign-report", args=[campaign.pk]) in html
    assert "&lt;iframe src=" not in html
