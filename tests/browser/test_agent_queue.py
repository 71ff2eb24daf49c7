"""The agents' queue in Chromium: take two unassigned tickets with "Assign to me" and find
them under "My open tickets"; the queue and the ticket page fit a phone's width.

Set CRM_SHOTS_DIR to keep screenshots of both pages at 1280 and 400 pixels wide.
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from service.services import ticket_create, ticket_reply
from tests.factories import CustomerFactory, KnowledgeArticleFactory, TicketMessageFactory

pytestmark = pytest.mark.browser

LONG_SUBJECT = (
    "打印机每打印第二页就卡纸，更换硒鼓后问题依旧，请尽快派工程师上门检修 — "
    "the printer jams on every second page even after replacing the toner cartridge"
)


def test_agent_assigns_two_unassigned_tickets_to_themself(page, login, base_url, agent):
    customer = CustomerFactory(name="深圳市腾达贸易有限公司")
    first = ticket_create(
        customer=customer, subject="Invoice missing", description="x", channel="email"
    )
    second = ticket_create(
        customer=customer, subject="Login broken", description="y", channel="chat"
    )
    ticket_create(customer=customer, subject="Leave me alone", description="z", channel="phone")
    login(page, agent)

    page.goto(f"{base_url}/service/tickets/")
    expect(page.locator("#queue-empty")).to_contain_text("No open tickets assigned to you")
    page.get_by_role("link", name="Unassigned").click()
    expect(page.locator("#ticket-table tbody tr")).to_have_count(3)
    assign = page.get_by_role("button", name="Assign to me")
    expect(assign).to_be_disabled()
    page.get_by_label(f"Select {first.number}").check()
    page.get_by_label(f"Select {second.number}").check()
    expect(page.locator("#selected-count")).to_have_text("2 selected")
    assign.click()

    expect(page.locator(".alert-success")).to_contain_text("2 tickets assigned to agent.")
    expect(page.locator("#ticket-table tbody tr")).to_have_count(1)
    page.get_by_role("link", name="My open tickets").click()
    rows = page.locator("#ticket-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Invoice missing")
    expect(rows.nth(1)).to_contain_text("Login broken")
    expect(rows.nth(0)).to_contain_text("深圳市腾达贸易有限公司")


def test_insert_article_and_internal_note_switch(page, login, base_url, agent):
    article = KnowledgeArticleFactory(title="Clear a paper jam", body="printer jams paper")
    ticket = ticket_create(
        customer=CustomerFactory(), subject="Printer jams", description="paper", channel="phone"
    )
    login(page, agent)
    page.goto(f"{base_url}{ticket.get_absolute_url()}")

    page.locator("#related-articles").get_by_role("button", name="Insert link").click()
    body = page.locator("#id_body")
    link = f"http://127.0.0.1:8000/help/articles/{article.pk}/"
    expect(body).to_have_value(f"Clear a paper jam\n{link}\n")
    body.fill("")
    page.locator("#related-articles").get_by_role("button", name="Insert text").click()
    expect(body).to_have_value(f"printer jams paper\n\n{link}\n")
    page.get_by_text("Internal note", exact=True).click()
    expect(page.get_by_role("button", name="Add note")).to_be_visible()
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".message-note")).to_contain_text("printer jams paper")


def _shot(page, name):
    folder = os.environ.get("CRM_SHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"s2-{name}.png"), full_page=True)


def _fits(page, width):
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= width, f"{page.url} is {overflow}px wide in a {width}px window"


def test_queue_and_ticket_page_fit_wide_and_narrow_screens(page, login, base_url, agent, manager):
    now = timezone.now()
    names = [
        "北京字节跳动科技有限公司华南区域客户服务中心",
        "王小明",
        "Müller & Söhne Industrie GmbH",
    ]
    tickets = []
    for n, name in enumerate(names * 3):
        ticket = ticket_create(
            customer=CustomerFactory(name=name, is_key_account=n == 0),
            subject=f"{LONG_SUBJECT} ({n})",
            description=LONG_SUBJECT * 3,
            channel=["email", "phone", "chat"][n % 3],
            priority=["urgent", "high", "normal"][n % 3],
            assignee=agent if n % 2 == 0 else None,
            now=now - timedelta(hours=n * 3),
        )
        tickets.append(ticket)
    ticket = tickets[0]
    TicketMessageFactory(ticket=ticket, from_customer=True, author=None, body="请问进展如何？" * 20)
    ticket_reply(ticket=ticket, author=agent, body="工程师明天上午到。", internal=False)
    ticket_reply(ticket=ticket, author=manager, body="Key account: handle first.", internal=True)
    KnowledgeArticleFactory(title="打印机卡纸怎么办 printer jams", body=LONG_SUBJECT)
    login(page, agent)

    for width in (1280, 400):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{base_url}/service/tickets/?view=open")
        expect(page.locator("#ticket-table tbody tr")).to_have_count(9)
        _fits(page, width)
        _shot(page, f"queue-{width}")
        page.goto(f"{base_url}{ticket.get_absolute_url()}")
        expect(page.locator(".message-note")).to_contain_text("Key account")
        _fits(page, width)
        _shot(page, f"ticket-{width}")
        page.goto(f"{base_url}{ticket.customer.get_absolute_url()}")
        expect(page.locator("#customer-tickets")).to_contain_text(ticket.number)
        _fits(page, width)
        _shot(page, f"customer-panel-{width}")
