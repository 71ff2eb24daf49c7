"""Money is never added across currencies (issue 16): dated rates, missing rates flagged and
left out, and the board, forecast, pipeline report and customer totals in the reporting
currency on a mixed-currency data set whose totals are computed by hand here."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.exchange import RateBook, rate_on, sum_in_reporting, to_reporting
from core.models import ExchangeRate
from sales.models import Deal, Stage
from sales.selectors import DealScope, forecast
from tests.factories import CustomerFactory, DealFactory, OrderFactory, OrderLineFactory
from tests.sales.test_api_deals import api

pytestmark = pytest.mark.django_db

EVERY_DEAL = DealScope(visible=True)  # a manager's scope


@pytest.fixture(autouse=True)
def usd_reporting(settings):
    settings.CRM_CURRENCY = "USD"


@pytest.fixture
def eur_rates():
    """EUR is worth 1.10 USD from 30 days ago and 1.20 from 10 days ago; GBP has no rate."""
    today = timezone.localdate()
    ExchangeRate.objects.create(currency="EUR", day=today - timedelta(days=30), rate="1.10")
    ExchangeRate.objects.create(currency="EUR", day=today - timedelta(days=10), rate="1.20")
    return today


def stage(**where) -> Stage | None:
    return Stage.objects.filter(pipeline__is_default=True, **where).order_by("order").first()


def test_a_rate_holds_from_its_day_until_the_next(eur_rates):
    today = eur_rates
    assert rate_on("EUR", today - timedelta(days=31)) is None  # before the first rate
    assert rate_on("EUR", today - timedelta(days=30)) == Decimal("1.10")
    assert rate_on("EUR", today - timedelta(days=11)) == Decimal("1.10")
    assert rate_on("EUR", today - timedelta(days=10)) == Decimal("1.20")
    assert rate_on("EUR", today + timedelta(days=400)) == Decimal("1.20")
    assert rate_on("USD", today) == 1
    book = RateBook.load(["EUR", "GBP", "USD"])  # one query, the same answers
    for days in (31, 30, 11, 10, -400):
        day = today - timedelta(days=days)
        assert book.rate("EUR", day) == rate_on("EUR", day)
    assert book.rate("GBP", today) is None


def test_a_missing_rate_is_flagged_and_not_summed(eur_rates):
    result = sum_in_reporting(
        {"USD": Decimal("10.00"), "EUR": Decimal("100.00"), "GBP": Decimal("7.00")}, eur_rates
    )
    assert result.amount == Decimal("130.00")  # 10 + 100 × 1.20
    assert result.missing == {"GBP": Decimal("7.00")} and not result.complete
    assert to_reporting(Decimal("7"), "GBP", eur_rates) is None


def _mixed_open_deals(owner):
    """An open column: 1000 USD + 2000 EUR (today 1.20: 2400 USD) + 500 GBP (no rate)."""
    first = stage()
    for amount, currency in (("1000", "USD"), ("2000", "EUR"), ("500", "GBP")):
        DealFactory(owner=owner, stage=first, amount=Decimal(amount), currency=currency,
                    probability=50)  # fmt: skip


def _won_eur_deal(owner, today):
    """Won 15 days ago, when EUR was 1.10: 1000 EUR is 1100 USD."""
    closed = timezone.now() - timedelta(days=15)
    return DealFactory(owner=owner, stage=stage(is_won=True), status=Deal.Status.WON,
                       amount=Decimal("1000"), currency="EUR", closed_at=closed,
                       created_at=closed - timedelta(days=5))  # fmt: skip


def test_board_column_totals_are_in_the_reporting_currency(rep, rep_client, eur_rates):
    _mixed_open_deals(rep)
    _won_eur_deal(rep, eur_rates)
    response = rep_client.get(reverse("sales:board"))
    columns = {c["stage"].pk: c for c in response.context["columns"]}
    open_column, won_column = columns[stage().pk], columns[stage(is_won=True).pk]
    assert (open_column["count"], open_column["total"]) == (3, Decimal("3400.00"))
    assert open_column["missing"] == {"GBP": Decimal("500")}
    assert (won_column["total"], won_column["missing"]) == (Decimal("1100.00"), {})
    html = response.content.decode()
    assert "≈ 3,400\u00a0USD" in html and "500\u00a0GBP has no exchange rate" in html
    assert "2,000\u00a0EUR" in html  # the card keeps the deal's own currency


def test_forecast_converts_open_deals_today_and_won_deals_at_their_close(rep, eur_rates):
    _mixed_open_deals(rep)
    _won_eur_deal(rep, eur_rates)
    start = (eur_rates - timedelta(days=15)).replace(day=1)
    result = forecast(EVERY_DEAL, start=start, months=3, commit_probability=60)
    total = {name: sum(getattr(row, name) for row in result.by_month)
             for name in ("won", "committed", "weighted", "best_case")}  # fmt: skip
    assert total == {
        "won": Decimal("1100.00"),
        "committed": Decimal("1100.00"),  # 50% is under the commit probability
        "weighted": Decimal("2800.00"),  # 1100 + (1000 + 2400) × 50%
        "best_case": Decimal("4500.00"),  # 1100 + 1000 + 2400
    }
    assert result.missing == {"GBP": Decimal("500")}


def test_forecast_page_flags_the_amount_without_rate(manager_client, rep, eur_rates):
    _mixed_open_deals(rep)
    html = manager_client.get(reverse("sales:forecast")).content.decode()
    assert (
        "500\u00a0GBP has no exchange rate" in html and "3,400\u00a0USD" in html
    )  # the cards, in whole units


def test_customer_lifetime_total_converts_each_order_at_its_date(manager_client, eur_rates):
    customer = CustomerFactory()
    now = timezone.now()
    for days, total, currency in ((20, "100", "EUR"), (5, "100", "EUR"), (1, "50", "USD"),
                                  (1, "10", "GBP")):  # fmt: skip
        OrderFactory(customer=customer, ordered_at=now - timedelta(days=days),
                     total=Decimal(total), currency=currency)  # fmt: skip
    url = reverse("sales:customer-orders-panel", args=[customer.pk])
    response = manager_client.get(url)
    assert response.context["lifetime"] == Decimal("280.00")  # 110 + 120 + 50
    assert response.context["missing"] == {"GBP": Decimal("10")}
    assert "≈ 280.00\u00a0USD" in response.content.decode()


def test_pipeline_report_won_amount_is_converted(manager_client, rep, eur_rates):
    _won_eur_deal(rep, eur_rates)
    closed = timezone.now() - timedelta(days=2)
    DealFactory(owner=rep, stage=stage(is_won=True), status=Deal.Status.WON, amount=Decimal("300"),
                currency="USD", closed_at=closed, created_at=closed)  # fmt: skip
    DealFactory(owner=rep, stage=stage(is_won=True), status=Deal.Status.WON, amount=Decimal("40"),
                currency="GBP", closed_at=closed, created_at=closed)  # fmt: skip
    DealFactory(owner=rep, amount=Decimal("9"), currency="CHF")  # open: not under "won"
    response = manager_client.get(reverse("analytics:pipeline"))
    stats = response.context["stats"]
    assert stats["won_amount"] == Decimal("1400.00")  # 1100 + 300, GBP left out
    assert stats["missing"] == {"GBP": Decimal("40")}
    assert "40\u00a0GBP has no exchange rate" in response.content.decode()


def test_home_pipeline_panel_adds_only_converted_amounts(rep, rep_client, eur_rates):
    _mixed_open_deals(rep)  # 1000 USD + 2000 EUR (2400 USD) + 500 GBP, all at 50%
    response = rep_client.get(reverse("sales:home-pipeline-panel"))
    assert (response.context["total"], response.context["weighted"]) == (
        Decimal("3400.00"),
        Decimal("1700.00"),
    )
    assert response.context["rows"][0]["count"] == 3
    assert response.context["missing"] == {"GBP": Decimal("500")}
    content = response.content.decode()
    assert "≈ 3,400<" in content and 'Amount <span class="fw-normal text-secondary">USD<' in content


def test_an_unknown_currency_is_refused_with_a_clear_message(manager_client):
    customer = CustomerFactory()
    response = manager_client.post(
        reverse("sales:deal-create") + f"?customer={customer.pk}",
        {"title": "X", "amount": "10", "currency": "XYZ", "expected_close_date": "2026-01-01"},
    )
    assert response.status_code == 200
    assert "XYZ" in str(response.context["form"].errors["currency"])


def test_api_forecast_is_converted_and_names_the_unconverted(rep, eur_rates):
    _mixed_open_deals(rep)
    body = api(rep).get("/api/v1/forecast/").json()
    assert body["currency"] == "USD" and body["by_month"][0]["best_case"] == "3400.00"
    assert body["unconverted"] == {"GBP": "500.00"}
    refused = api(rep).post("/api/v1/deals/", {"currency": "XYZ"}, format="json")
    assert refused.status_code == 400 and "ISO 4217" in refused.text


def test_order_page_shows_both_currencies_at_the_order_date(manager_client, eur_rates):
    ordered = timezone.now() - timedelta(days=20)  # EUR was 1.10 then
    order = OrderFactory(total=Decimal("100.00"), currency="EUR", ordered_at=ordered)
    html = manager_client.get(order.get_absolute_url()).content.decode()
    assert "100.00\u00a0EUR" in html and "≈ 110.00\u00a0USD" in html
    gbp = OrderFactory(total=Decimal("5.00"), currency="GBP", ordered_at=ordered)
    assert "no GBP rate" in manager_client.get(gbp.get_absolute_url()).content.decode()


def test_a_board_card_shows_its_amount_and_the_amount_in_the_reporting_currency(
    rep, rep_client, eur_rates
):
    """The rep sees on the card what the column adds: 2000 EUR is 2,400 USD today; a card
    whose currency has no rate says so instead of a figure."""
    _mixed_open_deals(rep)
    eur = Deal.objects.get(currency="EUR")
    page = rep_client.get(reverse("sales:board")).content.decode()
    card = page.split(f'data-deal="{eur.pk}"')[1].split("</article>")[0]
    assert "2,000\u00a0EUR" in card and "2,400\u00a0USD" in card
    gbp = Deal.objects.get(currency="GBP")
    assert "no GBP rate" in page.split(f'data-deal="{gbp.pk}"')[1].split("</article>")[0]
    usd = Deal.objects.get(currency="USD")
    assert "≈" not in page.split(f'data-deal="{usd.pk}"')[1].split("</article>")[0]
    moved = rep_client.post(
        reverse("sales:deal-move", args=[eur.pk]),
        {"stage": stage(order__gt=eur.stage.order, is_won=False).pk, "version": eur.version},
    ).json()["card"]
    assert "2,400\u00a0USD" in moved


def test_order_list_formats_totals_and_shows_them_in_the_reporting_currency(
    manager_client, eur_rates
):
    """The list showed "10335.22 EUR" where the order page shows "10,335.22 EUR ≈ …"."""
    ordered = timezone.now() - timedelta(days=20)  # EUR was 1.10 then
    OrderFactory(total=Decimal("10335.22"), currency="EUR", ordered_at=ordered)
    OrderFactory(total=Decimal("5.00"), currency="GBP", ordered_at=ordered)
    html = manager_client.get(reverse("sales:order-list")).content.decode()
    assert "10335.22" not in html and "10,335.22\u00a0EUR" in html
    assert "≈ 11,368.74\u00a0USD" in html and "no GBP rate" in html
    order = OrderFactory(total=Decimal("12345.60"), currency="EUR", ordered_at=ordered)
    OrderLineFactory(order=order, unit_price=Decimal("10.00"))  # the lines say otherwise
    html = manager_client.get(order.get_absolute_url()).content.decode()
    assert "recorded total is 12,345.60\u00a0EUR." in html


def test_the_customers_deals_panel_shows_foreign_amounts_in_the_reporting_currency(
    rep, rep_client, eur_rates
):
    customer = CustomerFactory(owner=rep)
    DealFactory(owner=rep, customer=customer, amount=Decimal("2000"), currency="EUR")
    DealFactory(owner=rep, customer=customer, amount=Decimal("500"), currency="GBP")
    page = rep_client.get(customer.get_absolute_url()).content.decode()
    panel = page.split('id="customer-deals"')[1].split("</ul>")[0]
    assert "2,000.00\u00a0EUR" in panel and "≈ 2,400.00\u00a0USD" in panel
    assert "no GBP rate" in panel


def test_the_home_pipeline_panel_reads_the_open_deals_totals(rep, rep_client):
    """The panel's figures come from the totals the triggers keep (sales.deal_totals), not
    from a read of every open deal of the rep; they are the deals' own sums."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    stage = DealFactory(owner=rep, amount=Decimal("100.00"), probability=50).stage
    DealFactory(owner=rep, stage=stage, amount=Decimal("300.00"), probability=20)
    with CaptureQueriesContext(connection) as captured:
        response = rep_client.get(reverse("sales:home-pipeline-panel"))
    grouped = [q["sql"] for q in captured.captured_queries if "GROUP BY" in q["sql"]]
    assert grouped and all("sales_deal" not in sql for sql in grouped), grouped
    row = next(row for row in response.context["rows"] if row["stage_id"] == stage.pk)
    assert (row["count"], row["total"], row["weighted"]) == (2, Decimal("400"), Decimal("110"))
