"""Order import: the service, the command and the pages, on PostgreSQL and SQLite."""

import io
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from customers.models import Customer
from sales.import_services import OrderImportRejected, order_import
from sales.importing import generated_number
from sales.models import Order, OrderImport
from tests.factories import CustomerFactory

HEADER = "customer_external_id,ordered_at,total,order_number,channel,currency,coupon_code\n"
UPLOAD_URL = reverse("sales:order-import")


@pytest.fixture
def customers(db):
    return {external_id: CustomerFactory(external_id=external_id) for external_id in ("C1", "C2")}


def run(text: str, **kwargs):
    return order_import(source=io.StringIO(text, newline=""), **kwargs)


def write(tmp_path, text: str, name="orders.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def command(path, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_orders", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


GOOD = (
    HEADER
    + "C1,2026-01-05,12.5,N-1,web,eur,SPRING\n"
    + "C1,2026-01-06T10:00:00+02:00,0,,store,,\n"
    + "C2,2026-01-07 09:30,1234.56,,,,\n"
)


# --- The service --------------------------------------------------------------------------------


def test_import_creates_orders_with_normalised_values(customers, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    report = run(GOOD)
    assert (report.rows, report.created, report.already_present, report.error_rows) == (3, 3, 0, 0)
    first = Order.objects.get(number="N-1")
    assert first.customer == customers["C1"]
    assert (first.channel, first.currency, first.coupon_code) == ("web", "EUR", "SPRING")
    assert first.total == Decimal("12.50")
    # A date alone is midnight in TIME_ZONE; an offset is kept.
    assert first.ordered_at == datetime(2026, 1, 4, 16, 0, tzinfo=UTC)
    second = Order.objects.get(customer=customers["C1"], channel="store")
    assert second.ordered_at == datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
    assert second.currency == settings.CRM_CURRENCY
    assert second.number.startswith("IMP-")
    third = Order.objects.get(customer=customers["C2"])
    assert third.channel == Order.Channel.SALES


def test_reimport_creates_no_duplicates_with_and_without_order_number(customers):
    run(GOOD)
    again = run(GOOD)
    assert (again.created, again.already_present) == (0, 3)
    assert Order.objects.count() == 3
    # A different spelling of the same key-less row is the same order.
    same = run(HEADER + "C2,2026-01-07T09:30:00,1234.560,,,,\n")
    assert (same.created, same.already_present) == (0, 1)
    # A new row among old ones is the only one created.
    more = run(GOOD + "C2,2026-02-01,5,,,,\n")
    assert (more.created, more.already_present) == (1, 3)


def test_generated_number_is_deterministic():
    at = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert generated_number("C1", at, "1.00") == generated_number("C1", at, "1.00")
    assert generated_number("C1", at, "1.00") != generated_number("C1", at, "1.01")
    assert len(generated_number("C1", at, "1.00")) <= 50


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris"])
def test_times_and_generated_numbers_are_those_of_the_aware_time(customers, settings, zone):
    """Whatever shortcut the import takes for plain times in UTC, every spelling of a time
    lands on the instant it names, and a row without a number gets generated_number of it."""
    settings.TIME_ZONE = zone
    local = datetime(2026, 7, 1, 9, 30).replace(tzinfo=ZoneInfo(zone))
    spellings = [
        "2026-07-01T09:30:00",  # the plain form
        "2026-07-01 09:30",
        "2026-07-01T09:30:00.000000",
        local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        local.isoformat(),
    ]
    for index, spelling in enumerate(spellings):
        total = f"{index + 1}.00"
        run(HEADER + f"C1,{spelling},{total},,,,\n")
        order = Order.objects.get(total=Decimal(total))
        assert order.ordered_at == local, spelling
        assert order.number == generated_number("C1", local, total), spelling


def test_a_time_in_other_digits_is_an_error(customers):
    with pytest.raises(OrderImportRejected) as rejected:
        run(HEADER + "C1,\u0662\u0660\u0662\u0666-01-01T00:00:00,1,,,,\n")
    assert rejected.value.report.errors[0].column == "ordered_at"


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("C1,31/01/2026,1,,,,", "ordered_at", "ISO 8601"),
        ("C1,2026-02-30,1,,,,", "ordered_at", "ISO 8601"),
        ("C1,,1,,,,", "ordered_at", "Give the date"),
        ("C1,0001-01-01,1,,,,", "ordered_at", "between 1900 and 2999"),
        ("C1,2026-01-01,-5,,,,", "total", "negative"),
        ("C1,2026-01-01,1234567890123,,,,", "total", "too large"),
        ("C1,2026-01-01,1.234,,,,", "total", "2 decimal"),
        ("C1,2026-01-01,1e3,,,,", "total", "not an amount"),
        ("C1,2026-01-01,NaN,,,,", "total", "not an amount"),
        ("C1,2026-01-01,1,,fax,,", "channel", "not one of"),
        ("C1,2026-01-01,1,,,EURO,", "currency", "ISO 4217"),
        ("C1,2026-01-01,1,,,€€€,", "currency", "ISO 4217"),
        ("C9,2026-01-01,1,,,,", "customer_external_id", "No customer"),
        (",2026-01-01,1,,,,", "customer_external_id", "external id"),
        ("C1,2026-01-01,1," + "N" * 51 + ",,,", "order_number", "At most 50"),
        ("C1,2026-01-01,1,,,,," + "x", "__all__", "more cells"),
    ],
)
def test_row_errors_name_the_line_and_column_and_nothing_is_written(
    customers, row, column, message
):
    text = HEADER + "C1,2026-01-01,1,OK-1,,,\n" + row + "\n"
    with pytest.raises(OrderImportRejected) as rejected:
        run(text)
    report = rejected.value.report
    assert report.error_rows == 1
    assert [(e.line, e.column) for e in report.errors] == [(3, column)]
    assert message in report.errors[0].message
    assert Order.objects.count() == 0
    assert Customer.objects.count() == 2


