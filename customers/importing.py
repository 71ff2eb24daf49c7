"""Customer CSV import: read an uploaded file, validate every row, find the customers it changes.

Nothing here writes. The preview shows an `ImportAnalysis`; `customers.services.
customer_import_apply` analyses the stored text again (the data may have changed since the
preview) and writes the rows. The layout is `customers.csv_format.COLUMNS`, the export's.
"""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import MaxLengthValidator
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from crm.lib.uploads import ImportFileError, decode_upload
from customers.csv_format import _FORMULA_PREFIXES, COLUMNS, TAG_SEPARATOR
from customers.models import Channel, Customer, CustomerImport, Tag
from customers.selectors import can_edit_customer, customer_owners

MAX_ROWS = 20_000
REQUIRED_COLUMNS = ["name"]
MAX_TAGS_PER_ROW = 50
_QUERY_CHUNK = 500  # values per IN (...) query; SQLite allows 999 variables in old versions

CREATE = "create"
UPDATE = "update"
UNCHANGED = "unchanged"
ROW_ERROR = "__all__"

# Text fields: the cell is the value; an empty cell empties the field.
_TEXT_FIELDS = [
    "name",
    "organization",
    "email",
    "phone",
    "country",
    "region",
    "city",
    "address",
    "industry",
]
# Choice fields that must have a value: an empty cell keeps it (or takes the default).
_REQUIRED_CHOICES = {"kind": Customer.Kind, "source": Customer.Source, "stage": Customer.Stage}
# Choice fields that may be empty: an empty cell empties them.
_OPTIONAL_CHOICES = {"company_size": Customer.Size, "preferred_channel": Channel}
_CHOICES = {**_REQUIRED_CHOICES, **_OPTIONAL_CHOICES}
_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0"}


@dataclass
class ParsedRow:
    line: int  # where the row starts in the file; the header is line 1
    cells: dict[str, str]
    stray_cells: bool = False  # values beyond the header's columns


@dataclass
class ParsedFile:
    columns: list[str]
    rows: list[ParsedRow]


def _delimiter(text: str) -> str:
    """Comma, unless the header line clearly uses semicolons or tabs (some spreadsheet locales)."""
    first_line = text.split("\n", 1)[0]
    if "," not in first_line:
        for candidate in (";", "\t"):
            if candidate in first_line:
                return candidate
    return ","


def unescape_cell(value: str | None) -> str:
    """The cell without surrounding spaces and without the ' our export puts before formulas."""
    text = (value or "").strip()
    if text.startswith("'") and text[1:].startswith(_FORMULA_PREFIXES):
        text = text[1:].strip()
    return text


def _quote_names(names) -> str:
    shown = [f"“{Truncator(name).chars(40)}”" for name in list(names)[:10]]
    if len(names) > 10:
        shown.append("…")
    return ", ".join(shown)


def _check_header(fieldnames: list[str] | None) -> list[str]:
    if not fieldnames or not any(name.strip() for name in fieldnames):
        raise ImportFileError(_("The file is empty."))
    columns = [name.strip().lower() for name in fieldnames]
    problems = []
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        problems.append(
            _(
                "The first line must name the columns, and it has no %(columns)s column. "
                "Download the template to see the layout."
            )
            % {"columns": _quote_names(missing)}
        )
    unknown = list(dict.fromkeys(c for c in columns if c and c not in COLUMNS))
    if unknown:
        problems.append(
            _("Unknown columns: %(unknown)s. The columns you can import are: %(known)s.")
            % {"unknown": _quote_names(unknown), "known": ", ".join(COLUMNS)}
        )
    twice = list(dict.fromkeys(c for c in columns if c and columns.count(c) > 1))
    if twice:
        problems.append(
            _("These columns appear more than once: %(columns)s.")
            % {"columns": _quote_names(twice)}
        )
    if problems:
        raise ImportFileError(*problems)
    return columns


