"""Winning a deal asks for its final amount (issue 16), and the pipeline's default stage names
are shown in the user's language."""

from decimal import Decimal

import pytest
from django.urls import reverse

from sales.models import Deal, Quote
from sales.services import quote_set_status
from tests.factories import DealFactory
from tests.sales.lines import line
from tests.sales.test_deals import stage
from tests.sales.test_quotes import make_quote

pytestmark = pytest.mark.django_db


def test_home_pipeline_panel_names_default_stages_in_the_users_language(rep, rep_client):
    """The panel printed the stored English name in Chinese (issue 16)."""
    DealFactory(owner=rep, amount=Decimal("3000"), stage=stage("Proposal"))
    page = rep_client.get(
        reverse("sales:home-pipeline-panel"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "方案报价" in page and "Proposal" not in page


def test_mark_as_won_asks_to_confirm_with_the_final_amount(rep, rep_client):
    """'Mark as won' won at once, at whatever amount the deal had (issue 16)."""
    deal = DealFactory(owner=rep, amount=Decimal("1000.00"))
    url = reverse("sales:deal-win", args=[deal.pk])
    assert f'href="{url}"' in rep_client.get(deal.get_absolute_url()).content.decode()
    page = rep_client.get(url)
    assert page.status_code == 200 and page.context["form"]["amount"].value() == Decimal("1000.00")
    deal.refresh_from_db()
    assert deal.status == Deal.Status.OPEN  # asking changed nothing
    response = rep_client.post(url, {"version": deal.version, "amount": "-5"})
    assert response.status_code == 422
    rep_client.post(url, {"version": deal.version, "amount": "1250.50"})
    deal.refresh_from_db()
    assert (deal.status, deal.amount) == (Deal.Status.WON, Decimal("1250.50"))


def test_winning_proposes_the_accepted_quotes_total(rep, rep_client):
    deal = DealFactory(owner=rep, amount=Decimal("1000.00"))
    quote = make_quote(deal, line(quantity="2", unit_price="600.00"))
    quote_set_status(quote=quote, status=Quote.Status.SENT)
    quote_set_status(quote=quote, status=Quote.Status.ACCEPTED)
    page = rep_client.get(reverse("sales:deal-win", args=[deal.pk]))
    assert page.context["form"]["amount"].value() == Decimal("1200.00")
    assert 'id="win-amounts-differ"' not in page.content.decode()  # accepting set it
    Deal.objects.filter(pk=deal.pk).update(amount=Decimal("999.00"))  # edited since
    page = rep_client.get(reverse("sales:deal-win", args=[deal.pk]))
    assert 'id="win-amounts-differ"' in page.content.decode()


def test_an_accepted_quote_fixes_the_final_amount(rep, rep_client):
    """The win form took any amount while the order was made from the quote: won for 300 EUR,
    ordered for 50,000 EUR. With an accepted quote, the deal is won at the quote's total."""
    deal = DealFactory(owner=rep, amount=Decimal("1000.00"), currency="EUR")
    quote = make_quote(deal, line(quantity="2", unit_price="600.00"))
    quote_set_status(quote=quote, status=Quote.Status.SENT)
    quote_set_status(quote=quote, status=Quote.Status.ACCEPTED)
    url = reverse("sales:deal-win", args=[deal.pk])
    assert rep_client.get(url).context["form"].fields["amount"].disabled
    deal.refresh_from_db()
    rep_client.post(url, {"version": deal.version, "amount": "300"})
    deal.refresh_from_db()
    assert (deal.status, deal.amount) == (Deal.Status.WON, Decimal("1200.00"))
    assert deal.orders.get().total == deal.amount
