"""Trigram indexes for `icontains` searches on PostgreSQL, as a migration operation.

Django's icontains compiles to UPPER(col::text) LIKE UPPER(%s) on PostgreSQL, so each index
is on UPPER(col) with pg_trgm's operator class. SQLite has no equivalent; it scans, which is
fine for the demo, so the operation does nothing there.
"""

from django.db import migrations


def upper_trigram_indexes(
    table: str, prefix: str, columns: tuple[str, ...]
) -> migrations.RunPython:
    """A RunPython creating `<prefix>_<column>_trgm` on `table` for each column (and dropping
    them when reversed)."""

    def create(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for column in columns:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {prefix}_{column}_trgm "
                f"ON {table} USING gin (UPPER({column}) gin_trgm_ops)"
            )

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for column in columns:
                schema_editor.execute(f"DROP INDEX IF EXISTS {prefix}_{column}_trgm")

    return migrations.RunPython(create, drop)
