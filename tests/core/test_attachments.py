"""Attachments (issue 14): limits enforced while the upload streams in, the real type sniffed
from the content, hostile names and files stored safely or refused with a message, downloads
that never render, and files that leave storage with their record or its erasure."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, MemoryFileUploadHandler
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParser
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse

from core.attachments import attachment_add, attachments_of, clean_file_name, sniff_content_type
from core.models import Attachment
from crm.lib.upload_limits import (
    REFUSALS_ATTRIBUTE,
    LimitedUploadHandler,
    UploadLimits,
    UploadRefusal,
    upload_refusals,
)
from customers.erasure import customer_erase
from customers.services import customers_merge
from service.models import TicketMessage
from tests.core.attachment_data import (
    HTML,
    PDF,
    PNG,
    SVG,
    downloaded,
    files_of,
    owners_of,
    stored,
    zip_bomb,
)
from tests.factories import CustomerFactory, TicketFactory

pytestmark = pytest.mark.django_db

KB = 1024


# --- limits while the body streams in ---


class CountingHandler(FileUploadHandler):
    """Stands after the limiting handler, where Django's own handlers are: counts what
    reaches them."""

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        return raw_data

    def file_complete(self, file_size):
        return None


def _parse(fields: dict, limits: UploadLimits):
    body = encode_multipart(BOUNDARY, fields)
    meta = {"CONTENT_TYPE": MULTIPART_CONTENT, "CONTENT_LENGTH": str(len(body))}
    request = HttpRequest()
    setattr(request, REFUSALS_ATTRIBUTE, [])  # what install_upload_limits does
    counting = CountingHandler()
    handlers = [LimitedUploadHandler(request, limits), counting, MemoryFileUploadHandler()]
    post, files = MultiPartParser(meta, io.BytesIO(body), handlers).parse()
    return post, files, counting, upload_refusals(request)


def test_a_file_over_the_limit_stops_reaching_storage_and_the_fields_after_it_arrive():
    limits = UploadLimits(max_file_bytes=64 * KB, max_total_bytes=10 * 1024 * KB, max_files=5)
    big = SimpleUploadedFile("big.bin", b"x" * (5 * 1024 * KB))
    post, files, counting, refusals = _parse(
        {"before": "typed first", "attachments": big, "after": "typed last"}, limits
    )
    # Chunks are 64 KB: nothing past the chunk that crossed the limit went on.
    assert counting.received <= 64 * KB
    assert "attachments" not in files
    assert post["before"] == "typed first" and post["after"] == "typed last"
    assert [r.reason for r in refusals] == [UploadRefusal.TOO_LARGE]
    assert refusals[0].file_name == "big.bin"


def test_files_over_the_total_stop_the_upload_and_the_fields_before_them_arrive():
    limits = UploadLimits(max_file_bytes=300 * KB, max_total_bytes=400 * KB, max_files=5)
    parts = [SimpleUploadedFile(f"f{n}.bin", b"y" * (250 * KB)) for n in range(3)]
    post, files, counting, refusals = _parse({"body": "my text", "attachments": parts}, limits)
    assert counting.received <= 400 * KB + 64 * KB
    assert post["body"] == "my text"
    assert [r.reason for r in refusals] == [UploadRefusal.TOTAL_TOO_LARGE]


def test_files_past_the_count_are_skipped_and_the_first_ones_kept_intact():
    limits = UploadLimits(max_file_bytes=100 * KB, max_total_bytes=1024 * KB, max_files=2)
    parts = [SimpleUploadedFile(f"f{n}.png", PNG + bytes([n]) * 100) for n in range(4)]
    _post, files, _counting, refusals = _parse({"attachments": parts}, limits)
    kept = files.getlist("attachments")
    assert [f.name for f in kept] == ["f0.png", "f1.png"]
    assert kept[1].read() == PNG + bytes([1]) * 100  # not closed by the skip
    assert {r.reason for r in refusals} == {UploadRefusal.TOO_MANY}


def test_a_reply_with_a_file_too_large_keeps_what_the_agent_typed(agent_client, settings):
    """A real multipart body over the test client: refused with a message, the text shown
    again, nothing saved."""
    settings.CRM_ATTACHMENT_MAX_BYTES = 64 * KB
    ticket = TicketFactory()
    too_big = SimpleUploadedFile("scan.pdf", PDF + b"0" * (2 * 1024 * KB))
    response = agent_client.post(
        reverse("service:ticket-reply", args=[ticket.pk]),
        {"kind": "public", "body": "Dear Li, my careful answer", "attachments": too_big},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Dear Li, my careful answer</textarea>" in page
    assert "“scan.pdf” is larger than 64.0\xa0KB" in page
    assert not TicketMessage.objects.filter(ticket=ticket).exists()
    assert not Attachment.objects.exists()


def test_a_reply_with_files_stores_them_on_its_message(agent_client):
    ticket = TicketFactory()
    files = [SimpleUploadedFile("a.png", PNG), SimpleUploadedFile("b.pdf", PDF)]
    response = agent_client.post(
        reverse("service:ticket-reply", args=[ticket.pk]),
        {"kind": "internal", "body": "See the scans", "attachments": files},
    )
    assert response.status_code == 302
    message = TicketMessage.objects.get(ticket=ticket)
    saved = list(attachments_of(message))
    assert [(a.name, a.content_type, a.size) for a in saved] == [
        ("a.png", "image/png", len(PNG)),
        ("b.pdf", "application/pdf", len(PDF)),
    ]
    assert all(a.uploaded_by.username == "agent" for a in saved)


# --- the type comes from the content ---


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (PNG, "image/png"),
        (PDF, "application/pdf"),
        (HTML, "text/html"),
        (SVG, "image/svg+xml"),
        (b"<svg onload=alert(1)>", "image/svg+xml"),
        (zip_bomb(1024 * KB), "application/zip"),
        ("plain text, 中文".encode(), "text/plain"),
        (b"\x00\x01\x02binary", "application/octet-stream"),
        (b"", "application/octet-stream"),
    ],
)
def test_the_type_is_sniffed_from_the_content(content, expected):
    assert sniff_content_type(content) == expected


def test_an_extension_that_lies_loses_to_the_content(rep):
    customer = CustomerFactory(owner=rep)
    attachment = attachment_add(owner=customer, content=HTML, name="holiday.jpg")
    assert attachment.content_type == "text/html"
    assert attachment.name == "holiday.jpg"  # the name is only shown


# --- hostile names and files ---


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("evil\x00.png", "evil.png"),
        ("\u202egnp.exe", "gnp.exe"),  # right-to-left override
        ("..", "file"),
        ("", "file"),
    ],
)
def test_file_names_are_cleaned(name, expected):
    assert clean_file_name(name) == expected


def test_a_300_character_name_keeps_its_extension():
    cleaned = clean_file_name("a" * 300 + ".pdf")
    assert len(cleaned) == 255 and cleaned.endswith(".pdf")


def test_a_hostile_name_is_cleaned_and_never_used_as_a_path(rep_client, rep):
    customer = CustomerFactory(owner=rep)
    upload = SimpleUploadedFile("../../../x" + "b" * 300 + ".png", PNG)
    rep_client.post(
        reverse("attachment-upload", args=["customers.customer", customer.pk]),
        {"attachments": upload},
    )
    attachment = Attachment.objects.get()
    assert "/" not in attachment.name and len(attachment.name) <= 255
    assert attachment.name.endswith(".png")
    assert attachment.file.name.startswith("attachments/")
    assert "x" not in attachment.file.name.rsplit("/", 1)[-1]  # a random name in storage


def test_an_empty_file_is_refused_with_its_name(rep_client, rep):
    customer = CustomerFactory(owner=rep)
    response = rep_client.post(
        reverse("attachment-upload", args=["customers.customer", customer.pk]),
        {"attachments": SimpleUploadedFile("empty.txt", b"")},
        follow=True,
    )
    assert "“empty.txt” is empty (0 bytes)" in response.content.decode()
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("content", "name"),
    [(HTML, "page.html"), (SVG, "logo.svg"), (HTML, "photo.jpg"), (zip_bomb(), "bomb.zip")],
)
def test_hostile_files_are_stored_as_they_are_and_only_downloaded(rep_client, rep, content, name):
    customer = CustomerFactory(owner=rep)
    rep_client.post(
        reverse("attachment-upload", args=["customers.customer", customer.pk]),
        {"attachments": SimpleUploadedFile(name, content, content_type="image/jpeg")},
    )
    attachment = Attachment.objects.get()
    assert attachment.size == len(content)  # stored as is: a zip is never unpacked
    response = rep_client.get(reverse("attachment-download", args=[attachment.pk]))
    assert response.status_code == 200
    assert downloaded(response) == content
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["Content-Type"] not in ("text/html", "image/svg+xml", "image/jpeg")
    if name == "bomb.zip":
        assert response["Content-Type"] == "application/zip"


def test_media_files_are_never_served_by_url(rep_client, rep, settings):
    attachment = attachment_add(owner=CustomerFactory(owner=rep), content=PNG, name="a.png")
    for prefix in ("/media/", "/", "/static/"):
        response = rep_client.get(prefix + attachment.file.name)
        assert response.status_code == 404, prefix


# --- files leave storage with their record ---


def test_deleting_a_record_deletes_its_files(rep, django_capture_on_commit_callbacks):
    owners = owners_of(rep)
    files = files_of(owners)
    with django_capture_on_commit_callbacks(execute=True):
        owners.deal.delete()  # its quote goes with it (cascade)
    assert not stored(files["deal"]) and not stored(files["quote"])
    assert not Attachment.objects.filter(pk__in=[files["deal"].pk, files["quote"].pk]).exists()
    assert stored(files["customer"]) and stored(files["ticket"])


def test_a_rolled_back_delete_keeps_the_file(rep):
    from django.db import transaction

    owners = owners_of(rep)
    attachment = files_of(owners)["deal"]
    with pytest.raises(RuntimeError), transaction.atomic():
        owners.deal.delete()
        raise RuntimeError
    assert stored(attachment) and Attachment.objects.filter(pk=attachment.pk).exists()


def test_erasing_a_customer_deletes_every_file_held_on_them(
    rep, manager, django_capture_on_commit_callbacks
):
    owners = owners_of(rep)
    files = files_of(owners)
    other = attachment_add(owner=CustomerFactory(owner=rep), content=PNG, name="other.png")
    with django_capture_on_commit_callbacks(execute=True):
        customer_erase(customer=owners.customer, erased_by=manager)
    for key, attachment in files.items():
        assert not stored(attachment), key
    assert list(Attachment.objects.all()) == [other]
    assert stored(other)


def test_merging_customers_keeps_the_duplicates_files(rep, manager):
    kept, duplicate = CustomerFactory(owner=rep), CustomerFactory(owner=rep)
    attachment = attachment_add(owner=duplicate, content=PDF, name="contract.pdf")
    customers_merge(kept=kept, duplicate=duplicate, merged_by=manager)
    assert list(attachments_of(kept)) == [attachment]
    assert stored(attachment)


def test_the_access_download_holds_every_file_held_on_the_customer(rep, manager):
    import zipfile

    from customers.access import customer_data_download

    owners = owners_of(rep)
    files = files_of(owners)
    download = customer_data_download(customer=owners.customer, by=manager)
    names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    for key, attachment in files.items():
        assert any(name.endswith(f"/{attachment.pk}-{key}.png") for name in names), key
