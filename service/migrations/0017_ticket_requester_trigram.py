"""Trigram indexes on the ticket's requester name and email: with the subject's
(0006_ticket_subject_trigram), the global search's "subject, requester name or email holds
the word" is a BitmapOr of three indexes on PostgreSQL instead of a read of every ticket
(crm.lib.trigram)."""

from django.db import migrations

from crm.lib.trigram import upper_trigram_indexes


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY

    dependencies = [("service", "0016_category_translation")]

    operations = [
        upper_trigram_indexes("service_ticket", "ticket", ("requester_name", "requester_email"))
    ]
