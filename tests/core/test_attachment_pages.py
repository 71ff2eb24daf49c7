"""The attachments panel on the customer, deal, quote and ticket pages, the files under each
message of a ticket's conversation, the public help form's files, and the queries of each
page staying constant as files grow."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from core.attachments import attachment_add, attachments_of
from service.models import Ticket
from tests.core.attachment_data import PDF, PNG, owners_of
from tests.factories import TicketMessageFactory

pytestmark = pytest.mark.django_db

PAGES = ["customer", "deal", "quote", "ticket"]


def _page(owners, key: str) -> str:
    return owners.all()[key].get_absolute_url()


@pytest.mark.parametrize("key", PAGES)
def test_each_page_lists_its_files_with_name_size_kind_and_a_download_link(
    key, rep, manager_client
):
    owners = owners_of(rep)
    attachment = attachment_add(
        owner=owners.all()[key], content=PDF, name="contract <b>.pdf", uploaded_by=rep
    )
    page = manager_client.get(_page(owners, key)).content.decode()
    assert 'id="attachments"' in page
    assert "contract &lt;b&gt;.pdf" in page  # escaped
    assert reverse("attachment-download", args=[attachment.pk]) in page
    assert ">PDF<" in page and "rep" in page
    assert reverse("attachment-delete", args=[attachment.pk]) in page  # managers may edit
    assert 'enctype="multipart/form-data"' in page


@pytest.mark.parametrize(
    ("persona", "key"),
    [("rep2", "customer"), ("marketer", "customer"), ("agent", "customer")],
)
def test_the_panel_shows_only_to_who_may_see_the_files(persona, key, rep, request):
    owners = owners_of(rep)
    attachment_add(owner=owners.customer, content=PNG, name="id-card.png")
    client = request.getfixturevalue(f"{persona}_client")
    page = client.get(_page(owners, key)).content.decode()
    may_see = persona == "agent"
    assert ("id-card.png" in page) == may_see
    assert ('id="attachments"' in page) == may_see


def test_a_rep_sees_their_customers_ticket_files_without_the_upload_form(rep, rep_client):
    owners = owners_of(rep)
    attachment_add(owner=owners.reply, content=PNG, name="damage.png")
    page = rep_client.get(_page(owners, "ticket")).content.decode()
    assert "damage.png" in page
    assert 'id="attachment-upload-form"' not in page and 'id="reply-form"' not in page


def test_the_conversation_shows_each_messages_files_under_it(rep, agent_client):
    owners = owners_of(rep)
    attachment_add(owner=owners.reply, content=PNG, name="photo-of-parcel.png")
    attachment_add(owner=owners.note, content=PDF, name="internal-invoice.pdf")
    page = agent_client.get(_page(owners, "ticket")).content.decode()
    reply_at = page.index(f'id="message-{owners.reply.pk}"')
    note_at = page.index(f'id="message-{owners.note.pk}"')
    photo_at = page.index("photo-of-parcel.png")
    invoice_at = page.index("internal-invoice.pdf")
    assert reply_at < photo_at < note_at < invoice_at
    assert 'name="attachments"' in page  # the reply form takes files


def _count(client: Client, url: str, budget: int, assert_max_queries) -> int:
    client.get(url)  # the first request fills caches
    with assert_max_queries(budget) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(("key", "budget"), [("customer", 37), ("deal", 20), ("quote", 16)])
def test_queries_of_a_page_do_not_grow_with_its_files(
    key, budget, rep, manager_client, django_assert_max_num_queries
):
    owners = owners_of(rep)
    owner = owners.all()[key]
    url = _page(owners, key)
    attachment_add(owner=owner, content=PNG, name="1.png", uploaded_by=rep)
    few = _count(manager_client, url, budget, django_assert_max_num_queries)
    for n in range(8):
        attachment_add(owner=owner, content=PNG, name=f"more-{n}.png", uploaded_by=rep)
        if key == "customer":
            attachment_add(owner=owners.interaction, content=PNG, name=f"i-{n}.png")
    assert _count(manager_client, url, budget, django_assert_max_num_queries) == few


def test_ticket_page_queries_do_not_grow_with_messages_and_their_files(
    rep, agent, agent_client, django_assert_max_num_queries
):
    owners = owners_of(rep)
    url = _page(owners, "ticket")
    few = _count(agent_client, url, 24, django_assert_max_num_queries)
    for n in range(10):
        message = TicketMessageFactory(ticket=owners.ticket, kind=("note", "reply")[n % 2])
        attachment_add(owner=message, content=PNG, name=f"{n}.png", uploaded_by=agent)
        attachment_add(owner=owners.ticket, content=PDF, name=f"{n}.pdf")
    assert _count(agent_client, url, 24, django_assert_max_num_queries) == few


# --- the public help form (issue 17: "the request form accepts attachments") ---


def _request(**extra):
    return {
        "name": "Li Lei",
        "email": "li@example.com",
        "subject": "Parcel damaged",
        "description": "The box arrived crushed, photos attached.",
        "category": "complaint",
        **extra,
    }


def test_a_help_request_with_photos_files_them_on_its_first_message(client):
    photos = [SimpleUploadedFile("box.png", PNG), SimpleUploadedFile("label.pdf", PDF)]
    response = client.post(reverse("help:submit"), _request(attachments=photos))
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    first = ticket.messages.get()
    assert [(a.name, a.content_type) for a in attachments_of(first)] == [
        ("box.png", "image/png"),
        ("label.pdf", "application/pdf"),
    ]
    assert all(a.uploaded_by is None for a in attachments_of(first))


def test_a_help_request_with_too_many_files_keeps_what_was_typed(client):
    photos = [SimpleUploadedFile(f"{n}.png", PNG) for n in range(6)]
    response = client.post(reverse("help:submit"), _request(attachments=photos))
    assert response.status_code == 422
    page = response.content.decode()
    assert "Attach at most 5 files at a time." in page
    assert "The box arrived crushed, photos attached.</textarea>" in page
    assert 'value="Parcel damaged"' in page
    assert not Ticket.objects.exists()


def test_a_help_request_file_over_the_public_limit_is_refused(client, settings):
    settings.CRM_ATTACHMENT_MAX_BYTES = 50 * 1024 * 1024  # the public form's 10 MB still holds
    big = SimpleUploadedFile("video.mp4", b"\x00" * (10 * 1024 * 1024 + 1))
    response = client.post(reverse("help:submit"), _request(attachments=[big]))
    assert response.status_code == 422
    assert "“video.mp4” is larger than 10.0\xa0MB" in response.content.decode()
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b'--x\r\nContent-Disposition: form-data; name="attachments"; filename="a.png"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n--x--\r\n",
        b'--x\r\nContent-Disposition: form-data; name="attachments"; filename="\x00"\r\n\r\n'
        b"\x89PNG\r\n--x",
        b"garbage without a boundary",
        b'--x\r\nContent-Disposition: form-data; name="attachments"; filename="../../a"\r\n'
        b"\r\n\r\n--x--\r\n",
    ],
)
def test_malformed_multipart_bodies_never_answer_500(body, rep, rep_client, client):
    owners = owners_of(rep)
    targets = [
        (rep_client, reverse("attachment-upload", args=["sales.deal", owners.deal.pk])),
        (client, reverse("help:submit")),
    ]
    for who, url in targets:
        response = who.post(url, data=body, content_type="multipart/form-data; boundary=x")
        assert response.status_code < 500, url
