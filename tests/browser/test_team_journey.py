"""A manager's team view in Chromium (issue 16): set a rep's quota, read the forecast against
it on the home page, open the deals behind a bar; a rep sets a deal's next step and logs a
call from the deal page without leaving it."""

from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sales.models import Quota
from tests.factories import CustomerFactory, DealFactory

pytestmark = pytest.mark.browser


def test_manager_sets_a_quota_and_reads_the_team_view(page, login, base_url, manager, rep, rep2):
    DealFactory(owner=rep, title="Globex renewal", amount=Decimal("4000"), probability=50,
                expected_close_date=timezone.localdate())  # fmt: skip
    login(page, manager)
    team = page.locator("#team-view")
    expect(team.locator('tr[data-rep="rep"] [data-col="open"]')).to_have_text("2,000")
    expect(team.locator('tr[data-rep="rep"] [data-col="attainment"]')).to_have_text("—")

    page.get_by_role("link", name="Set quotas").click()
    page.get_by_label("Rita").fill("8000")
    page.get_by_role("button", name="Save quotas").click()
    expect(page.locator(".alert-success")).to_contain_text("Quotas saved")
    assert Quota.objects.get(owner=rep).amount == Decimal("8000")

    page.get_by_role("link", name="Back to the team view").click()
    row = page.locator('#team-view tr[data-rep="rep"]')
    expect(row.locator('[data-col="quota"]')).to_have_text("8,000")
    expect(row.locator('[data-col="attainment"]')).to_have_text("25%")
    expect(page.locator("#team-chart")).to_be_visible()
    page.wait_for_function("window.Chart && window.Chart.getChart('team-chart')")

    row.locator('[data-col="open"] a').click()
    expect(page.get_by_role("link", name="Globex renewal")).to_be_visible()


def test_rep_sets_the_next_step_and_logs_a_call_from_the_deal_page(page, login, base_url, rep):
    deal = DealFactory(owner=rep, customer=CustomerFactory(owner=rep), title="Initech printers")
    login(page, rep)
    page.goto(f"{base_url}{deal.get_absolute_url()}")
    page.fill("#next-step-form #id_title", "Send the revised offer")
    page.get_by_role("button", name="Set next step").click()
    expect(page.locator("#deal-next-step")).to_contain_text("Send the revised offer")
    expect(page).to_have_url(f"{base_url}{deal.get_absolute_url()}")

    page.locator("#activity-tab").click()
    page.fill("#activity-form #id_occurred_at", "2026-01-05T10:00")
    page.fill("#activity-form #id_summary", "Called Bill about the printers")
    page.locator("#activity-form").get_by_role("button", name="Log activity").click()
    expect(page.locator("#deal-timeline")).to_contain_text("Called Bill about the printers")
    deal.refresh_from_db()
    assert deal.next_step.title == "Send the revised offer"
