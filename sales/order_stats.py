"""Each customer's order statistics and last order day, kept by database triggers as orders
are written (CustomerOrderStats here; CustomerLastOrder, migration 0007, beside it).

What the nightly segment run needs of a customer's orders (analytics.pipeline.staging):
first and last purchase day (in TIME_ZONE), distinct purchase days, orders, revenue in the
reporting currency (Order.total_reporting) and the first purchase day's value (the repeat value is the rest). Keeping them as orders are
written lets a run "as of today" start from one row per customer instead of every order.

PostgreSQL: statement-level triggers with transition tables (a bulk import updates each
customer once). An insert adds to the row: a purchase day is new unless the customer
already had an order that day (an index probe, only when the day falls inside the row's
first..last range). Updates of the customer, date or total and deletes recount the
customers touched from their remaining orders. Each customer's row is created, then
locked in id order, before any order is read, so concurrent writers of one customer's
orders wait for each other and each counts what the other committed.

SQLite (tests and the demo) has only row-level triggers: every change recounts the
customer from its orders, through the same aggregate as the rebuild.

The time zone the days are counted in is the view `sales_order_stats_zone` (set to
TIME_ZONE by the migration and by `manage.py rebuild_order_stats`); the run uses the table
only while that zone is the current TIME_ZONE.
"""

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.lib.triggers import StatementTriggers

STATS = "sales_customerorderstats"
ZONE_VIEW = "sales_order_stats_zone"
COLUMNS = "customer_id, first_day, last_day, purchase_days, orders, revenue, first_day_revenue"
# Revenue is in CRM_CURRENCY: each order's total_reporting (sales.reporting_totals); an
# order without a rate for its day counts as a purchase worth nothing until it has one.
# (Migration 0009, older than that column, installs the same on `total`.)
VALUE = "total_reporting"


class CustomerLastOrder(models.Model):
    """When each customer last ordered: one narrow row per customer with orders.

    Kept by database triggers on sales_order (migration 0007), so every way orders are
    written (the services, the bulk import, loaders, admin, merges) keeps it right. It is
    what "bought in the last N days" reads: a range over customers, not over orders (90
    days of 10,000,000 orders are 2,500,000 rows to hash; this is 400,000 index entries
    in customer order). Read-only for the application.
    """

    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
    )
    last_ordered_at = models.DateTimeField(_("last ordered"))

    class Meta:
        verbose_name = _("customer's last order")
        verbose_name_plural = _("customers' last orders")
        # In customer order with the date: an index-only merge with the other criteria.
        indexes = [models.Index(fields=["customer", "last_ordered_at"], name="last_order_idx")]

    def __str__(self):
        return f"{self.customer_id}: {self.last_ordered_at:%Y-%m-%d}"


class CustomerOrderStats(models.Model):
    """One row per customer with orders. Read-only for the application."""

    customer = models.OneToOneField(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
    )
    first_day = models.DateField(_("first purchase"))
    last_day = models.DateField(_("last purchase"))
    purchase_days = models.PositiveIntegerField(_("purchase days"))
    orders = models.PositiveIntegerField(_("orders"))
    revenue = models.DecimalField(_("revenue"), max_digits=18, decimal_places=2)
    first_day_revenue = models.DecimalField(
        _("first purchase day's value"), max_digits=18, decimal_places=2
    )

    class Meta:
        app_label = "sales"
        db_table = STATS
        verbose_name = _("customer's order statistics")
        verbose_name_plural = _("customers' order statistics")

    def __str__(self):
        return f"{self.customer_id}: {self.orders}"


def _day_sql(column: str, zone_sql: str, vendor: str) -> str:
    """The order's day in the zone, as the run's aggregate computes it (Django's own SQL)."""
    if vendor == "postgresql":
        return f"({column} AT TIME ZONE {zone_sql})::date"
    return f"django_datetime_cast_date({column}, {zone_sql}, 'UTC')"


def aggregate_select(where: str, vendor: str, zone_sql: str, value: str = VALUE) -> str:
    """SELECT of the statistics of the orders matching `where`, one row per customer.

    One pass in (customer, ordered_at DESC) order: an order starts a new purchase day when
    the previous one in that order is on another day."""
    day = _day_sql("ordered_at", zone_sql, vendor)
    return f"""
        SELECT customer_id, MIN(day), MAX(day), SUM(new_day), COUNT(*), SUM(total),
               SUM(CASE WHEN day = first_day THEN total ELSE 0 END)
        FROM (
            SELECT customer_id, total, day,
                   CASE WHEN LAG(day) OVER (
                       PARTITION BY customer_id ORDER BY ordered_at DESC
                   ) = day THEN 0 ELSE 1 END AS new_day,
                   MIN(day) OVER (PARTITION BY customer_id) AS first_day
            FROM (SELECT customer_id, COALESCE({value}, 0) AS total, ordered_at, {day} AS day
                  FROM sales_order WHERE {where}) o
        ) days
        GROUP BY customer_id"""  # noqa: S608 - fixed names only


