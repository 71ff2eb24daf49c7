"""The import maps a file's columns when its headers differ; rejected rows as a CSV."""

import csv
import io

import pytest
from django.core.cache import cache
from django.urls import reverse

from customers.import_mapping import guess_column
from customers.importing import imports_of
from customers.models import Customer, CustomerImport
from tests.customers.test_import import apply, csv_bytes, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_held_files():
    """The import previews live in the cache, which outlives a test."""
    cache.clear()


COLUMNS_URL = reverse("customers:customer-import-columns")
FOREIGN = [
    ["Full Name", "E-mail", "电话", "Company name", "Salary"],
    ["Hazel Watts", "hazel@example.com", "+86 138 0013 8000", "Acme", "100"],
    ["Bad Phone", "bad@example.com", "call me", "Acme", "200"],
]


def test_guesses_know_synonyms_in_english_and_chinese():
    assert [guess_column(h) for h in FOREIGN[0]] == ["name", "email", "phone", "organization", ""]
    assert guess_column("external_id") == "external_id"


def test_differing_headers_lead_to_the_mapping_with_guesses(manager_client):
    response = upload(manager_client, csv_bytes(FOREIGN))
    assert response.status_code == 302 and response.url == COLUMNS_URL
    page = manager_client.get(COLUMNS_URL)
    form = page.context["form"]
    assert [form[f"column_{i}"].initial for i in range(5)] == [
        "name",
        "email",
        "phone",
        "organization",
        "",
    ]
    assert not CustomerImport.objects.exclude(status="mapping").exists()  # only the held file


def test_mapping_creates_the_import_and_rejected_rows_download_with_errors(manager_client):
    upload(manager_client, csv_bytes(FOREIGN))
    mapping = {"column_0": "name", "column_1": "email", "column_2": "phone", "column_3": ""}
    response = manager_client.post(COLUMNS_URL, mapping)
    customer_import = CustomerImport.objects.get()
    assert response.status_code == 302 and response.url == customer_import.get_absolute_url()
    preview = manager_client.get(customer_import.get_absolute_url()).content.decode()
    assert "Download the rows with errors (CSV)" in preview
    apply(manager_client, customer_import, "valid_only")
    assert list(Customer.objects.values_list("name", "organization")) == [("Hazel Watts", "")]
    rejected = manager_client.get(
        reverse("customers:customer-import-rejected", args=[customer_import.pk])
    )
    assert rejected["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(rejected.content.decode("utf-8-sig"))))
    assert rows[0] == ["name", "email", "phone", "error"]
    assert rows[1][:3] == ["Bad Phone", "bad@example.com", "call me"]
    assert rows[1][3].startswith("phone: ")
    assert manager_client.get(COLUMNS_URL).status_code == 302  # the held file is released


def test_rejected_rows_escape_formulas(manager_client):
    upload(manager_client, csv_bytes([["Name", "Phone"], ["=HYPERLINK(1)", "nope"]]))
    manager_client.post(COLUMNS_URL, {"column_0": "name", "column_1": "phone"})
    customer_import = CustomerImport.objects.get()
    url = reverse("customers:customer-import-rejected", args=[customer_import.pk])
    text = manager_client.get(url).content.decode("utf-8-sig")
    assert "'=HYPERLINK(1)" in text


def test_mapping_needs_a_name_and_each_field_once(manager_client):
    upload(manager_client, csv_bytes(FOREIGN))
    response = manager_client.post(COLUMNS_URL, {"column_0": "email", "column_1": "email"})
    assert response.status_code == 422
    page = response.content.decode()
    assert "Choose the column that holds the name." in page
    response = manager_client.post(
        COLUMNS_URL, {"column_0": "name", "column_1": "name", "column_2": "\x00"}
    )
    assert response.status_code == 422
    assert not CustomerImport.objects.exclude(status="mapping").exists()  # only the held file


def test_without_a_held_file_or_the_permission(manager_client, agent_client, rep2_client):
    assert manager_client.get(COLUMNS_URL).status_code == 302
    assert agent_client.get(COLUMNS_URL).status_code == 403
    upload(manager_client, csv_bytes(FOREIGN))
    manager_client.post(COLUMNS_URL, {"column_0": "name"})
    url = reverse("customers:customer-import-rejected", args=[CustomerImport.objects.get().pk])
    assert rep2_client.get(url).status_code == 404  # another user's import
    assert agent_client.get(url).status_code == 403


def test_a_header_wider_than_the_limit_is_refused(manager_client):
    response = upload(manager_client, csv_bytes([[f"c{i}" for i in range(20_000)], ["x"]]))
    assert response.status_code == 422
    assert "at most 100" in response.content.decode()
    assert manager_client.get(COLUMNS_URL).status_code == 302  # nothing held


def test_a_first_cell_beyond_the_csv_field_limit_is_refused(manager_client):
    response = upload(manager_client, ("a" * 140_000 + ",b\r\nx,y\r\n").encode())
    assert response.status_code == 422
    assert "cannot be read as CSV column names" in response.content.decode()


def test_the_held_file_survives_another_process_or_a_lost_cache(manager_client, manager):
    """Held in a per-process cache, the next request (another gunicorn worker) often found
    no file; it is now a row in the database, not listed among the user's imports."""
    upload(manager_client, csv_bytes(FOREIGN))
    cache.clear()  # another worker's LocMemCache, or Redis gone
    page = manager_client.get(COLUMNS_URL)
    assert page.status_code == 200 and page.context["file_name"] == "customers.csv"
    assert not imports_of(manager).exists()
    upload(manager_client, csv_bytes(FOREIGN), name="second.csv")  # replaces the first
    assert CustomerImport.objects.filter(status="mapping").count() == 1
    assert manager_client.get(COLUMNS_URL).context["file_name"] == "second.csv"