def parse_csv(text: str) -> ParsedFile:
    """The header and the rows of the file; raises ImportFileError for a file it cannot use."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows = []
    try:
        columns = _check_header(next(reader, None))
        line = reader.line_num + 1
        for record in reader:
            cells = {column: "" for column in columns if column}
            stray_cells = False
            for index, value in enumerate(record):
                column = columns[index] if index < len(columns) else ""
                if column:
                    cells[column] = unescape_cell(value)
                elif value.strip():
                    stray_cells = True  # beyond the header, or under a column without a name
            if any(cells.values()) or stray_cells:
                if len(rows) == MAX_ROWS:
                    raise ImportFileError(
                        _("The file has more than %(max)s rows; split it into smaller files.")
                        % {"max": f"{MAX_ROWS:,}"}
                    )
                rows.append(ParsedRow(line=line, cells=cells, stray_cells=stray_cells))
            line = reader.line_num + 1
    except csv.Error as error:
        raise ImportFileError(
            _("Line %(line)d cannot be read as CSV: %(error)s")
            % {"line": reader.line_num, "error": error}
        ) from error
    if not rows:
        raise ImportFileError(_("The file has a header but no rows of customers below it."))
    return ParsedFile(columns=[c for c in columns if c], rows=rows)


def read_upload(data: bytes) -> tuple[str, ParsedFile]:
    """Decode and parse an uploaded file: its text (to store) and what it holds."""
    text = decode_upload(data)
    return text, parse_csv(text)


# ---------------------------------------------------------------------------------------------
# Validating a row


class ImportContext:
    """What every row of one file is checked against: read once, not once per row."""

    def __init__(self, user):
        self.user = user
        self.can_create = user.has_perm("customers.add_customer")
        self.can_assign_others = user.has_perm("customers.change_any_customer")
        self.can_add_tags = user.has_perm("customers.add_tag")
        self.owners: dict[str, Any] = {}
        self.usernames: dict[int, str] = {}
        self.current_tags: dict[int, list[str]] = {}  # customer pk -> tag names
        self.owners_lower: dict[str, list] = defaultdict(list)
        for owner in customer_owners():
            self.owners[owner.get_username()] = owner
            self.owners_lower[owner.get_username().lower()].append(owner)
            self.usernames[owner.pk] = owner.get_username()
        self.tags = {name.lower(): name for name in Tag.objects.values_list("name", flat=True)}
        self.choices = {name: _choice_lookup(choices) for name, choices in _CHOICES.items()}

    def username(self, user_id: int | None) -> str:
        """The username of a customer's current owner, for the preview."""
        if user_id is None:
            return ""
        if user_id not in self.usernames:
            self.usernames[user_id] = (
                get_user_model()
                .objects.filter(pk=user_id)
                .values_list(get_user_model().USERNAME_FIELD, flat=True)
                .first()
                or ""
            )
        return self.usernames[user_id]

    def owner(self, username: str):
        if username in self.owners:
            return self.owners[username]
        matches = self.owners_lower.get(username.lower(), [])
        return matches[0] if len(matches) == 1 else None


def _choice_lookup(choices) -> dict[str, str]:
    """Code, English label and label in the user's language, lower-cased, to the code."""
    lookup = {}
    for code, label in choices.choices:
        lookup[str(label).lower()] = code
        with translation.override("en"):
            lookup[str(label).lower()] = code
    lookup.update({code.lower(): code for code in choices.values})
    return lookup


def _model_field(name: str, **kwargs) -> forms.Field:
    """The form field of the Customer field, with its length limit and validators.

    formfield() leaves the model's own validators (the phone pattern) to the model's
    full_clean; a row is checked before any model exists, so they are added here.
    """
    model_field = Customer._meta.get_field(name)
    form_field = model_field.formfield(**kwargs)
    form_field.validators.extend(
        validator
        for validator in model_field.validators
        if not isinstance(validator, MaxLengthValidator) and validator not in form_field.validators
    )
    return form_field


