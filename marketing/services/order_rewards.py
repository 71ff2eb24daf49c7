"""Loyalty points and coupon conversions for many orders at once (an import, the nightly
catch-up): a few set-based statements per batch instead of a round trip per order.

The result is what placing the orders one by one gives (loyalty_earn and coupon_redeem per
order; tests compare both): the same ledger rows, balances, tiers and conversions. It is
idempotent: an order that earned is skipped (and the ledger's unique constraint says so
too), and each batch's entries and balances commit together, so a run killed halfway and
run again never doubles points.
"""

# ruff: noqa: S608 - the SQL is built from table names and Django-compiled querysets only

from datetime import date, datetime, time

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from marketing.models import LoyaltyAccount, LoyaltyEntry, LoyaltyRule, LoyaltyTier
from marketing.services.loyalty import (
    CATCH_UP,
    MAX_POINTS,
    REFRESH_BATCH,
    SPEND_WINDOW,
    _refresh,
    loyalty_refresh,
    loyalty_rule,
)
from sales.models import Order

# Orders per transaction: each batch writes its customers' accounts once, so bigger
# batches rewrite fewer account rows (200,000 orders of 100,000 customers touch 86,000;
# 1,000,000 touch each once), and hold their accounts' locks longer.
EARN_BATCH = 1_000_000

_ACCOUNT = LoyaltyAccount._meta.db_table
_ENTRY = LoyaltyEntry._meta.db_table


def loyalty_earn_orders(orders: QuerySet[Order]) -> int:
    """Points for many orders by the rule, then their customers' spend and tier; returns
    the entries written.

    Per batch of EARN_BATCH orders (in id order), one transaction: open the customers'
    accounts and lock them in customer order (the order every bulk writer takes, so two
    never deadlock; every ledger writer holds its account's lock, so an order that has
    not earned now cannot earn before this commits), then, on PostgreSQL, one statement
    inserts the entries and sets each account's balance, spend and tier at once.
    """
    rule = loyalty_rule()
    _analyze(Order._meta.db_table)  # an import just wrote the orders
    ids = orders.order_by("pk").values_list("pk", flat=True)
    written, after = 0, 0
    since = timezone.now() - SPEND_WINDOW
    while True:
        upper = list(ids.filter(pk__gt=after)[EARN_BATCH - 1 : EARN_BATCH])
        batch = orders.filter(pk__gt=after, **({"pk__lte": upper[0]} if upper else {}))
        written += _earn_batch(batch, rule, (after, upper[0] if upper else None), since)
        if not upper:
            return written
        after = upper[0]


