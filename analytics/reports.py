"""The dashboards' queries: every figure is aggregated in the database.

Segment and value reports read only what a run stored (CustomerValue, SegmentSummary,
SegmentMigration); a run never changes once written, so the per-run reports that scan
a whole run (the Pareto curve, the LTV histogram) are cached by run id. Pipeline and
sales reports aggregate deals and orders live, with grouped queries; the service reports
are in analytics.service_reports.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Min, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.models import (
    CANNOT_LOSE,
    Segment,
    SegmentMigration,
    SegmentRun,
    SegmentSummary,
)
from core.exchange import RateBook, Tally
from sales.converted import convert_groups, deal_day_expression
from sales.models import Deal
from sales.selectors import DealScope, forecast, pipeline_stages

SEGMENT_ORDER = [segment.value for segment in Segment]
PARETO_POINTS = 100
HISTOGRAM_BUCKETS = 20
CACHE_SECONDS = 24 * 3600


def share(part, whole) -> float:
    return float(part) / float(whole) if whole else 0.0


def _money(value) -> Decimal:
    # SQLite sums decimals as floats; every amount is shown in cents.
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=timezone.get_current_timezone())

    @property
    def end_before(self) -> datetime:
        next_day = self.end + timedelta(days=1)
        return datetime.combine(next_day, time.min, tzinfo=timezone.get_current_timezone())


# --- segments -------------------------------------------------------------------------


def segment_rows(run: SegmentRun) -> list[dict]:
    """Per segment of the run: customers, revenue, their shares and the average LTV."""
    summaries = {s.segment: s for s in SegmentSummary.objects.filter(run=run)}
    customers = sum(s.customers for s in summaries.values())
    revenue = sum((s.revenue for s in summaries.values()), Decimal("0"))
    rows = []
    for key in SEGMENT_ORDER:
        summary = summaries.get(key)
        if summary is None:
            continue
        rows.append(
            {
                "segment": key,
                "label": Segment(key).label,
                "customers": summary.customers,
                "customer_share": share(summary.customers, customers),
                "revenue": _money(summary.revenue),
                "revenue_share": share(summary.revenue, revenue),
                "average_ltv": _money(summary.average_ltv),
            }
        )
    return rows


def migration_matrix(run: SegmentRun) -> dict:
    """Customers per (previous segment, current segment); the "new" row has no previous."""
    counts = {
        (m["from_segment"], m["to_segment"]): m["customers"]
        for m in SegmentMigration.objects.filter(run=run).values(
            "from_segment", "to_segment", "customers"
        )
    }
    present_to = {to for _from, to in counts}
    present_from = {frm for frm, _to in counts}
    columns = [key for key in SEGMENT_ORDER if key in present_to]
    rows = []
    for key in [*SEGMENT_ORDER, ""]:
        if key not in present_from:
            continue
        cells = [counts.get((key, to), 0) for to in columns]
        rows.append({"segment": key, "cells": cells, "total": sum(cells)})
    return {"columns": columns, "rows": rows}


def segment_trend(limit: int = 8) -> dict:
    """Segment sizes across the last successful runs, oldest first (two queries)."""
    runs = list(
        SegmentRun.objects.filter(status=SegmentRun.Status.SUCCEEDED)
        .order_by("-as_of", "-id")
        .values("pk", "as_of")[:limit]
    )[::-1]
    sizes = {
        (s["run_id"], s["segment"]): s["customers"]
        for s in SegmentSummary.objects.filter(run__in=[r["pk"] for r in runs]).values(
            "run_id", "segment", "customers"
        )
    }
    present = {segment for _run, segment in sizes}
    series = [
        {"segment": key, "sizes": [sizes.get((r["pk"], key), 0) for r in runs]}
        for key in SEGMENT_ORDER
        if key in present
    ]
    return {"runs": runs, "series": series}


# --- value ------------------------------------------------------------------------------


def _cache_key(report: str, run: SegmentRun) -> str:
    # The creation time too: a restored or recreated database may reuse run ids.
    return f"analytics:{report}:{run.pk}:{run.created_at.timestamp():.6f}"


# Tiles by arithmetic on the row number, so the only window is a ROW_NUMBER over the
# (run, -revenue) index in order: no sort, no second pass (NTILE would need both).
# Ties need no tie-breaker: equal revenues give the same sums in any order.
_PARETO_SQL = """
SELECT (rn - 1) * %(points)s / %(n)s AS tile, COUNT(*), SUM(revenue),
       SUM(CASE WHEN rn * 5 <= %(n)s THEN revenue ELSE 0 END)
