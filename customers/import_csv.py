"""Reading an uploaded customer CSV file: its header and rows, before any validation.

The layout is `customers.csv_format.COLUMNS`, the export's; customers.importing validates
the rows this returns.
"""

import csv
import io
from dataclasses import dataclass

from django.utils.text import Truncator
from django.utils.translation import gettext as _

from crm.lib.csv_export import unescape_cell
from crm.lib.uploads import ImportFileError, decode_upload
from customers.csv_format import COLUMNS

MAX_ROWS = 20_000
REQUIRED_COLUMNS = ["name"]


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
