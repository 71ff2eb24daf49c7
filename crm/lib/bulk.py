"""Fast bulk inserts: COPY on PostgreSQL, batched INSERTs elsewhere."""

from collections.abc import Iterable, Sequence

from django.db import connection, models


def bulk_insert(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert tuples of values for `fields` (attribute names such as "customer_id").

    Skips model save() and signals: for seeding, imports and analytics results
    only, where millions of rows must load in seconds.
    """
    column_of = {field.attname: field.column for field in model._meta.concrete_fields}
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
    batch: list[model] = []
    for row in rows:
        batch.append(model(**dict(zip(fields, row, strict=True))))
        if len(batch) == 5000:
            model.objects.bulk_create(batch)
            count += len(batch)
            batch = []
    model.objects.bulk_create(batch)
    return count + len(batch)
