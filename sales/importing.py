"""Order CSV import: read a file of orders as a stream and validate every row; nothing here writes.

The layout is ``customer_external_id,ordered_at,total`` plus the optional columns
``order_number,channel,currency,coupon_code``. Rows are read in chunks of ``CHUNK_ROWS`` and
checked in one tight loop (a compiled pattern per column, no form per row): a million rows take
a few seconds. Valid rows come out as `OrderRow` tuples; the errors of the others are kept with
their line numbers (the first ``MAX_ERRORS`` of them, and a count of all).

`sales.import_services.order_import` writes the rows (COPY into a staging table on PostgreSQL).

Orders are keyed by their number. A row without ``order_number`` gets a deterministic one,
``IMP-`` and 24 hex digits of a BLAKE2b hash of (customer external id, the time in UTC, the
total with two decimals): importing the same file again finds the same numbers, so it creates
nothing twice.
"""

import codecs
import csv
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO, NamedTuple, TextIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from crm.lib.uploads import SAVE_AS_CSV, ImportFileError, refuse_binary_head
from sales.models import Order

REQUIRED_COLUMNS = ["customer_external_id", "ordered_at", "total"]
OPTIONAL_COLUMNS = ["order_number", "channel", "currency", "coupon_code"]
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
MAX_ERRORS = 1000  # error messages kept; all are counted
SAMPLE_ROWS = 50  # the first rows shown in the preview, with their errors
CHUNK_ROWS = 50_000
GENERATED_PREFIX = "IMP-"
ROW_ERROR = "__all__"

_EXTERNAL_ID_MAX = 100
_NUMBER_MAX = Order._meta.get_field("number").max_length
_COUPON_MAX = Order._meta.get_field("coupon_code").max_length
_TOTAL = re.compile(r"(\d+)(?:\.(\d*))?")
_CURRENCY = re.compile(r"[A-Za-z]{3}")
_CHANNELS = {value: value for value in Order.Channel.values}

# ---------------------------------------------------------------------------------------------
# The file as a whole


def check_binary(stream: BinaryIO, *, block_size: int = 16 * 1024 * 1024) -> None:
    """Refuse files that are not UTF-8 text: empty, images, spreadsheets, UTF-16, NUL bytes.

    Reads the whole stream once in blocks (a 60 MB file in well under a second), then rewinds
    it. Raises ImportFileError with the line at fault.
    """
    head = stream.read(4096)
    if not head.strip():
        stream.seek(0)
        if not stream.read().strip():
            raise ImportFileError(_("The file is empty."))
    refuse_binary_head(head)
    stream.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines_before = 0
    while True:
        block = stream.read(block_size)
        if not block:
            break
        nul = block.find(b"\x00")
        if nul >= 0:
            raise ImportFileError(
                _(
                    "Line %(line)d contains NUL bytes: this is a binary file or UTF-16 text, "
                    "not a UTF-8 CSV."
                )
                % {"line": lines_before + block.count(b"\n", 0, nul) + 1},
                SAVE_AS_CSV,
            )
        try:
            decoder.decode(block)
        except UnicodeDecodeError as error:
            raise ImportFileError(
                _(
                    "Line %(line)d is not UTF-8 text; files saved in another encoding cannot be imported."
                )
                % {"line": lines_before + block.count(b"\n", 0, error.start) + 1},
                SAVE_AS_CSV,
            ) from error
        lines_before += block.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _("The file ends in the middle of a character."), SAVE_AS_CSV
        ) from error
    stream.seek(0)


