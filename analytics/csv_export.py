"""A dashboard table: shown on the page and downloaded as CSV from the same rows.

A view builds a `Table` from a report's rows; the template shows `table.display_rows`
(figures formatted for the active language) and `?export=<table name>` returns
`csv_response(request, table, prefix)`: the same figures unformatted (numbers as numbers), text cells
neutralised against spreadsheet formula injection by crm.lib.csv_export.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.functional import Promise

from core.exporting import audit_small_export
from crm.lib.csv_export import csv_file_response
from crm.templatetags.money import money


def _rounded(value, places: int) -> Decimal:
    # number_format truncates; round half up first so the page and the CSV agree.
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _number(places: int, scale: int = 1) -> Callable:
    return lambda v: number_format(_rounded(v * scale, places), places, force_grouping=True)


def _plain(places: int, scale: int = 1) -> Callable:
    return lambda v: _rounded(v * scale, places)


# How a kind of column is shown (active language) and exported (plain, machine-readable).
_DISPLAY: dict[str, Callable] = {
    "text": str,
    "int": _number(0),
    "money": _number(2),
    # An amount in the reporting currency (segments, LTV): "51,230.73 USD" in English.
    "reporting": lambda v: money(v, settings.CRM_CURRENCY),
    "percent": lambda v: _number(1, 100)(v) + "%",
    "decimal1": _number(1),
    "decimal2": _number(2),
    "date": lambda v: date_format(v, "SHORT_DATE_FORMAT"),
    "month": lambda v: date_format(v, "YEAR_MONTH_FORMAT"),
}
_EXPORT: dict[str, Callable] = {
    "text": str,
    "int": int,
    "money": _plain(2),
    "reporting": _plain(2),
    "percent": _plain(1, 100),
    "decimal1": _plain(1),
    "decimal2": _plain(2),
    "date": lambda v: v.isoformat(),
    "month": lambda v: f"{v:%Y-%m}",
}
_NUMERIC = {"int", "money", "reporting", "percent", "decimal1", "decimal2"}


def display(kind: str, value) -> str:
    """A figure formatted for the active language ("—" when there is none)."""
    return "—" if value is None else _DISPLAY[kind](value)


@dataclass(frozen=True)
class Col:
    key: str
    label: str | Promise
    kind: str = "text"
    css_class: str = ""

    @property
    def align(self) -> str:
        return "text-end" if self.kind in _NUMERIC else ""


@dataclass
class Table:
    name: str  # the ?export= value and the table's HTML id
    title: str
    columns: list[Col]
    rows: list[dict]
    # Optional: row -> URL for the first column (the segment links to the customer list).
    link: Callable | None = None
    empty: str = ""

    def display_rows(self) -> list[list[dict]]:
        return [self._display(row) for row in self.rows]

    def _display(self, row: dict) -> list[dict]:
        cells = []
        for index, col in enumerate(self.columns):
            value = row.get(col.key)
            text = display(col.kind, value)
            url = self.link(row) if self.link and index == 0 else ""
            cells.append({"text": text, "url": url, "css": f"{col.align} {col.css_class}".strip()})
        return cells

    def export_rows(self) -> list[list]:
        return [
            [
                "" if row.get(col.key) is None else _EXPORT[col.kind](row.get(col.key))
                for col in self.columns
            ]
            for row in self.rows
        ]


def csv_response(request: HttpRequest, table: Table, prefix: str) -> HttpResponse:
    """The table as a CSV download (UTF-8 with a BOM so spreadsheets read Chinese), recorded
    in the audit log (a report's table is small: never in the background)."""
    audit_small_export(
        request,
        source=f"{prefix}-{table.name}",
        rows=len(table.rows),
        detail={"filter": request.GET.urlencode()[:500]},
    )
    stamp = timezone.localdate().strftime("%Y%m%d")
    header = [str(col.label) for col in table.columns]
    return csv_file_response(
        [header, *table.export_rows()], filename=f"{prefix}-{table.name}-{stamp}.csv"
    )


def find_table(tables: list[Table], name: str | None) -> Table | None:
    return next((table for table in tables if table.name == name), None)