def test_blank_lines_and_empty_rows_are_skipped(customers):
    report = run(HEADER + "\n,,,,,,\nC1,2026-01-01,1,,,,\n\n")
    assert (report.rows, report.created) == (1, 1)


def test_duplicate_rows_in_one_file_are_errors(customers):
    text = HEADER + "C1,2026-01-01,1,N-1,,,\nC2,2026-01-02,2,N-1,,,\nC1,2026-01-03,3,,,,\n"
    text += "C1,2026-01-03,3.00,,,,\n"
    with pytest.raises(OrderImportRejected) as rejected:
        run(text)
    messages = {(e.line, e.column): e.message for e in rejected.value.report.errors}
    assert "Line 2" in messages[(3, "order_number")]
    assert "Line 4" in messages[(5, "__all__")]


def test_errors_are_capped_but_counted(customers):
    text = HEADER + "".join(f"C1,bad,{i},,,,\n" for i in range(1200))
    with pytest.raises(OrderImportRejected) as rejected:
        run(text)
    report = rejected.value.report
    assert report.error_rows == 1200
    assert len(report.errors) == 1000
    assert report.errors_truncated == 200
    assert report.error_lines()[-1] == "… and 200 more errors."


def test_errors_in_later_chunks_still_write_nothing(customers, settings):
    from sales.importing import read_orders  # noqa: F401 - chunking is read_orders' job

    settings.CRM_IMPORT_CHUNK_ROWS = 100  # four chunks
    text = HEADER + "".join(f"C1,2026-01-01T00:00:{i % 60:02d},{i},,,,\n" for i in range(300))
    text += "C1,bad,1,,,,\n"
    with pytest.raises(OrderImportRejected):
        order_import(source=io.StringIO(text, newline=""))
    assert Order.objects.count() == 0


