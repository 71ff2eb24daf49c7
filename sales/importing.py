"""Order CSV import: read a file of orders as a stream and validate every row; nothing here writes.

The layout is ``customer_external_id,ordered_at,total`` plus the optional columns
``order_number,channel,currency,coupon_code``: a table of columns and their validators over the
shared skeleton `crm.lib.csv_import`. Each validator is a plain function (a compiled pattern,
no form per row): a million rows take a few seconds. Valid rows come out as `OrderRow` tuples,
in chunks of ``settings.CRM_IMPORT_CHUNK_ROWS``; the errors of the others are kept with their
line numbers (the first ``MAX_ERRORS`` of them, and a count of all).

`sales.import_services.order_import` writes the rows (COPY into a staging table on PostgreSQL).

Orders are keyed by their number. A row without ``order_number`` gets a deterministic one,
``IMP-`` and 24 hex digits of a BLAKE2b hash of (customer external id, the time in UTC, the
total with two decimals): importing the same file again finds the same numbers, so it creates
nothing twice.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from hashlib import blake2b
from typing import NamedTuple, TextIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import CharField
from django.utils.functional import Promise
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.lib.csv_export import unescape_cell
from crm.lib.csv_import import (
    ROW_ERROR,
    STRAY_CELLS,
    Column,
    CsvReader,
    Layout,
    PreviewRow,
    chunked,
)
from crm.lib.currencies import normalize_currency
from crm.lib.uploads import check_binary as check_binary  # the commands check files with it
from sales.models import Order

REQUIRED_COLUMNS = ["customer_external_id", "ordered_at", "total"]
OPTIONAL_COLUMNS = ["order_number", "channel", "currency", "coupon_code"]
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
MAX_ERRORS = 1000  # error messages kept; all are counted
SAMPLE_ROWS = 50  # the first rows shown in the preview, with their errors
GENERATED_PREFIX = "IMP-"

_EXTERNAL_ID_MAX = 100


def _order_max_length(field_name: str) -> int:
    """A CharField's max_length (optional on Field in general, always set on these)."""
    field = Order._meta.get_field(field_name)
    if not isinstance(field, CharField) or field.max_length is None:
        raise TypeError(f"Order.{field_name} is not a CharField with a max_length")
    return field.max_length


_NUMBER_MAX = _order_max_length("number")
_COUPON_MAX = _order_max_length("coupon_code")
_TOTAL = re.compile(r"(\d+)(?:\.(\d*))?").fullmatch
_NORMAL_TOTAL = re.compile(r"(?:0|[1-9]\d{0,11})\.\d\d").fullmatch  # already as we store it
_CHANNELS = {value: value for value in Order.Channel.values}
_DEFAULT_CHANNEL = Order.Channel.SALES.value

# ---------------------------------------------------------------------------------------------
# The columns: each cell's validator


def _clean_external_id(value: str) -> str:
    if not value:
        raise ValidationError(_("Give the customer's external id."))
    if len(value) > _EXTERNAL_ID_MAX:
        raise ValidationError(_("At most %(max)d characters.") % {"max": _EXTERNAL_ID_MAX})
    return value


def _ordered_at_cleaner(tz: tzinfo) -> Callable[[str], str]:
    """The time of the order as ISO 8601 text with its offset, what `datetime.isoformat` of
    the aware time gives ("2026-03-31T14:05:00+00:00"): a time without an offset is in `tz`.

    Text, not a datetime: the import writes it to PostgreSQL's COPY as it is, and attaching a
    time zone and formatting the result again (replace, isoformat) were a quarter of the
    time spent in Python per row. A plain local time in UTC is written without those calls.
    """
    fromisoformat = datetime.fromisoformat
    plain_utc = _PLAIN_TIME if _is_utc(tz) else None

    def clean(value: str) -> str:
        if not value:
            raise ValidationError(_("Give the date of the order."))
        try:
            ordered_at = fromisoformat(value)
        except ValueError:
            raise ValidationError(
                _(
                    "“%(value)s” is not an ISO 8601 date or time (2026-03-31 or 2026-03-31T14:05:00)."
                )
                % {"value": Truncator(value).chars(40)}
            ) from None
        if not 1900 <= ordered_at.year <= 2999:
            raise ValidationError(_("Give a date between 1900 and 2999."))
        if ordered_at.tzinfo is not None:
            return ordered_at.isoformat()
        if plain_utc is not None and plain_utc(value):
            return value + _UTC_SUFFIX  # exactly what isoformat() of it in UTC gives
        return ordered_at.replace(tzinfo=tz).isoformat()

    return clean


