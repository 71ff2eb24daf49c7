"""Writes of the order import: validated rows COPYed into a temporary table and inserted in one statement."""

import time
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TextIO

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exchange import RateBook
from crm.lib.money import MONEY_MAX
from customers.services import customers_create_for_import
from sales.importing import OrderImportReport, OrderRow, read_orders
from sales.models import Order, OrderImport
from sales.reporting_totals import converted_sql
from sales.services import DealRuleError
from sales.signals import orders_imported

# Bulk: no Order.save(), no order_placed signal per order (analytics reads the orders table
# nightly anyway) but one orders_imported signal with the new orders' id range after commit
# (marketing awards their loyalty points and coupon conversions in the background), no
# history for the customers it creates. Existing orders are never changed: a row whose
# number is already taken counts as "already present".


class OrderImportRejected(Exception):
    """Some rows are invalid: nothing was written. `report` lists the rows and why."""

    def __init__(self, report):
        super().__init__(f"{report.error_rows} rows have errors; nothing was imported.")
        self.report = report


_STAGE_TABLE = "sales_order_import_stage"
_KNOWN_CHUNK = {"postgresql": 20_000}  # external ids per IN (...) query; 500 elsewhere


def _known_customers(external_ids: set[str], known: dict[str, int]) -> None:
    """Add the ids of the customers with these external ids to `known` (a few IN queries)."""
    from customers.models import Customer

    todo = sorted(external_ids - known.keys())
    size = _KNOWN_CHUNK.get(connection.vendor, 500)
    for start in range(0, len(todo), size):
        rows = Customer.objects.filter(external_id__in=todo[start : start + size]).values_list(
            "external_id", "pk"
        )
        known.update(rows)


def _copy_text(rows) -> str:
    """The rows in COPY's text format, built by joining strings (psycopg's write_row per row
    costs several times more); the rare cell with a tab, newline or backslash is escaped."""
    lines: list[str] = []
    append = lines.append
    for row in rows:
        line = (
            f"{row.line}\t{row.external_id}\t{row.number}\t{row.ordered_at}\t"
            f"{row.channel}\t{row.total}\t{row.currency}\t{row.coupon_code}"
        )
        if "\\" in line or "\n" in line or "\r" in line or line.count("\t") != 7:
            line = "\t".join(_copy_escape(str(value)) for value in row[:3]) + (
                f"\t{row.ordered_at}\t{row.channel}\t{row.total}\t{row.currency}\t"
                f"{_copy_escape(row.coupon_code)}"
            )
        append(line)
    append("")
    return "\n".join(lines)


def _copy_escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


class _PostgresStage:
    """The valid rows COPYed into a temporary table, inserted with one INSERT ... SELECT."""

    def __init__(self, cursor: CursorWrapper) -> None:
        self.cursor = cursor
        self.count = 0
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(f"DROP TABLE IF EXISTS {_STAGE_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_STAGE_TABLE} (line integer, external_id varchar(100),"
            " number varchar(50), ordered_at timestamptz, channel varchar(10),"
            " total numeric(14, 2), currency varchar(3), coupon_code varchar(50))"
            " ON COMMIT DROP"
        )

    def known(self, chunk: list[OrderRow], report: OrderImportReport, missing) -> list[OrderRow]:
        return chunk  # every valid row is staged; check_customers finds the unknown ones

    def check_customers(self, report: OrderImportReport, missing: dict[str, None] | None) -> None:
        """The staged rows whose customer does not exist: errors, or customers to create.

        One anti-join once the file is staged, instead of looking the external ids up
        from Python chunk by chunk (a fifth of the import's time on 1,000,000 rows).
        """
        self.cursor.execute(f"ANALYZE {_STAGE_TABLE}")
        self.cursor.execute(
            "SELECT s.line, s.external_id FROM sales_order_import_stage s WHERE NOT EXISTS"
            " (SELECT 1 FROM customers_customer c WHERE c.external_id = s.external_id"
            " AND c.external_id <> '') ORDER BY s.line"
        )
        unknown = self.cursor.fetchall()
        for line, external_id in unknown:
            _unknown_customer(line, external_id, report, missing)
        if missing is None:
            self.count -= len(unknown)  # staged, but never inserted (the join skips them)

    def add(self, rows: list[OrderRow]) -> None:
        with self.cursor.cursor.copy(
            f"COPY {_STAGE_TABLE} (line, external_id, number, ordered_at, channel,"
            " total, currency, coupon_code) FROM STDIN"
        ) as copy:
            copy.write(_copy_text(rows))
        self.count += len(rows)

    def insert(self) -> tuple[int, int | None, int | None]:
        """Write the orders whose numbers are free: (how many, the first and last new id).

        The rows whose numbers are taken leave the stage first, so the INSERT is a plain
        one: ON CONFLICT DO NOTHING made every row a speculative insertion (a lock and a
        second index probe per row, a third of the statement). A separate statement, not
        an anti-join in the INSERT: planned on an empty sales_order, that was a nested loop
        scanning the table as the statement grew it. A number a concurrent writer commits
        in between raises a unique violation: the INSERT is then run again with ON
        CONFLICT DO NOTHING, which skips it."""
        self.cursor.execute(
            "DELETE FROM sales_order_import_stage s USING sales_order o WHERE o.number = s.number"
        )
        try:
            with transaction.atomic():
                self.cursor.execute(*self._insert_sql(""))
        except IntegrityError as error:
            if _violated_constraint(error) != _ORDER_NUMBER_UNIQUE:
                raise
            self.cursor.execute(*self._insert_sql(_SKIP_TAKEN_NUMBERS))
        created, first_id, last_id = self.cursor.fetchone()
        self.cursor.execute(f"DROP TABLE {_STAGE_TABLE}")
        return created, first_id, last_id

    @staticmethod
    def _insert_sql(numbers: str) -> tuple[str, list]:
        reporting, params = converted_sql("s.total", "s.currency", "s.ordered_at")
        insert = (
            "WITH inserted AS (INSERT INTO sales_order (customer_id, number, ordered_at,"
            " channel, total, currency, total_reporting, coupon_code, created_at)"
            " SELECT c.id, s.number, s.ordered_at, s.channel, s.total, s.currency,"
            " {reporting}, s.coupon_code, now()"
            " FROM sales_order_import_stage s JOIN customers_customer c"
            " ON c.external_id = s.external_id AND c.external_id <> '' {numbers} RETURNING id)"
            " SELECT count(*), min(id), max(id) FROM inserted"
        )
        return insert.format(reporting=reporting, numbers=numbers), params