@transaction.atomic
def _earn_batch(
    batch: QuerySet[Order], rule: LoyaltyRule, ids: tuple[int, int | None], since: datetime
) -> int:
    batch_sql, batch_params = batch.order_by().values("pk").query.sql_with_params()
    customers = batch.order_by().values("customer_id").distinct()
    customers_sql, customers_params = customers.query.sql_with_params()
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        # One pass opens the missing accounts and, on PostgreSQL, locks the others in
        # customer order (ON CONFLICT DO UPDATE ... WHERE false locks a row, writes nothing).
        conflict = (
            "(customer_id) DO UPDATE SET balance = EXCLUDED.balance WHERE false"
            if postgres
            else "DO NOTHING"  # SQLite locks the whole database
        )
        cursor.execute(
            f"INSERT INTO {_ACCOUNT} (customer_id, balance, earned, spend_12m, tier_id,"
            f" refreshed_at) SELECT c.customer_id, 0, 0, 0, NULL, NULL FROM ({customers_sql}) c"
            f" WHERE true ORDER BY c.customer_id ON CONFLICT {conflict}",
            customers_params,
        )
        if cursor.rowcount > 1000:
            _analyze(_ACCOUNT)
        new_sql, new_params = _new_entries_sql(batch_sql, batch_params, rule, ids)
        prefix, suffix = LoyaltyEntry.order_reason("\0").split("\0")
        insert_entries = (
            f"INSERT INTO {_ENTRY} (customer_id, kind, points, reason, order_id,"
            " created_by_id, created_at)"
            f" SELECT e.customer_id, %s, e.points, %s || e.number || %s, e.id, NULL, %s"
            f" FROM ({new_sql}) e WHERE true ORDER BY e.id"
        )
        insert_params = [LoyaltyEntry.Kind.EARNED, prefix, suffix, timezone.now(), *new_params]
        if not postgres:  # SQLite has no INSERT in a WITH: the balances, the entries, the tiers
            cursor.execute(
                f"UPDATE {_ACCOUNT} SET balance = balance + n.points, earned = earned + n.points"
                f" FROM (SELECT customer_id, SUM(points) AS points FROM ({new_sql}) e"
                f" GROUP BY customer_id) n WHERE {_ACCOUNT}.customer_id = n.customer_id",
                new_params,
            )
            cursor.execute(insert_entries, insert_params)
            written = cursor.rowcount
            ids_of_customers = sorted(customers.values_list("customer_id", flat=True))
            for start in range(0, len(ids_of_customers), REFRESH_BATCH):
                _refresh(ids_of_customers[start : start + REFRESH_BATCH], since)
            return written
        # PostgreSQL, one statement: the points added are those of the entries inserted
        # (RETURNING); each account of the batch is written once, with its new balance,
        # its 12-month spend and the tier they reach.
        tier_sql, tier_params = _tier_sql("a.earned + s.points", "s.spend")
        cursor.execute(
            f"WITH inserted AS ({insert_entries} RETURNING customer_id, points),"
            " earned AS (SELECT customer_id, SUM(points) AS points FROM inserted"
            " GROUP BY customer_id),"
            " s AS (SELECT c.customer_id, COALESCE(e.points, 0) AS points,"
            f" COALESCE((SELECT SUM(o.total_reporting) FROM {Order._meta.db_table} o"
            " WHERE o.customer_id = c.customer_id AND o.ordered_at >= %s), 0) AS spend"
            f" FROM ({customers_sql}) c LEFT JOIN earned e ON e.customer_id = c.customer_id),"
            f" updated AS (UPDATE {_ACCOUNT} a SET balance = a.balance + s.points,"
            f" earned = a.earned + s.points, spend_12m = s.spend, tier_id = {tier_sql},"
            " refreshed_at = %s FROM s WHERE a.customer_id = s.customer_id RETURNING 1)"
            " SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM updated)",
            [*insert_params, since, *customers_params, *tier_params, timezone.now()],
        )
        return cursor.fetchone()[0]


def _tier_sql(earned: str, spend: str) -> tuple[str, list]:
    """SQL of the tier that points earned and 12-month spend reach (tier_expression over
    other columns): the highest whose points OR spend threshold they meet."""
    whens: list[str] = []
    params: list[object] = []
    for tier in LoyaltyTier.objects.order_by("-rank"):
        tests = []
        if tier.minimum_points is not None:
            tests.append(f"{earned} >= %s")
            params.append(tier.minimum_points)
        if tier.minimum_spend is not None:
            tests.append(f"{spend} >= %s")
            params.append(tier.minimum_spend)
        if tests:
            whens.append(f"WHEN {' OR '.join(tests)} THEN %s")
            params.append(tier.pk)
    if not whens:  # no tier has a threshold: everyone is untiered ("CASE ELSE" is no SQL)
        return "NULL", params
    return f"CASE {' '.join(whens)} ELSE NULL END", params