# isoformat()'s own form of a time without an offset, in ASCII digits only (\d is any digit)
_PLAIN_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}").fullmatch
_UTC_SUFFIX = "+00:00"
_UTC_TEXT_LENGTH = len("2026-03-31T14:05:00+00:00")


def _is_utc(tz: tzinfo) -> bool:
    """Whether `tz` is UTC all year round (no DST, no offset)."""
    return tz is UTC or getattr(tz, "key", None) in {"UTC", "Etc/UTC", "Etc/Universal", "Zulu"}


def _clean_total(value: str) -> str:
    """The amount normalised to two decimals: "12.50"."""
    if _NORMAL_TOTAL(value):
        return value  # most files: nothing to normalise
    match = _TOTAL(value)
    if match is None:
        if not value:
            raise ValidationError(_("Give the total."))
        if value.startswith("-"):
            raise ValidationError(_("The total cannot be negative."))
        raise ValidationError(
            _("“%(value)s” is not an amount like 1234.50.") % {"value": Truncator(value).chars(40)}
        )
    units, cents = match.groups()
    units = units.lstrip("0") or "0"
    cents = cents or ""
    if len(cents) > 2 and not cents[2:].strip("0"):
        cents = cents[:2]  # 1.500 is 1.50
    if len(cents) > 2:
        raise ValidationError(_("At most 2 decimal places."))
    if len(units) > 12:
        raise ValidationError(_("The total is too large (at most 12 digits before the point)."))
    return f"{units}.{cents:0<2}"


def _max_length(limit: int) -> Callable[[str], str]:
    def clean(value: str) -> str:
        if len(value) > limit:
            raise ValidationError(_("At most %(max)d characters.") % {"max": limit})
        return value

    return clean


def _clean_channel(value: str) -> str:
    if not value:
        return _DEFAULT_CHANNEL
    channel = _CHANNELS.get(value.lower())
    if channel is None:
        raise ValidationError(
            _("“%(value)s” is not one of: %(codes)s.")
            % {"value": Truncator(value.lower()).chars(40), "codes": ", ".join(_CHANNELS)}
        )
    return channel


def _currency_cleaner(default: str) -> Callable[[str], str]:
    def clean(value: str) -> str:
        if not value:
            return default
        try:
            return normalize_currency(value)
        except ValidationError as error:
            raise ValidationError(error.messages[0]) from error

    return clean


LAYOUT = Layout(
    names=COLUMNS,
    required=REQUIRED_COLUMNS,
    missing_columns=gettext_lazy(
        "The first line must name the columns; it has no %(columns)s column."
    ),
    no_rows=gettext_lazy("The file has a header but no rows of orders below it."),
    # A file the CRM exported has a ' before text a spreadsheet would run ("=COUPON"):
    # read back what was written, as the customer import does.
    read_cell=unescape_cell,
)


def order_columns() -> list[Column]:
    """The columns' validators, in COLUMNS order, with the current time zone and currency."""
    currency = settings.CRM_CURRENCY
    return [
        Column("customer_external_id", _clean_external_id),
        Column("ordered_at", _ordered_at_cleaner(ZoneInfo(settings.TIME_ZONE))),
        Column("total", _clean_total),
        Column("order_number", _max_length(_NUMBER_MAX), default=""),
        Column("channel", _clean_channel, default=_DEFAULT_CHANNEL),
        Column("currency", _currency_cleaner(currency), default=currency),
        Column("coupon_code", _max_length(_COUPON_MAX), default=""),
    ]


# ---------------------------------------------------------------------------------------------
# Rows


class OrderRow(NamedTuple):
    line: int
    external_id: str
    number: str
    ordered_at: str  # ISO 8601 with its offset: "2026-03-31T14:05:00+00:00"
    channel: str
    total: str  # normalised, two decimals: "12.50"
    currency: str
    coupon_code: str


@dataclass
class RowError:
    line: int
    column: str
    message: str


@dataclass
class SampleRow(PreviewRow):
    @property
    def cell_list(self) -> list[tuple[str, str, list[str]]]:
        """(column, value, errors) in the file's column order."""
        return [(name, value, self.errors.get(name, [])) for name, value in self.cells.items()]


