"""The open deals' counts and amounts per stage, owner, currency, expected close date and
probability, kept by database triggers as deals are written (issue 18).

The board's column totals and the forecast's open pipeline read these few thousand rows
instead of every open deal (on 1,000,000 deals: 700,000 rows grouped per request). The
rows keep every key either page filters or groups by, so each reads them with the same
visibility rule as the deals (an owner filter: `sales.selectors.DealScope`), and amounts
stay per currency, converted by the reader (core.exchange) at today's rate as open deals
are. They are never cached copies: a deal's write changes them in its own transaction, so
a reader sees both or neither.

PostgreSQL: statement-level triggers with transition tables (a bulk load or a bulk update
touches each group once), adding the groups' changes in key order so concurrent writers
lock rows in one order; a change that moves nothing (an edited title, a touched
last_activity_at) writes nothing. Emptied groups are deleted.
SQLite (tests and the demo) has only row-level triggers, which do the same per deal.
Careful: SQLite remakes a table (dropping its triggers) on most AlterFields of sales_deal;
such a migration must call `install` again, as 0015 does for the order triggers.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.lib.triggers import StatementTriggers

TABLE = "sales_opendealtotal"
KEY = "pipeline_id, stage_id, owner_id, currency, expected_close_date, probability"


class OpenDealTotal(models.Model):
    """One group of open deals. Read-only for the application (kept by triggers)."""

    pipeline = models.ForeignKey(
        "sales.Pipeline",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    stage = models.ForeignKey(
        "sales.Stage",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    owner = models.ForeignKey(
        "auth.User",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    currency = models.CharField(_("currency"), max_length=3)
    expected_close_date = models.DateField(_("expected close date"))
    probability = models.PositiveSmallIntegerField(_("win probability %"))
    deals = models.IntegerField(_("deals"))
    amount = models.DecimalField(_("amount"), max_digits=20, decimal_places=2)

    class Meta:
        app_label = "sales"
        db_table = TABLE
        verbose_name = _("open deals' total")
        verbose_name_plural = _("open deals' totals")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "pipeline", "stage", "owner", "currency", "expected_close_date", "probability"
                ],
                name="sales_open_deal_total_key",
            )
        ]  # fmt: skip

    def __str__(self):
        return f"{self.stage_id}/{self.owner_id}/{self.expected_close_date}: {self.deals}"


# --- PostgreSQL ---------------------------------------------------------------------------

_OPEN_ROWS = f"SELECT {KEY}, {{sign}} AS n, {{sign}} * amount AS a FROM {{table}}"  # noqa: S608
_OPEN_ROWS += " WHERE status = 'open'"


def _pg_function(name: str, deltas: list[str]) -> str:
    """A trigger function adding the open deals of the transition tables (signed)."""
    union = " UNION ALL ".join(deltas)
    return f"""
    CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE emptied bigint[];
    BEGIN
        WITH changed AS (
            SELECT {KEY}, sum(n) AS n, sum(a) AS a FROM ({union}) d
            GROUP BY {KEY} HAVING sum(n) <> 0 OR sum(a) <> 0
        ), added AS (
            INSERT INTO {TABLE} AS t ({KEY}, deals, amount)
            SELECT {KEY}, n, a FROM changed ORDER BY {KEY}
            ON CONFLICT ({KEY}) DO UPDATE
                SET deals = t.deals + EXCLUDED.deals, amount = t.amount + EXCLUDED.amount
            RETURNING t.id, t.deals
        )
        SELECT array_agg(id) INTO emptied FROM added WHERE deals = 0;
        IF emptied IS NOT NULL THEN
            DELETE FROM {TABLE} WHERE id = ANY(emptied) AND deals = 0;
        END IF;
        RETURN NULL;
    END $$"""  # noqa: S608 - fixed names only


TRIGGERS = StatementTriggers(
    table="sales_deal",
    prefix="sales_deal_open_totals",
    function="sales_open_totals",
    old_rows="old_deals",
    new_rows="new_deals",
)
_ADDED = _OPEN_ROWS.format(sign=1, table=TRIGGERS.new_rows)
_REMOVED = _OPEN_ROWS.format(sign=-1, table=TRIGGERS.old_rows)
POSTGRESQL = [
    _pg_function("sales_open_totals_inserted", [_ADDED]),
    _pg_function("sales_open_totals_updated", [_REMOVED, _ADDED]),
    _pg_function("sales_open_totals_deleted", [_REMOVED]),
    *TRIGGERS.postgresql(),
]
POSTGRESQL_DROP = TRIGGERS.postgresql_drop()

# --- SQLite -------------------------------------------------------------------------------


def _sqlite_key(row: str) -> str:
    return " AND ".join(f"{column} = {row}.{column}" for column in KEY.split(", "))


def _sqlite_remove(row: str) -> str:
    return f"""
        UPDATE {TABLE} SET deals = deals - 1, amount = amount - {row}.amount
        WHERE {row}.status = 'open' AND {_sqlite_key(row)};
        DELETE FROM {TABLE} WHERE deals = 0 AND {_sqlite_key(row)};"""  # noqa: S608 - fixed names only


def _sqlite_add(row: str) -> str:
    values = ", ".join(f"{row}.{column}" for column in KEY.split(", "))
    return f"""
        INSERT INTO {TABLE} ({KEY}, deals, amount)
        SELECT {values}, 1, {row}.amount WHERE {row}.status = 'open'
        ON CONFLICT ({KEY}) DO UPDATE
            SET deals = deals + 1, amount = amount + excluded.amount;"""  # noqa: S608 - fixed names only


SQLITE = [
    f"""CREATE TRIGGER sales_deal_open_totals_inserted AFTER INSERT ON sales_deal
    BEGIN {_sqlite_add("NEW")} END""",
    f"""CREATE TRIGGER sales_deal_open_totals_updated AFTER UPDATE ON sales_deal
    BEGIN {_sqlite_remove("OLD")} {_sqlite_add("NEW")} END""",
    f"""CREATE TRIGGER sales_deal_open_totals_deleted AFTER DELETE ON sales_deal
    BEGIN {_sqlite_remove("OLD")} END""",
]
SQLITE_DROP = TRIGGERS.sqlite_drop()

REFILL = [
    f"DELETE FROM {TABLE}",  # noqa: S608 - fixed names
    f"""INSERT INTO {TABLE} ({KEY}, deals, amount)
    SELECT {KEY}, count(*), sum(amount) FROM sales_deal WHERE status = 'open'
    GROUP BY {KEY}""",  # noqa: S608
]


def install(execute, vendor: str) -> None:
    """The triggers, then the table filled from the deals (after a drop: see above)."""
    uninstall(execute, vendor)
    for statement in POSTGRESQL if vendor == "postgresql" else SQLITE:
        execute(statement)
    for statement in REFILL:
        execute(statement)
    if vendor == "postgresql":
        execute(f"ANALYZE {TABLE}")  # the planner's estimates of the new rows


def uninstall(execute, vendor: str) -> None:
    for statement in POSTGRESQL_DROP if vendor == "postgresql" else SQLITE_DROP:
        execute(statement)
