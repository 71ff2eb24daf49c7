"""CSV import of customers: preview, all-or-nothing or valid rows only, idempotence, hostile files."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.test import TestCase
from django.urls import reverse

from crm import roles
from customers import import_services
from customers.csv_format import COLUMNS
from customers.importing import analyse_import
from customers.models import Customer, CustomerImport, Tag
from customers.selectors import customer_history
from tests.factories import CustomerFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

UPLOAD_URL = reverse("customers:customer-import")


def csv_bytes(rows: list[list[str]], *, bom: bool = False) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def upload(client, content: bytes, name: str = "customers.csv"):
    return client.post(UPLOAD_URL, {"file": SimpleUploadedFile(name, content, "text/csv")})


def upload_ok(client, content: bytes) -> CustomerImport:
    response = upload(client, content)
    assert response.status_code == 302, response.content.decode()[:3000]
    customer_import = CustomerImport.objects.latest("pk")
    assert response.url == reverse("customers:customer-import-preview", args=[customer_import.pk])
    return customer_import


def apply(client, customer_import: CustomerImport, mode: str):
    url = reverse("customers:customer-import-preview", args=[customer_import.pk])
    with TestCase.captureOnCommitCallbacks(execute=True):  # the job is queued on commit
        response = client.post(url, {"action": "apply", "mode": mode})
    customer_import.refresh_from_db()
    return response


def preview(client, customer_import: CustomerImport, show: str = "all"):
    url = reverse("customers:customer-import-preview", args=[customer_import.pk])
    response = client.get(url, {"show": show})
    assert response.status_code == 200
    return response


HEADER = ["external_id", "name", "email", "stage", "kind", "is_key_account", "tags", "owner"]
MIXED = [
    HEADER,
    ["A-1", "Alice Wang", "Alice@Example.com", "Prospect", "person", "yes", "vip; north", ""],
    ["A-2", "Bright Co", "info@bright.example", "customer", "Company", "no", "", "manager"],
    ["A-3", "Bad Email", "not-an-email", "lead", "", "", "", ""],
    ["A-4", "Bad Stage", "d@example.com", "sleeping", "", "maybe", "", ""],
    ["A-5", "", "noname@example.com", "", "", "", "", ""],
]


def test_preview_shows_errors_per_row_and_field_and_writes_nothing(manager_client):
    customer_import = upload_ok(manager_client, csv_bytes(MIXED))
    assert customer_import.status == CustomerImport.Status.PENDING
    assert customer_import.row_count == 5
    response = preview(manager_client, customer_import)
    analysis = response.context["analysis"]
    assert (analysis.create_count, analysis.update_count, analysis.error_count) == (2, 0, 3)
    errors = {row.line: row.errors for row in analysis.rows}
    assert errors[2] == {} and errors[3] == {}
    assert list(errors[4]) == ["email"]
    assert set(errors[5]) == {"stage", "is_key_account"}
    assert "“sleeping” is not one of: lead, prospect, customer, churned." in errors[5]["stage"]
    assert list(errors[6]) == ["name"]
    html = response.content.decode()
    assert "Enter a valid email address." in html
    assert "Write yes or no" in html
    # The summary is visible to the user, and nothing was written.
    assert response.context["analysis"].create_count == 2
    assert Customer.objects.count() == 0
    assert not Tag.objects.exists()
    # Only the rows with errors.
    errors_only = preview(manager_client, customer_import, "errors").context["page"]
    assert [row.line for row in errors_only] == [4, 5, 6]


def test_import_in_several_batches_writes_each_row_once(manager_client, settings):
    """Batches of two rows: a duplicate across batches and an error in the last batch leave
    exactly the other rows written, each once."""
    settings.CRM_CUSTOMER_IMPORT_BATCH_ROWS = 2
    CustomerFactory(external_id="X-1", name="Existing", city="Old town")
    rows = [
        ["external_id", "name", "email", "city"],
        ["B-1", "One", "one@example.com", ""],
        ["", "Two", "", ""],
        ["X-1", "Existing", "", "New town"],
        ["B-1", "One again", "", ""],  # line 5: the external id of line 2, a batch later
        ["B-3", "Three", "", ""],
        ["", "Four", "", ""],
        ["B-5", "Five", "not-an-email", ""],  # line 8, among the last batch's rows
        ["", "Six", "", ""],
    ]
    customer_import = upload_ok(manager_client, csv_bytes(rows))
    apply(manager_client, customer_import, "valid_only")
    assert customer_import.status == CustomerImport.Status.APPLIED
    assert (customer_import.created_count, customer_import.updated_count) == (5, 1)
    assert [error["line"] for error in customer_import.row_errors] == [5, 8]
    assert customer_import.row_errors[0]["errors"] == {
        "external_id": ["Line 2 already has this external id."]
    }
    assert sorted(Customer.objects.values_list("name", flat=True)) == [
        "Existing",
        "Four",
        "One",
        "Six",
        "Three",
        "Two",
    ]
    assert Customer.objects.get(external_id="X-1").city == "New town"


def test_all_or_nothing_with_one_bad_row_writes_nothing(manager_client):
    customer_import = upload_ok(manager_client, csv_bytes(MIXED))
    response = apply(manager_client, customer_import, "all_or_nothing")
    assert response.status_code == 302
    assert customer_import.status == CustomerImport.Status.FAILED
    assert customer_import.failed_count == 3
    assert Customer.objects.count() == 0
    assert not Tag.objects.exists()
    # The user may still choose to import the valid rows of the same upload.
    apply(manager_client, customer_import, "valid_only")
    assert customer_import.status == CustomerImport.Status.APPLIED
    assert Customer.objects.count() == 2


def test_all_or_nothing_with_valid_rows_writes_them_all(manager_client):
    rows = [MIXED[0], MIXED[1], MIXED[2]]
    customer_import = upload_ok(manager_client, csv_bytes(rows))
    apply(manager_client, customer_import, "all_or_nothing")
    assert customer_import.status == CustomerImport.Status.APPLIED
    assert (customer_import.created_count, customer_import.failed_count) == (2, 0)
    assert Customer.objects.count() == 2


def test_valid_only_writes_the_valid_rows_normalised(manager, manager_client):
    customer_import = upload_ok(manager_client, csv_bytes(MIXED))
    response = apply(manager_client, customer_import, "valid_only")
    assert response.status_code == 302
    assert customer_import.status == CustomerImport.Status.APPLIED
    assert customer_import.mode == CustomerImport.Mode.VALID_ONLY
    assert (customer_import.created_count, customer_import.updated_count) == (2, 0)
    assert customer_import.failed_count == 3
    assert customer_import.applied_at is not None
    assert set(Customer.objects.values_list("external_id", flat=True)) == {"A-1", "A-2"}
    alice = Customer.objects.get(external_id="A-1")
    assert alice.email == "alice@example.com"
    assert alice.stage == Customer.Stage.PROSPECT  # from the English label
    assert alice.kind == Customer.Kind.PERSON
    assert alice.is_key_account is True
    assert alice.owner == manager  # empty owner: the importer
    assert alice.source == Customer.Source.IMPORT
    assert sorted(alice.tags.values_list("name", flat=True)) == ["north", "vip"]
    # Written through customer_create: the history says who created it.
    assert alice.history.earliest("history_date").history_type == "+"
    assert not alice.history.exclude(history_user=manager).exists()
    bright = Customer.objects.get(external_id="A-2")
    assert bright.kind == Customer.Kind.COMPANY and bright.is_key_account is False
    # The result page shows the counts, the skipped rows and a link to the list.
    page = manager_client.get(customer_import.get_absolute_url())
    html = page.content.decode()
    assert "2 customers created" in html
    assert "3 rows skipped because of errors" in html
    assert reverse("customers:customer-list") in html
    assert [row.line for row in page.context["page"]] == [4, 5, 6]


def test_reimporting_the_same_file_creates_no_duplicates(manager_client):
    rows = [
        ["external_id", "name", "email", "phone", "tags"],
        ["E-1", "By External Id", "", "+86 138 0000 0001", "a;b"],
        ["", "By Email", "Same@Example.com", "", ""],
        ["E-3", "Both Keys", "both@example.com", "", ""],
    ]
    first = upload_ok(manager_client, csv_bytes(rows))
    apply(manager_client, first, "all_or_nothing")
    assert first.created_count == 3
    versions = dict(Customer.objects.values_list("pk", "version"))
    history = Customer.history.count()

    second = upload_ok(manager_client, csv_bytes(rows))
    analysis = preview(manager_client, second).context["analysis"]
    assert [row.action for row in analysis.rows] == ["unchanged"] * 3
    apply(manager_client, second, "all_or_nothing")
    assert second.status == CustomerImport.Status.APPLIED
    assert (second.created_count, second.updated_count, second.unchanged_count) == (0, 0, 3)
    assert Customer.objects.count() == 3
    assert dict(Customer.objects.values_list("pk", "version")) == versions
    assert Customer.history.count() == history

    # A changed file updates the same customers, matched by external id and by email.
    rows[1][1] = "Renamed By External Id"
    rows[2][1] = "Renamed By Email"
    rows[2][2] = "SAME@example.COM"
    third = upload_ok(manager_client, csv_bytes(rows))
    apply(manager_client, third, "all_or_nothing")
    assert (third.created_count, third.updated_count, third.unchanged_count) == (0, 2, 1)
    assert Customer.objects.count() == 3
    assert Customer.objects.get(external_id="E-1").name == "Renamed By External Id"
    renamed = Customer.objects.get(email="same@example.com")
    assert renamed.name == "Renamed By Email"
    assert renamed.version == 2


def test_email_match_links_a_customer_without_external_id(manager_client):
    existing = CustomerFactory(email="Link@Example.com", external_id="")
    rows = [["external_id", "name", "email"], ["X-9", existing.name, "link@example.com"]]
    customer_import = upload_ok(manager_client, csv_bytes(rows))
    apply(manager_client, customer_import, "all_or_nothing")
    assert customer_import.updated_count == 1
    existing.refresh_from_db()
    assert existing.external_id == "X-9"
    assert Customer.objects.count() == 1


def test_two_rows_with_the_same_key_are_errors(manager_client):
    CustomerFactory(email="twice@example.com", external_id="")
    rows = [
        ["external_id", "name", "email"],
        ["D-1", "One", ""],
        ["D-1", "One again", ""],
        ["", "Mail one", "new@example.com"],
        ["", "Mail two", "NEW@example.com"],
        ["D-7", "By id", "twice@example.com"],  # falls back to the email: that customer...
        ["", "By email", "twice@example.com"],  # ...is then changed by a second row
    ]
    customer_import = upload_ok(manager_client, csv_bytes(rows))
    analysis = preview(manager_client, customer_import).context["analysis"]
    errors = {row.line: row.errors for row in analysis.rows}
    assert errors[2] == {} and errors[4] == {} and errors[6] == {}
    assert errors[3] == {"external_id": ["Line 2 already has this external id."]}
    assert "Line 4 already has this email" in errors[5]["email"][0]
    assert errors[7] == {"__all__": ["Line 6 already changes this customer."]}


def test_ambiguous_email_is_an_error(manager_client):
    CustomerFactory(email="shared@example.com")
    CustomerFactory(email="SHARED@example.com")
    rows = [["name", "email"], ["Who", "shared@example.com"]]
    customer_import = upload_ok(manager_client, csv_bytes(rows))
    row = preview(manager_client, customer_import).context["analysis"].rows[0]
    assert "2 customers have this email" in row.errors["email"][0]


def test_export_then_import_changes_nothing(manager, manager_client):
    """The export's CSV-injection quote (') is taken off again on import."""
    vip = TagFactory(name="vip")
    customer = CustomerFactory(
        name='=HYPERLINK("http://evil.example")',
        phone="+86 138 0000 1234",
        organization="-minus Ltd",
        external_id="@at",
        owner=manager,
        is_key_account=True,
        company_size=Customer.Size.ENTERPRISE,
    )
    customer.tags.add(vip)
    CustomerFactory(name="Plain", owner=None)
    exported = b"".join(manager_client.get(reverse("customers:customer-export")).streaming_content)
    assert b"'=HYPERLINK" in exported and b"'+86 138" in exported
    customer_import = upload_ok(manager_client, exported)
    analysis = preview(manager_client, customer_import).context["analysis"]
    assert [(row.action, row.errors) for row in analysis.rows] == [("unchanged", {})] * 2
    apply(manager_client, customer_import, "all_or_nothing")
    customer.refresh_from_db()
    assert customer.name == '=HYPERLINK("http://evil.example")'
    assert customer.version == 1
    assert Customer.objects.get(name="Plain").owner is None


def test_formula_cells_are_stored_as_text_and_exported_quoted(manager_client):
    rows = [["name", "city", "phone"], ["=1+2", "@SUM(A1)", "+86 1380000"]]
    customer_import = upload_ok(manager_client, csv_bytes(rows))
    apply(manager_client, customer_import, "all_or_nothing")
    customer = Customer.objects.get()
    assert (customer.name, customer.city, customer.phone) == ("=1+2", "@SUM(A1)", "+86 1380000")
    exported = b"".join(manager_client.get(reverse("customers:customer-export")).streaming_content)
    assert b"'=1+2,'@SUM(A1)" not in exported  # columns are not adjacent; check each cell
    row = list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"))))[0]
    assert (row["name"], row["city"], row["phone"]) == ("'=1+2", "'@SUM(A1)", "'+86 1380000")


def test_script_tags_are_stored_as_text_and_rendered_escaped(manager_client):
    name = '<script>alert("x")</script>'
    rows = [["name", "city"], [name, "<img src=x onerror=alert(1)>"]]
    customer_import = upload_ok(manager_client, csv_bytes(rows))
    html = preview(manager_client, customer_import).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    apply(manager_client, customer_import, "all_or_nothing")
    customer = Customer.objects.get()
    assert customer.name == name
    listing = manager_client.get(reverse("customers:customer-list")).content.decode()
    assert "<script>alert" not in listing and "&lt;script&gt;" in listing


def test_long_values_and_huge_numbers_are_row_errors(manager_client):
    long_name = "N" * 10_000
    rows = [
        ["external_id", "name", "phone", "is_key_account"],
        ["1" * 101, "Big id", "", ""],
        ["", long_name, "", ""],
        ["", "Huge phone", "9" * 40, ""],
        ["", "Huge flag", "", "1" * 30],
        ["", "Fine", "", ""],
        ["", "Short phone", "12", ""],  # the model's phone pattern is checked too
    ]
    customer_import = upload_ok(manager_client, csv_bytes(rows))
    response = preview(manager_client, customer_import)
    errors = {row.line: row.errors for row in response.context["analysis"].rows}
    assert "at most 100 characters (it has 101)" in errors[2]["external_id"][0]
    assert "at most 200 characters (it has 10000)" in errors[3]["name"][0]
    assert list(errors[4]) == ["phone"]
    assert list(errors[5]) == ["is_key_account"]
    assert errors[6] == {}
    assert errors[7]["phone"][0].startswith("Enter a phone number of 5 to 30 digits")
    html = response.content.decode()
    assert long_name not in html  # the table truncates long values
    assert "N" * 39 + "…" in html
    apply(manager_client, customer_import, "valid_only")
    assert list(Customer.objects.values_list("name", flat=True)) == ["Fine"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\n\n", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01", "it looks like a PNG image"),
        (b"PK\x03\x04\x14\x00\x06\x00", "an Excel workbook (.xlsx)"),
        (b"name\nAl\x00ice\n", "contains NUL bytes"),
        ("name,email\nAlice,a@example.com\n".encode("utf-16"), "encoded as UTF-16"),
        ("name\n张三\n".encode("gbk"), "not UTF-8 text"),
        (b"name,email\n", "no rows of customers"),
        (b'name\n"unterminated' + b"x" * 140_000 + b"\n", "Line 2 cannot be read as CSV"),
    ],
)
# A header that is not the layout's (missing name, unknown or repeated columns) leads to the
# column-mapping step instead: tests/customers/test_import_columns.py.
def test_unusable_files_are_refused_with_a_message(manager_client, content, message):
    response = upload(manager_client, content)
    assert response.status_code == 422
    errors = " ".join(response.context["form"].errors["file"])
    assert message in errors, errors
    assert message in response.content.decode()
    assert not CustomerImport.objects.exists()


def test_missing_file_and_too_large_file(manager_client, settings):
    response = manager_client.post(UPLOAD_URL, {})
    assert "Choose a CSV file to upload." in response.context["form"].errors["file"]
    settings.CRM_IMPORT_MAX_BYTES = 1000
    response = upload(manager_client, csv_bytes([["name"], *[["x" * 50]] * 30]))
    assert response.status_code == 422
    assert "the largest file you can import is 1000" in response.context["form"].errors["file"][0]
    assert not CustomerImport.objects.exists()


def test_too_many_rows_are_refused(manager_client):
    content = b"name\n" + b"a\n" * 20_001
    response = upload(manager_client, content)
    assert "more than 20,000 rows" in response.context["form"].errors["file"][0]
    assert upload(manager_client, b"name\n" + b"a\n" * 20_000).status_code == 302


def test_bom_semicolons_and_crlf_are_accepted(manager_client):
    content = "\ufeffName;Email;Tags\r\n李雷;LI@example.com;a;b\r\n".encode()
    # With ";" between the columns, tags must be quoted; here the extra cell is an error.
    customer_import = upload_ok(manager_client, content)
    row = preview(manager_client, customer_import).context["analysis"].rows[0]
    assert row.errors == {"__all__": ["This row has more cells than the header has columns."]}
    content = '\ufeffName;Email;Tags\r\n李雷;LI@example.com;"a;b"\r\n'.encode()
    customer_import = upload_ok(manager_client, content)
    apply(manager_client, customer_import, "all_or_nothing")
    customer = Customer.objects.get()
    assert (customer.name, customer.email) == ("李雷", "li@example.com")
    assert sorted(customer.tags.values_list("name", flat=True)) == ["a", "b"]


def test_rep_cannot_update_another_reps_customer(rep, rep2, rep_client):
    theirs = CustomerFactory(owner=rep2, external_id="T-1", name="Theirs")
    mine = CustomerFactory(owner=rep, external_id="M-1", name="Mine")
    rows = [
        ["external_id", "name", "owner"],
        ["T-1", "Taken over", ""],
        ["M-1", "Mine renamed", ""],
        ["N-1", "New for rep2", "rep2"],
        ["N-2", "New for me", "rep"],
    ]
    customer_import = upload_ok(rep_client, csv_bytes(rows))
    analysis = preview(rep_client, customer_import).context["analysis"]
    errors = {row.line: row.errors for row in analysis.rows}
    assert errors[2] == {"__all__": ["You may not change this customer."]}
    assert errors[3] == {}
    assert errors[4] == {"owner": ["You may only import customers for yourself."]}
    assert errors[5] == {}
    apply(rep_client, customer_import, "valid_only")
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert theirs.name == "Theirs" and theirs.owner == rep2
    assert mine.name == "Mine renamed"
    assert Customer.objects.get(external_id="N-2").owner == rep
    assert not Customer.objects.filter(external_id="N-1").exists()


def test_rep_reimporting_others_unchanged_rows_is_fine(rep, rep2, rep_client):
    CustomerFactory(owner=rep2, external_id="T-1", name="Theirs")
    rows = [["external_id", "name", "owner"], ["T-1", "Theirs", "rep2"]]
    customer_import = upload_ok(rep_client, csv_bytes(rows))
    row = preview(rep_client, customer_import).context["analysis"].rows[0]
    assert (row.action, row.errors) == ("unchanged", {})


def test_manager_assigns_owners_but_not_to_unknown_or_inactive_users(manager_client, rep, agent):
    gone = UserFactory(username="gone", is_active=False, role=roles.SALES_REP)
    rows = [
        ["name", "owner"],
        ["For rep", "REP"],
        ["For nobody", "nosuchuser"],
        ["For inactive", gone.username],
        ["For agent", "agent"],  # agents may not own customers
    ]
    customer_import = upload_ok(manager_client, csv_bytes(rows))
    analysis = preview(manager_client, customer_import).context["analysis"]
    assert [list(row.errors) for row in analysis.rows] == [[], ["owner"], ["owner"], ["owner"]]
    apply(manager_client, customer_import, "valid_only")
    assert Customer.objects.get().owner == rep


def test_data_changed_since_preview_is_checked_again(manager_client):
    rows = [["external_id", "name"], ["L-1", "Late"]]
    customer_import = upload_ok(manager_client, csv_bytes(rows))
    assert preview(manager_client, customer_import).context["analysis"].create_count == 1
    existing = CustomerFactory(external_id="L-1", name="Created meanwhile")
    apply(manager_client, customer_import, "all_or_nothing")
    assert customer_import.updated_count == 1 and customer_import.created_count == 0
    existing.refresh_from_db()
    assert existing.name == "Late"
    assert Customer.objects.count() == 1


def test_an_import_is_applied_once_and_can_be_cancelled(manager_client):
    rows = [["name"], ["Once"]]
    customer_import = upload_ok(manager_client, csv_bytes(rows))
    apply(manager_client, customer_import, "valid_only")
    response = apply(manager_client, customer_import, "valid_only")  # a second click
    assert response.status_code == 302
    assert Customer.objects.count() == 1
    other = upload_ok(manager_client, csv_bytes(rows))
    url = reverse("customers:customer-import-preview", args=[other.pk])
    assert manager_client.post(url, {"action": "cancel"}).status_code == 302
    other.refresh_from_db()
    assert other.status == CustomerImport.Status.CANCELLED
    apply(manager_client, other, "valid_only")
    assert other.status == CustomerImport.Status.CANCELLED
    assert Customer.objects.count() == 1
    assert "was cancelled" in manager_client.get(url).content.decode()


def test_apply_needs_a_mode(manager_client):
    customer_import = upload_ok(manager_client, csv_bytes([["name"], ["A"]]))
    url = reverse("customers:customer-import-preview", args=[customer_import.pk])
    response = manager_client.post(url, {"action": "apply", "mode": "everything"})
    assert response.status_code == 200
    assert "mode" in response.context["apply_form"].errors
    assert not Customer.objects.exists()


def test_unknown_tags_need_the_add_tag_permission(rep, rep_client):
    TagFactory(name="VIP")
    rep.groups.first().permissions.remove(
        *rep.groups.first().permissions.filter(codename="add_tag")
    )
    rows = [["name", "tags"], ["Known", "vip"], ["Unknown", "brand-new"]]
    customer_import = upload_ok(rep_client, csv_bytes(rows))
    analysis = preview(rep_client, customer_import).context["analysis"]
    assert analysis.rows[0].errors == {} and analysis.rows[0].tags == ["VIP"]
    assert "There is no tag “brand-new”" in analysis.rows[1].errors["tags"][0]


@pytest.mark.parametrize("persona", ["agent_client", "marketer_client"])
def test_roles_without_the_import_permission_get_403(request, persona, manager_client):
    client = request.getfixturevalue(persona)
    customer_import = upload_ok(manager_client, csv_bytes([["name"], ["A"]]))
    preview_url = reverse("customers:customer-import-preview", args=[customer_import.pk])
    assert client.get(UPLOAD_URL).status_code == 403
    assert upload(client, csv_bytes([["name"], ["B"]])).status_code == 403
    assert client.get(reverse("customers:customer-import-template")).status_code == 403
    assert client.get(preview_url).status_code == 403
    assert client.post(preview_url, {"action": "apply", "mode": "valid_only"}).status_code == 403
    assert CustomerImport.objects.count() == 1 and not Customer.objects.exists()
    assert "Import CSV" not in client.get(reverse("customers:customer-list")).content.decode()


def test_a_user_cannot_open_or_apply_someone_elses_import(rep_client, rep2_client):
    customer_import = upload_ok(rep_client, csv_bytes([["name"], ["Private"]]))
    url = reverse("customers:customer-import-preview", args=[customer_import.pk])
    assert rep2_client.get(url).status_code == 404
    assert rep2_client.post(url, {"action": "apply", "mode": "valid_only"}).status_code == 404
    assert rep2_client.post(url, {"action": "cancel"}).status_code == 404
    customer_import.refresh_from_db()
    assert customer_import.status == CustomerImport.Status.PENDING
    assert not Customer.objects.exists()
    assert "Private" not in rep2_client.get(UPLOAD_URL).content.decode()
    assert rep_client.get(url).status_code == 200


def test_upload_page_template_and_list_button(rep_client):
    page = rep_client.get(UPLOAD_URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("customers:customer-import-template") in html
    assert "You have not imported any file yet." in html
    template = rep_client.get(reverse("customers:customer-import-template"))
    assert template["Content-Type"].startswith("text/csv")
    assert template.content.decode("utf-8-sig").strip() == ",".join(COLUMNS)
    listing = rep_client.get(reverse("customers:customer-list")).content.decode()
    assert UPLOAD_URL in listing and "Import CSV" in listing


def test_updates_keep_versions_and_history_with_tags(manager, manager_client, rep):
    TagFactory(name="Gold")
    customer = CustomerFactory(external_id="H-1", name="Hist", city="Old town", owner=manager)
    rows = [
        ["external_id", "name", "city", "tags", "owner"],
        ["H-1", "Hist", "New town", "gold;Fresh", "rep"],
        ["H-2", "Second", "New town", "fresh", ""],  # the new tag, spelled as on line 2
    ]
    customer_import = upload_ok(manager_client, csv_bytes(rows))
    apply(manager_client, customer_import, "all_or_nothing")
    assert (customer_import.created_count, customer_import.updated_count) == (1, 1)
    customer.refresh_from_db()
    assert (customer.city, customer.owner, customer.version) == ("New town", rep, 2)
    assert sorted(customer.tags.values_list("name", flat=True)) == ["Fresh", "Gold"]
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Fresh", "Gold"]
    latest = customer.history.latest("history_date")
    assert (latest.history_type, latest.history_user, latest.city) == ("~", manager, "New town")
    # The 360° page's history shows what the import changed, tags included.
    changes = {c["field"]: c for c in customer_history(customer)[0]["changes"]}
    assert changes["city"]["old"] == "Old town" and changes["city"]["new"] == "New town"
    assert changes["tags"]["new"] == "Fresh, Gold"
    second = Customer.objects.get(external_id="H-2")
    assert list(second.tags.values_list("name", flat=True)) == ["Fresh"]
    assert list(second.history.values_list("history_type", flat=True)) == ["+"]
    assert second.history.get().tags.count() == 1


def test_a_row_that_changed_after_the_analysis_fails_alone(manager):
    """Rows are written in batches; a batch the database refuses is redone row by row."""
    customer = CustomerFactory(external_id="S-1", name="Before")
    text = "external_id,name\nS-1,From the file\nS-2,New one\n"
    analysis = analyse_import(text, user=manager)
    assert [row.action for row in analysis.rows] == ["update", "create"]
    # Someone saves the customer between the analysis and the write.
    Customer.objects.filter(pk=customer.pk).update(name="Someone else", version=F("version") + 1)
    assert import_services._import_batch(analysis.rows, user=manager) is False
    assert "Someone else saved this customer" in analysis.rows[0].errors["__all__"][0]
    assert analysis.rows[1].ok
    customer.refresh_from_db()
    assert customer.name == "Someone else"
    assert Customer.objects.get(external_id="S-2").name == "New one"


def test_the_result_lists_the_skipped_rows_as_they_were_at_import(manager_client):
    rows = [["external_id", "name"], ["R-1", "First"], ["R-1", "Second"]]
    customer_import = upload_ok(manager_client, csv_bytes(rows))
    empty_view = preview(manager_client, customer_import, "unchanged").content.decode()
    assert "No rows in this view." in empty_view
    apply(manager_client, customer_import, "valid_only")
    assert customer_import.row_errors == [
        {
            "line": 3,
            "errors": {"external_id": ["Line 2 already has this external id."]},
            "cells": {"external_id": "R-1", "name": "Second"},
        }
    ]
    assert customer_import.text == ""  # the file is not kept once applied
    page = manager_client.get(customer_import.get_absolute_url())
    [row] = page.context["page"]
    assert (row.line, row.cells["name"], row.action) == (3, "Second", "")
    html = page.content.decode()
    assert "Line 2 already has this external id." in html
    assert "Rows not imported, with their errors" in html
    assert "analysis" not in page.context  # not analysed again: nothing to import any more


def test_admin_lists_and_shows_imports(manager_client, client):
    customer_import = upload_ok(manager_client, csv_bytes([["name"], ["In admin"]]))
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get(reverse("admin:customers_customerimport_changelist"))
    assert listing.status_code == 200 and "customers.csv" in listing.content.decode()
    page = client.get(reverse("admin:customers_customerimport_change", args=[customer_import.pk]))
    assert page.status_code == 200 and "In admin" in page.content.decode()
