"""The original of an inbound email (/mail/<pk>/original/): who may read it, what it shows
(sanitised HTML, remote images only on request with the CSP opened for that response alone,
inline images and files through the record's attachments), and that no message breaks it."""

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db.models.signals import post_delete
from django.urls import reverse

from core import attachments
from core.attachments import attachment_add, owner_rule, register_attachment_owner
from integrations.mail.parse import parse_email
from integrations.models import InboundEmail, Mailbox
from service.models import Ticket
from service.selectors import tickets_visible_to
from tests.factories import CustomerFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).parent / "mail_corpus"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def tickets_own_attachments():
    """Ticket files visible to whoever sees the ticket, as the service app registers them
    (its own branch); registered here only while that registration is absent."""
    if owner_rule(Ticket()) is not None:
        yield
        return
    register_attachment_owner(
        Ticket, can_view=lambda user, ticket: tickets_visible_to(user).filter(pk=ticket.pk).exists()
    )
    yield
    attachments._owners.pop("service.ticket", None)
    post_delete.disconnect(sender=Ticket, dispatch_uid="attachments:service.ticket")


@pytest.fixture
def mailbox():
    return Mailbox.objects.create(
        name="support",
        purpose=Mailbox.Purpose.SUPPORT,
        address="support@crm-demo.example",
        host="127.0.0.1",
        username="support",
        password_env="CRM_TEST_IMAP_PASSWORD",
    )


@pytest.fixture
def ticket(rep, agent):
    return TicketFactory(customer=CustomerFactory(owner=rep), assignee=agent)


@pytest.fixture
def admin_user():
    return UserFactory(username="admin", is_superuser=True, is_staff=True)


def inbound_of(mailbox, raw: bytes, *, status="processed", result=None, owner=None, key="k1"):
    inbound = InboundEmail(
        mailbox=mailbox,
        message_key=key,
        status=status,
        owner=owner,
        subject="Damaged parcel",
        from_address="lina@icloud.com",
        size=len(raw),
    )
    if result is not None:
        inbound.result_type = result._meta.label_lower
        inbound.result_id = str(result.pk)
    inbound.raw.save("message.eml", ContentFile(raw), save=False)
    inbound.save()
    return inbound


def original_url(inbound) -> str:
    return reverse("mail:original", args=[inbound.pk])


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def test_whoever_sees_the_ticket_reads_its_original(mailbox, ticket, rep_client, agent_client):
    inbound = inbound_of(mailbox, corpus("newsletter_html_only.eml"), result=ticket)
    for client in (rep_client, agent_client):
        response = client.get(original_url(inbound))
        assert response.status_code == 200
        page = response.content.decode()
        assert "Winter sale: 30% off" in page
        assert "document.cookie" not in page
        assert 'data-blocked-src="https://cdn.shopmail.example/banner.jpg"' in page
        assert 'id="show-images"' in page


def test_the_page_runs_no_script_of_the_message(mailbox, ticket, agent_client):
    inbound = inbound_of(mailbox, corpus("newsletter_html_only.eml"), result=ticket)
    body = agent_client.get(original_url(inbound)).content.decode()
    message = body.split('id="mail-body">', 1)[1].split("</section>", 1)[0]
    for hostile in ("<script", "onload", "onclick", "javascript:", "<form", "<iframe", " src="):
        assert hostile not in message


def test_remote_images_load_only_when_asked(mailbox, ticket, agent_client):
    inbound = inbound_of(mailbox, corpus("newsletter_html_only.eml"), result=ticket)
    blocked = agent_client.get(original_url(inbound))
    assert "https:" not in _img_src(blocked)
    shown = agent_client.get(original_url(inbound), {"images": "1"})
    assert 'src="https://cdn.shopmail.example/banner.jpg"' in shown.content.decode()
    assert "https:" in _img_src(shown)
    assert 'id="hide-images"' in shown.content.decode()


def _img_src(response) -> str:
    policy = response["Content-Security-Policy"]
    return next(part for part in policy.split(";") if part.strip().startswith("img-src"))


def test_inline_images_and_files_link_to_the_records_copies(mailbox, ticket, agent_client):
    raw = corpus("apple_mail_inline_image.eml")
    inbound = inbound_of(mailbox, raw, result=ticket)
    image = parse_email(raw).attachments[0]
    kept = attachment_add(
        owner=ticket, content=image.data, name=image.name, content_id=image.content_id
    )
    page = agent_client.get(original_url(inbound)).content.decode()
    download = reverse("attachment-download", args=[kept.pk])
    assert f'src="{download}"' in page  # the cid: image, through the checked download
    assert 'id="mail-files"' not in page  # an image the body shows is not a file to list


