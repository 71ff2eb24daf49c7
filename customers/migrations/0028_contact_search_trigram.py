"""Trigram indexes for the global search's contacts (name, email or phone holding a word):
the three together let PostgreSQL answer the OR with a BitmapOr instead of reading every
contact (crm.lib.trigram)."""

from django.db import migrations

from crm.lib.trigram import upper_trigram_indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY

    dependencies = [("customers", "0027_interaction_when_by_index")]

    operations = [upper_trigram_indexes("customers_contact", "contact", ("name", "email", "phone"))]
