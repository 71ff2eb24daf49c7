"""The deal pages and the Kanban board in Chromium: create a deal from the customer page,
drag it across two stages, reload and see it stay, a refused drop snaps back, win it."""

import pytest
from playwright.sync_api import expect

from sales.models import Deal
from tests.factories import CustomerFactory

pytestmark = pytest.mark.browser


def column(page, name):
    return page.locator(".board-column", has=page.locator("h2", has_text=name))


def test_rep_creates_drags_and_wins_a_deal(page, login, base_url, rep):
    customer = CustomerFactory(owner=rep, name="Initech")
    login(page, rep)

    page.goto(f"{base_url}{customer.get_absolute_url()}")
    page.get_by_role("link", name="New deal").click()
    page.fill("#id_title", "Initech printers")
    page.fill("#id_amount", "4800")
    page.get_by_role("button", name="Save").click()
    deal = Deal.objects.get()
    expect(page).to_have_url(f"{base_url}{deal.get_absolute_url()}")
    expect(page.locator("#deal-probability")).to_have_text("10%")

    page.goto(f"{base_url}/sales/board/")
    card = page.locator(".deal-card", has_text="Initech printers")
    for stage in ["Needs analysis", "Proposal"]:
        card.drag_to(column(page, stage).locator(".board-cards"))
        expect(page.locator("#board-message")).to_contain_text(f"moved to {stage}")
        expect(column(page, stage).locator("[data-count]")).to_have_text("1")
    expect(column(page, "Qualification").locator("[data-count]")).to_have_text("0")

    page.reload()
    expect(column(page, "Proposal").locator(".deal-card")).to_contain_text("Initech printers")
    deal.refresh_from_db()
    assert (deal.stage.name, deal.probability) == ("Proposal", 50)

    # Dropped on Lost without a reason: refused, and the card goes back to its column.
    page.once("dialog", lambda dialog: dialog.dismiss())
    card.drag_to(column(page, "Lost").locator(".board-cards"))
    expect(page.locator("#board-message")).to_contain_text("needs a reason")
    expect(column(page, "Proposal").locator(".deal-card")).to_contain_text("Initech printers")
    deal.refresh_from_db()
    assert deal.status == Deal.Status.OPEN

    page.get_by_role("link", name="Initech printers").click()
    page.get_by_role("link", name="Mark as won").click()
    page.get_by_role("button", name="Mark as won").click()  # confirms the final amount
    expect(page.locator("#deal-status")).to_have_text("Won")
