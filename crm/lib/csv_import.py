"""The skeleton every CSV import shares: read the file, check its header against a table of
columns, validate each row with the columns' validators, and hand the rows on in chunks.

An importer declares the `Layout` of its files (the columns they may and must have, the
messages that name what the rows hold) and a table of `Column`s: each a name and a validator,
a function of the cell's text that returns the cleaned value or raises ValidationError with
the message the user sees (a Django form field's `clean` is one). Reading the text itself
(UTF-8, byte order mark, binary files) is `crm.lib.uploads`; nothing here writes.

    reader = CsvReader(stream, LAYOUT)
    validate = reader.validator([Column("total", clean_total), ...])
    for row in reader:
        values, errors = validate(row.cells)
"""

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from operator import call, itemgetter
from typing import Any, TextIO

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.lib.csv_export import ESCAPE, unescape_cell
from crm.lib.uploads import ImportFileError

ROW_ERROR = "__all__"  # the key of the errors about a row as a whole, as in Django's forms
STRAY_CELLS = gettext_lazy("This row has more cells than the header has columns.")


@dataclass(frozen=True)
class Column:
    """A column of the table an importer validates rows with."""

    name: str
    clean: Callable[[str], Any]  # the cell's text -> the cleaned value; raises ValidationError
    default: Any = None  # the value of a file without this column


@dataclass(frozen=True)
class Layout:
    """The shape of an import file: the columns it may have, and how its cells are read."""

    names: Sequence[str]  # every column an importer knows, in the order the messages list them
    required: Sequence[str]  # the header must name these
    missing_columns: str | Promise  # "... it has no %(columns)s column."
    no_rows: str | Promise  # the file has a header and nothing below it
    max_rows: int | None = None
    read_cell: Callable[[str], str] = str.strip  # the text a validator sees

    def check_header(self, record: list[str] | None) -> list[str]:
        """The header's column names, lower-cased ("" for an empty one); raises ImportFileError."""
        if not record or not any(name.strip() for name in record):
            raise ImportFileError(_("The file is empty."))
        header = [name.strip().lstrip("\ufeff").lower() for name in record]
        problems = []
        missing = [name for name in self.required if name not in header]
        if missing:
            problems.append(self.missing_columns % {"columns": quote_names(missing)})
        unknown = list(dict.fromkeys(c for c in header if c and c not in self.names))
        if unknown:
            problems.append(
                _("Unknown columns: %(unknown)s. The columns you can import are: %(known)s.")
                % {"unknown": quote_names(unknown), "known": ", ".join(self.names)}
            )
        twice = list(dict.fromkeys(c for c in header if c and header.count(c) > 1))
        if twice:
            problems.append(
                _("These columns appear more than once: %(columns)s.")
                % {"columns": quote_names(twice)}
            )
        if problems:
            raise ImportFileError(*problems)
        return header


def quote_names(names: Sequence[str]) -> str:
    """“a”, “b”: at most ten names of at most 40 characters, for a message."""
    shown = [f"“{Truncator(name).chars(40)}”" for name in list(names)[:10]]
    if len(names) > 10:
        shown.append("…")
    return ", ".join(shown)


def detect_delimiter(text: str) -> str:
    """Comma, unless the header line clearly uses semicolons or tabs (some spreadsheet locales)."""
    first_line = text.split("\n", 1)[0]
    if "," not in first_line:
        for candidate in (";", "\t"):
            if candidate in first_line:
                return candidate
    return ","


