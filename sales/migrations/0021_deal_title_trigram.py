"""A trigram index so the global search finds deals by a word of their title from the index
(crm.lib.search.matching_any) instead of reading every deal (crm.lib.trigram)."""

from django.db import migrations

from crm.lib.trigram import upper_trigram_indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY

    dependencies = [("sales", "0020_order_unconverted_idx")]

    operations = [upper_trigram_indexes("sales_deal", "deal", ("title",))]
