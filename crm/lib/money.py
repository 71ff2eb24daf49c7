"""How money is stored: one precision for every amount column and form field."""

from decimal import Decimal
from typing import TypedDict


class MoneyColumn(TypedDict):
    max_digits: int
    decimal_places: int


# Keyword arguments of every DecimalField holding an amount: `DecimalField(_("total"), **MONEY)`.
MONEY: MoneyColumn = {"max_digits": 14, "decimal_places": 2}

# The largest amount such a column holds, for form fields' max_value.
MONEY_MAX = Decimal("999999999999.99")