class CustomerImportRowForm(forms.Form):
    """One CSV row: validates and normalises the cells; never saves."""

    external_id = _model_field("external_id", required=False)
    name = _model_field("name", required=True)
    kind = forms.CharField(required=False)
    organization = _model_field("organization", required=False)
    email = _model_field("email", required=False)
    phone = _model_field("phone", required=False)
    country = _model_field("country", required=False)
    region = _model_field("region", required=False)
    city = _model_field("city", required=False)
    address = _model_field("address", required=False)
    industry = _model_field("industry", required=False)
    company_size = forms.CharField(required=False)
    source = forms.CharField(required=False)
    stage = forms.CharField(required=False)
    owner = forms.CharField(required=False, max_length=150)
    tags = forms.CharField(required=False)
    is_key_account = forms.CharField(required=False)
    preferred_channel = forms.CharField(required=False)

    def __init__(self, data=None, *, context: ImportContext):
        super().__init__(data)
        self.context = context

    def validate(self, cells: dict[str, str]) -> tuple[dict, dict]:
        """Validate one more row with this form: its errors and cleaned values.

        A form instance deep-copies all its fields, which costs more than validating a row;
        one instance re-bound per row keeps a 20,000-row file fast.
        """
        self.data, self.is_bound, self._errors = cells, True, None
        return dict(self.errors), self.cleaned_data

    def _clean_choice(self, name: str) -> str:
        value = self.cleaned_data[name]
        if not value:
            return ""
        code = self.context.choices[name].get(value.lower())
        if code is None:
            raise forms.ValidationError(
                _("“%(value)s” is not one of: %(codes)s.")
                % {"value": Truncator(value).chars(40), "codes": ", ".join(_CHOICES[name].values)}
            )
        return code

    def clean_kind(self):
        return self._clean_choice("kind")

    def clean_company_size(self):
        return self._clean_choice("company_size")

    def clean_source(self):
        return self._clean_choice("source")

    def clean_stage(self):
        return self._clean_choice("stage")

    def clean_preferred_channel(self):
        return self._clean_choice("preferred_channel")

    def clean_email(self):
        return self.cleaned_data["email"].lower()

    def clean_is_key_account(self) -> bool | None:
        value = self.cleaned_data["is_key_account"].lower()
        if not value:
            return None
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise forms.ValidationError(_("Write yes or no (or true/false, 1/0)."))

    def clean_owner(self):
        """The user named by username; whether the importer may choose them is decided later."""
        username = self.cleaned_data["owner"]
        if not username:
            return None
        owner = self.context.owner(username)
        if owner is None:
            raise forms.ValidationError(
                _("“%(name)s” is not the username of an active user who may own customers.")
                % {"name": Truncator(username).chars(40)}
            )
        return owner

    def clean_tags(self) -> list[str]:
        """Tag names separated by “;”, spelled like an existing tag when one matches."""
        names = []
        for part in self.cleaned_data["tags"].split(TAG_SEPARATOR):
            name = part.strip()
            if not name:
                continue
            if len(name) > Tag._meta.get_field("name").max_length:
                raise forms.ValidationError(
                    _("The tag “%(name)s…” is longer than 50 characters.")
                    % {"name": Truncator(name).chars(20)}
                )
            existing = self.context.tags.get(name.lower())
            if existing is None:
                if not self.context.can_add_tags:
                    raise forms.ValidationError(
                        _("There is no tag “%(name)s”, and you may not create tags.")
                        % {"name": name}
                    )
                self.context.tags[name.lower()] = name  # later rows spell the new tag alike
            name = existing or name
            if name.lower() not in (n.lower() for n in names):
                names.append(name)
        if len(names) > MAX_TAGS_PER_ROW:
            raise forms.ValidationError(
                _("Give at most %(max)d tags per customer.") % {"max": MAX_TAGS_PER_ROW}
            )
        return names


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
class RowResult:
    line: int
    cells: dict[str, str]
    action: str = ""  # CREATE, UPDATE or UNCHANGED; "" when it cannot be told
    errors: dict[str, list[str]] = field(default_factory=dict)
    customer: Customer | None = None
    data: dict[str, Any] = field(default_factory=dict)  # Customer fields to write
    owner: Any = ...  # the owner to set; ... leaves it
    tags: list[str] | None = None  # tag names to set; None leaves them
    changed: dict[str, str] = field(default_factory=dict)  # field -> current value, for updates
    columns: list[str] = field(default_factory=list)  # the file's columns, in its order

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def row_errors(self) -> list[str]:
        return self.errors.get(ROW_ERROR, [])

    def add_error(self, column: str, message: str) -> None:
        self.errors.setdefault(column, []).append(str(message))

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
    """A row after the form: its errors and its cleaned values."""

    errors: dict
    cleaned: dict

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


