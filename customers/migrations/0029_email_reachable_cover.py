"""Email audiences' reachability indexes (PostgreSQL only; issue 18).

An email audience's count (marketing.audience.audience_count) reads the consents and leaves
out the customers who cannot be reached by email: customer_email_unreachable_idx holds those
few (no address, or a hard-bounced one), where a merge with the 1,000,000 who can be reached
was half of every count.

A rule on the customer's own columns still merges with the reachable ones, and so does the
sample; the email-reachable index now covers the criteria an audience filters on.

customer_email_ok_idx held the ids alone, so an email audience with a lifecycle stage
("lost, customers only") read every reachable customer's row for its stage: 1,000,000 heap
rows, 0.4-0.8 s in make bench-audience. With the stage and the key-account flag included
the scan stays index-only whatever the rule; the entry grows from 16 to 32 bytes (a byte of
flag fits in the stage's padding), which costs the other email audiences about 10 ms.

The condition is the audience's own (customers.models.EMAIL_REACHABLE, as Django writes it),
so the planner can prove it. Built CONCURRENTLY (writes go on during the build) before the
old index is dropped, so no moment is without one; an INVALID index from a failed build is
dropped first. SQLite has no INCLUDE and the demo needs neither: the old index just goes.
The index lives here, not in Customer.Meta, as the sales deal covers (sales 0010) do.
"""

from django.db import migrations

NAME = "customer_email_ok_cover"
UNREACHABLE_NAME = "customer_email_unreachable_idx"
OLD = "customer_email_ok_idx"
REACHABLE = "(NOT (email = '') AND NOT (email_bounced = email))"
INDEXES = {
    NAME: f"(id) INCLUDE (stage, is_key_account) WHERE {REACHABLE}",
    UNREACHABLE_NAME: f"(id) WHERE NOT {REACHABLE}",
}


def _invalid(schema_editor, name: str) -> bool:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name]
        )
        row = cursor.fetchone()
    return bool(row and row[0])


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {OLD}")
        return
    for name, definition in INDEXES.items():
        if _invalid(schema_editor, name):
            schema_editor.execute(f"DROP INDEX CONCURRENTLY {name}")
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON customers_customer {definition}"
        )
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {OLD}")


def backwards(apps, schema_editor):
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f"CREATE INDEX{concurrently} IF NOT EXISTS {OLD} ON customers_customer (id) "
        f"WHERE {REACHABLE}"
    )
    if concurrently:
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY

    dependencies = [("customers", "0028_contact_search_trigram")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveIndex(model_name="customer", name=OLD)],
            database_operations=[migrations.RunPython(forwards, backwards)],
        )
    ]
