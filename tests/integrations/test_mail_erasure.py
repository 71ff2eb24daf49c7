"""Erasing a customer erases the emails the mailboxes received from or about them (issue 14's
security review): the stored message leaves storage, the original page shows nothing of it,
and the customer's access download holds those emails until then."""

import json
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from customers.access import customer_data_download
from customers.erasure import customer_erase
from customers.models import Interaction
from integrations.mail.ingest import ingest_raw
from integrations.models import InboundEmail, Mailbox
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

SECRET = "The merger closes on Friday, keep it quiet."


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def dropbox():
    return Mailbox.objects.create(
        name="sales", purpose=Mailbox.Purpose.SALES, address="sales@crm.test", host="imap.test",
        username="sales",
    )  # fmt: skip


def message(*, sender: str, to: list[str], body: str = SECRET) -> bytes:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = ", ".join(to)
    email["Subject"] = "Confidential: merger"
    email["Message-ID"] = make_msgid(domain="mail.test")
    email.set_content(body)
    return email.as_bytes()


def test_erasing_a_customer_deletes_their_dropbox_email_and_its_original(
    rep, manager, manager_client, dropbox, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(owner=rep, name="Acme Ltd", email="buyer@acme.test")
    raw = message(sender="Rita <rep@example.com>", to=["buyer@acme.test"])
    inbound, _ = ingest_raw(mailbox=dropbox, raw=raw)
    assert inbound.status == InboundEmail.Status.PROCESSED, inbound.error
    assert inbound.result_type == Interaction._meta.label_lower
    stored = inbound.raw.name
    assert default_storage.exists(stored)
    original = reverse("mail:original", args=[inbound.pk])
    assert SECRET in manager_client.get(original).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        customer_erase(customer=customer, erased_by=manager)

    inbound.refresh_from_db()
    assert not inbound.raw and not default_storage.exists(stored)
    assert (inbound.from_address, inbound.to, inbound.cc, inbound.html) == ("", [], [], "")
    page = manager_client.get(original)
    assert page.status_code in (200, 404)
    shown = page.content.decode()
    assert SECRET not in shown and "buyer@acme.test" not in shown and "merger" not in shown


def test_unfiled_mail_from_the_customers_address_is_erased_and_others_stay(rep, manager, dropbox):
    customer = CustomerFactory(owner=rep, email="buyer@acme.test")
    # Not logged on the customer (no rep among the recipients) but from their address.
    theirs, _ = ingest_raw(
        mailbox=dropbox, raw=message(sender="buyer@acme.test", to=["sales@crm.test"])
    )
    # A longer address containing theirs is someone else's.
    other, _ = ingest_raw(
        mailbox=dropbox, raw=message(sender="ann@example.org", to=["xbuyer@acme.test"])
    )

    customer_erase(customer=customer, erased_by=manager)

    theirs.refresh_from_db()
    other.refresh_from_db()
    assert theirs.from_address == "" and theirs.text != SECRET and not theirs.raw
    assert other.to == ["xbuyer@acme.test"] and SECRET in other.text and other.raw


def test_the_access_download_holds_the_customers_emails(rep, manager, dropbox):
    customer = CustomerFactory(owner=rep, email="buyer@acme.test")
    ingest_raw(mailbox=dropbox, raw=message(sender="rep@example.com", to=["buyer@acme.test"]))

    download = customer_data_download(customer=customer, by=manager)

    assert download.content_type == "application/json"
    emails = json.loads(download.content)["integrations"]["emails"]
    assert len(emails) == 1
    assert emails[0]["to"] == ["buyer@acme.test"] and SECRET in emails[0]["text"]
    assert emails[0]["subject"] == "Confidential: merger"
