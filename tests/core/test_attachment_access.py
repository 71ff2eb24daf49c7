"""Who may download, add and delete the files of each kind of record (issue 14, "another rep's
customer's attachment is refused by URL"): the record's own rules, a refusal is 404."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import Attachment
from tests.core.attachment_data import PNG, downloaded, files_of, owners_of, stored

pytestmark = pytest.mark.django_db

# persona -> the records whose files they may download (the others answer 404).
MAY_DOWNLOAD = {
    "rep": {"customer", "interaction", "deal", "quote", "ticket", "reply", "note"},
    "rep2": set(),  # another rep's customer: not even its files, though it reads the profile
    "agent": {"customer", "interaction", "ticket", "reply", "note"},  # no deals
    "marketer": set(),  # no tickets, no deals, no customer files
    "manager": {"customer", "interaction", "deal", "quote", "ticket", "reply", "note"},
    "nobody": set(),
}
LABELS = {
    "customer": "customers.customer",
    "interaction": "customers.interaction",
    "deal": "sales.deal",
    "quote": "sales.quote",
    "ticket": "service.ticket",
    "reply": "service.ticketmessage",
    "note": "service.ticketmessage",
}


@pytest.fixture
def files(rep):
    return files_of(owners_of(rep))


@pytest.mark.parametrize("persona", list(MAY_DOWNLOAD))
def test_each_role_downloads_only_the_files_of_records_it_may_see(
    persona, files, request, rep2, agent, marketer, manager, nobody
):
    client = request.getfixturevalue(f"{persona}_client")
    for key, attachment in files.items():
        status = _download_status(client, attachment)
        expected = 200 if key in MAY_DOWNLOAD[persona] else 404
        assert status == expected, (persona, key)


def _download_status(client, attachment) -> int:
    response = client.get(reverse("attachment-download", args=[attachment.pk]))
    downloaded(response)
    return response.status_code


def test_anonymous_visitors_are_sent_to_sign_in(client, files):
    response = client.get(reverse("attachment-download", args=[files["customer"].pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_rep_sees_the_ticket_files_of_their_own_customers_only(rep_client, rep2_client, files):
    assert _download_status(rep_client, files["ticket"]) == 200
    assert _download_status(rep2_client, files["ticket"]) == 404


@pytest.mark.parametrize(
    ("persona", "key", "expected"),
    [
        ("rep2", "customer", 404),
        ("rep2", "deal", 404),
        ("agent", "deal", 404),
        ("agent", "quote", 404),
        ("marketer", "ticket", 404),
        ("marketer", "customer", 404),
        ("rep", "ticket", 403),  # sees their customer's ticket, does not work tickets
        ("rep", "deal", 302),
        ("rep", "quote", 302),
        ("rep", "customer", 302),
        ("agent", "ticket", 302),
        ("agent", "reply", 302),
        ("manager", "quote", 302),
    ],
)
def test_who_may_add_files(persona, key, expected, rep, request, rep2, agent, marketer, manager):
    owners = owners_of(rep)
    owner = owners.all()[key]
    client = request.getfixturevalue(f"{persona}_client")
    response = client.post(
        reverse("attachment-upload", args=[LABELS[key], owner.pk]),
        {"attachments": SimpleUploadedFile("x.png", PNG)},
    )
    assert response.status_code == expected
    assert Attachment.objects.exists() == (expected == 302)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("rep2", 404), ("agent", 404), ("marketer", 404), ("rep", 302), ("manager", 302)],
)
def test_who_may_delete_a_deals_file(
    persona,
    expected,
    files,
    request,
    rep2,
    agent,
    marketer,
    manager,
    django_capture_on_commit_callbacks,
):
    client = request.getfixturevalue(f"{persona}_client")
    attachment = files["deal"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("attachment-delete", args=[attachment.pk]))
    assert response.status_code == expected
    assert stored(attachment) == (expected != 302)
    if expected == 302:
        assert response["Location"] == f"/sales/deals/{attachment.owner_id}/#attachments"


@pytest.mark.parametrize(
    "path",
    [
        "auth.user/1/",
        "customers.customer/999999/",
        "nonsense/1/",
        "customers.customer/18446744073709551616/",
    ],
)
def test_an_owner_that_holds_no_files_or_does_not_exist_is_404(manager_client, path):
    response = manager_client.post(
        f"/attachments/add/{path}", {"attachments": SimpleUploadedFile("x.png", PNG)}
    )
    assert response.status_code == 404


def test_download_and_delete_of_unknown_or_overflowing_ids_are_404(manager_client):
    for pk in (999999, 2**63, 2**64):
        assert manager_client.get(f"/attachments/{pk}/").status_code == 404
        assert manager_client.post(f"/attachments/{pk}/delete/").status_code == 404
