"""Trigram indexes so the customer search (icontains) stays fast on PostgreSQL.

Django's icontains compiles to UPPER(col::text) LIKE UPPER(%s) on PostgreSQL, so the
indexes are on UPPER(col). SQLite has no equivalent; it scans, which is fine for the demo.
"""

from django.db import migrations

SEARCHED_COLUMNS = ["name", "organization", "email", "phone"]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in SEARCHED_COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS customer_{column}_trgm "
            f"ON customers_customer USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SEARCHED_COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS customer_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_roles")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
