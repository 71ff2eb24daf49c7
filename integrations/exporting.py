"""The full export: every table users created as CSV files, with a manifest to check them by.

Each table is read in primary-key order through a server-side cursor (`iterator`), so memory
stays flat however large the database is, and written through the shared CSV writer
(`crm.lib.csv_export`, `exact=True`): a text cell a spreadsheet would run as a formula, or that
starts with ', gets a ' in front, which `import_all` removes again (`restore_cell`), so every
value comes back exactly. The whole export reads one snapshot (on PostgreSQL a REPEATABLE READ
transaction), so the files agree with each other even while users keep working.

Two more files are written in the layouts of the existing importers, for moving data into
another CRM installation without the restore: `import/customers.csv` (the customer import's
columns) and `import/orders.csv` (`manage.py import_orders`).
"""

import hashlib
import json
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from uuid import UUID

from django.conf import settings
from django.db import connection, models, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from crm.lib.csv_export import csv_lines
from customers.csv_format import COLUMNS as CUSTOMER_COLUMNS
from customers.csv_format import customer_row
from customers.models import Customer
from integrations.tables import columns_of, exported_models, file_name_of, label_of
from sales.importing import COLUMNS as ORDER_COLUMNS
from sales.models import Order

FORMAT = "crm-export/1"
MANIFEST = "manifest.json"
CHUNK_ROWS = 2000
CUSTOMERS_IMPORT_FILE = "import/customers.csv"
ORDERS_IMPORT_FILE = "import/orders.csv"
ESCAPING = (
    "Cells are CSV (RFC 4180, UTF-8, no byte order mark). An empty cell is NULL where the "
    "column allows NULL and is not text, else empty text. A cell that starts with ' had one ' "
    "added on export (so spreadsheets do not run it as a formula): remove exactly that one. "
    "Times are ISO 8601 with their UTC offset; JSON columns hold JSON text."
)


@dataclass
class ExportedFile:
    file: str
    rows: int
    columns: list[str]
    sha256: str
    table: str = ""  # the database table ("" for the importer-layout files)
    model: str = ""
    importer: str = ""


@dataclass
class ExportReport:
    directory: Path
    files: list[ExportedFile] = field(default_factory=list)


def cell_value(value: object) -> object:
    """A stored value as the CSV writer takes it: numbers and text as they are, times in ISO."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, UUID | timedelta):
        return str(value)
    return value


def _write(path: Path, rows: Iterable[Iterable[object]], *, exact: bool = True) -> tuple[int, str]:
    """Write `rows` (the header first) to `path`; return the data rows and the file's sha256.
    `exact=False` escapes as every other export does, which the importers undo."""
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    count = -1  # the header is not a row
    with path.open("wb") as out:
        for line in csv_lines(rows, bom=False, exact=exact):
            data = line.encode("utf-8")
            digest.update(data)
            out.write(data)
            count += 1
    return max(count, 0), digest.hexdigest()


def _table_rows(model: type[models.Model], fields: list[models.Field]) -> Iterator[list]:
    yield [f.attname for f in fields]
    queryset = model._base_manager.order_by("pk").values_list(*(f.attname for f in fields))
    for values in queryset.iterator(chunk_size=CHUNK_ROWS):
        yield [cell_value(value) for value in values]


def export_table(directory: Path, model: type[models.Model]) -> ExportedFile:
    fields = columns_of(model)
    name = file_name_of(model)
    rows, sha256 = _write(directory / name, _table_rows(model, fields))
    return ExportedFile(
        file=name,
        rows=rows,
        columns=[f.attname for f in fields],
        sha256=sha256,
        table=model._meta.db_table,
        model=label_of(model),
    )


def _customer_import_rows() -> Iterator[list]:
    yield CUSTOMER_COLUMNS
    customers = Customer.objects.order_by("pk").select_related("owner").prefetch_related("tags")
    for customer in customers.iterator(chunk_size=CHUNK_ROWS):
        yield customer_row(customer)


def _order_import_rows() -> Iterator[list]:
    """Orders of customers with an external id (import_orders finds customers by it)."""
    yield ORDER_COLUMNS
    orders = (
        Order.objects.exclude(customer__external_id="")
        .order_by("pk")
        .values_list(
            "customer__external_id",
            "ordered_at",
            "total",
            "number",
            "channel",
            "currency",
            "coupon_code",
        )
    )
    for values in orders.iterator(chunk_size=CHUNK_ROWS):
        yield [cell_value(value) for value in values]


def _importer_file(directory: Path, name: str, rows: Iterator[list], importer: str) -> ExportedFile:
    header = next(rows)
    count, sha256 = _write(directory / name, _with_header(header, rows), exact=False)
    return ExportedFile(
        file=name, rows=count, columns=list(header), sha256=sha256, importer=importer
    )


def _with_header(header: list, rows: Iterator[list]) -> Iterator[list]:
    yield header
    yield from rows


def app_version() -> str:
    pyproject = Path(settings.BASE_DIR) / "pyproject.toml"
    try:
        return tomllib.loads(pyproject.read_text())["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def migration_state() -> dict[str, list[str]]:
    """The applied migrations per app, as recorded in django_migrations."""
    state: dict[str, list[str]] = {}
    for app_label, name in sorted(MigrationRecorder(connection).applied_migrations()):
        state.setdefault(app_label, []).append(name)
    return state


def _begin_snapshot(*, outermost: bool) -> None:
    """One snapshot for every table (the first statement of the export's own transaction;
    inside a caller's transaction, the caller's isolation holds)."""
    if connection.vendor == "postgresql" and outermost:
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")


def export_all(*, directory: Path) -> ExportReport:
    """Write every exported table and the importer-layout files to `directory`, then the
    manifest (last, so a directory with a manifest holds a finished export)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MANIFEST).unlink(missing_ok=True)
    report = ExportReport(directory=directory)
    exported_at = timezone.now()
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        _begin_snapshot(outermost=outermost)
        for model in exported_models():
            report.files.append(export_table(directory, model))
        report.files.append(
            _importer_file(
                directory, CUSTOMERS_IMPORT_FILE, _customer_import_rows(), "customer import"
            )
        )
        report.files.append(
            _importer_file(
                directory, ORDERS_IMPORT_FILE, _order_import_rows(), "manage.py import_orders"
            )
        )
        migrations = migration_state()
    manifest = {
        "format": FORMAT,
        "exported_at": exported_at.isoformat(),
        "app_version": app_version(),
        "database": connection.vendor,
        "migrations": migrations,
        "escaping": ESCAPING,
        "tables": [_without(asdict(f), "importer") for f in report.files if f.table],
        "import_files": [_without(asdict(f), "table", "model") for f in report.files if f.importer],
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return report


def read_manifest(directory: Path) -> dict:
    return json.loads((directory / MANIFEST).read_text())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _without(entry: dict[str, object], *keys: str) -> dict[str, object]:
    return {key: value for key, value in entry.items() if key not in keys}
