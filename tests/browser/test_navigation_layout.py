"""The top navigation bar fits the window for every role: no page scrolls sideways because of it
(nor because of the home page's pipeline panel or the printed quote on a phone).

At 1,440 px a manager's bar (with the notification bell) once made every page 1,552 px wide.
The bar now collapses below 1,400 px and keeps the settings pages (webhooks, jobs, admin) in
the user menu.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm import roles
from sales.services import quote_create
from tests.factories import (
    CustomerFactory,
    DealFactory,
    OrderFactory,
    TaskFactory,
    UserFactory,
)
from tests.sales.lines import line
from tests.sales.test_deals import stage

pytestmark = pytest.mark.browser

PAGE_WIDTH_JS = "document.documentElement.scrollWidth"


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", role=roles.ADMIN, is_staff=True, is_superuser=True)


def page_width_at(page, width: int) -> int:
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/customers/")
    page.wait_for_load_state("networkidle")
    return page.evaluate(PAGE_WIDTH_JS)


@pytest.mark.parametrize("width", [1440, 1400, 1280, 390])
def test_the_managers_bar_fits_the_window(page, login, manager, width):
    login(page, manager)
    assert page_width_at(page, width) <= width


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_admins_bar_fits_1440_in_each_language(page, login, base_url, admin, language):
    login(page, admin)
    page.context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
    assert page_width_at(page, 1440) <= 1440
    expect(page.locator("html")).to_have_attribute("lang", language)


def test_the_settings_pages_are_in_the_user_menu(page, login, admin):
    login(page, admin)
    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_role("button", name="admin", exact=True).click()
    menu = page.locator(".dropdown-menu-end")
    for name in ("Webhooks", "Jobs", "Admin"):
        expect(menu.get_by_role("link", name=name, exact=True)).to_be_visible()
    menu.get_by_role("link", name="Webhooks", exact=True).click()
    page.wait_for_url("**/integrations/**")


def test_the_home_pipeline_panel_fits_a_phone(page, login, rep):
    for amount in ("123456789", "98765432"):
        DealFactory(owner=rep, amount=Decimal(amount), probability=60)
    login(page, rep)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("link", name="Open the pipeline")).to_be_visible()
    assert page.evaluate(PAGE_WIDTH_JS) <= 390


def test_the_printed_quote_fits_a_phone(page, login, rep):
    deal = DealFactory(owner=rep)
    lines = [
        line(description=f"Line {n}", quantity="1234", unit_price="98765.43") for n in range(3)
    ]
    quote = quote_create(deal=deal, valid_until=timezone.localdate(), created_by=rep, lines=lines)
    login(page, rep)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/sales/quotes/{quote.pk}/print/")
    expect(page.get_by_text("Line 2")).to_be_visible()
    assert page.evaluate(PAGE_WIDTH_JS) <= 390


def test_the_home_panels_neither_overlap_nor_cut_off_on_a_phone_in_chinese(
    page, login, base_url, rep
):
    """At 390 px in Chinese the overdue dates ("2026年11月26日") ran over the task titles and
    the pipeline's weighted column was cut off ("1,254,516 U") behind a sideways scroll."""
    customer = CustomerFactory(owner=rep)
    for days in (3, 12):
        TaskFactory(
            customer=customer,
            assignee=rep,
            title="Call back about the quote",
            due_date=timezone.localdate() - timedelta(days=days),
        )
    for name, amount in (("Qualification", "599681"), ("Needs analysis", "843776"),
                         ("Proposal", "661296"), ("Negotiation", "870644")):  # fmt: skip
        DealFactory(owner=rep, amount=Decimal(amount), stage=stage(name))
    login(page, rep)
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": base_url}])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    page.wait_for_load_state("networkidle")
    expect(page.locator(".task-date").first).to_be_visible()
    overlaps = page.evaluate(
        """() => Array.from(document.querySelectorAll('.task-date')).filter(date =>
{
            const text = document.createRange();
            text.selectNodeContents(date);  // the date's words, which may overflow its box
            return text.getBoundingClientRect().right
                > date.nextElementSibling.getBoundingClientRect().left + 0.5;
        }).length"""
    )
    table = page.locator(".table-responsive").filter(has_text="2,975,397")
    cut_off = table.evaluate("box => box.scrollWidth > box.clientWidth")
    assert (overlaps, cut_off) == (0, False)
    expect(page.get_by_text("{#")).to_have_count(0)  # no template comment shown as text


def test_the_order_list_shows_each_total_on_a_phone(page, login, base_url, rep):
    """At 390 px the totals sat to the right of the card, behind a sideways scroll."""
    customer = CustomerFactory(owner=rep, name="Moss, Smith and Davies")
    OrderFactory(customer=customer, number="DEMO-ADFD57D4C539", total=Decimal("10335.22"))
    login(page, rep)
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": base_url}])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/sales/orders/")
    total = page.get_by_text("10,335.22")
    expect(total).to_be_visible()
    assert total.evaluate("cell => cell.getBoundingClientRect().right") <= 390
