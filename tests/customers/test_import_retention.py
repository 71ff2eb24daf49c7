"""Uploaded import files hold other people's personal data: kept only while needed
(issue 13, points 7 and 8).

Before: files were kept forever after import or cancel, a user could keep any number
waiting, and each view of a preview analysed the whole file again.
"""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.import_services import customer_imports_purge_stale
from customers.models import CustomerImport
from sales.import_services import order_imports_purge_stale
from sales.models import OrderImport
from tests.customers.test_import import apply, csv_bytes, upload, upload_ok

pytestmark = pytest.mark.django_db

ROWS = [["external_id", "name", "email"], ["K-1", "Kept Once", "kept@example.com"]]
ORDERS = b"customer_external_id,ordered_at,total\nK-1,2026-01-02,9.00\n"


def order_upload(client):
    file = SimpleUploadedFile("orders.csv", ORDERS, "text/csv")
    return client.post(reverse("sales:order-import"), {"file": file})


def test_an_applied_or_cancelled_file_is_emptied(manager_client):
    applied = upload_ok(manager_client, csv_bytes(ROWS))
    apply(manager_client, applied, "valid_only")
    assert (applied.status, applied.text) == (CustomerImport.Status.APPLIED, "")
    cancelled = upload_ok(manager_client, csv_bytes(ROWS))
    manager_client.post(cancelled.get_absolute_url(), {"action": "cancel"})
    cancelled.refresh_from_db()
    assert (cancelled.status, cancelled.text) == (CustomerImport.Status.CANCELLED, "")


def test_applied_and_cancelled_order_files_are_emptied(manager_client):
    from tests.factories import CustomerFactory

    CustomerFactory(external_id="K-1")
    assert order_upload(manager_client).status_code == 302
    upload_row = OrderImport.objects.latest("pk")
    manager_client.post(upload_row.get_absolute_url(), {"action": "apply"})
    upload_row.refresh_from_db()
    assert (upload_row.status, upload_row.text) == (OrderImport.Status.APPLIED, "")
    order_upload(manager_client)
    other = OrderImport.objects.latest("pk")
    manager_client.post(other.get_absolute_url(), {"action": "cancel"})
    other.refresh_from_db()
    assert (other.status, other.text) == (OrderImport.Status.CANCELLED, "")


def test_a_user_keeps_a_bounded_number_of_files_waiting(manager_client, settings):
    settings.CRM_IMPORT_MAX_PENDING = 2
    first = upload_ok(manager_client, csv_bytes(ROWS))
    upload_ok(manager_client, csv_bytes(ROWS))
    refused = upload(manager_client, csv_bytes(ROWS))
    assert refused.status_code == 422
    assert "You have 2 imports waiting for confirmation." in refused.content.decode()
    assert CustomerImport.objects.count() == 2
    manager_client.post(first.get_absolute_url(), {"action": "cancel"})
    upload_ok(manager_client, csv_bytes(ROWS))  # one fewer waiting: accepted again


def test_order_files_waiting_are_bounded_too(manager_client, settings):
    settings.CRM_IMPORT_MAX_PENDING = 1
    assert order_upload(manager_client).status_code == 302
    refused = order_upload(manager_client)
    assert refused.status_code == 422
    assert "You have 1 imports waiting for confirmation." in refused.content.decode()


def test_the_sweep_empties_files_left_waiting(manager_client, settings):
    settings.CRM_IMPORT_KEEP_DAYS = 7
    old, recent = (upload_ok(manager_client, csv_bytes(ROWS)) for _ in range(2))
    skipped = upload_ok(manager_client, csv_bytes([*ROWS, ["K-1", "Twice", ""]]))
    apply(manager_client, skipped, "valid_only")
    assert skipped.row_errors  # the skipped row, kept for the user to fix
    long_ago = timezone.now() - timedelta(days=8)
    CustomerImport.objects.filter(pk__in=[old.pk, skipped.pk]).update(created_at=long_ago)
    order_upload(manager_client)
    OrderImport.objects.update(created_at=long_ago)

    assert customer_imports_purge_stale() == 2
    assert order_imports_purge_stale() == 1

    old.refresh_from_db(), recent.refresh_from_db(), skipped.refresh_from_db()
    assert (old.status, old.text) == (CustomerImport.Status.CANCELLED, "")
    assert (skipped.status, skipped.row_errors) == (CustomerImport.Status.APPLIED, [])
    assert recent.status == CustomerImport.Status.PENDING and recent.text
    assert OrderImport.objects.get().text == ""
    assert customer_imports_purge_stale() == 0  # nothing left to empty


def test_the_preview_is_analysed_once_while_its_owner_pages_through_it(manager_client, fresh_cache):
    rows = [ROWS[0], *([f"P-{n}", f"Person {n}", f"p{n}@example.com"] for n in range(120))]
    customer_import = upload_ok(manager_client, csv_bytes(rows))
    url = customer_import.get_absolute_url()
    with CaptureQueriesContext(connection) as first:
        assert manager_client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as second:
        page_two = manager_client.get(url, {"page": 2, "show": "all"})
    assert page_two.context["analysis"].create_count == 120

    # The analysis looks the rows' customers up; a cached preview does not.
    def lookups(queries) -> list[str]:
        return [q["sql"] for q in queries if 'FROM "customers_customer" ' in q["sql"]]

    assert lookups(first.captured_queries)
    assert not lookups(second.captured_queries)


def test_the_order_preview_is_analysed_once_while_its_owner_looks_at_it(
    manager_client, fresh_cache
):
    from tests.factories import CustomerFactory

    CustomerFactory(external_id="K-1")
    assert order_upload(manager_client).status_code == 302
    url = OrderImport.objects.latest("pk").get_absolute_url()
    with CaptureQueriesContext(connection) as first:
        assert manager_client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as second:
        again = manager_client.get(url)
    assert (again.context["report"].rows, again.context["report"].created) == (1, 1)

    # The dry run looks the rows' customers up (through the ORM, or on PostgreSQL in one
    # query over the staged rows); a cached preview does not.
    def lookups(queries) -> list[str]:
        return [q["sql"] for q in queries if re.search(r'customers_customer"? ', q["sql"])]

    assert lookups(first.captured_queries)
    assert not lookups(second.captured_queries)
