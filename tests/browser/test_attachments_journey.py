"""Attachments in Chromium (issue 14): a customer sends a photo with the help form; the agent
sees it under the request, answers with a file on the reply form, and downloads the photo
(a download, never a page); a file too large is refused with the reply's text kept; the rep
adds a file to a deal from its Files panel and deletes it after confirming."""

import re

import pytest
from playwright.sync_api import expect

from core.models import Attachment
from service.models import Ticket
from tests.core.attachment_data import PDF, PNG
from tests.factories import CustomerFactory, DealFactory

pytestmark = pytest.mark.browser


def _file(name: str, content: bytes, mime: str) -> dict:
    return {"name": name, "mimeType": mime, "buffer": content}


def test_a_photo_travels_from_the_help_form_to_the_agent_and_back(new_page, login, agent, settings):
    visitor = new_page()
    visitor.goto("/help/submit/")
    visitor.get_by_label("Your name").fill("Li Lei")
    visitor.get_by_label("Your email").fill("li@example.com")
    visitor.get_by_label("Subject").fill("Parcel arrived crushed")
    visitor.get_by_label("How can we help?").fill("The box was crushed, see the photo.")
    visitor.locator("input[name=attachments]").set_input_files([_file("box.png", PNG, "image/png")])
    visitor.get_by_role("button", name="Send request").click()
    expect(visitor).to_have_url(
        re.compile(r"/help/submit/thanks/(\?r=[^/]+)?$")
    )  # the number, signed
    ticket = Ticket.objects.get()

    page = new_page()
    login(page, agent)
    page.goto(f"/service/tickets/{ticket.pk}/")
    photo = page.locator("[data-message-files] a", has_text="box.png")
    expect(photo).to_be_visible()
    with page.expect_download() as download:
        photo.click()
    assert download.value.suggested_filename == "box.png"

    settings.CRM_ATTACHMENT_MAX_BYTES = 64 * 1024
    reply = page.locator("#reply-form")
    reply.locator("textarea[name=body]").fill("Sorry! A refund form is attached.")
    reply.locator("input[name=attachments]").set_input_files(
        [_file("huge.pdf", PDF + b"0" * 200_000, "application/pdf")]
    )
    reply.get_by_role("button", name="Send reply").click()
    expect(page.locator("[data-attachment-error]").first).to_contain_text("larger than 64.0")
    expect(page.locator("#reply-form textarea[name=body]")).to_have_value(
        "Sorry! A refund form is attached."
    )
    page.locator("#reply-form input[name=attachments]").set_input_files(
        [_file("refund.pdf", PDF, "application/pdf")]
    )
    page.locator("#reply-form").get_by_role("button", name="Send reply").click()
    expect(page.locator("[data-message-files] a", has_text="refund.pdf")).to_be_visible()
    assert Attachment.objects.count() == 2


def test_a_rep_adds_a_file_to_a_deal_and_deletes_it(new_page, login, rep):
    deal = DealFactory(owner=rep, customer=CustomerFactory(owner=rep))
    page = new_page()
    login(page, rep)
    page.goto(f"/sales/deals/{deal.pk}/")
    panel = page.locator("#attachments")
    panel.locator("input[name=attachments]").set_input_files(
        [_file("offer.pdf", PDF, "application/pdf"), _file("plan.png", PNG, "image/png")]
    )
    panel.get_by_role("button", name="Upload").click()
    expect(page.locator("#attachments a", has_text="offer.pdf")).to_be_visible()
    expect(page.locator("#attachments a", has_text="plan.png")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#attachments li", has_text="offer.pdf").get_by_role(
        "button", name="Delete"
    ).click()
    expect(page.locator("#attachments a", has_text="offer.pdf")).to_have_count(0)
    expect(page.locator("#attachments a", has_text="plan.png")).to_be_visible()
