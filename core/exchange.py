"""Converting amounts to the reporting currency (CRM_CURRENCY) with dated rates.

A rate holds from its day until the next rate of its currency. An amount whose currency
has no rate on or before its day cannot be converted: callers flag it, never add it.
Sum per currency in the database first, then convert the few sums here.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeVar

from django.conf import settings

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
            result.amount += (amount * rates[currency]).quantize(CENT)
        else:
            result.missing[currency] = amount
    return result


def to_reporting(amount: Decimal, currency: str, day: date) -> Decimal | None:
    """One amount in the reporting currency, or None when its currency has no rate."""
    rate = rate_on(currency, day)
    return None if rate is None else (amount * rate).quantize(CENT)