ZONE_OF_VIEW = f"(SELECT zone FROM {ZONE_VIEW})"  # noqa: S608 - fixed name
# The trigger functions below read the statement's orders from these transition tables.
TRIGGERS = StatementTriggers(
    table="sales_order",
    prefix="sales_order_stats",
    function="sales_order_stats",
    old_rows="old_orders",
    new_rows="new_orders",
    events=("inserted", "updated", "deleted", "truncated"),
)

# Creates the rows of the customers `ids` that have none, then locks all of them in id
# order (joins, not `= ANY(ids)`: an import passes a million ids). The INSERT waits for a
# concurrent transaction inserting the same row; the lock, for one holding it. The next
# statement's snapshot then sees what they committed.
PG_LOCK = f"""CREATE FUNCTION sales_order_stats_lock(ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {STATS} ({COLUMNS})
        SELECT DISTINCT id, DATE '1970-01-01', DATE '1970-01-01', 0, 0, 0, 0
        FROM unnest(ids) AS id ORDER BY id
        ON CONFLICT (customer_id) DO NOTHING;
    PERFORM 1 FROM {STATS} s JOIN unnest(ids) AS u (id) ON s.customer_id = u.id
        ORDER BY s.customer_id FOR UPDATE OF s;
END $$"""  # noqa: S608 - fixed names only


def _pg_recount(value: str) -> str:
    return f"""CREATE FUNCTION sales_order_stats_recount(ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE zone text := {ZONE_OF_VIEW};
BEGIN
    PERFORM sales_order_stats_lock(ids);
    UPDATE {STATS} s SET first_day = r.first_day, last_day = r.last_day,
        purchase_days = r.days, orders = r.orders, revenue = r.revenue,
        first_day_revenue = r.first_total
    FROM ({aggregate_select("customer_id IN (SELECT unnest(ids))", "postgresql", "zone", value)})
        AS r (customer_id, first_day, last_day, days, orders, revenue, first_total)
    WHERE s.customer_id = r.customer_id;
    DELETE FROM {STATS} s WHERE s.customer_id IN (SELECT unnest(ids))
        AND NOT EXISTS (SELECT 1 FROM sales_order o WHERE o.customer_id = s.customer_id);
END $$"""  # noqa: S608 - fixed names only


# A new order's day is a new purchase day unless the customer already had an order that
# day: certain outside the row's first..last range, else counted with an index probe
# (the day's orders, these included, against these alone).
def _pg_inserted(value: str) -> str:
    return f"""CREATE FUNCTION sales_order_stats_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE zone text := {ZONE_OF_VIEW};
BEGIN
    PERFORM sales_order_stats_lock(ARRAY(SELECT DISTINCT customer_id FROM new_orders));
    WITH days AS (
        SELECT customer_id, (ordered_at AT TIME ZONE zone)::date AS day,
               count(*) AS n, sum(COALESCE({value}, 0)) AS total
        FROM new_orders GROUP BY 1, 2
    ), flagged AS (
        SELECT d.*, (s.orders = 0 OR d.day < s.first_day OR d.day > s.last_day OR d.n = (
            SELECT count(*) FROM sales_order o WHERE o.customer_id = d.customer_id
                AND o.ordered_at >= ((d.day - 1)::timestamp AT TIME ZONE zone)
                AND o.ordered_at < ((d.day + 2)::timestamp AT TIME ZONE zone)
                AND (o.ordered_at AT TIME ZONE zone)::date = d.day)) AS new_day
        FROM days d JOIN {STATS} s USING (customer_id)
    ), added AS (
        SELECT customer_id, min(day) AS first_day, max(day) AS last_day,
               count(*) FILTER (WHERE new_day) AS days, sum(n) AS orders,
               sum(total) AS revenue, (array_agg(total ORDER BY day))[1] AS first_total
        FROM flagged GROUP BY customer_id
    )
    UPDATE {STATS} s SET
        first_day = CASE WHEN s.orders = 0 THEN a.first_day
                         ELSE LEAST(s.first_day, a.first_day) END,
        last_day = CASE WHEN s.orders = 0 THEN a.last_day
                        ELSE GREATEST(s.last_day, a.last_day) END,
        purchase_days = s.purchase_days + a.days,
        orders = s.orders + a.orders,
        revenue = s.revenue + a.revenue,
        first_day_revenue = CASE
            WHEN s.orders = 0 OR a.first_day < s.first_day THEN a.first_total
            WHEN a.first_day = s.first_day THEN s.first_day_revenue + a.first_total
            ELSE s.first_day_revenue END
    FROM added a WHERE s.customer_id = a.customer_id;
    RETURN NULL;
END $$"""  # noqa: S608 - fixed names only


def _pg_updated(value: str) -> str:
    return f"""CREATE FUNCTION sales_order_stats_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Only the customers of orders whose customer, date or converted total changed.
    PERFORM sales_order_stats_recount(ARRAY(
        SELECT DISTINCT unnest(ARRAY[o.customer_id, n.customer_id])
        FROM old_orders o JOIN new_orders n ON n.id = o.id
        WHERE (o.customer_id, o.ordered_at, o.{value})
            IS DISTINCT FROM (n.customer_id, n.ordered_at, n.{value})));
    RETURN NULL;
END $$"""  # noqa: S608 - fixed names only


