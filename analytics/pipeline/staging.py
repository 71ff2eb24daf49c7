"""Step 1 of a run: one grouped query over the orders into the staging table.

Raw orders never come to Python: the database groups them per customer and per distinct
purchase day (in TIME_ZONE), then per customer, and writes the result with INSERT ... SELECT.
A run as of today starts instead from sales' per-customer order statistics, which triggers
keep as orders are written (sales.order_stats): one row per customer, not every order.
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from analytics.models import CustomerStats
from analytics.pipeline.copying import read_columns
from sales import order_stats
from sales.models import Order

# Memory for the aggregate's one statement (SET LOCAL): the plan it should take streams
# from the (customer, -ordered_at) index; should the planner sort instead (no index, or
# other statistics), the sort stays in memory. Check with `bench_analytics -v 2` (EXPLAIN).
AGGREGATE_WORK_MEM = "256MB"

STATS_COLUMNS = (
    "customer_id",
    "first_day",
    "last_day",
    "purchase_days",
    "orders",
    "revenue",
    "repeat_value",
)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def end_of_day(as_of: date):
    """The first instant after `as_of` in TIME_ZONE, as a query parameter."""
    return connection.ops.adapt_datetimefield_value(end_of_day_at(as_of))


CENT = Decimal("0.01")


def unconverted_orders(as_of: date) -> dict[str, str]:
    """The totals, per currency, of the orders up to the end of `as_of` that have no value
    in the reporting currency (no exchange rate on their day): the aggregate counts them as
    nothing, so the run records them for the dashboards to flag. Reads the orders' partial
    index of unconverted orders, not the table."""
    rows = (
        Order.objects.filter(total_reporting__isnull=True, ordered_at__lt=end_of_day_at(as_of))
        .values_list("currency")
        .annotate(total=Sum("total"))
        .order_by("currency")
    )
    return {currency: str(Decimal(total).quantize(CENT)) for currency, total in rows}


def end_of_day_at(as_of: date) -> datetime:
    return datetime.combine(
        as_of + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
    )


def uses_order_stats(as_of: date) -> bool:
    """Whether a run as of `as_of` may start from sales' per-customer order statistics.

    They hold every order written so far, so only a run as of today (or later) may; one as of
    a past date aggregates the orders, to reproduce what was known then. And only while their
    days are counted in this time zone (order_stats.zone)."""
    return (
        as_of >= timezone.localdate() and order_stats.zone() == timezone.get_current_timezone_name()
    )


def _orders_select(as_of: date, only_customers: str = "") -> tuple[str, list]:
    """SELECT of every customer's order statistics as of the end of `as_of` from the orders.

    One pass in (customer, ordered_at DESC) order, which the orders' (customer, -ordered_at)
    index gives without sorting: an order starts a new purchase day when the next one in
    time is on another day (LAG); a day's value is the sum of its orders, so the repeat
    value is everything after the first day. Grouping by (customer, day) first would hash
    or sort about as many groups as there are orders: several times slower.
    """
    tzname = timezone.get_current_timezone_name()
    day_sql, day_params = connection.ops.datetime_cast_date_sql(_q("ordered_at"), [], tzname)
    only = f" AND {_q('customer_id')} IN ({only_customers})" if only_customers else ""
    sql = f"""
        SELECT customer_id, MIN(day), MAX(day), SUM(new_day), COUNT(*), SUM(total),
               SUM(CASE WHEN day > first_day THEN total ELSE 0 END)
        FROM (
            SELECT customer_id, total, day,
                   CASE WHEN LAG(day) OVER (
                       PARTITION BY customer_id ORDER BY ordered_at DESC
                   ) = day THEN 0 ELSE 1 END AS new_day,
                   MIN(day) OVER (PARTITION BY customer_id) AS first_day
            FROM (
                SELECT {_q("customer_id")} AS customer_id,
                       COALESCE({_q("total_reporting")}, 0) AS total,
                       {_q("ordered_at")} AS ordered_at, {day_sql} AS day
                FROM {_q(Order._meta.db_table)}
                WHERE {_q("ordered_at")} < %s{only}
            ) orders
        ) days
        GROUP BY customer_id
    """  # noqa: S608 - quoted names only; values are parameters
    return sql, [*day_params, end_of_day(as_of)]


def _stats_select(as_of: date) -> tuple[str, list]:
    """The same from the order statistics: their rows as they are for customers whose last
    purchase is on or before `as_of`, the orders' aggregate for the few with later orders.
    One statement, so both halves see the same moment."""
    stats = _q(order_stats.STATS)
    later = f"SELECT customer_id FROM {stats} WHERE last_day > %s"  # noqa: S608
    raw, raw_params = _orders_select(as_of, later)
    sql = f"""
        SELECT customer_id, first_day, last_day, purchase_days, orders, revenue,
               revenue - first_day_revenue
        FROM {stats} WHERE last_day <= %s AND orders > 0
        UNION ALL {raw}
    """  # noqa: S608 - quoted names only; values are parameters
    return sql, [as_of, *raw_params, as_of]


def aggregate_sql(run_id: int, as_of: date) -> tuple[str, list]:
    """INSERT ... SELECT of every customer's order statistics as of the end of `as_of`."""
    select, params = _stats_select(as_of) if uses_order_stats(as_of) else _orders_select(as_of)
    columns = ", ".join(_q(c) for c in ("run_id", *STATS_COLUMNS))
    sql = (
        f"INSERT INTO {_q(CustomerStats._meta.db_table)} ({columns}) "  # noqa: S608
        f"SELECT %s, s.* FROM ({select}) s"
    )
    return sql, [run_id, *params]


def clear_staging() -> None:
    """Empty the staging table: only the one active run ever uses it."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {_q(CustomerStats._meta.db_table)}")
        else:
            cursor.execute(f"DELETE FROM {_q(CustomerStats._meta.db_table)}")  # noqa: S608


def aggregate_orders(run_id: int, as_of: date) -> int:
    """Fill the staging table for the run; returns the number of customers."""
    sql, params = aggregate_sql(run_id, as_of)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SET LOCAL work_mem = '{AGGREGATE_WORK_MEM}'")
        cursor.execute(sql, params)
        return cursor.rowcount


def _epoch_days(column: str) -> str:
    """SQL for a DATE column as days since 1970-01-01 (an integer numpy reads directly)."""
    if connection.vendor == "postgresql":
        return f"({_q(column)} - DATE '1970-01-01')"
    return f"CAST(julianday({_q(column)}) - 2440587.5 AS INTEGER)"


_DTYPES = {
    "customer_id": "int64",
    "first_day": "int64",
    "last_day": "int64",
    "purchase_days": "int64",
    "orders": "int64",
    "revenue": "float64",
    "repeat_value": "float64",
}


def read_stats(run_id: int, id_range: tuple[int, int] | None = None) -> dict[str, np.ndarray]:
    """The run's staging rows (optionally one customer-id range) as numpy columns."""
    selected = [_epoch_days(name) if name.endswith("_day") else _q(name) for name in STATS_COLUMNS]
    sql = (
        f"SELECT {', '.join(selected)} FROM {_q(CustomerStats._meta.db_table)} "  # noqa: S608
        f"WHERE {_q('run_id')} = %s"
    )
    params = [run_id]
    if id_range is not None:
        sql += f" AND {_q('customer_id')} BETWEEN %s AND %s"
        params += list(id_range)
    sql += f" ORDER BY {_q('customer_id')}"
    columns = read_columns(sql, params, list(STATS_COLUMNS), _DTYPES)
    for name in ("first_day", "last_day"):
        columns[name] = columns[name].astype("datetime64[D]")
    return columns
