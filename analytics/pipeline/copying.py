"""Moving numpy columns in and out of PostgreSQL with COPY, in text built by pandas.

A million rows a chunk cannot afford a Python call per row: pandas formats the whole block
(COPY's text format: tab-separated, no quoting needed for numbers, dates and segment keys).
Elsewhere (SQLite for tests and the demo) crm.lib.bulk.bulk_insert does the work.
"""

import io

import numpy as np
import pandas as pd
from django.db import connection

from analytics.pipeline import binary_copy
from crm.lib.bulk import bulk_insert


def _plain(values) -> np.ndarray:
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.datetime64):
        return np.datetime_as_string(values, unit="D")
    return values


def _plain_columns(columns: dict) -> dict:
    """Dates as text, only where the rows go out as text (the binary COPY encodes them)."""
    return {name: _plain(values) for name, values in columns.items()}


def copy_columns(model, columns: dict, *, table: str | None = None) -> int:
    """Insert rows given as equally long columns {attname: values}; returns the row count.

    `table` (PostgreSQL): another table of the same columns (a run's own partition)."""
    names = list(columns)
    count = len(np.asarray(columns[names[0]])) if names else 0
    if not count:
        return 0
    if connection.vendor != "postgresql":
        plain = _plain_columns(columns)
        return bulk_insert(model, names, zip(*(v.tolist() for v in plain.values()), strict=True))
    column_of = {field.attname: field.column for field in model._meta.concrete_fields}
    quoted = ", ".join(connection.ops.quote_name(column_of[name]) for name in names)
    table = connection.ops.quote_name(table or model._meta.db_table)
    if binary_copy.supported(model, names):
        data: list[bytes] | list[str] = binary_copy.parts(model, columns)
        statement = f"COPY {table} ({quoted}) FROM STDIN (FORMAT binary)"
    else:
        frame = pd.DataFrame(_plain_columns(columns))
        data = [frame.to_csv(sep="\t", header=False, index=False, lineterminator="\n")]
        statement = f"COPY {table} ({quoted}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for part in data:
            copy.write(part)
    return count


def read_columns(select_sql: str, params: list, names: list[str], dtypes: dict) -> dict:
    """Run a SELECT and return its columns as numpy arrays (COPY TO STDOUT on PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            statement = cursor.cursor.mogrify(select_sql, params)
            buffer = io.BytesIO()
            with cursor.cursor.copy(f"COPY ({statement}) TO STDOUT") as copy:
                for block in copy:
                    buffer.write(block)
        buffer.seek(0)
        if not buffer.getbuffer().nbytes:
            return {name: np.empty(0, dtype=dtypes[name]) for name in names}
        frame = pd.read_csv(buffer, sep="\t", header=None, names=names, dtype=dtypes)
        return {name: frame[name].to_numpy() for name in names}
    with connection.cursor() as cursor:
        cursor.execute(select_sql, params)
        rows = cursor.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    return {
        name: np.array(values, dtype=dtypes[name])
        for name, values in zip(names, columns, strict=True)
    }
