"""Amounts formatted for the active language: {{ amount|money:currency }} ("50,072.22 USD").

Babel (CLDR) gives each language its separators and each currency its decimals (JPY has
none), so one page never prints "50072.22" beside "50,072.22".
"""

from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency, format_decimal
from django import template

from crm.lib.currencies import babel_locale

register = template.Library()

NOTHING = "—"


def _decimal(value: object) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def money(value: object, currency: str = "") -> str:
    """The amount with its currency's decimals and the code after it: "48,000.00 EUR"."""
    amount = _decimal(value)
    if amount is None:
        return NOTHING
    if not currency:
        return format_decimal(amount, format="#,##0.00", locale=babel_locale())
    return format_currency(
        amount, currency, format="#,##0.00\u00a0¤¤", locale=babel_locale(), currency_digits=True
    )


@register.filter
def money_whole(value: object, currency: str = "") -> str:
    """Rounded to whole units, for totals and cards: "48,000 EUR"."""
    amount = _decimal(value)
    if amount is None:
        return NOTHING
    number = format_decimal(amount, format="#,##0", locale=babel_locale())
    return f"{number}\u00a0{currency}" if currency else number
