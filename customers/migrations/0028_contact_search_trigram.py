"""Trigram indexes for the global search's contacts (name, email or phone holding a word).

icontains compiles to UPPER(col::text) LIKE UPPER(%s), hence the indexes on UPPER(...); the
three together let PostgreSQL answer the OR with a BitmapOr instead of reading every contact.
SQLite has no equivalent; it scans, which is fine for the demo.
"""

from django.db import migrations

COLUMNS = ("name", "email", "phone")


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS contact_{column}_trgm "
            f"ON customers_contact USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column in COLUMNS:
            schema_editor.execute(f"DROP INDEX IF EXISTS contact_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("customers", "0027_interaction_when_by_index")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
