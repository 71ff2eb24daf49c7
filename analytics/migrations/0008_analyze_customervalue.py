"""The runs already published get what a new run now gets when it is published
(analytics.pipeline.partitions): their pages marked all-visible, so an audience's index-only
scan of a run's segment index reads no table rows, and statistics of the partitioned table as
a whole, which autovacuum never collects and without which the planner took a segment's
semi-join for 200 customers (make bench-audience: 0.8-1.1 s per count on 1,000,000
customers). VACUUM cannot run in a transaction; it takes no lock that blocks reads or writes.
PostgreSQL only: SQLite keeps one plain table."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("VACUUM (ANALYZE) analytics_customervalue")


class Migration(migrations.Migration):
    atomic = False  # VACUUM

    dependencies = [("analytics", "0007_run_unconverted")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