@dataclass
class OrderImportReport:
    """What a file holds and what importing it did (or, dry, would do)."""

    columns: list[str] = field(default_factory=list)
    rows: int = 0  # data rows read (blank lines not counted)
    error_rows: int = 0  # rows with at least one error
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS
    unknown_customer_rows: int = 0
    unknown_customers: set[str] = field(default_factory=set)
    customers_created: int = 0
    created: int = 0
    already_present: int = 0
    sample: list[SampleRow] = field(default_factory=list)
    dry_run: bool = False
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step
    _sample_by_line: dict[int, SampleRow] = field(default_factory=dict, repr=False)
    _lines_with_errors: set[int] = field(default_factory=set, repr=False)

    @property
    def ok(self) -> bool:
        return not self.error_rows

    @property
    def errors_truncated(self) -> int:
        """How many errors are counted but not listed."""
        return max(0, self._error_count - len(self.errors))

    _error_count: int = 0

    @property
    def other_error_rows(self) -> int:
        """Rows with errors other than an unknown customer."""
        return self.error_rows - self.unknown_customer_rows

    def add_error(self, line: int, column: str, message: str | Promise) -> None:
        if line not in self._lines_with_errors:
            self._lines_with_errors.add(line)
            self.error_rows += 1
        self._error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(line, column, str(message)))
        sample = self._sample_by_line.get(line)
        if sample is not None:
            sample.add_error(column, message)

    def add_sample(self, sample: SampleRow) -> None:
        self.sample.append(sample)
        self._sample_by_line[sample.line] = sample

    def error_lines(self, limit: int = MAX_ERRORS) -> list[str]:
        """The errors as text, "line 7, total: …", for the command line."""
        shown = [
            f"line {e.line}{'' if e.column == ROW_ERROR else ', ' + e.column}: {e.message}"
            for e in sorted(self.errors, key=lambda e: e.line)[:limit]
        ]
        hidden = self._error_count - len(shown)
        if hidden > 0:
            shown.append(_("… and %(count)d more errors.") % {"count": hidden})
        return shown


def generated_number(external_id: str, ordered_at: datetime, total: str) -> str:
    """The number of an order the file gives none: the same row always gets the same one."""
    return _number_of(external_id, ordered_at.astimezone(UTC).isoformat(), total)


def _generated_number_of_row(external_id: str, ordered_at: str, total: str) -> str:
    """generated_number of a row whose time is the cleaned text (see _ordered_at_cleaner)."""
    if len(ordered_at) == _UTC_TEXT_LENGTH and ordered_at.endswith(_UTC_SUFFIX):
        utc_text = ordered_at  # already in UTC, as isoformat() writes it
    else:
        utc_text = datetime.fromisoformat(ordered_at).astimezone(UTC).isoformat()
    return _number_of(external_id, utc_text, total)


def _number_of(external_id: str, utc_text: str, total: str) -> str:
    key = f"{external_id}\x1f{utc_text}\x1f{total}"
    return GENERATED_PREFIX + blake2b(key.encode(), digest_size=12).hexdigest()


def read_orders(stream: TextIO, report: OrderImportReport) -> Iterator[list[OrderRow]]:
    """Yield the valid rows of the CSV text `stream` in chunks; record the others' errors.

    The stream must be opened with newline="" (text of a checked file, see check_binary).
    Raises ImportFileError for a file that cannot be used at all (header, CSV syntax).
    """
    reader = CsvReader(stream, LAYOUT)
    report.columns = reader.columns
    yield from chunked(_valid_rows(reader, report), settings.CRM_IMPORT_CHUNK_ROWS)


def _valid_rows(reader: CsvReader, report: OrderImportReport) -> Iterator[OrderRow]:
    """The rows without errors, each order number once; the others' errors go to `report`."""
    validate = reader.validator(order_columns())
    seen: dict[str, int] = {}  # order number -> first line
    for line, cells, stray_cells in reader:
        report.rows += 1
        if report.rows <= SAMPLE_ROWS:
            report.add_sample(SampleRow(line, reader.cells_by_name(cells)))
        values, errors = validate(cells)
        if stray_cells:
            errors.insert(0, (ROW_ERROR, STRAY_CELLS))
        if errors:
            for column, message in errors:
                report.add_error(line, column, message)
            continue
        external_id, ordered_at, total, number, channel, currency, coupon_code = values
        given = bool(number)
        if not given:
            number = _generated_number_of_row(external_id, ordered_at, total)
        first = seen.setdefault(number, line)
        if first != line:
            report.add_error(line, *_duplicate_error(given, first))
            continue
        yield OrderRow(line, external_id, number, ordered_at, channel, total, currency, coupon_code)


def _duplicate_error(given_number: bool, first: int) -> tuple[str, str]:
    if given_number:
        return "order_number", _("Line %(line)d has the same order number.") % {"line": first}
    return ROW_ERROR, _(
        "Line %(line)d has the same customer, time and total; give the rows "
        "order numbers if they are different orders."
    ) % {"line": first}
