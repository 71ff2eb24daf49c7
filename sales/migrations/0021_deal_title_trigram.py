"""A trigram index so the global search finds deals by a word of their title on PostgreSQL
from the index (crm.lib.search.matching_any) instead of reading every deal.

icontains compiles to UPPER(col::text) LIKE UPPER(%s), hence the index on UPPER(title).
SQLite has no equivalent; it scans, which is fine for the demo.
"""

from django.db import migrations


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS deal_title_trgm ON sales_deal USING gin (UPPER(title) gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS deal_title_trgm")


class Migration(migrations.Migration):
    dependencies = [("sales", "0020_order_unconverted_idx")]

    operations = [migrations.RunPython(create_index, drop_index)]