def _check_header(record: list[str] | None) -> list[str]:
    if not record or not any(name.strip() for name in record):
        raise ImportFileError(_("The file is empty."))
    columns = [name.strip().lstrip("\ufeff").lower() for name in record]
    problems = []
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        problems.append(
            _("The first line must name the columns; it has no %(columns)s column.")
            % {"columns": ", ".join(f"“{name}”" for name in missing)}
        )
    unknown = list(dict.fromkeys(c for c in columns if c and c not in COLUMNS))
    if unknown:
        problems.append(
            _("Unknown columns: %(unknown)s. The columns you can import are: %(known)s.")
            % {
                "unknown": ", ".join(f"“{Truncator(c).chars(40)}”" for c in unknown[:10]),
                "known": ", ".join(COLUMNS),
            }
        )
    twice = list(dict.fromkeys(c for c in columns if c and columns.count(c) > 1))
    if twice:
        problems.append(
            _("These columns appear more than once: %(columns)s.")
            % {"columns": ", ".join(f"“{c}”" for c in twice)}
        )
    if problems:
        raise ImportFileError(*problems)
    return columns


# ---------------------------------------------------------------------------------------------
# Rows


class OrderRow(NamedTuple):
    line: int
    external_id: str
    number: str
    ordered_at: datetime  # aware
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
class SampleRow:
    line: int
    cells: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def row_errors(self) -> list[str]:
        return self.errors.get(ROW_ERROR, [])

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

    def add_error(self, line: int, column: str, message: str) -> None:
        if line not in self._lines_with_errors:
            self._lines_with_errors.add(line)
            self.error_rows += 1
        self._error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(line, column, str(message)))
        sample = self._sample_by_line.get(line)
        if sample is not None:
            sample.errors.setdefault(column, []).append(str(message))

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
    key = f"{external_id}\x1f{ordered_at.astimezone(UTC).isoformat()}\x1f{total}"
    return GENERATED_PREFIX + hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


