"""The closed deals' covering index, with the currency (PostgreSQL only; issue 18).

Since amounts are converted per currency, the forecast's won deals and the board's
closed columns group by currency, which 0010's (status, closed_at) index did not hold:
every deal in the window was fetched from the table. With pipeline, stage and currency
included both read the index only. The open deals' cover of 0010 goes: the forecast
reads the open deals' totals (sales.deal_totals) now, and one index fewer is one write
fewer per deal.
"""

from django.db import migrations

CLOSED = "(status, closed_at) INCLUDE (pipeline_id, stage_id, owner_id, currency, amount)"
OLD = {
    "sales_deal_forecast_won_cover": "(status, closed_at) INCLUDE (owner_id, amount)",
    "sales_deal_forecast_open_cover": (
        "(status, expected_close_date) INCLUDE (owner_id, probability, amount)"
    ),
}


def _run(schema_editor, statements):
    if schema_editor.connection.vendor == "postgresql":
        for statement in statements:
            schema_editor.execute(statement)


def forwards(apps, schema_editor):
    _run(
        schema_editor,
        [f"CREATE INDEX CONCURRENTLY IF NOT EXISTS sales_deal_closed_cover ON sales_deal {CLOSED}"]
        + [f"DROP INDEX CONCURRENTLY IF EXISTS {name}" for name in OLD],
    )


def backwards(apps, schema_editor):
    _run(
        schema_editor,
        [
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON sales_deal {columns}"
            for name, columns in OLD.items()
        ]
        + ["DROP INDEX CONCURRENTLY IF EXISTS sales_deal_closed_cover"],
    )


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY

    dependencies = [("sales", "0017_open_deal_totals")]

    operations = [migrations.RunPython(forwards, backwards)]
