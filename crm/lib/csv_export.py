"""CSV downloads: one writer for every export, every text cell safe from spreadsheet formulas.

A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return, which
some programs skip) as a formula: "CSV injection". Such a text cell is written with a
leading ' , which spreadsheets show as text; the same goes for a cell whose first
non-blank character is one of them, since some programs trim leading spaces first.
Numbers (int, Decimal, float) are written as they are: a number is never a formula, and
"-5" must stay a number. The customer import undoes the quote (`unescape_cell`).

A full export (`export_all`, restored by `import_all`) must give back every text exactly, so
it writes cells with `exact=True`: also a text the user began with ' gets one more ' in front
("'abc" is written "''abc"). Then every written cell that starts with ' had exactly one added,
and `restore_cell` removes it: no guessing, no stripping.

Files start with a UTF-8 byte order mark by default, so spreadsheet programs read Chinese
names correctly.
"""

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.http import HttpResponse, StreamingHttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
BOM = "\ufeff"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

Cell = object  # str, a number, None (an empty cell), or anything with a str()
Row = Iterable[Cell]


def _runs_as_formula(text: str) -> bool:
    return text.startswith(FORMULA_PREFIXES) or text.lstrip().startswith(FORMULA_PREFIXES)


def safe_cell(value: Cell) -> str:
    """The cell as text, with a ' before it if a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return ESCAPE + text if _runs_as_formula(text) else text


def exact_cell(value: Cell) -> str:
    """`safe_cell`, and a ' before a text that starts with one, so `restore_cell` is exact."""
    text = "" if value is None else str(value)
    return ESCAPE + text if text.startswith(ESCAPE) else safe_cell(text)


def restore_cell(text: str) -> str:
    """The exact text `exact_cell` was given: its added ' removed, nothing else touched."""
    return text[1:] if text.startswith(ESCAPE) else text


def unescape_cell(value: str | None) -> str:
    """An imported cell without surrounding spaces and without the ' `safe_cell` added."""
    text = (value or "").strip()
    if text.startswith(ESCAPE) and _runs_as_formula(text[1:]):
        text = text[1:].strip()
    return text


def _is_number(value: Cell) -> bool:
    return isinstance(value, int | float | Decimal)


def csv_row(row: Row, *, exact: bool = False) -> list[Cell]:
    """A row ready for csv.writer: numbers as they are, everything else through safe_cell
    (or exact_cell)."""
    escape = exact_cell if exact else safe_cell
    return [value if _is_number(value) else escape(value) for value in row]


class _Echo:
    """A file that hands back what is written: csv.writer then returns each line."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Row], *, bom: bool = True, exact: bool = False) -> Iterator[str]:
    """The file line by line (the BOM first), built as the rows are read."""
    writer = csv.writer(_Echo())
    if bom:
        yield BOM
    for row in rows:
        yield writer.writerow(csv_row(row, exact=exact))


def _attach(response: HttpResponse | StreamingHttpResponse, filename: str) -> None:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'


def streaming_csv_response(
    rows: Iterable[Row],
    *,
    filename: str,
    bom: bool = True,
    content_type: str = CSV_CONTENT_TYPE,
) -> StreamingHttpResponse:
    """A download written while `rows` (an iterator over a queryset, say) is read."""
    response = StreamingHttpResponse(csv_lines(rows, bom=bom), content_type=content_type)
    _attach(response, filename)
    return response


def csv_file_response(rows: Iterable[Row], *, filename: str, bom: bool = True) -> HttpResponse:
    """A small download built in memory (a dashboard table, a template's header line)."""
    response = HttpResponse("".join(csv_lines(rows, bom=bom)), content_type=CSV_CONTENT_TYPE)
    _attach(response, filename)
    return response