def _analyze(*tables: str) -> None:
    """Fresh statistics of tables a bulk write just grew: planned with the old ones (a
    ledger of no rows), NOT EXISTS became a nested loop scanning the whole ledger per
    order, 1,200 orders/s on 1,000,000. Sampled: about a second on 10,000,000 rows."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(tables)}")


def _new_entries_sql(
    batch_sql: str,
    batch_params: tuple,
    rule: LoyaltyRule,
    ids: tuple[int, int | None],
) -> tuple[str, list]:
    """The batch's orders that earn points and have not: id, customer_id, number, points.

    The batch's id range is repeated outside its subquery, so the orders are read by
    their primary key, not scanned whole for each batch. NOT EXISTS probes the ledger's
    unique index of orders; the accounts' locks make it exact (see loyalty_earn_orders),
    where ON CONFLICT DO NOTHING cost every entry a speculative insertion."""
    params: list[object]
    if connection.vendor == "postgresql":
        points, params = (
            "LEAST(FLOOR(o.total_reporting * %s), %s)::integer",
            [rule.points_per_unit],
        )
    else:  # SQLite keeps decimals as floats: whole cents times thousandths of a point, in
        # integers, so 0.29 at 100 points per unit earns 29 (as Decimal does), not 28.
        points = "MIN(CAST(ROUND(o.total_reporting * 100) AS INTEGER) * %s / 100000, %s)"
        params = [int(rule.points_per_unit * 1000)]
    params.append(MAX_POINTS)
    sql = (
        f"SELECT o.id, o.customer_id, o.number, {points} AS points FROM {Order._meta.db_table} o"
        f" WHERE o.id > %s AND o.id <= %s AND o.id IN ({batch_sql})"
        # The order's value in the reporting currency, the rule's unit: NULL (no rate for
        # its day) earns nothing.
        f" AND %s AND o.total_reporting > 0 AND o.total_reporting >= %s AND {points} > 0"
        f" AND NOT EXISTS (SELECT 1 FROM {_ENTRY} x WHERE x.order_id = o.id)"
    )
    after, upper = ids
    values = [
        *params,
        after,
        upper if upper is not None else 2**63 - 1,
        *batch_params,
        rule.is_active,
        rule.minimum_order_total,
        *params,
    ]
    return sql, values


def coupon_redeem_orders(orders: QuerySet[Order]) -> int:
    """coupon_redeem for many orders in one statement: each open coupon (its recipient not
    converted yet) is converted by the oldest of these orders that its own customer placed
    with the code (trimmed, any case). Returns the conversions recorded."""
    from marketing.models import CampaignRecipient

    table = CampaignRecipient._meta.db_table
    orders_sql, params = orders.values("pk").query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET conversion_order_id = f.order_id, converted_at = f.ordered_at,"
            " revenue = f.total, outcome = %s"
            " FROM (SELECT r.id AS recipient_id, o.id AS order_id, o.ordered_at, o.total,"
            " ROW_NUMBER() OVER (PARTITION BY r.id ORDER BY o.ordered_at, o.id) AS n"
            f" FROM {Order._meta.db_table} o JOIN {table} r ON r.customer_id = o.customer_id"
            " AND r.coupon_code = UPPER(TRIM(o.coupon_code))"
            f" WHERE o.id IN ({orders_sql}) AND o.coupon_code <> ''"
            " AND r.coupon_code <> '' AND r.conversion_order_id IS NULL) f"
            f" WHERE {table}.id = f.recipient_id AND f.n = 1"
            f" AND {table}.conversion_order_id IS NULL",
            [CampaignRecipient.Outcome.CONVERTED, *params],
        )
        return cursor.rowcount


# --- the background jobs' work (marketing.tasks) ----------------------------------


def imported_orders_reward(*, first_id: int, last_id: int) -> dict[str, int]:
    """What an order import means to marketing: points, coupon conversions, tiers."""
    orders = Order.objects.filter(pk__gte=first_id, pk__lte=last_id)
    return {
        "entries": loyalty_earn_orders(orders),
        "redemptions": coupon_redeem_orders(orders),
    }


def converted_orders_reward(*, changes: dict[str, str]) -> dict[str, int]:
    """Points for the orders that new exchange rates converted (sales.receivers did, before
    this runs): an order without a rate for its day earned nothing, and the nightly
    catch-up only looks two days back. `changes`: {currency: first changed day, ISO}.
    An order earns once, so those that earned already are skipped."""
    tz = timezone.get_current_timezone()
    covered = Q()
    for currency, day in changes.items():
        since = datetime.combine(date.fromisoformat(day), time.min, tzinfo=tz)
        covered |= Q(currency=currency, ordered_at__gte=since)
    if not covered:
        return {"entries": 0}
    orders = Order.objects.filter(covered, total_reporting__isnull=False)
    return {"entries": loyalty_earn_orders(orders)}


def loyalty_catch_up() -> dict[str, int]:
    """Catch up on the last two days' orders whose points or coupon were missed (a
    receiver that failed, an import whose task was never queued; both steps skip what was
    done), then re-tier everyone, as spend leaves the 12-month window."""
    recent = Order.objects.filter(created_at__gte=timezone.now() - CATCH_UP)
    return {
        "entries": loyalty_earn_orders(recent),
        "redemptions": coupon_redeem_orders(recent),
        "accounts": loyalty_refresh(),
    }
