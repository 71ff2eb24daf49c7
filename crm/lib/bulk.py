"""Fast bulk inserts: COPY on PostgreSQL, batched INSERTs elsewhere."""

from collections.abc import Iterable, Sequence
from typing import TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)


def bulk_insert(model: type[M], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert tuples of values for `fields` (attribute names such as "customer_id").

    Skips model save() and signals: for seeding, imports and analytics results
    only, where millions of rows must load in seconds.
    """
    # (every concrete field has a column)
    column_of = {f.attname: f.column for f in model._meta.concrete_fields if f.column is not None}
    columns = [column_of[name] for name in fields]
    table = model._meta.db_table
    count = 0
    if connection.vendor == "postgresql":
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    batch: list[M] = []
    for row in rows:
        batch.append(model(**dict(zip(fields, row, strict=True))))
        if len(batch) == 5000:
            model._default_manager.bulk_create(batch)
            count += len(batch)
            batch = []
    model._default_manager.bulk_create(batch)
    return count + len(batch)


def insert_series(template: models.Model, varying: dict[str, str], first: int, last: int) -> None:
    """Rows first..last-1 in one INSERT ... SELECT over generate_series (PostgreSQL): every
    column takes the unsaved `template`'s value except those in `varying`, SQL expressions
    of the series number `i` (such as "'Customer ' || i"). For benchmarks' millions of rows.
    """
    meta = template._meta
    columns, values, params = [], [], []
    for field in meta.concrete_fields:
        if field.primary_key or field.generated or field.column is None:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in varying:
            values.append(varying[field.name])
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(getattr(template, field.attname), connection))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({', '.join(columns)}) "  # noqa: S608 - names only
            f"SELECT {', '.join(values)} FROM generate_series(%s, %s) AS i",
            [*params, first, last - 1],
        )