def read_orders(
    stream: TextIO, report: OrderImportReport, *, chunk_rows: int = CHUNK_ROWS
) -> Iterator[list[OrderRow]]:
    """Yield the valid rows of the CSV text `stream` in chunks; record the others' errors.

    The stream must be opened with newline="" (text of a checked file, see check_binary).
    Raises ImportFileError for a file that cannot be used at all (header, CSV syntax).
    """
    reader = csv.reader(stream)
    try:
        columns = _check_header(next(reader, None))
    except csv.Error as error:
        raise ImportFileError(
            _("Line 1 cannot be read as CSV: %(error)s") % {"error": error}
        ) from error
    report.columns = [c for c in columns if c]
    width = len(columns)
    index = {name: columns.index(name) for name in COLUMNS if name in columns}
    i_ext, i_at, i_total = (index[name] for name in REQUIRED_COLUMNS)
    i_number, i_channel, i_currency, i_coupon = (index.get(name) for name in OPTIONAL_COLUMNS)
    named = [(i, name) for i, name in enumerate(columns) if name]
    tz = ZoneInfo(settings.TIME_ZONE)
    default_currency = settings.CRM_CURRENCY
    default_channel = Order.Channel.SALES.value
    channels = _CHANNELS
    total_pattern, currency_pattern = _TOTAL.fullmatch, _CURRENCY.fullmatch
    fromisoformat = datetime.fromisoformat
    seen: dict[str, int] = {}  # order number -> first line
    add_error = report.add_error
    chunk: list[OrderRow] = []
    line = 2
    try:
        for record in reader:
            start, line = line, reader.line_num + 1
            if not record or not "".join(record).strip():
                continue  # a blank line, or a row of empty cells
            report.rows += 1
            if len(record) < width:
                record = record + [""] * (width - len(record))
            if report.rows <= SAMPLE_ROWS:
                sample = SampleRow(start, {name: record[i].strip() for i, name in named})
                report.sample.append(sample)
                report._sample_by_line[start] = sample
            errors = []
            if len(record) > width and any(value.strip() for value in record[width:]):
                errors.append(
                    (ROW_ERROR, _("This row has more cells than the header has columns."))
                )

            external_id = record[i_ext].strip()
            if not external_id:
                errors.append(("customer_external_id", _("Give the customer's external id.")))
            elif len(external_id) > _EXTERNAL_ID_MAX:
                errors.append(
                    (
                        "customer_external_id",
                        _("At most %(max)d characters.") % {"max": _EXTERNAL_ID_MAX},
                    )
                )

            value = record[i_at].strip()
            ordered_at = None
            if not value:
                errors.append(("ordered_at", _("Give the date of the order.")))
            else:
                try:
                    ordered_at = fromisoformat(value)
                except ValueError:
                    errors.append(
                        (
                            "ordered_at",
                            _(
                                "“%(value)s” is not an ISO 8601 date or time (2026-03-31 or 2026-03-31T14:05:00)."
                            )
                            % {"value": Truncator(value).chars(40)},
                        )
                    )
                else:
                    if not 1900 <= ordered_at.year <= 2999:
                        errors.append(("ordered_at", _("Give a date between 1900 and 2999.")))
                        ordered_at = None
                    elif ordered_at.tzinfo is None:
                        ordered_at = ordered_at.replace(tzinfo=tz)

            value = record[i_total].strip()
            total = ""
            match = total_pattern(value)
            if match is None:
                if not value:
                    message = _("Give the total.")
                elif value.startswith("-"):
                    message = _("The total cannot be negative.")
                else:
                    message = _("“%(value)s” is not an amount like 1234.50.") % {
                        "value": Truncator(value).chars(40)
                    }
                errors.append(("total", message))
            else:
                units, cents = match.groups()
                units = units.lstrip("0") or "0"
                cents = cents or ""
                if len(cents) > 2 and not cents[2:].strip("0"):
                    cents = cents[:2]  # 1.500 is 1.50
                if len(cents) > 2:
                    errors.append(("total", _("At most 2 decimal places.")))
                elif len(units) > 12:
                    errors.append(
                        ("total", _("The total is too large (at most 12 digits before the point)."))
                    )
                else:
                    total = f"{units}.{cents:0<2}"

            number = record[i_number].strip() if i_number is not None else ""
            if len(number) > _NUMBER_MAX:
                errors.append(
                    ("order_number", _("At most %(max)d characters.") % {"max": _NUMBER_MAX})
                )

            channel = default_channel
            if i_channel is not None:
                value = record[i_channel].strip().lower()
                if value:
                    channel = channels.get(value)
                    if channel is None:
                        errors.append(
                            (
                                "channel",
                                _("“%(value)s” is not one of: %(codes)s.")
                                % {
                                    "value": Truncator(value).chars(40),
                                    "codes": ", ".join(channels),
                                },
                            )
                        )

            currency = default_currency
            if i_currency is not None:
                value = record[i_currency].strip()
                if value:
                    if currency_pattern(value):
                        currency = value.upper()
                    else:
                        errors.append(
                            ("currency", _("“%(value)s” is not a 3-letter currency code such as EUR.")
                             % {"value": Truncator(value).chars(40)})
                        )  # fmt: skip

            coupon = record[i_coupon].strip() if i_coupon is not None else ""
            if len(coupon) > _COUPON_MAX:
                errors.append(
                    ("coupon_code", _("At most %(max)d characters.") % {"max": _COUPON_MAX})
                )

            if errors:
                for column, message in errors:
                    add_error(start, column, message)
                continue
            key_column = "order_number"
            if not number:
                number = generated_number(external_id, ordered_at, total)
                key_column = ROW_ERROR
            first = seen.setdefault(number, start)
            if first != start:
                if key_column == "order_number":
                    message = _("Line %(line)d has the same order number.") % {"line": first}
                else:
                    message = _(
                        "Line %(line)d has the same customer, time and total; give the rows "
                        "order numbers if they are different orders."
                    ) % {"line": first}
                add_error(start, key_column, message)
                continue
            chunk.append(
                OrderRow(start, external_id, number, ordered_at, channel, total, currency, coupon)
            )
            if len(chunk) >= chunk_rows:
                yield chunk
                chunk = []
    except csv.Error as error:
        raise ImportFileError(
            _("Line %(line)d cannot be read as CSV: %(error)s") % {"line": line, "error": error}
        ) from error
    if chunk:
        yield chunk
    if not report.rows:
        raise ImportFileError(_("The file has a header but no rows of orders below it."))
