"""Order.total_reporting written in SQL: the order import, the migration that fills it and
the re-conversion when exchange rates change (core.exchange_rates.exchange_rates_changed).

The SQL says what Order.save() says with core.exchange: the total itself in CRM_CURRENCY,
else the total times the latest rate of its currency on or before the order's day in
TIME_ZONE, rounded to cents; NULL without a rate (or past what the column holds).
"""

from datetime import date, datetime, time

from django.db import connection
from django.utils import timezone

from core.exchange import reporting_currency
from crm.lib.money import MONEY_MAX
from sales.order_stats import zone_name

RATES = "core_exchangerate"


def day_sql(column: str) -> str:
    """The order's day in TIME_ZONE (one %s parameter: the zone's name)."""
    if connection.vendor == "postgresql":
        return f"({column} AT TIME ZONE %s)::date"
    return f"django_datetime_cast_date({column}, %s, 'UTC')"


def converted_sql(total: str, currency: str, ordered_at: str) -> tuple[str, list]:
    """The SQL of one order's total in the reporting currency, and its parameters; the
    column names must be qualified with their table (the subquery has a currency too)."""
    rate = (
        f"(SELECT r.rate FROM {RATES} r WHERE r.currency = {currency}"  # noqa: S608
        f" AND r.day <= {day_sql(ordered_at)} ORDER BY r.day DESC LIMIT 1)"
    )
    converted = f"ROUND({total} * {rate}, 2)"
    sql = f"CASE WHEN {currency} = %s THEN {total} WHEN {converted} <= %s THEN {converted} END"
    zone = zone_name()
    return sql, [reporting_currency(), zone, MONEY_MAX, zone]


# The updated table's columns, qualified: inside the rate's subquery a bare "currency"
# would be the rate's own column, and every order would take any currency's latest rate.
ORDER_COLUMNS = ("sales_order.total", "sales_order.currency", "sales_order.ordered_at")


def orders_convert_all(cursor) -> None:
    """Every order's total_reporting from the rates (the migration that adds it)."""
    sql, params = converted_sql(*ORDER_COLUMNS)
    cursor.execute(f"UPDATE sales_order SET total_reporting = {sql}", params)  # noqa: S608


def orders_reconvert(changes: dict[str, date]) -> int:
    """The orders of each changed currency from its first changed day on, converted again
    (one UPDATE per currency); returns how many orders were converted."""
    sql, params = converted_sql(*ORDER_COLUMNS)
    updated = 0
    with connection.cursor() as cursor:
        for currency, day in sorted(changes.items()):
            if currency == reporting_currency():
                continue
            since = datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())
            cursor.execute(
                f"UPDATE sales_order SET total_reporting = {sql}"  # noqa: S608
                " WHERE currency = %s AND ordered_at >= %s",
                [*params, currency, connection.ops.adapt_datetimefield_value(since)],
            )
            updated += cursor.rowcount
    return updated