def test_files_link_to_the_records_copy_of_the_same_bytes(mailbox, ticket, agent_client):
    raw = corpus("foxmail_qq_gbk.eml")
    inbound = inbound_of(mailbox, raw, result=ticket)
    attachment_add(owner=ticket, content=b"%PDF-1.4 another file", name="other.pdf")
    kept = attachment_add(owner=ticket, content=parse_email(raw).attachments[0].data, name="x")
    page = agent_client.get(original_url(inbound)).content.decode()
    download = reverse("attachment-download", args=[kept.pk])
    assert f'href="{download}">合同盖章版.pdf</a>' in page
    assert "other.pdf" not in page


def test_a_file_the_record_did_not_keep_is_listed_without_a_link(mailbox, ticket, agent_client):
    inbound = inbound_of(mailbox, corpus("gmail_reply_attachment.eml"), result=ticket)
    page = agent_client.get(original_url(inbound)).content.decode()
    assert "order-form-signed.pdf" in page
    assert "not kept" in page


def test_another_reps_customer_email_is_refused(mailbox, ticket, rep2_client, marketer_client):
    inbound = inbound_of(mailbox, corpus("outlook_reply.eml"), result=ticket)
    for client in (rep2_client, marketer_client):
        assert client.get(original_url(inbound)).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(mailbox, ticket, client):
    inbound = inbound_of(mailbox, corpus("outlook_reply.eml"), result=ticket)
    response = client.get(original_url(inbound))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_an_ignored_email_only_staff_and_managers(mailbox, manager_client, agent_client):
    inbound = inbound_of(mailbox, corpus("exchange_out_of_office.eml"), status="ignored")
    assert manager_client.get(original_url(inbound)).status_code == 200
    assert agent_client.get(original_url(inbound)).status_code == 404


def test_a_quarantined_email_only_admins(mailbox, ticket, admin_user, manager_client, client):
    inbound = inbound_of(mailbox, corpus("malformed_mime.eml"), status="quarantined")
    assert manager_client.get(original_url(inbound)).status_code == 404
    client.force_login(admin_user)
    response = client.get(original_url(inbound))
    assert response.status_code == 200
    assert "The printer is broken" in response.content.decode()


def test_an_unfiled_email_its_rep_and_admins(
    mailbox, rep, rep_client, rep2_client, manager_client, admin_user, client
):
    inbound = inbound_of(mailbox, corpus("gmail_forward.eml"), status="unfiled", owner=rep)
    assert rep_client.get(original_url(inbound)).status_code == 200
    assert rep2_client.get(original_url(inbound)).status_code == 404
    assert manager_client.get(original_url(inbound)).status_code == 404
    client.force_login(admin_user)
    assert client.get(original_url(inbound)).status_code == 200


def test_a_result_that_no_longer_exists_refuses_like_a_missing_id(mailbox, ticket, rep_client):
    inbound = inbound_of(mailbox, corpus("outlook_reply.eml"), result=ticket)
    InboundEmail.objects.filter(pk=inbound.pk).update(result_id="not-a-number")
    assert rep_client.get(original_url(inbound)).status_code == 404
    assert rep_client.get(reverse("mail:original", args=[inbound.pk + 999])).status_code == 404


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\xff\xfe garbage",
        b"Subject: =?x-bogus?B?!!!?=\r\nContent-Type: multipart/mixed\r\n\r\n--\r\n",
        b"Content-Type: text/html\r\n\r\n<img src=cid:nothing><svg onload=alert(1)>",
    ],
)
def test_any_message_shows_without_a_server_error(mailbox, manager_client, raw):
    inbound = inbound_of(mailbox, raw, status="ignored")
    response = manager_client.get(original_url(inbound), {"images": "1"})
    assert response.status_code == 200
    assert "alert(1)" not in response.content.decode()


def test_a_message_whose_file_is_gone_shows_what_the_row_kept(mailbox, manager_client):
    inbound = inbound_of(mailbox, b"Subject: x\r\n\r\nhello", status="ignored")
    inbound.raw.delete(save=False)
    InboundEmail.objects.filter(pk=inbound.pk).update(text="kept text")
    response = manager_client.get(original_url(inbound))
    assert response.status_code == 200
    assert "kept text" in response.content.decode()
