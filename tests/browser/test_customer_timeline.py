"""The 360° timeline in Chromium (issue 16): every app's events, "Older" loads the next
page in place, the kind filter; and on a phone the call and email buttons and the phone
number are at the top, and no amount is cut off."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import CustomerFactory, DealFactory, InteractionFactory, OrderFactory

pytestmark = pytest.mark.browser


def _customer_with_history(rep):
    customer = CustomerFactory(owner=rep, phone="+86 138 0013 8000")
    DealFactory(
        customer=customer,
        owner=rep,
        title="Annual maintenance contract for the whole Shenzhen fleet",
        amount=Decimal("123456789.00"),
        currency="EUR",
    )
    OrderFactory(customer=customer, number="ORD-LATEST", total=Decimal("98765432.10"))
    start = timezone.now() - timedelta(days=40)
    for n in range(30):
        InteractionFactory(customer=customer, summary=f"Call {n}", occurred_at=start + timedelta(n))
    return customer


def test_older_loads_the_next_page_in_place_and_the_filter_keeps_one_kind(page, login, rep):
    customer = _customer_with_history(rep)
    login(page, rep)
    page.goto(customer.get_absolute_url())
    timeline = page.locator("#timeline")
    expect(timeline.locator("li.kind-order")).to_contain_text("ORD-LATEST")
    expect(timeline.locator("li.kind-deal_created")).to_contain_text("Annual maintenance")
    expect(timeline.locator("li.kind-interaction")).to_have_count(23)  # 25 with the two above

    page.evaluate("window.__sameDocument = true")
    timeline.get_by_role("link", name="Older").click()
    expect(timeline.locator("li.kind-interaction")).to_have_count(30)
    expect(timeline.get_by_role("link", name="Older")).to_have_count(0)
    assert page.evaluate("window.__sameDocument === true")  # htmx, not a reload

    page.locator("#timeline-card label", has_text="Orders").click()
    page.locator("#timeline-card").get_by_role("button", name="Filter").click()
    expect(timeline.locator("li")).to_have_count(1)
    expect(timeline.locator("li.kind-order")).to_contain_text("ORD-LATEST")


def test_on_a_phone_call_and_email_come_first_and_amounts_fit(page, login, rep):
    customer = _customer_with_history(rep)
    login(page, rep)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(customer.get_absolute_url())

    call = page.locator("#call-customer")
    expect(call).to_be_in_viewport()
    expect(call).to_have_attribute("href", "tel:+8613800138000")
    expect(page.locator("#email-customer")).to_be_in_viewport()
    expect(page.locator("#customer-reach")).to_contain_text("+86 138 0013 8000")
    expect(page.locator("#customer-reach")).to_be_in_viewport()

    # Nothing wider than the screen: an amount cut off would widen its card or the page.
    expect(page.locator("#customer-deals")).to_contain_text("123,456,789.00 EUR")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    overflowing = page.evaluate(
        """[...document.querySelectorAll('main .card')]
             .filter(card => card.scrollWidth > card.clientWidth + 1).length"""
    )
    assert overflowing == 0
