"""Issue 14's journey in Chromium, on real mail servers (dovecot for IMAP, an SMTP server that
delivers into it): a customer emails support with a photo; the poller makes a ticket; an agent
opens the photo and replies; the reply lands in the customer's mailbox with threading headers;
the customer answers by email and the answer appears in the ticket's conversation."""

import base64
import time
import uuid
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from playwright.sync_api import expect

from integrations.mail.imap import fetch_mailbox
from integrations.models import Mailbox
from service.models import Ticket
from tests.factories import CustomerFactory

pytestmark = pytest.mark.browser

# A 1×1 PNG: a real image, sniffed as such.
PHOTO = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)

LABEL = b"%PDF-1.4\n% a return label\n%%EOF\n"


def mailbox_user(imap_server, name: str) -> tuple[str, str]:
    address = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    password = uuid.uuid4().hex
    imap_server.add_user(address, password)
    return address, password


def customer_email(sender: str, to: str, subject: str, text: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = f"Hazel Watts <{sender}>", to, subject
    message["Message-ID"] = make_msgid(domain="mail.example.org")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    return message


def wait_for_mail(imap_server, user: str, count: int, timeout: float = 30) -> list:
    deadline = time.monotonic() + timeout
    while True:
        found = imap_server.fetch_all(user)
        if len(found) >= count or time.monotonic() > deadline:
            return [message_from_bytes(raw, policy=policy.default) for raw in found]
        time.sleep(0.5)


def test_a_customer_emails_support_and_the_conversation_threads_both_ways(
    page, login, base_url, agent, imap_server, smtp_email_settings, monkeypatch, settings
):
    settings.CRM_BASE_URL = base_url
    support, support_password = mailbox_user(imap_server, "support")
    customer_address, _password = mailbox_user(imap_server, "hazel")
    monkeypatch.setenv("CRM_TEST_SUPPORT_PASSWORD", support_password)
    mailbox = Mailbox.objects.create(
        name="support", purpose=Mailbox.Purpose.SUPPORT, address=support,
        host=imap_server.host, port=imap_server.port, security=Mailbox.Security.NONE,
        username=support, password_env="CRM_TEST_SUPPORT_PASSWORD",
    )  # fmt: skip
    customer = CustomerFactory(name="Hazel Watts", email=customer_address)

    # The customer writes to support with a photo of the damaged parcel.
    first = customer_email(
        customer_address, support, "Parcel arrived damaged", "The box was crushed, see photo."
    )
    first.add_attachment(PHOTO, maintype="image", subtype="png", filename="damaged-parcel.png")
    imap_server.append(support, first.as_bytes())
    assert fetch_mailbox(mailbox).stored == 1
    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.channel) == (customer, Ticket.Channel.EMAIL)

    # The agent sees the ticket, opens the photo and replies.
    login(page, agent)
    page.goto(f"{base_url}{ticket.get_absolute_url()}")
    expect(page.locator("main")).to_contain_text("The box was crushed, see photo.")
    with page.expect_download() as download:
        page.get_by_role("link", name="damaged-parcel.png").click()
    assert download.value.suggested_filename == "damaged-parcel.png"
    with open(download.value.path(), "rb") as stream:
        assert stream.read() == PHOTO
    reply = page.locator("#reply-form")
    reply.locator("textarea[name=body]").fill("Sorry about that: a new one is on its way.")
    reply.locator("input[type=file]").set_input_files(
        files=[{"name": "return-label.pdf", "mimeType": "application/pdf", "buffer": LABEL}]
    )
    reply.get_by_role("button", name="Send reply").click()
    expect(page.locator("main")).to_contain_text("a new one is on its way")

    # The reply reaches the customer's mailbox, threaded on their email.
    [received] = [
        m
        for m in wait_for_mail(imap_server, customer_address, 2)
        if "new one" in m.get_body(preferencelist=("plain",)).get_content()
    ]
    assert received["In-Reply-To"] == first["Message-ID"]
    assert first["Message-ID"] in received["References"]
    assert received["Reply-To"] == support
    assert received["Message-ID"]
    # The file the agent attached travels with the email.
    [label] = list(received.iter_attachments())
    assert (label.get_filename(), label.get_content()) == ("return-label.pdf", LABEL)

    # The customer answers by email; the answer appears in the ticket's conversation.
    answer = customer_email(
        customer_address, support, f"Re: {received['Subject']}",
        "Thank you, that is quick!\n\nOn Sun, 6 Dec 2026, support wrote:\n> Sorry about that",
        In_Reply_To=received["Message-ID"],
        References=f"{received['References']} {received['Message-ID']}",
    )  # fmt: skip
    imap_server.append(support, answer.as_bytes())
    assert fetch_mailbox(mailbox).stored == 1
    assert Ticket.objects.count() == 1
    page.reload()
    conversation = page.locator("main")
    expect(conversation).to_contain_text("Thank you, that is quick!")
    expect(conversation).not_to_contain_text("support wrote:")
