"""The one CSV writer: formula cells neutralised, numbers kept, the import undoing the quote."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy

from crm.lib.csv_export import (
    csv_file_response,
    csv_lines,
    exact_cell,
    restore_cell,
    safe_cell,
    streaming_csv_response,
    unescape_cell,
)

DANGEROUS = [
    "=1+1",
    '=HYPERLINK("http://evil")',
    "+86 138",
    "-3",
    "@SUM(A1)",
    "\tx",
    "\rx",
    # The same after leading whitespace, which some spreadsheet programs trim.
    " =1+1",
    "   +x",
    " -3",
    "\u3000@SUM(A1)",
    "\n=cmd",
    " \t=x",
]
HARMLESS = ["plain", "中文", "", 'a,b"c', "x=1", "1-2", "'quoted", "email@example.com", " a"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_a_cell_a_spreadsheet_would_run_gets_a_quote(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", HARMLESS)
def test_other_text_is_unchanged(text):
    assert safe_cell(text) == text


def test_none_is_an_empty_cell_and_other_values_are_their_text():
    assert safe_cell(None) == ""
    assert safe_cell(gettext_lazy("Revenue")) == "Revenue"
    assert safe_cell(date(2026, 1, 2)) == "2026-01-02"


def test_escaping_twice_changes_nothing():
    for text in DANGEROUS + HARMLESS:
        assert safe_cell(safe_cell(text)) == safe_cell(text)


@pytest.mark.parametrize("text", DANGEROUS + HARMLESS)
def test_the_import_reads_back_what_was_exported(text):
    # The import strips surrounding blanks, so a value comes back stripped.
    assert unescape_cell(safe_cell(text)) == text.strip()


def test_the_import_keeps_a_quote_the_user_typed():
    assert unescape_cell("'quoted") == "'quoted"
    assert unescape_cell("  '=x  ") == "=x"
    assert unescape_cell(None) == ""


def _parsed(lines) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(lines).lstrip("\ufeff"))))


def test_numbers_are_written_as_numbers_and_text_is_escaped():
    rows = [["id", "amount", "note"], [7, Decimal("-12.50"), "-12.50"], [8, -1.5, None]]
    assert _parsed(csv_lines(rows)) == [
        ["id", "amount", "note"],
        ["7", "-12.50", "'-12.50"],  # the number stays a number; the text is neutralised
        ["8", "-1.5", ""],
    ]


def test_the_byte_order_mark_comes_first_unless_asked_not_to():
    assert "".join(csv_lines([["a"]])) == "\ufeffa\r\n"
    assert "".join(csv_lines([["a"]], bom=False)) == "a\r\n"


def test_quotes_commas_and_newlines_survive_the_round_trip():
    row = ['a,b"c', "two\nlines", "中文"]
    assert _parsed(csv_lines([row])) == [row]


def test_the_streaming_response_reads_the_rows_lazily():
    read = []

    def rows():
        for number in range(3):
            read.append(number)
            yield [f"={number}"]

    response = streaming_csv_response(rows(), filename="x.csv")
    assert read == []  # nothing is read before the response is sent
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    body = b"".join(response.streaming_content).decode()
    assert body == "\ufeff'=0\r\n'=1\r\n'=2\r\n"


def test_the_file_response_is_the_same_document_in_memory():
    response = csv_file_response([["name"], ["@x"]], filename="t.csv")
    assert response.content.decode() == "\ufeffname\r\n'@x\r\n"
    assert response["Content-Disposition"] == 'attachment; filename="t.csv"'


@pytest.mark.parametrize("text", DANGEROUS + HARMLESS + ["'=x", "''", "'", " '=x ", "'\t"])
def test_the_full_export_gives_back_every_text_exactly(text):
    written = exact_cell(text)
    assert not written.startswith(("=", "+", "-", "@"))
    assert restore_cell(written) == text


def test_the_full_export_writes_cells_with_exact_escaping():
    rows = [["'quoted", "=x", Decimal("-1.5"), "plain"]]
    assert _parsed(csv_lines(rows, bom=False, exact=True)) == [["''quoted", "'=x", "-1.5", "plain"]]
