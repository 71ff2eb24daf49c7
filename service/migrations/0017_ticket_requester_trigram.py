"""Trigram indexes on the ticket's requester name and email: with the subject's
(0006_ticket_subject_trigram), the global search's "subject, requester name or email holds
the word" is a BitmapOr of three indexes on PostgreSQL instead of a read of every ticket.
SQLite has no equivalent; it scans, which is fine for the demo.
"""

from django.db import migrations

COLUMNS = ("requester_name", "requester_email")


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS ticket_{column}_trgm "
            f"ON service_ticket USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column in COLUMNS:
            schema_editor.execute(f"DROP INDEX IF EXISTS ticket_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("service", "0016_category_translation")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
