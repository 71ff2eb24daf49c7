"""Covering indexes for the board's cards and the forecast (PostgreSQL only; issue 18).

- The first cards of a closed column (won, lost) walk (stage, expected_close_date, id)
  past every deal closed before the board's window: with the filter's columns included,
  the walk is an index-only scan instead of a heap fetch per skipped deal (1.5 s per
  column on 1,000,000 deals).
- The forecast sums the amounts of open deals by expected close date and of won deals
  by close date: with owner, probability and amount included, both read the index only,
  not the table.

Created CONCURRENTLY (no lock on writes while they build). SQLite has no INCLUDE; the
demo needs none of this.
"""

from django.db import migrations

INDEXES = {
    "sales_deal_board_cards_cover": (
        "(stage_id, expected_close_date, id) INCLUDE (pipeline_id, status, closed_at, owner_id)"
    ),
    "sales_deal_forecast_open_cover": (
        "(status, expected_close_date) INCLUDE (owner_id, probability, amount)"
    ),
    "sales_deal_forecast_won_cover": "(status, closed_at) INCLUDE (owner_id, amount)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON sales_deal {columns}"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY

    dependencies = [("sales", "0009_customer_order_stats")]

    operations = [migrations.RunPython(create, drop)]
