"""Issue 13: bulk changes, merges and import confirmations are written to the audit log
(point 6), and a bulk "add tag" never creates a tag the user may not create (point 8).
Each test failed before the fix: nothing was recorded, and the tag was made first."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import AuditEvent
from customers.models import Customer, CustomerImport, Tag
from sales.models import OrderImport
from tests.factories import CustomerFactory

BULK = reverse("customers:customer-bulk")


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def test_a_bulk_change_is_audited_with_its_filter_and_count(manager, manager_client):
    CustomerFactory.create_batch(3, region="North")
    CustomerFactory(region="South")
    manager_client.post(
        BULK,
        {"action": "set_stage", "stage": "churned", "scope": "all", "filter_query": "region=North"},
        REMOTE_ADDR="198.51.100.7",
    )
    [event] = _events(AuditEvent.Action.BULK_CHANGE)
    assert event.actor == manager and event.rows == 3 and event.ip_address == "198.51.100.7"
    assert event.detail == {"action": "set_stage", "value": "churned", "filter": "region=North"}
    assert Customer.objects.filter(stage="churned").count() == 3


def test_a_bulk_change_of_selected_rows_names_them(rep, rep_client):
    mine = CustomerFactory(owner=rep)
    rep_client.post(
        BULK, {"action": "add_tag", "tag": "Fair", "scope": "selected", "selected": [mine.pk]}
    )
    [event] = _events(AuditEvent.Action.BULK_CHANGE)
    assert event.rows == 1 and event.detail["selected"] == [mine.pk]


def test_a_merge_is_audited(manager, manager_client):
    kept, duplicate = CustomerFactory(), CustomerFactory()
    url = reverse("customers:customer-merge", args=[kept.pk])
    manager_client.post(url, {"duplicate": duplicate.pk, "confirm": "1"})
    [event] = _events(AuditEvent.Action.MERGE)
    assert event.actor == manager and event.target_id == str(kept.pk)
    assert event.detail == {"duplicate": duplicate.pk, "taken": []}  # no value taken from it
    assert not Customer.objects.filter(pk=duplicate.pk).exists()


def test_a_merge_only_looked_at_is_not_audited(manager_client):
    kept, duplicate = CustomerFactory(), CustomerFactory()
    manager_client.get(reverse("customers:customer-merge", args=[kept.pk]),
                       {"duplicate": duplicate.pk})  # fmt: skip
    assert _events(AuditEvent.Action.MERGE) == []


def test_a_customer_import_confirmation_is_audited(manager, manager_client):
    rows = "name,email\nAnn,ann@example.com\nBob,bob@example.com\n"
    manager_client.post(
        reverse("customers:customer-import"),
        {"file": SimpleUploadedFile("c.csv", rows.encode(), "text/csv")},
    )
    customer_import = CustomerImport.objects.get(user=manager)
    assert _events(AuditEvent.Action.IMPORT) == []  # uploading is not importing
    manager_client.post(customer_import.get_absolute_url(),
                        {"action": "apply", "mode": "all_or_nothing"})  # fmt: skip
    [event] = _events(AuditEvent.Action.IMPORT)
    assert event.target_type == "customers.customerimport" and event.rows == 2
    assert event.detail == {"mode": "all_or_nothing"}


def test_an_order_import_confirmation_is_audited(manager, manager_client):
    CustomerFactory(external_id="C1")
    text = "customer_external_id,ordered_at,total\nC1,2026-01-01,10\n"
    manager_client.post(
        reverse("sales:order-import"),
        {"file": SimpleUploadedFile("o.csv", text.encode(), "text/csv")},
    )
    upload = OrderImport.objects.get(user=manager)
    manager_client.post(upload.get_absolute_url(), {"action": "apply"})
    [event] = _events(AuditEvent.Action.IMPORT)
    assert event.target_type == "sales.orderimport" and event.rows == 1


# --- point 8: bulk "add tag" checked the permission after creating the tag ---------------


def test_a_marketer_cannot_create_a_tag_through_the_bulk_form(marketer_client):
    CustomerFactory()
    response = marketer_client.post(
        BULK, {"action": "add_tag", "tag": "Sneaky", "scope": "all", "filter_query": ""}
    )
    assert response.status_code == 302
    assert not Tag.objects.filter(name="Sneaky").exists()
    assert _events(AuditEvent.Action.BULK_CHANGE) == []


def test_a_rep_adding_a_new_tag_to_customers_they_cannot_change_creates_nothing(rep_client, rep2):
    others = CustomerFactory(owner=rep2)
    rep_client.post(
        BULK, {"action": "add_tag", "tag": "Orphan", "scope": "selected", "selected": [others.pk]}
    )
    assert not Tag.objects.filter(name="Orphan").exists()
    assert not others.tags.exists()


@pytest.mark.parametrize("existing", [True, False])
def test_a_rep_tags_their_own_customers(rep, rep_client, existing):
    if existing:
        Tag.objects.create(name="Fair")
    mine = CustomerFactory(owner=rep)
    rep_client.post(
        BULK, {"action": "add_tag", "tag": "Fair", "scope": "selected", "selected": [mine.pk]}
    )
    assert list(mine.tags.values_list("name", flat=True)) == ["Fair"]
