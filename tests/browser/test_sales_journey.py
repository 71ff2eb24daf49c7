"""Issue 3's journey in Chromium, as one rep: create a deal from the customer page, drag it
across two stages, reload, build a two-line quote, win the deal, find the order on the
customer page."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from sales.models import Deal, Order
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.browser


def column(page, name):
    return page.locator(".board-column", has=page.locator("h2", has_text=name))


def test_from_customer_to_deal_to_quote_to_order(page, login, base_url, rep):
    customer = CustomerFactory(owner=rep, name="华南贸易有限公司")
    ProductFactory(name="Router", sku="RT-1", unit_price=Decimal("249.00"), tax_rate=Decimal("13"))
    login(page, rep)

    page.goto(f"{base_url}{customer.get_absolute_url()}")
    page.get_by_role("link", name="New deal").click()
    page.fill("#id_title", "Network upgrade")
    page.fill("#id_amount", "900")
    page.get_by_role("button", name="Save").click()
    deal = Deal.objects.get()

    page.goto(f"{base_url}/sales/board/")
    card = page.locator(".deal-card", has_text="Network upgrade")
    for stage in ["Needs analysis", "Negotiation"]:
        card.drag_to(column(page, stage).locator(".board-cards"))
        expect(column(page, stage).locator("[data-count]")).to_have_text("1")
    page.reload()
    expect(column(page, "Negotiation").locator(".deal-card")).to_contain_text("Network upgrade")

    page.goto(f"{base_url}{deal.get_absolute_url()}")
    page.locator("#deal-quotes").get_by_role("link", name="New quote").click()
    page.wait_for_url("**/quotes/new/")
    page.wait_for_load_state()  # quote_form.js fills a line from its product once loaded
    page.select_option("select[name=lines-0-product]", label="Router (RT-1)")
    expect(page.locator("input[name=lines-0-description]")).to_have_value("Router")
    page.fill("input[name=lines-0-quantity]", "2")
    page.get_by_role("button", name="Add line").click()
    page.fill("input[name=lines-1-description]", "Installation")
    page.fill("input[name=lines-1-quantity]", "1")
    page.fill("input[name=lines-1-unit_price]", "100")
    page.get_by_role("button", name="Create quote").click()
    # 2 × 249 = 498.00 + 64.74 tax; 100.00 → 662.74
    expect(page.locator("[data-total=total]")).to_have_text("662.74")
    page.get_by_role("button", name="Mark as sent").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("h1")).to_contain_text("Accepted")

    page.goto(f"{base_url}{deal.get_absolute_url()}")
    page.get_by_role("link", name="Mark as won").click()
    # Winning proposes the accepted quote's total as the final amount.
    expect(page.get_by_label("Final amount")).to_have_value("662.74")
    page.get_by_role("button", name="Mark as won").click()
    expect(page.locator("#deal-status")).to_have_text("Won")

    order = Order.objects.get()
    assert (order.customer, order.total, order.lines.count()) == (customer, Decimal("662.74"), 2)
    page.goto(f"{base_url}{customer.get_absolute_url()}")
    expect(page.get_by_role("link", name=order.number, exact=True)).to_be_visible()  # orders
    expect(
        page.locator("#timeline").get_by_role("link", name=f"Order {order.number}")
    ).to_be_visible()
