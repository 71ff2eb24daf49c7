"""Issue 6's journey in Chromium, as a marketer: an email campaign for the "At risk" segment,
a preview per recipient, the send, an unsubscribe link followed from a sent email, and an
order with a recipient's coupon code showing as a conversion in the campaign's report.

Celery runs tasks inline in the test process (tests/conftest.py), and the live server
shares the test's locmem mailbox, so the sent emails are in django.core.mail.outbox.
"""

import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from customers.models import Consent
from marketing.models import Campaign
from sales.services import order_create
from tests.browser.support import field
from tests.factories import (
    ConsentFactory,
    CustomerFactory,
    CustomerValueFactory,
    ProductFactory,
    SegmentRunFactory,
)

pytestmark = pytest.mark.browser

BODY = (
    "Dear {{ first_name }}, use {{ coupon_code }} for 15% off.\nUnsubscribe: {{ unsubscribe_link }}"
)


def _at_risk_customers():
    """Three at-risk customers who consented to email, and two who must not get it."""
    run = SegmentRunFactory()
    names = ["Wang Fang", "Chen Jie", "Anna Berg"]
    at_risk = []
    for n, name in enumerate(names):
        customer = CustomerFactory(name=name, email=f"risk{n}@example.com")
        CustomerValueFactory(run=run, customer=customer, segment="at_risk")
        ConsentFactory(customer=customer, channel="email")
        at_risk.append(customer)
    no_consent = CustomerFactory(name="No Consent", email="nc@example.com")
    CustomerValueFactory(run=run, customer=no_consent, segment="at_risk")
    champion = CustomerFactory(name="Top Buyer", email="top@example.com")
    CustomerValueFactory(run=run, customer=champion, segment="champions")
    ConsentFactory(customer=champion, channel="email")
    return at_risk


def _build_campaign(page):
    page.get_by_role("link", name="Campaigns").first.click()
    page.get_by_role("link", name="New campaign").click()
    field(page, "Name").fill("Win back at risk")
    field(page, "Channel").select_option("email")
    field(page, "Budget").fill("300")
    field(page, "Email subject").fill("{{ first_name }}, we miss you")
    field(page, "Message").fill(BODY)
    field(page, "Coupon code prefix").fill("BACK")
    page.get_by_label("At risk").check()
    expect(page.locator("#audience-preview")).to_contain_text("3")
    expect(page.locator("#audience-preview")).not_to_contain_text("Top Buyer")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_contain_text("Win back at risk")


def _preview_and_send(page, at_risk):
    expect(page.locator("#preview-subject")).to_contain_text("we miss you")
    # The picker arrives in that fragment; choosing before htmx has wired its form up would
    # send no request (faster than any person, but not than a test on a busy machine).
    page.wait_for_function(
        "() => document.querySelector('#preview-customer').form['htmx-internal-data'] !== undefined"
    )
    page.locator("#preview-customer").select_option(label="Chen Jie")
    expect(page.locator("#preview-subject")).to_have_text("Chen, we miss you")
    expect(page.locator("#preview-body")).to_contain_text("Dear Chen")
    page.locator("#send-now").click()
    expect(page.locator("#send-count")).to_contain_text("3 customers")
    page.locator("#confirm-send").click()
    expect(page.locator("h1")).to_contain_text("Win back at risk")


def _email_to(address):
    found = [m for m in mail.outbox if address in m.to]
    assert len(found) == 1, f"{len(found)} emails to {address}"
    return found[0]


def _unsubscribe(page, base_url, message):
    link = re.search(r"https?://\S+/m/unsubscribe/\S+/", message.body).group(0)
    assert link.strip("<>") in message.extra_headers["List-Unsubscribe"]
    page.goto(base_url + urlsplit(link).path)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator("#unsubscribed")).to_be_visible()
    page.get_by_role("link", name="Choose which messages you receive").click()
    # The preferences page only withdraws (issue 13): the withdrawn channel has no box to
    # tick again, and the page says how to subscribe again.
    expect(page.get_by_label("Email", exact=True)).to_have_count(0)
    expect(page.locator("#preferences-not-granted")).to_contain_text("Email")


def test_marketer_sends_to_at_risk_and_sees_unsubscribe_and_conversion(
    page, new_page, login, base_url, marketer
):
    at_risk = _at_risk_customers()
    mail.outbox.clear()
    login(page, marketer)
    _build_campaign(page)
    campaign_url = page.url
    _preview_and_send(page, at_risk)

    campaign = Campaign.objects.get(name="Win back at risk")
    expect(page.locator("#figure-sent")).to_have_text("3")
    sent_to = sorted(address for m in mail.outbox for address in m.to)
    assert sent_to == ["risk0@example.com", "risk1@example.com", "risk2@example.com"]

    # The customer follows the link in their email, in their own browser.
    _unsubscribe(new_page(), base_url, _email_to("risk0@example.com"))
    consent = Consent.objects.get(customer=at_risk[0], channel="email")
    assert not consent.granted and consent.source == "unsubscribe link"

    # Another recipient orders with the code from their email.
    code = re.search(r"use (BACK-\w+) for", _email_to("risk2@example.com").body).group(1)
    order_create(
        customer=at_risk[2],
        ordered_at=timezone.now() - timedelta(minutes=1),
        lines=[
            {
                "product": ProductFactory(),
                "description": "Licence",
                "quantity": Decimal(1),
                "unit_price": Decimal("480.00"),
                "tax_rate": Decimal(0),
            }
        ],
        coupon_code=code,
    )
    page.goto(campaign_url)
    expect(page.locator("#figure-conversions")).to_have_text("1")
    expect(page.locator("#figure-revenue")).to_have_text("480.00 USD")
    expect(page.locator("#conversion-list")).to_contain_text("Anna Berg")
    expect(page.locator("#conversion-list")).to_contain_text(code)
    assert campaign.recipients.get(customer=at_risk[2]).conversion_order is not None
