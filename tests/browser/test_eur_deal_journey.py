"""Issue 16's rep's day with money in a second currency, in Chromium: an EUR deal, its quote
sent and accepted, the deal won with the quote's total, and the customer's timeline telling
each step; amounts in EUR beside their value in the reporting currency (USD)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.models import ExchangeRate
from sales.models import Deal, Order
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.browser


def test_an_eur_deal_is_won_through_its_accepted_quote_and_the_timeline_tells_it(
    page, login, base_url, rep
):
    ExchangeRate.objects.create(
        currency="EUR", day=timezone.localdate() - timedelta(days=7), rate=Decimal("1.10")
    )
    customer = CustomerFactory(owner=rep, name="Lyon Optique SARL")
    ProductFactory(name="Lens kit", sku="LK-1", unit_price=Decimal("500.00"), tax_rate=Decimal("0"))
    login(page, rep)

    page.goto(f"{base_url}{customer.get_absolute_url()}")
    page.get_by_role("link", name="New deal").click()
    page.fill("#id_title", "Shop fit-out")
    page.fill("#id_amount", "900")
    page.select_option("#id_currency", "EUR")
    page.get_by_role("button", name="Save").click()
    deal = Deal.objects.get()
    assert deal.currency == "EUR"
    expect(page.locator("#deal-amount")).to_contain_text("≈ 990.00 USD")  # 900 × 1.10

    page.locator("#deal-quotes").get_by_role("link", name="New quote").click()
    page.wait_for_url("**/quotes/new/")
    page.wait_for_load_state()  # quote_form.js fills a line from its product once loaded
    page.select_option("select[name=lines-0-product]", label="Lens kit (LK-1)")
    expect(page.locator("input[name=lines-0-description]")).to_have_value("Lens kit")
    page.fill("input[name=lines-0-quantity]", "2")
    page.get_by_role("button", name="Create quote").click()
    expect(page.locator("[data-total=total]")).to_have_text("1,000.00")
    page.get_by_role("button", name="Mark as sent").click()
    page.once("dialog", lambda dialog: dialog.accept())  # the deal's amount becomes 1,000
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("h1")).to_contain_text("Accepted")

    page.goto(f"{base_url}{deal.get_absolute_url()}")
    expect(page.locator("#deal-amount")).to_contain_text("≈ 1,100.00 USD")
    page.get_by_role("link", name="Mark as won").click()
    expect(page.get_by_label("Final amount")).to_have_value("1000.00")
    page.get_by_role("button", name="Mark as won").click()
    expect(page.locator("#deal-status")).to_have_text("Won")

    order = Order.objects.get()
    assert (order.currency, order.total, order.total_reporting) == (
        "EUR",
        Decimal("1000.00"),
        Decimal("1100.00"),
    )
    page.goto(f"{base_url}{customer.get_absolute_url()}")
    timeline = page.locator("#timeline")
    for step in (
        "Deal “Shop fit-out” created",
        "sent (deal “Shop fit-out”)",
        "accepted (deal “Shop fit-out”)",
        "Deal “Shop fit-out” won",
        f"Order {order.number}",
    ):
        expect(timeline).to_contain_text(step)