# Chunks of two valid rows: [2, 3] [4, 5] [7, 9] [10]. Line 6 repeats line 2's number in the
# third chunk, line 8 is invalid and line 10's customer unknown, in the last two chunks.
CHUNKED = (
    HEADER
    + "C1,2026-01-01,1,N-1,,,\n"
    + "C2,2026-01-02,2,N-2,,,\n"
    + "C1,2026-01-03,3,N-3,,,\n"
    + "C2,2026-01-04,4,,,,\n"
    + "C1,2026-01-05,5,N-1,,,\n"
    + "C2,2026-01-06,6,N-6,,,\n"
    + "C1,bad,7,N-7,,,\n"
    + "C2,2026-01-08,8,,,,\n"
    + "X9,2026-01-09,9,N-9,,,\n"
)
CHUNKED_ERRORS = [
    "line 6, order_number: Line 2 has the same order number.",
    "line 8, ordered_at: “bad” is not an ISO 8601 date or time (2026-03-31 or 2026-03-31T14:05:00).",
    "line 10, customer_external_id: No customer has the external id “X9”.",
]


def test_import_of_several_chunks_stages_each_row_once(customers, settings):
    """Every chunk is checked and staged once: exact counts and errors across chunks."""
    settings.CRM_IMPORT_CHUNK_ROWS = 2
    run(HEADER + "C1,2026-01-03,3,N-3,,,\n")  # line 4 is already present

    with pytest.raises(OrderImportRejected) as rejected:
        run(CHUNKED)
    assert rejected.value.report.error_lines() == CHUNKED_ERRORS
    assert Order.objects.count() == 1

    dry = run(CHUNKED, dry_run=True)
    assert (dry.rows, dry.error_rows, dry.created, dry.already_present) == (9, 3, 5, 1)
    assert dry.error_lines() == CHUNKED_ERRORS
    assert Order.objects.count() == 1

    valid = "\n".join(
        line for number, line in enumerate(CHUNKED.split("\n"), 1) if number not in (6, 8, 10)
    )
    report = run(valid)
    assert (report.rows, report.error_rows, report.created, report.already_present) == (6, 0, 5, 1)
    assert Order.objects.count() == 6
    assert sorted(
        Order.objects.exclude(number__startswith="IMP-").values_list("number", flat=True)
    ) == [
        "N-1",
        "N-2",
        "N-3",
        "N-6",
    ]


def test_create_customers(customers):
    text = HEADER + "C1,2026-01-01,1,,,,\nNEW-1,2026-01-01,2,,,,\nNEW-1,2026-01-02,3,,,,\n"
    report = run(text, create_customers=True)
    assert (report.created, report.customers_created) == (3, 1)
    new = Customer.objects.get(external_id="NEW-1")
    assert (new.name, new.stage, new.source) == ("NEW-1", "customer", "import")
    assert new.orders.count() == 2
    again = run(text, create_customers=True)
    assert (again.created, again.customers_created, again.already_present) == (0, 0, 3)


def test_dry_run_counts_and_writes_nothing(customers):
    report = run(GOOD + "NEW-1,2026-01-01,2,,,,\n", create_customers=True, dry_run=True)
    assert (report.created, report.customers_created) == (4, 1)
    assert Order.objects.count() == 0
    assert not Customer.objects.filter(external_id="NEW-1").exists()


def test_sends_no_order_signal(customers):
    from sales.signals import order_placed

    received = []

    def receiver(**kwargs):
        received.append(kwargs)

    order_placed.connect(receiver)
    try:
        run(GOOD)
    finally:
        order_placed.disconnect(receiver)
    assert received == []


def test_postgres_path_uses_copy_and_reimports(customers, postgres, django_assert_max_num_queries):
    text = HEADER + "".join(
        f"C{1 + i % 2},2026-01-01T00:{i // 60:02d}:{i % 60:02d},{i},,,,\n" for i in range(500)
    )
    with django_assert_max_num_queries(20):
        report = run(text)
    assert report.created == 500
    assert run(text).created == 0


# --- The command ----------------------------------------------------------------------------


def test_command_imports_and_prints_a_summary(customers, tmp_path):
    out, _ = command(write(tmp_path, GOOD))
    assert "Rows read:          3" in out
    assert "Orders created: 3" in out
    out, _ = command(write(tmp_path, GOOD))
    assert "Orders created: 0" in out
    assert "Already present:    3" in out


