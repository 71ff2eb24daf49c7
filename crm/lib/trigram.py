"""Trigram indexes for `icontains` searches on PostgreSQL, as a migration operation.

Django's icontains compiles to UPPER(col::text) LIKE UPPER(%s) on PostgreSQL, so each index
is on UPPER(col) with pg_trgm's operator class. SQLite has no equivalent; it scans, which is
fine for the demo, so the operation does nothing there.

The index is built CONCURRENTLY, so writes to the table go on during the build: a
migration using it must say `atomic = False`. A build that failed leaves an INVALID index,
which is dropped first (IF NOT EXISTS would keep it).
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
            name = f"{prefix}_{column}_trgm"
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(
                    "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name]
                )
                invalid = cursor.fetchone()
            if invalid and invalid[0]:
                schema_editor.execute(f"DROP INDEX CONCURRENTLY {name}")
            schema_editor.execute(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} "
                f"ON {table} USING gin (UPPER({column}) gin_trgm_ops)"
            )

    def drop(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for column in columns:
                schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {prefix}_{column}_trgm")

    return migrations.RunPython(create, drop)
