"""The ticket page's one reply form in Chromium (issue 17): a typed reply survives saving the
side form; an agent answers with a macro and "Send and set Resolved" in one action; a draft
survives a reload, and leaving with unsent text asks first."""

import pytest
from playwright.sync_api import expect

from service.models import Macro, Ticket
from tests.factories import CustomerFactory, TagFactory, TicketFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def ticket(agent):
    customer = CustomerFactory(name="Wang Fang")
    return TicketFactory(customer=customer, subject="Parcel damaged", assignee=agent, status="open")


def test_answer_with_a_macro_and_send_and_set_resolved(page, login, base_url, agent, ticket):
    macro = Macro.objects.create(
        name="Refund for damage",
        body="Dear {{ customer.first_name }},\nyour refund for {{ ticket.number }} is on its way.",
        set_priority="high",
    )
    macro.add_tags.add(TagFactory(name="refund"))
    login(page, agent)
    page.goto(f"{base_url}{ticket.get_absolute_url()}")
    page.on("dialog", lambda dialog: dialog.accept())
    body = page.locator("#reply-form textarea[name=body]")

    # The old bug: text typed, the side form saved, the text gone. Now it stays.
    body.fill("Sorry to hear that.")
    page.locator("#update-form select[name=priority]").select_option("low")
    page.locator("#update-form").get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("saved")
    expect(body).to_have_value("Sorry to hear that.")

    # The macro from the reply box: its text is added and its actions are shown.
    page.locator("#macro-search").fill("refund")
    page.locator("#macro-results").get_by_text("Refund for damage").click()
    expect(body).to_have_value(
        f"Sorry to hear that.\n\nDear Wang,\nyour refund for {ticket.number} is on its way."
    )
    queued = page.locator("#macro-queued")
    expect(queued).to_be_visible()
    expect(queued).to_contain_text("Set priority: High")
    expect(queued).to_contain_text("Add tags: refund")

    page.locator("#send-status-toggle").click()
    page.get_by_role("button", name="Send and set Resolved").click()
    expect(page.locator("#ticket-status")).to_have_text("Resolved")
    expect(page.locator("#conversation")).to_contain_text("your refund for")
    expect(body).to_have_value("")
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == (Ticket.Status.RESOLVED, "high")
    assert [tag.name for tag in ticket.tags.all()] == ["refund"]


def test_a_draft_survives_a_reload_and_leaving_asks_first(page, login, base_url, agent, ticket):
    login(page, agent)
    page.goto(f"{base_url}{ticket.get_absolute_url()}")
    body = page.locator("#reply-form textarea[name=body]")
    body.click()
    body.press_sequentially("A reply I have not finished")
    expect(page.locator("#draft-status")).to_contain_text("Draft saved")

    asked = []

    def answer(dialog):
        asked.append(dialog.type)
        dialog.accept()

    page.on("dialog", answer)
    page.reload()
    assert asked == ["beforeunload"]
    expect(body).to_have_value("A reply I have not finished")
    expect(page.locator("#draft-status")).to_contain_text("draft is restored")

    # Unchanged restored text: leaving asks nothing (it is saved); sending clears the draft.
    page.locator("#reply-form").get_by_role("button", name="Send reply").click()
    expect(page.locator("#conversation")).to_contain_text("A reply I have not finished")
    page.reload()
    expect(body).to_have_value("")
    assert asked == ["beforeunload"]
