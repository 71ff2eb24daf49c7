"""Reading an uploaded customer CSV file: its header and rows, before any validation.

The layout is `customers.csv_format.COLUMNS`, the export's, read with the shared skeleton
`crm.lib.csv_import`; customers.importing validates the rows this returns.
"""

import io
from dataclasses import dataclass

from django.utils.translation import gettext_lazy

from crm.lib.csv_export import unescape_cell
from crm.lib.csv_import import CsvReader, Layout, detect_delimiter
from crm.lib.uploads import decode_upload
from customers.csv_format import COLUMNS

MAX_ROWS = 20_000
REQUIRED_COLUMNS = ["name"]


LAYOUT = Layout(
    names=COLUMNS,
    required=REQUIRED_COLUMNS,
    missing_columns=gettext_lazy(
        "The first line must name the columns, and it has no %(columns)s column. "
        "Download the template to see the layout."
    ),
    no_rows=gettext_lazy("The file has a header but no rows of customers below it."),
    max_rows=MAX_ROWS,
    read_cell=unescape_cell,
)


@dataclass
class ParsedRow:
    line: int  # where the row starts in the file; the header is line 1
    cells: dict[str, str]  # under the file's columns, in its order
    stray_cells: bool = False  # values beyond the header's columns


@dataclass
class ParsedFile:
    columns: list[str]
    rows: list[ParsedRow]


def parse_csv(text: str) -> ParsedFile:
    """The header and the rows of the file; raises ImportFileError for a file it cannot use."""
    reader = CsvReader(io.StringIO(text, newline=""), LAYOUT, delimiter=detect_delimiter(text))
    rows = [
        ParsedRow(line=line, cells=reader.cells_by_name(cells), stray_cells=stray_cells)
        for line, cells, stray_cells in reader
    ]
    return ParsedFile(columns=reader.columns, rows=rows)


def read_upload(data: bytes) -> tuple[str, ParsedFile]:
    """Decode and parse an uploaded file: its text (to store) and what it holds."""
    text = decode_upload(data)
    return text, parse_csv(text)
