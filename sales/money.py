"""Money arithmetic in Decimal, rounded half up to cents at each line (as invoices print them)."""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
HUNDRED = Decimal("100")
# The largest amount a money column (14 digits, 2 decimals) can store.
MAX_AMOUNT = Decimal("999999999999.99")


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def line_net(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    gross = quantity * unit_price
    return to_cents(gross - gross * discount_percent / HUNDRED)


def line_tax(net: Decimal, tax_rate: Decimal) -> Decimal:
    return to_cents(net * tax_rate / HUNDRED)


@dataclass(frozen=True)
class Totals:
    net: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.net + self.tax


def totals(lines: Iterable) -> Totals:
    """Sum of the lines' rounded amounts; lines have net_amount and tax_amount."""
    net = tax = Decimal("0.00")
    for line in lines:
        net += line.net_amount
        tax += line.tax_amount
    return Totals(net=net, tax=tax)


def fits(amount: Decimal) -> bool:
    """Whether an amount can be stored in a money column."""
    return abs(amount) <= MAX_AMOUNT
