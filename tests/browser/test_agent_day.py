"""An agent's day in Chromium (issue 17): the ticket page's tags sit inside their card above
Save (wide and on a phone), "Take it", long messages fold, two tickets merge after a
confirmation; the help form does not jump on a phone while suggestions load."""

import pytest
from playwright.sync_api import expect

from service.models import Ticket
from tests.factories import (
    CustomerFactory,
    KnowledgeArticleFactory,
    TagFactory,
    TicketFactory,
    TicketMessageFactory,
)

pytestmark = pytest.mark.browser


def _box(locator):
    box = locator.bounding_box()
    assert box is not None
    return box


@pytest.mark.parametrize("width", [1440, 390])
def test_tags_sit_in_the_side_form_above_save(page, login, base_url, agent, width):
    for name in ("Newsletter", "Partner", "Price sensitive", "Trade show 2025", "VIP", "批发客户"):
        TagFactory(name=name)
    ticket = TicketFactory(assignee=agent)
    page.set_viewport_size({"width": width, "height": 900})
    login(page, agent)
    page.goto(f"{base_url}{ticket.get_absolute_url()}")

    card, save = page.locator("#ticket-side-form"), page.locator("#update-form [type=submit]")
    expect(save).to_be_visible()
    labels = page.locator("#update-form .form-check-label")
    expect(labels).to_have_count(6)
    card_box, save_box = _box(card), _box(save)
    for index in range(6):
        label = _box(labels.nth(index))
        assert label["y"] + label["height"] <= save_box["y"], "a tag overlaps Save"
        assert (
            card_box["x"] <= label["x"]
            and label["x"] + label["width"] <= card_box["x"] + card_box["width"]
        )
        assert label["height"] < 40, "a tag's label wraps letter by letter"


def test_take_it_show_more_and_merge(page, login, base_url, agent):
    customer = CustomerFactory(name="Acme")
    first = TicketFactory(customer=customer, subject="Parcel damaged", assignee=None)
    second = TicketFactory(customer=customer, subject="Refund for the parcel", assignee=None)
    TicketMessageFactory(ticket=second, from_customer=True, author=None, body="Line\n" * 60)
    login(page, agent)

    page.goto(f"{base_url}{second.get_absolute_url()}")
    toggle = page.get_by_role("button", name="Show more")
    expect(toggle).to_be_visible()
    body = page.locator(".message-long").first
    folded = _box(body)["height"]
    toggle.click()
    expect(page.get_by_role("button", name="Show less")).to_be_visible()
    assert _box(body)["height"] > folded * 2

    page.locator("#take-it").click()
    expect(page.locator(".alert-success")).to_contain_text(f"{second.number} is yours.")
    expect(page.locator("#take-it")).to_have_count(0)

    page.locator("#merge-link").click()
    page.get_by_label(f"{first.number} Parcel damaged").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Merge").click()
    expect(page.locator(".alert-success")).to_contain_text(
        f"{second.number} was merged into {first.number}."
    )
    expect(page.locator("#conversation")).to_contain_text("Line")
    assert Ticket.objects.get(pk=second.pk).merged_into_id == first.pk


def test_help_form_does_not_jump_on_a_phone_while_suggestions_load(page, base_url):
    for n in range(6):
        KnowledgeArticleFactory(
            title=f"Parcel damaged in transit {n}", body="parcel damaged refund", is_published=True
        )
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base_url}/help/submit/")
    description = page.get_by_label("How can we help?")
    before = _box(description)["y"]
    page.get_by_label("Subject").fill("My parcel arrived damaged")
    expect(page.locator("#suggestions a").first).to_be_visible()
    assert _box(description)["y"] == before