_ORDER_NUMBER_UNIQUE = "order_number_unique"
_SKIP_TAKEN_NUMBERS = "ON CONFLICT (number) DO NOTHING"


def _violated_constraint(error: IntegrityError) -> str | None:
    """The name of the constraint PostgreSQL reports (psycopg's diagnostics)."""
    return getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)


class _ListStage:
    """The valid rows kept in a list, inserted with batched bulk_create(ignore_conflicts)."""

    BATCH = 2000

    def __init__(self) -> None:
        self.rows: list[OrderRow] = []
        self.count = 0
        self.known_ids: dict[str, int] = {}

    def known(self, chunk: list[OrderRow], report: OrderImportReport, missing) -> list[OrderRow]:
        """The rows whose customer exists, or will (`missing` collects them when customers
        are created); the others are errors in `report`."""
        _known_customers({row.external_id for row in chunk}, self.known_ids)
        rows = []
        for row in chunk:
            if row.external_id in self.known_ids:
                rows.append(row)
            else:
                _unknown_customer(row.line, row.external_id, report, missing)
                if missing is not None:
                    rows.append(row)
        return rows

    def check_customers(self, report: OrderImportReport, missing: dict[str, None] | None) -> None:
        pass  # checked chunk by chunk (known)

    def add(self, rows: list[OrderRow]) -> None:
        self.rows.extend(rows)
        self.count += len(rows)

    def insert(self) -> tuple[int, int | None, int | None]:
        known = self.known_ids
        _known_customers({row.external_id for row in self.rows}, known)  # the ones created
        before = Order.objects.count()
        first_id = (Order.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
        now = timezone.now()
        book = RateBook.load(row.currency for row in self.rows)
        for start in range(0, len(self.rows), self.BATCH):
            Order.objects.bulk_create(
                [
                    Order(
                        customer_id=known[row.external_id],
                        number=row.number,
                        ordered_at=datetime.fromisoformat(row.ordered_at),
                        channel=row.channel,
                        total=Decimal(row.total),
                        currency=row.currency,
                        total_reporting=_within_column(
                            book.convert(
                                Decimal(row.total),
                                row.currency,
                                timezone.localdate(datetime.fromisoformat(row.ordered_at)),
                            )
                        ),
                        coupon_code=row.coupon_code,
                        created_at=now,
                    )
                    for row in self.rows[start : start + self.BATCH]
                ],
                ignore_conflicts=True,
            )
        last_id = Order.objects.aggregate(last=Max("pk"))["last"]
        return Order.objects.count() - before, first_id, last_id


def _within_column(amount: Decimal | None) -> Decimal | None:
    return amount if amount is not None and amount <= MONEY_MAX else None


def _unknown_customer(
    line: int, external_id: str, report: OrderImportReport, missing: dict[str, None] | None
) -> None:
    """A row whose customer does not exist: a customer to create (in the file's order) when
    `missing` collects them, else an error."""
    if missing is not None:
        missing[external_id] = None
        return
    report.unknown_customers.add(external_id)
    report.unknown_customer_rows += 1
    report.add_error(
        line,
        "customer_external_id",
        _("No customer has the external id “%(id)s”.") % {"id": external_id},
    )


@transaction.atomic
def order_import(
    *,
    source: TextIO,
    create_customers: bool = False,
    dry_run: bool = False,
    owner: User | None = None,
) -> OrderImportReport:
    """Import the orders of the CSV text stream `source`: all of them, or none.

    Rows are validated in chunks as they are read (sales.importing.read_orders). On PostgreSQL
    the valid rows are COPYed into a temporary table, then one INSERT ... SELECT joins the
    customers by external id and skips the numbers already taken (ON CONFLICT DO NOTHING);
    elsewhere batched bulk_create(ignore_conflicts=True). A row whose customer is unknown is an
    error unless `create_customers`, which creates the missing customers first (owned by
    `owner`). Any invalid row: OrderImportRejected and nothing is written. `dry_run` does
    everything, then rolls back, and returns the report with the errors instead of raising.
    """
    report = OrderImportReport(dry_run=dry_run)
    started = time.perf_counter()
    missing: dict[str, None] | None = {} if create_customers else None  # in the file's order
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        stage = _PostgresStage(cursor) if postgres else _ListStage()
        for chunk in read_orders(source, report):
            rows = stage.known(chunk, report, missing)
            # After an error only read on, for the whole file's errors (PostgreSQL still
            # stages the rows: it finds the unknown customers among them).
            if not report.error_rows or dry_run or postgres:
                stage.add(rows)
        stage.check_customers(report, missing)
        if report.error_rows and not dry_run:
            raise OrderImportRejected(report)
        report.timings["read and stage"] = time.perf_counter() - started
        if missing:
            report.customers_created = customers_create_for_import(
                external_ids=list(missing), owner=owner
            )
        started = time.perf_counter()
        report.created, first_id, last_id = stage.insert()
    report.timings["insert"] = time.perf_counter() - started
    report.already_present = stage.count - report.created
    if dry_run:
        transaction.set_rollback(True)
    elif report.created:
        # Robust: the orders are committed; a receiver failing (a broker down) is logged,
        # not turned into an error page, and marketing's nightly catch-up redoes its part.
        transaction.on_commit(
            lambda: orders_imported.send(sender=Order, first_id=first_id, last_id=last_id),
            robust=True,
        )
    return report


@transaction.atomic
def order_import_create(*, user: User, file_name: str, text: str, row_count: int) -> OrderImport:
    """Keep an uploaded order file for its preview; refuse it (ValidationError) while the
    user has CRM_IMPORT_MAX_PENDING files waiting."""
    User.objects.select_for_update().filter(pk=user.pk).first()  # one upload at a time
    limit = settings.CRM_IMPORT_MAX_PENDING
    pending = OrderImport.objects.filter(user=user, status=OrderImport.Status.PENDING)
    if pending.count() >= limit:
        raise ValidationError(
            _(
                "You have %(count)d imports waiting for confirmation. Import or cancel one "
                "of them before uploading another file."
            )
            % {"count": limit},
            code="too_many_pending",
        )
    return OrderImport.objects.create(
        user=user, file_name=file_name[:255], text=text, row_count=row_count
    )


@transaction.atomic
def order_import_apply(
    *, upload: OrderImport, user: User, create_customers: bool = False
) -> OrderImportReport:
    """Import a previewed upload (all rows or none): its report; raises OrderImportRejected.

    Customers are created only when asked and the user may create customers; they belong
    to the user.
    """
    import io

    upload = OrderImport.objects.select_for_update().get(pk=upload.pk)
    if upload.status != OrderImport.Status.PENDING:
        raise DealRuleError(_("This file was already imported or cancelled."))
    report = order_import(
        source=io.StringIO(upload.text, newline=""),
        create_customers=create_customers and user.has_perm("customers.add_customer"),
        owner=user,
    )
    upload.status = OrderImport.Status.APPLIED
    upload.created_count = report.created
    upload.existing_count = report.already_present
    upload.customers_created_count = report.customers_created
    upload.applied_at = timezone.now()
    upload.text = ""  # the orders are written: the file (customers' ids) is not kept
    upload.save()
    return report


@transaction.atomic
def order_import_cancel(*, upload: OrderImport) -> None:
    OrderImport.objects.filter(pk=upload.pk, status=OrderImport.Status.PENDING).update(
        status=OrderImport.Status.CANCELLED, text=""
    )


@transaction.atomic
def order_imports_purge_stale(*, now: datetime | None = None) -> int:
    """The import sweep: files left waiting for CRM_IMPORT_KEEP_DAYS are cancelled and
    emptied; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.CRM_IMPORT_KEEP_DAYS)
    return OrderImport.objects.filter(
        status=OrderImport.Status.PENDING, created_at__lt=cutoff
    ).update(status=OrderImport.Status.CANCELLED, text="")
