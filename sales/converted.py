"""Sales figures in the reporting currency (CRM_CURRENCY): the database sums per currency
and day, core.exchange converts the few groups with dated rates and keeps apart, as
`missing`, what has no rate. Open deals convert at today's rate, closed deals at their close
date's, orders at their order date's."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from core.exchange import CENT, Converted, RateBook, Tally, dated_total
from sales.models import Deal, OpenDealTotal, Order

MONEY = DecimalField(max_digits=20, decimal_places=2)
PERCENT = Value(Decimal("0.01"))


def weighted_amount() -> ExpressionWrapper:
    """A row's amount × its win probability (%), exact on both databases. SQLite keeps a
    whole amount as an integer, where "× probability / 100" was integer division (2,007 ×
    33 % gave 662, not 662.31); × 0.01 makes it a real there, quantized to cents on the
    way out, and stays numeric on PostgreSQL."""
    return ExpressionWrapper(F("amount") * F("probability") * PERCENT, output_field=MONEY)


@dataclass
class StageTotal:
    count: int
    total: Decimal
    missing: dict[str, Decimal]


def deal_day_expression():
    """The day a deal's amount converts at: its close date once closed (NULL while open)."""
    return TruncDate("closed_at", tzinfo=timezone.get_current_timezone())


def stage_totals(
    closed: QuerySet[Deal], open_totals: QuerySet[OpenDealTotal]
) -> dict[int, StageTotal]:
    """Count and converted total per stage of closed deals (grouped by stage, currency and
    close day) and of open ones (from their totals, grouped by stage and currency)."""
    closed_rows = (
        closed.order_by()
        .annotate(day=deal_day_expression())
        .values("stage_id", "currency", "day")
        .annotate(
            count=Count("pk"), total=Coalesce(Sum("amount"), Value(Decimal(0)), output_field=MONEY)
        )
    )
    open_rows = (
        open_totals.order_by()
        .values("stage_id", "currency")
        .annotate(count=Sum("deals"), total=Sum("amount"))
    )
    rows: list[dict[str, Any]] = [*map(dict, closed_rows), *map(dict, open_rows)]
    book, today = RateBook.load(row["currency"] for row in rows), timezone.localdate()
    tallies: dict[int, Tally] = {}
    counts: dict[int, int] = {}
    for row in rows:
        tally = tallies.setdefault(row["stage_id"], Tally(book))
        tally.add(row["total"], row["currency"], row.get("day") or today)
        counts[row["stage_id"]] = counts.get(row["stage_id"], 0) + row["count"]
    return {
        stage_id: StageTotal(counts[stage_id], tally.result.amount, tally.result.missing)
        for stage_id, tally in tallies.items()
    }


def orders_total(orders: QuerySet[Order]) -> Converted:
    """The orders' total in the reporting currency, each at its order date's rate."""
    return dated_total(orders, amount="total", when="ordered_at")


def deal_in_reporting(deal: Deal) -> Decimal | None:
    """A deal's amount in the reporting currency (today's rate, or its close date's)."""
    day: date = timezone.localdate(deal.closed_at) if deal.closed_at else timezone.localdate()
    return RateBook.load([deal.currency]).convert(deal.amount, deal.currency, day)


def merge_currencies(
    rows: list[dict], key: str, amounts: tuple[str, ...], day: date
) -> tuple[list[dict], dict[str, Decimal]]:
    """Rows grouped by `key` and currency become rows by `key`, their `amounts` converted at
    `day` and added (counts added too); the first amount of rows without a rate is returned
    per currency, to be flagged. Row order is kept."""
    book = RateBook.load(row["currency"] for row in rows)
    merged: dict[object, dict] = {}
    missing = Tally(book)
    for row in rows:
        target = merged.setdefault(row[key], {**row, "count": 0, **dict.fromkeys(amounts, 0)})
        target["count"] += row["count"]
        rate = book.rate(row["currency"], day)
        if rate is None:
            missing.add(Decimal(str(row[amounts[0]])), row["currency"], day)
            continue
        for name in amounts:
            target[name] += (Decimal(str(row[name])) * rate).quantize(CENT)
    return list(merged.values()), missing.result.missing


def convert_groups(groups: list[dict], keys: tuple[str, ...]) -> dict[str, dict[str, Decimal]]:
    """Each group's amounts in the reporting currency in place (open deals at today's rate,
    closed ones at their close date's); a group without a rate keeps None there, and its
    amounts are returned per key and currency, to be flagged where that figure shows."""
    book, today = RateBook.load(g["currency"] for g in groups), timezone.localdate()
    unconverted = {key: Tally(book) for key in keys}
    for group in groups:
        day = group["day"] or today
        rate = book.rate(group["currency"], day)
        for key in keys:
            if group[key] is not None:
                if rate is None:
                    unconverted[key].add(Decimal(str(group[key])), group["currency"], day)
                group[key] = None if rate is None else Decimal(str(group[key])) * rate
    return {key: tally.result.missing for key, tally in unconverted.items()}