def analyse_import(text: str, *, user) -> ImportAnalysis:
    """What importing `text` as `user` would do, row by row; writes nothing.

    A row is matched to an existing customer by its external id; when it has none (or no
    customer has it) by email, case-insensitively, provided that customer has no other
    external id. A matched row updates the customer, others create one.
    """
    parsed = parse_csv(text)
    context = ImportContext(user)
    form = CustomerImportRowForm(context=context)
    checked = [_Checked(*form.validate(row.cells)) for row in parsed.rows]
    by_external_id, by_email = _existing_customers(checked)
    if "tags" in parsed.columns:
        matched = [*by_external_id.values(), *(c for cs in by_email.values() for c in cs)]
        context.current_tags = _tag_names(matched)
    present = set(parsed.columns)
    seen_external_ids: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    seen_customers: dict[int, int] = {}
    results = []
    for parsed_row, check in zip(parsed.rows, checked, strict=True):
        row = RowResult(line=parsed_row.line, cells=parsed_row.cells, columns=parsed.columns)
        for name, errors in check.errors.items():
            for error in errors:
                row.add_error(name, error)
        if parsed_row.stray_cells:
            row.add_error(ROW_ERROR, _("This row has more cells than the header has columns."))
        external_id, email = check.key("external_id"), check.key("email")
        keys_valid = "external_id" not in check.errors and "email" not in check.errors
        customer = None
        if external_id:
            if external_id in seen_external_ids:
                row.add_error(
                    "external_id",
                    _("Line %(line)d already has this external id.")
                    % {"line": seen_external_ids[external_id]},
                )
            seen_external_ids.setdefault(external_id, row.line)
            customer = by_external_id.get(external_id)
            if customer is None and email:
                unlinked = [c for c in by_email.get(email, []) if not c.external_id]
                customer = unlinked[0] if len(unlinked) == 1 else None
        elif email:
            if email in seen_emails:
                row.add_error(
                    "email",
                    _("Line %(line)d already has this email; add external ids to tell them apart.")
                    % {"line": seen_emails[email]},
                )
            seen_emails.setdefault(email, row.line)
            matches = by_email.get(email, [])
            if len(matches) > 1:
                row.add_error(
                    "email",
                    _(
                        "%(count)d customers have this email; add an external_id column to say which one is meant."
                    )
                    % {"count": len(matches)},
                )
            elif matches:
                customer = matches[0]
        if customer is not None:
            if customer.pk in seen_customers:
                row.add_error(
                    ROW_ERROR,
                    _("Line %(line)d already changes this customer.")
                    % {"line": seen_customers[customer.pk]},
                )
            seen_customers.setdefault(customer.pk, row.line)
        if keys_valid:
            _plan(row, check.cleaned, present, customer, context)
        results.append(row)
    return ImportAnalysis(columns=parsed.columns, rows=results)


def _plan(row: RowResult, cleaned: dict, present: set[str], customer, context) -> None:
    """Decide what the row does: the fields to write, and whether the importer may."""
    user = context.user
    data: dict[str, Any] = {}
    for name in _TEXT_FIELDS + list(_OPTIONAL_CHOICES):
        if name in present and name in cleaned:
            data[name] = cleaned[name]
    for name in _REQUIRED_CHOICES:
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
    """The file's columns and the rows its import skipped, with the errors they had then."""
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
    """A user sees only their own imports."""
    return CustomerImport.objects.filter(user=user)
