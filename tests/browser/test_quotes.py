"""The quote builder in Chromium: a product fills its line, rows are added and removed,
the quote is printed and accepted, and accepting it for a won deal creates the order."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from sales.models import Order, Quote
from sales.services import deal_win
from tests.factories import CustomerFactory, DealFactory, ProductFactory

pytestmark = pytest.mark.browser


def test_rep_builds_prints_and_accepts_a_quote(page, login, base_url, rep):
    deal = DealFactory(owner=rep, customer=CustomerFactory(owner=rep, name="Acme Trading"))
    deal_win(deal=deal, won_by=rep, expected_version=deal.version)
    ProductFactory(name="Router", sku="RT-1", unit_price=Decimal("249.00"), tax_rate=Decimal("13"))
    login(page, rep)

    page.goto(f"{base_url}/sales/deals/{deal.pk}/quotes/new/")
    page.select_option("select[name=lines-0-product]", label="Router (RT-1)")
    expect(page.locator("input[name=lines-0-description]")).to_have_value("Router")
    expect(page.locator("input[name=lines-0-unit_price]")).to_have_value("249.00")
    expect(page.locator("input[name=lines-0-quantity]")).to_have_value("1")
    page.fill("input[name=lines-0-quantity]", "3")
    page.fill("input[name=lines-0-discount_percent]", "5")
    page.get_by_role("button", name="Add line").click()
    page.fill("input[name=lines-1-description]", "Installation")
    page.fill("input[name=lines-1-quantity]", "1")
    page.fill("input[name=lines-1-unit_price]", "120")
    page.get_by_role("button", name="Add line").click()
    page.fill("input[name=lines-2-description]", "Removed again")
    page.locator("tr[data-line]").nth(2).get_by_role("button", name="Remove line").click()
    expect(page.locator("tr[data-line]").nth(2)).to_be_hidden()
    page.get_by_role("button", name="Create quote").click()

    quote = Quote.objects.get()
    expect(page).to_have_url(f"{base_url}{quote.get_absolute_url()}")
    assert [line.description for line in quote.lines.all()] == ["Router", "Installation"]
    # 3 × 249 less 5% = 709.65 + 92.25 tax; 120.00 → 921.90
    expect(page.locator("[data-total=total]")).to_have_text("921.90")

    page.get_by_role("link", name="Print / PDF").click()
    expect(page.get_by_role("button", name="Print / Save as PDF")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Print / Save as PDF")).to_be_hidden()
    page.emulate_media(media="screen")
    page.get_by_role("link", name="Back to the quote").click()

    page.get_by_role("button", name="Mark as sent").click()
    expect(page.locator("h1")).to_contain_text("Sent")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("h1")).to_contain_text("Accepted")
    order = Order.objects.get()
    expect(page.get_by_role("link", name=order.number)).to_be_visible()
    assert order.total == Decimal("921.90")
