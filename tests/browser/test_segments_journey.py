"""Issue 5's journey in Chromium, as a manager: the segments dashboard, a click on a
segment to the filtered customer list, back, "Recompute now", and the run completing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from analytics.models import SegmentRun, SegmentSummary
from tests.factories import (
    CustomerFactory,
    CustomerValueFactory,
    OrderFactory,
    SegmentRunFactory,
)

pytestmark = pytest.mark.browser


def _orders_and_a_run():
    """Forty customers with purchase histories, and a stored run putting two in Champions."""
    now = timezone.now()
    customers = [CustomerFactory(name=f"Customer {n:02d}") for n in range(40)]
    for n, customer in enumerate(customers):
        for k in range(1 + n % 5):
            OrderFactory(customer=customer, total=Decimal(50 + 10 * n),
                         ordered_at=now - timedelta(days=3 + 40 * k + n))  # fmt: skip
    run = SegmentRunFactory(as_of=timezone.localdate() - timedelta(days=1), customers=3)
    for customer, segment in zip(customers[:3], ["champions", "champions", "lost"], strict=True):
        CustomerValueFactory(run=run, customer=customer, segment=segment)
    SegmentSummary.objects.create(run=run, segment="champions", customers=2, revenue=400,
                                  average_ltv=150)  # fmt: skip
    SegmentSummary.objects.create(run=run, segment="lost", customers=1, revenue=200,
                                  average_ltv=10)  # fmt: skip
    return run


def test_segment_to_customer_list_and_recompute(page, login, base_url, manager):
    run = _orders_and_a_run()
    login(page, manager)
    page.get_by_role("button", name="Reports").click()
    page.get_by_role("link", name="Segments").click()
    expect(page.locator("h1")).to_have_text("Segments")
    expect(page.locator("#chart-segment-customers")).to_be_visible()

    page.locator("#table-segments").get_by_role("link", name="Champions").click()
    expect(page).to_have_url(f"{base_url}/customers/?segment=champions")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Customer 00")
    expect(page.locator("#id_segment")).to_have_value("champions")

    page.go_back()
    expect(page.locator("h1")).to_have_text("Segments")
    expect(page.locator("#segment-run-status")).to_contain_text("Completed: 3 customers")
    page.get_by_role("button", name="Recompute now").click()
    expect(page.locator("#segment-run-status")).to_contain_text(
        "Completed: 40 customers", timeout=60_000
    )
    new_run = SegmentRun.objects.get(is_current=True)
    assert new_run.pk != run.pk and new_run.status == SegmentRun.Status.SUCCEEDED
    assert new_run.customers == 40