def test_command_exits_non_zero_with_the_rows_at_fault(customers, tmp_path):
    path = write(tmp_path, GOOD + "C1,yesterday,1,,,,\nC9,2026-01-01,-1,,,,\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="2 of 5 rows have errors; nothing was imported"):
        call_command("import_orders", str(path), stdout=io.StringIO(), stderr=err)
    assert "line 5, ordered_at: “yesterday” is not an ISO 8601" in err.getvalue()
    assert "line 6, total: The total cannot be negative." in err.getvalue()
    assert Order.objects.count() == 0


def test_command_exit_status_is_1(customers, tmp_path):
    import subprocess
    import sys

    path = write(tmp_path, "")  # refused before the database is used
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", "import_orders", str(path), "--dry-run"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "The file is empty." in result.stderr


def test_command_unknown_customers_and_create_customers(customers, tmp_path):
    path = write(tmp_path, HEADER + "NEW-1,2026-01-01,2,,,,\n")
    with pytest.raises(CommandError):
        command(path)
    out, _ = command(path, "--dry-run", "--create-customers")
    assert "Customers would be created: 1" in out
    assert not Customer.objects.filter(external_id="NEW-1").exists()
    out, _ = command(path, "--create-customers")
    assert "Customers created: 1" in out
    assert Order.objects.filter(customer__external_id="NEW-1").count() == 1


def test_command_dry_run_writes_nothing(customers, tmp_path):
    out, _ = command(write(tmp_path, GOOD), "--dry-run")
    assert "Orders would be created: 3" in out
    assert "Dry run: nothing was written." in out
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "PNG image"),
        (b"PK\x03\x04zipzip", "Excel workbook"),
        (HEADER.encode() + b"C1,2026-01-01,1\x00,,,,\n", "Line 2 contains NUL bytes"),
        (HEADER.encode("utf-16"), "UTF-16"),
        (HEADER.encode() + "C1,2026-01-01,1,Bestellung-ü,,,\n".encode("latin-1"), "not UTF-8"),
        (b"customer_external_id,ordered_at,total\n", "no rows"),
        (b"name,email\nA,a@example.com\n", "no “customer_external_id”"),
        (b"customer_external_id,ordered_at,total,total\nC1,2026-01-01,1,1\n", "more than once"),
    ],
)
def test_command_refuses_hostile_files(customers, tmp_path, content, message):
    with pytest.raises(CommandError, match="nothing was imported") as error:
        command(write(tmp_path, content))
    assert message in str(error.value)
    assert Order.objects.count() == 0


def test_command_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="No such file"):
        command(tmp_path / "absent.csv")


# --- The pages --------------------------------------------------------------------------------


def upload(client, content: bytes, name="orders.csv"):
    return client.post(UPLOAD_URL, {"file": SimpleUploadedFile(name, content, "text/csv")})


def test_upload_preview_and_apply(customers, manager_client, manager):
    response = manager_client.get(UPLOAD_URL)
    assert response.status_code == 200
    assert "import_orders" in response.text
    response = upload(manager_client, GOOD.encode())
    upload_obj = OrderImport.objects.get()
    assert response.status_code == 302
    assert response.url == upload_obj.get_absolute_url()
    page = manager_client.get(response.url)
    assert page.status_code == 200
    assert page.context["report"].created == 3
    assert page.context["importable"]
    assert Order.objects.count() == 0
    response = manager_client.post(upload_obj.get_absolute_url(), {"action": "apply"})
    assert response.status_code == 302
    assert Order.objects.count() == 3
    upload_obj.refresh_from_db()
    assert (upload_obj.status, upload_obj.created_count) == ("applied", 3)
    page = manager_client.get(upload_obj.get_absolute_url())
    assert "3 orders created" in page.text
    # Applying twice does nothing more.
    manager_client.post(upload_obj.get_absolute_url(), {"action": "apply"})
    assert Order.objects.count() == 3