FROM (
    SELECT revenue, ROW_NUMBER() OVER (ORDER BY revenue DESC) AS rn
    FROM analytics_customervalue WHERE run_id = %(run)s
) ranked
GROUP BY tile ORDER BY tile
"""


def pareto(run: SegmentRun) -> dict:
    """The Pareto curve in at most 100 points, and the top fifth's share of revenue.

    Customers sorted by revenue (highest first) are cut into 100 equal tiles in one
    query; each point is (share of customers so far, share of revenue so far).
    "Top 20%" is the first floor(n / 5) customers.
    """
    key = _cache_key("pareto", run)
    result = cache.get(key)
    if result is None:
        customers = run.values.count()
        tiles = []
        if customers:
            with connection.cursor() as cursor:
                params = {"points": PARETO_POINTS, "n": customers, "run": run.pk}
                cursor.execute(_PARETO_SQL, params)
                tiles = cursor.fetchall()
        result = _pareto_points(tiles)
        cache.set(key, result, CACHE_SECONDS)
    return result


def _pareto_points(tiles) -> dict:
    customers = sum(count for _tile, count, _rev, _top in tiles)
    revenue = sum(float(rev or 0) for _tile, _count, rev, _top in tiles)
    top = sum(float(top or 0) for *_rest, top in tiles)
    points, seen, earned = [{"x": 0.0, "y": 0.0}], 0, 0.0
    for _tile, count, rev, _top in tiles:
        seen += count
        earned += float(rev or 0)
        points.append({"x": share(seen, customers), "y": share(earned, revenue)})
    return {
        "points": points,
        "customers": customers,
        "revenue": _money(revenue),
        "top20_share": share(top, revenue),
    }


def ltv_histogram(run: SegmentRun) -> list[dict]:
    """Customers per predicted-LTV bucket: 20 equal-width buckets from min to max."""
    key = _cache_key("ltv-histogram", run)
    result = cache.get(key)
    if result is None:
        result = _ltv_buckets(run)
        cache.set(key, result, CACHE_SECONDS)
    return result


def _ltv_buckets(run: SegmentRun) -> list[dict]:
    bounds = run.values.aggregate(low=Min("predicted_ltv"), high=Max("predicted_ltv"))
    if bounds["low"] is None:
        return []
    low, high = Decimal(str(bounds["low"])), Decimal(str(bounds["high"]))
    width = (high - low) / HISTOGRAM_BUCKETS or Decimal("0.01")
    with connection.cursor() as cursor:
        # FLOOR exists on PostgreSQL and (registered by Django) on SQLite.
        cursor.execute(
            "SELECT FLOOR((predicted_ltv - %s) / %s) AS bucket, COUNT(*) "
            "FROM analytics_customervalue WHERE run_id = %s GROUP BY bucket",
            [low, width, run.pk],
        )
        counts: dict[int, int] = {}
        for bucket, count in cursor.fetchall():
            index = min(int(bucket), HISTOGRAM_BUCKETS - 1)  # the maximum falls on the edge
            counts[index] = counts.get(index, 0) + count
    return [
        {
            "low": _money(low + width * i),
            "high": _money(low + width * (i + 1)),
            "customers": counts.get(i, 0),
        }
        for i in range(HISTOGRAM_BUCKETS)
    ]


def cannot_lose_count(run: SegmentRun) -> int:
    """How many customers the list has (counting them scans the whole run: cached)."""
    key = _cache_key("cannot-lose-count", run)
    count = cache.get(key)
    if count is None:
        count = cannot_lose(run).count()
        cache.set(key, count, CACHE_SECONDS)
    return count


def cannot_lose(run: SegmentRun):
    """Customers too valuable to lose: the segment, or high value and probably leaving."""
    return (
        # CANNOT_LOSE is also the condition of the partial index that answers this query
        # in its order (the first page reads 25 index entries, not the whole run).
        run.values.filter(CANNOT_LOSE)
        .select_related("customer__owner")
        .order_by("-predicted_ltv", "-revenue", "customer_id")
    )


# --- pipeline ---------------------------------------------------------------------------


def pipeline_summary(
    deals, pipeline, period: Period, *, by_rep: bool
) -> tuple[list[dict], dict, list[dict] | None]:
    """The funnel, the win statistics and (with `by_rep`) the per-rep table, from one
    grouped scan of the deals instead of one each.

    - funnel: deals of `pipeline` created in the period, by their stage now: count, amount;
    - win statistics: of the deals closed in the period, the win rate and average days to win;
    - per rep: open pipeline now, and deals won and lost in the period, per owner.
    The rows are the deals created or closed in the period (the (created_at) and
    (status, closed_at) indexes find them) and, for the per-rep table, the open ones,
    grouped by owner and stage: a few dozen groups, added up here.
    """
    created = Q(created_at__gte=period.start_at, created_at__lt=period.end_before)
    closed = Q(closed_at__gte=period.start_at, closed_at__lt=period.end_before)
    in_funnel = created & Q(pipeline=pipeline)
    won, lost = closed & Q(status=Deal.Status.WON), closed & Q(status=Deal.Status.LOST)
    is_open = Q(status=Deal.Status.OPEN)
    cycle = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())
    groups = list(
        deals.filter(in_funnel | closed | is_open if by_rep else in_funnel | closed)
        .annotate(day=deal_day_expression())
        .values("owner__username", "stage_id", "currency", "day")
        .annotate(
            funnel_deals=Count("pk", filter=in_funnel),
            funnel_amount=Sum("amount", filter=in_funnel),
            open_deals=Count("pk", filter=is_open),
            open_amount=Sum("amount", filter=is_open),
            won=Count("pk", filter=won),
            won_amount=Sum("amount", filter=won),
            lost=Count("pk", filter=lost),
            cycle=Sum(cycle, filter=won, output_field=DurationField()),
        )
        .order_by("owner__username", "stage_id")  # the reps in the database's order
    )
    missing = convert_groups(groups, ("funnel_amount", "open_amount", "won_amount"))
    return (
        _funnel(groups, pipeline),
        _win_stats(groups)
        | {
            "missing": missing["won_amount"],
            "funnel_missing": missing["funnel_amount"],
            "open_missing": missing["open_amount"] if by_rep else {},
        },
        _per_rep(groups) if by_rep else None,
    )


def _total(groups: list[dict], key: str, **where):
    """The sum of `key` over the groups matching `where` (None when all are None)."""
    values = [
        g[key] for g in groups if g[key] is not None and all(g[k] == v for k, v in where.items())
    ]
    return sum(values[1:], start=values[0]) if values else None


def _funnel(groups: list[dict], pipeline) -> list[dict]:
    return [
        {
            "stage": str(stage),  # the default names in the reader's language
            "deals": _total(groups, "funnel_deals", stage_id=stage.pk) or 0,
            "amount": _money(_total(groups, "funnel_amount", stage_id=stage.pk)),
        }
        for stage in pipeline_stages(pipeline)
    ]


def _win_stats(groups: list[dict]) -> dict:
    won, lost = _total(groups, "won") or 0, _total(groups, "lost") or 0
    cycle = _total(groups, "cycle")
    decided = won + lost
    return {
        "won": won,
        "lost": lost,
        "won_amount": _money(_total(groups, "won_amount")),
        "win_rate": share(won, decided) if decided else None,
        "cycle_days": cycle.total_seconds() / 86400 / won if cycle is not None else None,
    }


def _per_rep(groups: list[dict]) -> list[dict]:
    rows = []
    for owner in dict.fromkeys(g["owner__username"] for g in groups):
        mine = [g for g in groups if g["owner__username"] == owner]
        won, lost = _total(mine, "won") or 0, _total(mine, "lost") or 0
        if not (won or lost or _total(mine, "open_deals")):
            continue  # only created in the period, still open or closed elsewhen: not listed
        rows.append(
            {
                "owner": owner or "—",
                "open_deals": _total(mine, "open_deals") or 0,
                "open_amount": _money(_total(mine, "open_amount")),
                "won": won,
                "won_amount": _money(_total(mine, "won_amount")),
                "lost": lost,
                "win_rate": share(won, won + lost) if won + lost else None,
            }
        )
    return rows


SALES_CACHE_SECONDS = 600


def sales_by_month(
    orders, deals: DealScope, today: date, *, scope: str, months: int = 12
) -> tuple[list[dict], dict[str, Decimal]]:
    """Order totals per month of the last `months` months beside the deal forecast, and the
    order amounts left out for want of a rate (per currency, to flag).

    Summing a year of orders reads millions of rows (10 s for 5M orders on the benchmark
    machine), so the result is cached for ten minutes per visibility `scope` ("all", or
    the rep) and day; the nightly job storing monthly totals would remove the wait.
    """
    key = f"analytics:sales-by-month:v2:{scope}:{today.isoformat()}:{months}"
    result = cache.get(key)
    if result is None:
        result = _sales_by_month(orders, deals, today, months)
        cache.set(key, result, SALES_CACHE_SECONDS)
    return result


def _orders_per_month(orders, tz) -> tuple[dict[date, Decimal], dict[str, Decimal]]:
    """Order totals per month in the reporting currency: summed per day and currency in the
    database, each day at its rate. Days without a rate are left out of their month and
    returned apart, per currency (the report flags them)."""
    rows = list(
        orders.annotate(day=TruncDate("ordered_at", tzinfo=tz))
        .values("day", "currency")
        .annotate(total=Sum("total"))
        .order_by()
    )
    book = RateBook.load(row["currency"] for row in rows)
    months: dict[date, Tally] = {}
    for row in rows:
        tally = months.setdefault(row["day"].replace(day=1), Tally(book))
        tally.add(Decimal(str(row["total"])), row["currency"], row["day"])
    missing: dict[str, Decimal] = {}
    for tally in months.values():
        for currency, amount in tally.result.missing.items():
            missing[currency] = missing.get(currency, Decimal("0.00")) + amount
    return {month: tally.result.amount for month, tally in months.items()}, missing


def _sales_by_month(
    orders, deals: DealScope, today: date, months: int
) -> tuple[list[dict], dict[str, Decimal]]:
    index = today.year * 12 + today.month - 1 - (months - 1)
    first = date(index // 12, index % 12 + 1, 1)
    tz = timezone.get_current_timezone()
    start_at = datetime.combine(first, time.min, tzinfo=tz)
    totals, missing = _orders_per_month(orders.filter(ordered_at__gte=start_at), tz)
    predicted = forecast(
        deals, start=first, months=months, commit_probability=settings.CRM_COMMIT_PROBABILITY
    )
    rows = [
        {
            "month": row.key,
            "orders": _money(totals.get(row.key)),  # type: ignore[call-overload]
            "forecast_won": _money(row.won),
            "forecast_weighted": _money(row.weighted),
        }
        for row in predicted.by_month
    ]
    return rows, missing


# --- service ----------------------------------------------------------------------------
