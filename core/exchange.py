"""Converting amounts to the reporting currency (CRM_CURRENCY) with dated rates.

A rate holds from its day until the next rate of its currency. An amount whose currency
has no rate on or before its day cannot be converted: callers flag it, never add it.
Sum per currency in the database first, then convert the few sums here.
"""

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.models import ExchangeRate

CENT = Decimal("0.01")
K = TypeVar("K")


def reporting_currency() -> str:
    return settings.CRM_CURRENCY


def rate_on(currency: str, day: date) -> Decimal | None:
    """Units of the reporting currency one unit of `currency` was worth on `day`."""
    if currency == reporting_currency():
        return Decimal(1)
    rate = (
        ExchangeRate.objects.filter(currency=currency, day__lte=day)
        .order_by("-day")
        .values_list("rate", flat=True)
        .first()
    )
    return rate


def rates_on(currencies: Iterable[str], day: date) -> dict[str, Decimal]:
    """The rate of each currency that has one on `day` (the reporting currency is 1)."""
    return {
        currency: rate
        for currency in set(currencies)
        if (rate := rate_on(currency, day)) is not None
    }


@dataclass
class Converted:
    """A sum in the reporting currency and the currencies left out for want of a rate."""

    amount: Decimal = Decimal("0.00")
    missing: dict[str, Decimal] = field(default_factory=dict)  # currency -> unconverted sum

    @property
    def complete(self) -> bool:
        return not self.missing


def sum_in_reporting(amounts: Mapping[str, Decimal], day: date) -> Converted:
    """Add per-currency sums in the reporting currency at `day`'s rates."""
    return _converted(amounts, rates_on(amounts, day))


def sums_in_reporting(groups: Mapping[K, Mapping[str, Decimal]], day: date) -> dict[K, Converted]:
    """`sum_in_reporting` for many groups (one per rep, say), looking each rate up once."""
    rates = rates_on({currency for amounts in groups.values() for currency in amounts}, day)
    return {key: _converted(amounts, rates) for key, amounts in groups.items()}


def _converted(amounts: Mapping[str, Decimal], rates: Mapping[str, Decimal]) -> Converted:
    result = Converted()
    for currency, amount in amounts.items():
        if currency in rates:
            result.amount += (amount * rates[currency]).quantize(CENT, rounding=ROUND_HALF_UP)
        else:
            result.missing[currency] = amount
    return result


def to_reporting(amount: Decimal, currency: str, day: date) -> Decimal | None:
    """One amount in the reporting currency, or None when its currency has no rate."""
    rate = rate_on(currency, day)
    return None if rate is None else (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


class RateBook:
    """Every rate of some currencies, read in one query, then looked up by day in memory.

    For reports that convert many (currency, day) groups: `rate_on` per group would be one
    query each.
    """

    def __init__(self, rates: Mapping[str, list[tuple[date, Decimal]]]) -> None:
        self._days = {currency: [day for day, _rate in rows] for currency, rows in rates.items()}
        self._rates = {currency: [rate for _day, rate in rows] for currency, rows in rates.items()}

    @classmethod
    def load(cls, currencies: Iterable[str]) -> "RateBook":
        wanted = set(currencies) - {reporting_currency()}
        rates: dict[str, list[tuple[date, Decimal]]] = {}
        if wanted:
            rows = (
                ExchangeRate.objects.filter(currency__in=wanted)
                .order_by("currency", "day")
                .values_list("currency", "day", "rate")
            )
            for currency, day, rate in rows:
                rates.setdefault(currency, []).append((day, rate))
        return cls(rates)

    def rate(self, currency: str, day: date) -> Decimal | None:
        if currency == reporting_currency():
            return Decimal(1)
        days = self._days.get(currency, [])
        index = bisect_right(days, day)
        return self._rates[currency][index - 1] if index else None

    def convert(self, amount: Decimal, currency: str, day: date) -> Decimal | None:
        rate = self.rate(currency, day)
        return None if rate is None else (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


class Tally:
    """Adds amounts of any currency and day in the reporting currency, keeping apart
    (as `missing`, per currency) those that have no rate for their day."""

    def __init__(self, book: RateBook) -> None:
        self.book = book
        self.result = Converted()

    def add(self, amount: Decimal, currency: str, day: date) -> Decimal | None:
        converted = self.book.convert(amount, currency, day)
        if converted is None:
            missing = self.result.missing
            missing[currency] = missing.get(currency, Decimal("0.00")) + amount
        else:
            self.result.amount += converted
        return converted


def dated_total(rows: QuerySet, *, amount: str, when: str, currency: str = "currency") -> Converted:
    """The rows' `amount` in the reporting currency, each at the rate of its day (`when`, a
    date-time field): summed per currency and day in the database, converted here."""
    groups = list(
        rows.order_by()
        .annotate(_day=TruncDate(when, tzinfo=timezone.get_current_timezone()))
        .values(currency, "_day")
        .annotate(_total=Sum(amount))
    )
    tally = Tally(RateBook.load(group[currency] for group in groups))
    for group in groups:
        tally.add(Decimal(str(group["_total"])), group[currency], group["_day"])
    return tally.result
