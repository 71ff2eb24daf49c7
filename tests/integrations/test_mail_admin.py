"""The quarantine in Django admin: Retry now, Poll now, and the mailboxes on the jobs page."""

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from integrations.models import InboundEmail, Mailbox
from tests.factories import UserFactory
from tests.integrations.mail_helpers import HANDLED, mailbox_on, message

INBOUND_LIST = reverse("admin:integrations_inboundemail_changelist")
MAILBOX_LIST = reverse("admin:integrations_mailbox_changelist")


@pytest.fixture
def admin_client(db):
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def mailbox(db, imap_server, imap_user, monkeypatch) -> Mailbox:
    return mailbox_on(imap_server, imap_user, monkeypatch)


def quarantined(mailbox: Mailbox, raw: bytes) -> InboundEmail:
    """A message whose processing failed earlier (status and error as _quarantine left them)."""
    inbound = InboundEmail(
        mailbox=mailbox, message_key=f"k{len(raw)}", size=len(raw),
        status=InboundEmail.Status.QUARANTINED, error="RuntimeError: the database went away",
        attempts=1,
    )  # fmt: skip
    inbound.raw.save("message.eml", ContentFile(raw), save=False)
    inbound.save()
    return inbound


def test_retry_now_processes_a_quarantined_message_again(admin_client, mailbox):
    inbound = quarantined(mailbox, message("Retry me"))
    page = admin_client.get(INBOUND_LIST, {"status__exact": "quarantined"}).content.decode()
    assert "RuntimeError: the database went away" in page  # the error, in the list

    response = admin_client.post(
        INBOUND_LIST, {"action": "retry_now", "_selected_action": [inbound.pk]}, follow=True
    )

    assert response.status_code == 200
    inbound.refresh_from_db()
    assert inbound.attempts == 2 and inbound.status in HANDLED
    assert inbound.subject == "Retry me"  # the headers are readable even when it failed again
    assert "processed again" in response.content.decode()


def test_a_quarantined_message_keeps_its_headers_readable(mailbox):
    from integrations.mail.ingest import ingest_raw

    raw = message("Broken parcel", sender="Kim@Example.org")
    inbound, created = ingest_raw(mailbox=mailbox, raw=raw)
    assert created
    assert inbound.from_address == "kim@example.org" and inbound.subject == "Broken parcel"
    assert inbound.message_id.endswith("@client.example.org>")


def test_poll_now_polls_the_selected_mailboxes(admin_client, imap_server, mailbox):
    imap_server.append(mailbox.username, message())
    response = admin_client.post(
        MAILBOX_LIST, {"action": "poll_now", "_selected_action": [mailbox.pk]}, follow=True
    )
    assert response.status_code == 200
    assert "1 active mailbox will be polled now" in response.content.decode()
    assert InboundEmail.objects.filter(mailbox=mailbox).count() == 1  # tasks run inline here


def test_the_mailbox_list_links_its_quarantined_messages(admin_client, mailbox):
    quarantined(mailbox, message())
    page = admin_client.get(MAILBOX_LIST).content.decode()
    assert f"mailbox__id__exact={mailbox.pk}&amp;status__exact=quarantined" in page


@pytest.mark.parametrize("persona", ["rep_client", "manager_client", "nobody_client"])
def test_only_staff_reach_the_quarantine(request, persona, mailbox):
    inbound = quarantined(mailbox, message())
    client = request.getfixturevalue(persona)
    for url in (INBOUND_LIST, reverse("admin:integrations_inboundemail_change", args=[inbound.pk])):
        response = client.get(url)
        assert response.status_code == 302 and reverse("admin:login") in response.url
    client.post(INBOUND_LIST, {"action": "retry_now", "_selected_action": [inbound.pk]})
    inbound.refresh_from_db()
    assert inbound.attempts == 1


def test_the_jobs_page_shows_each_mailbox(admin_client, mailbox, monkeypatch):
    from integrations.mail.imap import fetch_mailbox

    quarantined(mailbox, message())
    monkeypatch.delenv(mailbox.password_env)
    fetch_mailbox(mailbox)
    page = admin_client.get(reverse("ops:jobs")).content.decode()
    row = page.split(f'id="mailbox-{mailbox.pk}"')[1].split("</tr>")[0]
    assert mailbox.name in row and "data-mailbox-error" in row and "is not set" in row
    assert f"mailbox__id__exact={mailbox.pk}&amp;status__exact=quarantined" in row


def test_the_jobs_page_says_when_there_is_no_mailbox(admin_client):
    assert 'id="no-mailboxes"' in admin_client.get(reverse("ops:jobs")).content.decode()