PG_DELETED = """CREATE FUNCTION sales_order_stats_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM sales_order_stats_recount(ARRAY(SELECT DISTINCT customer_id FROM old_orders));
    RETURN NULL;
END $$"""

PG_TRUNCATED = f"""CREATE FUNCTION sales_order_stats_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {STATS};
    RETURN NULL;
END $$"""  # noqa: S608 - fixed names only


def _postgresql(value: str) -> list[str]:
    return [
        PG_LOCK,
        _pg_recount(value),
        _pg_inserted(value),
        _pg_updated(value),
        PG_DELETED,
        PG_TRUNCATED,
        *TRIGGERS.postgresql(),
    ]


POSTGRESQL_DROP = [
    *TRIGGERS.postgresql_drop(),
    "DROP FUNCTION IF EXISTS sales_order_stats_recount(bigint[])",
    "DROP FUNCTION IF EXISTS sales_order_stats_lock(bigint[])",
]


def _recount_sqlite(value: str, *customers: str) -> str:
    ids = ", ".join(customers)
    select = aggregate_select(f"customer_id IN ({ids})", "sqlite", ZONE_OF_VIEW, value)
    return f"""
        DELETE FROM {STATS} WHERE customer_id IN ({ids});
        INSERT INTO {STATS} ({COLUMNS}) {select};"""  # noqa: S608 - fixed names only


def _sqlite(value: str) -> list[str]:
    return [
        f"""CREATE TRIGGER sales_order_stats_inserted AFTER INSERT ON sales_order BEGIN
            {_recount_sqlite(value, "NEW.customer_id")}
        END""",
        f"""CREATE TRIGGER sales_order_stats_updated AFTER UPDATE OF customer_id, ordered_at,
        {value} ON sales_order BEGIN {_recount_sqlite(value, "OLD.customer_id", "NEW.customer_id")}
        END""",
        f"""CREATE TRIGGER sales_order_stats_deleted AFTER DELETE ON sales_order BEGIN
            {_recount_sqlite(value, "OLD.customer_id")}
        END""",
    ]


SQLITE_DROP = TRIGGERS.sqlite_drop()


def _zone_statements(vendor: str, zone: str) -> list[str]:
    literal = "'" + zone.replace("'", "''") + "'"
    if vendor == "postgresql":
        return [f"CREATE OR REPLACE VIEW {ZONE_VIEW} AS SELECT {literal}::text AS zone"]
    return [
        f"DROP VIEW IF EXISTS {ZONE_VIEW}",
        f"CREATE VIEW {ZONE_VIEW} AS SELECT {literal} AS zone",
    ]


# Every order is read: one sequential scan and a sort, not an index scan in customer order
# (on orders laid out in time order that reads each heap page many times over).
PG_FILL_SETTINGS = [
    "SET LOCAL work_mem = '256MB'",
    "SET LOCAL enable_indexscan = off",
    "SET LOCAL enable_bitmapscan = off",
]


def fill_statements(vendor: str, zone: str, value: str = VALUE) -> list[str]:
    """Set the zone, then recompute every row from the orders (in a transaction)."""
    fill = f"INSERT INTO {STATS} ({COLUMNS}) " + aggregate_select(
        "1 = 1", vendor, ZONE_OF_VIEW, value
    )
    settings = PG_FILL_SETTINGS if vendor == "postgresql" else []
    return [*settings, *_zone_statements(vendor, zone), f"DELETE FROM {STATS}", fill]  # noqa: S608


def install(execute, vendor: str, zone: str, value: str = VALUE) -> None:
    """The zone view, the triggers and the filled table (the migrations), summing `value`."""
    statements = _postgresql(value) if vendor == "postgresql" else _sqlite(value)
    fill = fill_statements(vendor, zone, value)
    for statement in [*_zone_statements(vendor, zone), *statements, *fill]:
        execute(statement)


def uninstall(execute, vendor: str) -> None:
    for statement in POSTGRESQL_DROP if vendor == "postgresql" else SQLITE_DROP:
        execute(statement)
    execute(f"DROP VIEW IF EXISTS {ZONE_VIEW}")


def rebuild() -> int:
    """Recompute every row from the orders in TIME_ZONE; returns the number of customers.

    Holds a lock on the orders (writers wait, readers do not) so no order is missed."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("LOCK TABLE sales_order IN SHARE MODE")
        for statement in fill_statements(connection.vendor, zone_name()):
            cursor.execute(statement)
        return cursor.rowcount


def zone_name() -> str:
    """TIME_ZONE as Django names it in queries (timezone.get_current_timezone_name)."""
    return timezone.get_default_timezone_name()


def zone() -> str | None:
    """The time zone the table's days are counted in (None before the migration)."""
    with connection.cursor() as cursor:
        try:
            with transaction.atomic():
                cursor.execute(f"SELECT zone FROM {ZONE_VIEW}")  # noqa: S608 - fixed name
                row = cursor.fetchone()
        except Exception:  # noqa: BLE001 - no view: no statistics
            return None
    return row[0] if row else None