def test_preview_shows_row_errors_next_to_the_cell(customers, manager_client):
    content = (GOOD + "C1,2026-13-01,1,,,,\nC9,2026-01-01,1,,,,\n").encode()
    response = upload(manager_client, content)
    page = manager_client.get(response.url)
    report = page.context["report"]
    assert (report.error_rows, report.unknown_customer_rows, report.other_error_rows) == (2, 1, 1)
    assert not page.context["importable"]
    assert "is not an ISO 8601 date" in page.text
    assert "No customer has the external id “C9”" in page.text
    sample = {row.line: row for row in report.sample}
    assert "ordered_at" in sample[5].errors
    manager_client.post(response.url, {"action": "apply"})
    assert Order.objects.count() == 0


def test_unknown_customers_can_be_created_from_the_page(customers, manager_client, manager):
    response = upload(manager_client, (GOOD + "NEW-1,2026-01-01,1,,,,\n").encode())
    page = manager_client.get(response.url)
    assert page.context["importable"]
    assert "Create the missing customers" in page.text
    manager_client.post(response.url, {"action": "apply"})
    assert Order.objects.count() == 0  # not asked to create: all or nothing
    manager_client.post(response.url, {"action": "apply", "create_customers": "on"})
    assert Order.objects.count() == 4
    assert Customer.objects.get(external_id="NEW-1").owner == manager


def test_without_add_customer_the_option_is_not_offered(customers, manager_client, manager):
    from django.contrib.auth.models import Permission

    manager.groups.clear()
    manager.user_permissions.add(Permission.objects.get(codename="import_orders"))
    response = upload(manager_client, (GOOD + "NEW-1,2026-01-01,1,,,,\n").encode())
    page = manager_client.get(response.url)
    assert not page.context["importable"]
    assert "Create the missing customers" not in page.text
    manager_client.post(response.url, {"action": "apply", "create_customers": "on"})
    assert Order.objects.count() == 0


def test_cancel(customers, manager_client):
    response = upload(manager_client, GOOD.encode())
    manager_client.post(response.url, {"action": "cancel"})
    assert OrderImport.objects.get().status == "cancelled"
    manager_client.post(response.url, {"action": "apply"})
    assert Order.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG image"),
        (HEADER.encode() + b"C1,2026\x00,1,,,,\n", "NUL bytes"),
        (HEADER.encode("utf-16"), "UTF-16"),
        (b"a,b\n1,2\n", "no “customer_external_id”"),
    ],
)
def test_upload_refuses_hostile_files(customers, manager_client, content, message):
    response = upload(manager_client, content)
    assert response.status_code == 422
    assert message in response.text
    assert not OrderImport.objects.exists()


def test_upload_refuses_big_files_and_points_to_the_command(customers, manager_client, settings):
    settings.CRM_IMPORT_MAX_BYTES = 100
    response = upload(manager_client, GOOD.encode() * 5)
    assert response.status_code == 422
    assert "manage.py import_orders" in response.text


def test_uploads_are_private(customers, manager_client, db):
    from tests.factories import UserFactory

    other = UserFactory(username="manager2", role="Manager")
    other_upload = OrderImport.objects.create(user=other, file_name="x.csv", text=GOOD)
    assert manager_client.get(other_upload.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("persona", ["rep_client", "agent_client", "marketer_client"])
def test_other_roles_get_403(request, persona, customers, manager):
    client = request.getfixturevalue(persona)
    pending = OrderImport.objects.create(user=manager, file_name="x.csv", text=GOOD)
    assert client.get(UPLOAD_URL).status_code == 403
    assert upload(client, GOOD.encode()).status_code == 403
    assert client.get(pending.get_absolute_url()).status_code == 403
    assert client.post(pending.get_absolute_url(), {"action": "apply"}).status_code == 403
    assert Order.objects.count() == 0


def test_cells_with_tabs_backslashes_and_newlines_survive(customers):
    text = HEADER + 'C1,2026-01-01,1,"N\\1\t2",,,"a\nb\\c"\n'
    run(text)
    order = Order.objects.get()
    assert (order.number, order.coupon_code) == ("N\\1\t2", "a\nb\\c")


def test_order_list_links_to_the_import_for_managers_only(manager_client, rep_client):
    assert UPLOAD_URL in manager_client.get(reverse("sales:order-list")).text
    assert UPLOAD_URL not in rep_client.get(reverse("sales:order-list")).text
