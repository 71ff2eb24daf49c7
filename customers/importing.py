"""Customer CSV import: read an uploaded file, validate every row, find the customers it changes.

Nothing here writes. The preview shows an `ImportAnalysis`; `customers.services.
customer_import_apply` analyses the stored text again (the data may have changed since the
preview) and writes the rows. The layout is `customers.csv_format.COLUMNS`, the export's.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from crm.lib.csv_import import ROW_ERROR, STRAY_CELLS, PreviewRow, RowValidator
from crm.lib.uploads import ImportFileError
from customers.csv_format import TAG_SEPARATOR
from customers.import_csv import parse_csv
from customers.import_rows import (
    OPTIONAL_CHOICES,
    REQUIRED_CHOICES,
    TEXT_FIELDS,
    ImportContext,
    customer_columns,
)
from customers.models import Customer, CustomerImport
from customers.selectors import can_edit_customer

_QUERY_CHUNK = 500  # values per IN (...) query; SQLite allows 999 variables in old versions

CREATE = "create"
UPDATE = "update"
UNCHANGED = "unchanged"

# ---------------------------------------------------------------------------------------------
# Analysing the file: what each row would do


@dataclass
class Cell:
    column: str
    value: str
    errors: list[str]
    changed: bool
    old: str  # the current value, for a changed cell of an update


@dataclass
class RowResult(PreviewRow):
    action: str = ""  # CREATE, UPDATE or UNCHANGED; "" when it cannot be told
    customer: Customer | None = None
    data: dict[str, Any] = field(default_factory=dict)  # Customer fields to write
    owner: Any = ...  # the owner to set; ... leaves it
    tags: list[str] | None = None  # tag names to set; None leaves them
    changed: dict[str, str] = field(default_factory=dict)  # field -> current value, for updates
    columns: list[str] = field(default_factory=list)  # the file's columns, in its order

    @property
    def cell_list(self) -> list[Cell]:
        """The row's cells in the file's column order, with their errors and changes."""
        return [
            Cell(
                column=column,
                value=self.cells.get(column, ""),
                errors=self.errors.get(column, []),
                changed=column in self.changed,
                old=self.changed.get(column, ""),
            )
            for column in self.columns
        ]


@dataclass
class ImportAnalysis:
    columns: list[str]
    rows: list[RowResult]

    def _count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.ok and row.action == action)

    @property
    def create_count(self) -> int:
        return self._count(CREATE)

    @property
    def update_count(self) -> int:
        return self._count(UPDATE)

    @property
    def unchanged_count(self) -> int:
        return self._count(UNCHANGED)

    @property
    def error_count(self) -> int:
        return sum(1 for row in self.rows if not row.ok)

    @property
    def without_key_count(self) -> int:
        """Valid new rows without external id or email: importing the file again adds them again."""
        return sum(
            1
            for row in self.rows
            if row.ok
            and row.action == CREATE
            and not row.data.get("external_id")
            and not row.data.get("email")
        )

    def rows_with(self, show: str) -> list[RowResult]:
        if show == "errors":
            return [row for row in self.rows if not row.ok]
        if show in (CREATE, UPDATE, UNCHANGED):
            return [row for row in self.rows if row.ok and row.action == show]
        return self.rows


def _chunks(values: list, size: int = _QUERY_CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass
class _Checked:
    """A row after validation: its cleaned values and its errors, by column."""

    cleaned: dict[str, Any]
    errors: dict[str, list[str]]

    def key(self, name: str) -> str:
        """A valid, non-empty key cell (external_id or email), or ""."""
        return "" if name in self.errors else self.cleaned.get(name) or ""


def _existing_customers(checked: list[_Checked]) -> tuple[dict, dict]:
    """Customers with the file's external ids, and with the emails of the rows that need them.

    A few IN (...) queries for the whole file, not one per row.
    """
    external_ids = sorted({row.key("external_id") for row in checked} - {""})
    by_external_id = {}
    for chunk in _chunks(external_ids):
        for customer in Customer.objects.filter(external_id__in=chunk):
            by_external_id[customer.external_id] = customer
    # By email only the rows without an external id, or with one no customer has yet.
    emails = sorted(
        {
            row.key("email")
            for row in checked
            if row.key("email") and row.key("external_id") not in by_external_id
        }
    )
    by_email = defaultdict(list)
    for chunk in _chunks(emails):
        matches = Customer.objects.annotate(email_lower=Lower("email")).filter(
            email_lower__in=chunk
        )
        for customer in matches.order_by("pk"):
            by_email[customer.email_lower].append(customer)
    return by_external_id, by_email


def _tag_names(customers) -> dict[int, list[str]]:
    """The tag names of each customer, sorted (one query per chunk, no model instances)."""
    names = defaultdict(list)
    through = Customer.tags.through
    for chunk in _chunks(sorted({customer.pk for customer in customers})):
        rows = through.objects.filter(customer_id__in=chunk).values_list("customer_id", "tag__name")
        for customer_id, name in rows:
            names[customer_id].append(name)
    return {pk: sorted(tag_names) for pk, tag_names in names.items()}


def analyse_import(text: str, *, user: User) -> ImportAnalysis:
    """What importing `text` as `user` would do, row by row; writes nothing.

    A row is matched to an existing customer by its external id; when it has none (or no
    customer has it) by email, case-insensitively, provided that customer has no other
    external id. A matched row updates the customer, others create one.
    """
    parsed = parse_csv(text)
    context = ImportContext(user)
    validate = RowValidator(customer_columns(context), parsed.columns)
    checked = [_Checked(*validate.by_name(list(row.cells.values()))) for row in parsed.rows]
    by_external_id, by_email = _existing_customers(checked)
    if "tags" in parsed.columns:
        matched = [*by_external_id.values(), *(c for cs in by_email.values() for c in cs)]
        context.current_tags = _tag_names(matched)
    present = set(parsed.columns)
    matcher = _Matcher(by_external_id, by_email)
    results = []
    for parsed_row, check in zip(parsed.rows, checked, strict=True):
        row = RowResult(line=parsed_row.line, cells=parsed_row.cells, columns=parsed.columns)
        for name, errors in check.errors.items():
            for error in errors:
                row.add_error(name, error)
        if parsed_row.stray_cells:
            row.add_error(ROW_ERROR, STRAY_CELLS)
        customer = matcher.match(row, check)
        if "external_id" not in check.errors and "email" not in check.errors:
            _plan(row, check.cleaned, present, customer, context)
        results.append(row)
    return ImportAnalysis(columns=parsed.columns, rows=results)


class _Matcher:
    """Finds the customer each row changes; the second row with the same key is an error."""

    def __init__(self, by_external_id: dict[str, Customer], by_email: dict[str, list[Customer]]):
        self.by_external_id, self.by_email = by_external_id, by_email
        self.seen_external_ids: dict[str, int] = {}
        self.seen_emails: dict[str, int] = {}
        self.seen_customers: dict[int, int] = {}

    def match(self, row: RowResult, check: _Checked) -> Customer | None:
        external_id, email = check.key("external_id"), check.key("email")
        customer = None
        if external_id:
            customer = self._by_external_id(row, external_id, email)
        elif email:
            customer = self._by_email(row, email)
        if customer is not None:
            if customer.pk in self.seen_customers:
                row.add_error(
                    ROW_ERROR,
                    _("Line %(line)d already changes this customer.")
                    % {"line": self.seen_customers[customer.pk]},
                )
            self.seen_customers.setdefault(customer.pk, row.line)
        return customer

    def _by_external_id(self, row: RowResult, external_id: str, email: str) -> Customer | None:
        if external_id in self.seen_external_ids:
            row.add_error(
                "external_id",
                _("Line %(line)d already has this external id.")
                % {"line": self.seen_external_ids[external_id]},
            )
        self.seen_external_ids.setdefault(external_id, row.line)
        customer = self.by_external_id.get(external_id)
        if customer is None and email:
            unlinked = [c for c in self.by_email.get(email, []) if not c.external_id]
            customer = unlinked[0] if len(unlinked) == 1 else None
        return customer

    def _by_email(self, row: RowResult, email: str) -> Customer | None:
        if email in self.seen_emails:
            row.add_error(
                "email",
                _("Line %(line)d already has this email; add external ids to tell them apart.")
                % {"line": self.seen_emails[email]},
            )
        self.seen_emails.setdefault(email, row.line)
        matches = self.by_email.get(email, [])
        if len(matches) > 1:
            row.add_error(
                "email",
                _(
                    "%(count)d customers have this email; add an external_id column to say which one is meant."
                )
                % {"count": len(matches)},
            )
            return None
        return matches[0] if matches else None


def _plan(row: RowResult, cleaned: dict, present: set[str], customer, context) -> None:
    """Decide what the row does: the fields to write, and whether the importer may."""
    user = context.user
    data: dict[str, Any] = {}
    for name in TEXT_FIELDS + list(OPTIONAL_CHOICES):
        if name in present and name in cleaned:
            data[name] = cleaned[name]
    for name in REQUIRED_CHOICES:
        if cleaned.get(name):
            data[name] = cleaned[name]
    if cleaned.get("external_id"):
        data["external_id"] = cleaned["external_id"]  # an empty cell never unlinks a customer
    if cleaned.get("is_key_account") is not None:
        data["is_key_account"] = cleaned["is_key_account"]
    owner = cleaned.get("owner") or ...
    tags = cleaned.get("tags") if "tags" in present else None
    if customer is None:
        row.action = CREATE
        data.setdefault("source", Customer.Source.IMPORT)
        row.data, row.owner, row.tags = data, (user if owner is ... else owner), tags or []
        if not context.can_create:
            row.add_error(ROW_ERROR, _("You may not create customers."))
        if row.owner != user and not context.can_assign_others:
            row.add_error("owner", _("You may only import customers for yourself."))
        return
    row.customer = customer
    for name, value in data.items():
        current = getattr(customer, name)
        if current != value:
            row.changed[name] = _display(customer, name)
    if owner is not ... and owner.pk != customer.owner_id:
        row.changed["owner"] = context.username(customer.owner_id)
    current_tags = context.current_tags.get(customer.pk, [])
    if tags is not None and sorted(n.lower() for n in tags) != sorted(
        n.lower() for n in current_tags
    ):
        row.changed["tags"] = TAG_SEPARATOR.join(current_tags)
    row.data, row.owner, row.tags = data, owner, tags
    row.action = UPDATE if row.changed else UNCHANGED
    if row.action == UPDATE and not can_edit_customer(user, customer):
        row.add_error(ROW_ERROR, _("You may not change this customer."))
    elif "owner" in row.changed and owner != user and not context.can_assign_others:
        row.add_error("owner", _("You may only give customers to yourself."))


def _display(customer: Customer, name: str) -> str:
    value = getattr(customer, name)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def rows_not_imported(customer_import: CustomerImport) -> tuple[list[str], list[RowResult]]:
    """The file's columns and the rows its import skipped, with the errors they had then.

    An applied import keeps only those rows (cells and errors), not its file."""
    if not customer_import.text:
        skipped = customer_import.row_errors
        columns = list(skipped[0].get("cells", {})) if skipped else []
        return columns, [
            RowResult(
                line=item["line"],
                cells=item.get("cells", {}),
                errors=item["errors"],
                columns=columns,
            )
            for item in skipped
        ]
    try:
        parsed = parse_csv(customer_import.text)
    except ImportFileError:
        return [], []
    cells = {row.line: row.cells for row in parsed.rows}
    rows = [
        RowResult(
            line=item["line"],
            cells=cells.get(item["line"], {}),
            errors=item["errors"],
            columns=parsed.columns,
        )
        for item in customer_import.row_errors
    ]
    return parsed.columns, rows


def imports_of(user) -> QuerySet[CustomerImport]:
    """A user sees only their own imports (a file held for its columns is not one yet)."""
    return CustomerImport.objects.filter(user=user).exclude(status=CustomerImport.Status.MAPPING)