class RowValidator:
    """Validates rows with a table of columns: each cell by its column's validator.

    `header` names the file's columns in order (see CsvReader.columns); a row is its cells in
    that order. Columns of the table the file lacks take their default; cells under columns
    the table lacks are ignored.
    """

    def __init__(self, columns: Sequence[Column], header: Sequence[str]):
        positions = {name: index for index, name in enumerate(header)}
        self.names = [column.name for column in columns]
        # Per column of the table: the index of its cell, and its validator (a function of
        # nothing but the default for a column the file lacks).
        self.present = [column.name in positions for column in columns]
        self.cleans = [
            column.clean if present else partial(_default, column.default)
            for column, present in zip(columns, self.present, strict=True)
        ]
        indices = [positions.get(column.name, 0) for column in columns]
        self.pick = (
            (lambda cells: (cells[indices[0]],)) if len(indices) == 1 else itemgetter(*indices)
        )

    def __call__(self, cells: list[str]) -> tuple[list[Any], list[tuple[str, str | Promise]]]:
        """The row's values in the table's order (None for a cell with an error), and its
        errors as (column, message) in the table's order.

        A row with an error is validated again cell by cell, to find every error: validators
        must give the same result when called twice.
        """
        picked = self.pick(cells)
        try:  # called from C, without a Python loop: a million rows without errors go fast
            return list(map(call, self.cleans, picked)), []
        except ValidationError:
            pass
        values: list[Any] = []
        errors: list[tuple[str, str | Promise]] = []
        for name, clean, cell in zip(self.names, self.cleans, picked, strict=True):
            try:
                values.append(clean(cell))
            except ValidationError as error:
                values.append(None)
                errors.extend((name, message) for message in error.messages)
        return values, errors

    def by_name(self, cells: list[str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """The values of the file's valid cells, and the errors, by column (like a form's
        cleaned_data and errors)."""
        values, errors = self(cells)
        by_column: dict[str, list[str]] = {}
        for name, message in errors:
            by_column.setdefault(name, []).append(str(message))
        cleaned = {
            name: value
            for name, value, present in zip(self.names, values, self.present, strict=True)
            if present and name not in by_column
        }
        return cleaned, by_column


def _default(value: Any, _cell: str) -> Any:
    return value


# A row of the file: (line, cells, stray_cells). The line is where the row starts in the file
# (the header is line 1); the cells are read_cell of each cell, one per header column;
# stray_cells tells whether it has values beyond the header's columns or under a column
# without a name. A plain tuple: a million of them are made.
CsvRow = tuple[int, list[str], bool]


class CsvReader:
    """The rows of a CSV text stream (opened with newline=""), after its header is checked.

    Blank lines and rows of empty cells are skipped. Raises ImportFileError for a file that
    cannot be used at all: a bad header, CSV syntax, too many rows, no rows.
    """

    def __init__(self, stream: TextIO, layout: Layout, *, delimiter: str = ","):
        self.layout = layout
        self._reader = csv.reader(stream, delimiter=delimiter)
        try:
            self.header = layout.check_header(next(self._reader, None))
        except csv.Error as error:
            raise _syntax_error(1, error) from error
        self.columns = [name for name in self.header if name]  # in the file's order
        self.named = [(index, name) for index, name in enumerate(self.header) if name]

    def validator(self, columns: Sequence[Column]) -> RowValidator:
        """A validator of this file's rows (CsvRow.cells) with the table `columns`."""
        return RowValidator(columns, self.header)

    def __iter__(self) -> Iterator[CsvRow]:
        width, read_cell, max_rows = len(self.header), self.layout.read_cell, self.layout.max_rows
        unnamed = [index for index, name in enumerate(self.header) if not name]
        # unescape_cell of a row without a ' is str.strip of each cell: a million rows
        # read a third faster without a Python call per cell.
        strip_only = read_cell is unescape_cell
        reader = self._reader
        rows, line = 0, reader.line_num + 1
        try:
            for record in reader:
                start, line = line, reader.line_num + 1
                stray = False
                if len(record) != width or unnamed:
                    record, stray = _fit(record, width, unnamed)
                if strip_only and ESCAPE not in "".join(record):
                    cells = list(map(str.strip, record))  # what unescape_cell does, in C
                else:
                    cells = list(map(read_cell, record))
                if not stray and not any(cells):
                    continue  # a blank line, or a row of empty cells
                rows += 1
                if max_rows is not None and rows > max_rows:
                    raise ImportFileError(
                        _("The file has more than %(max)s rows; split it into smaller files.")
                        % {"max": f"{max_rows:,}"}
                    )
                yield start, cells, stray
        except csv.Error as error:
            raise _syntax_error(line, error) from error
        if not rows:
            raise ImportFileError(str(self.layout.no_rows))

    def cells_by_name(self, cells: list[str]) -> dict[str, str]:
        """The row's cells under the file's named columns, in the file's order."""
        return {name: cells[index] for index, name in self.named}


def _fit(record: list[str], width: int, unnamed: list[int]) -> tuple[list[str], bool]:
    """The record cut or padded to the header's width, and whether it had values beyond it
    or under a column without a name (stray cells)."""
    stray = any(record[index].strip() for index in unnamed if index < len(record))
    if len(record) > width:
        stray = stray or any(value.strip() for value in record[width:])
        return record[:width], stray
    return record + [""] * (width - len(record)), stray


def _syntax_error(line: int, error: csv.Error) -> ImportFileError:
    return ImportFileError(
        _("Line %(line)d cannot be read as CSV: %(error)s") % {"line": line, "error": error}
    )


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of `size` items (the last may be shorter), as `items` are produced."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


@dataclass
class PreviewRow:
    """A row as the preview shows it: its cells and the errors found, by column."""

    line: int
    cells: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def row_errors(self) -> list[str]:
        return self.errors.get(ROW_ERROR, [])

    def add_error(self, column: str, message: str | Promise) -> None:
        self.errors.setdefault(column, []).append(str(message))
