"""A trigram index so the queue's subject search (icontains) stays fast on PostgreSQL.

icontains compiles to UPPER(col::text) LIKE UPPER(%s), hence the index on UPPER(subject).
SQLite has no equivalent; it scans, which is fine for the demo.
"""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS ticket_subject_trgm "
        "ON service_ticket USING gin (UPPER(subject) gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS ticket_subject_trgm")


class Migration(migrations.Migration):
    dependencies = [("service", "0005_queue_order_indexes")]

    operations = [migrations.RunPython(create_index, drop_index)]
