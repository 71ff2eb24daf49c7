"""The currencies an amount may be in: ISO 4217 codes in use today, named by Babel (CLDR).

One list for every currency field, form, API serializer and CSV import, so a code that one
of them accepts is never refused, or mistyped, by another. Names follow the active language.
"""

from functools import cache
from typing import Any

from babel.core import get_global
from babel.numbers import get_currency_name
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.text import Truncator
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext_lazy as _


@cache
def _codes_in_use() -> frozenset[str]:
    """The codes some country uses as legal tender today (CLDR territory currencies)."""
    codes = set()
    for periods in get_global("territory_currencies").values():
        for code, _start, end, tender in periods:
            if end is None and tender:
                codes.add(code)
    return frozenset(codes)


def currency_codes() -> frozenset[str]:
    """Every accepted code: those in use, and always the reporting currency (CRM_CURRENCY)."""
    return _codes_in_use() | {settings.CRM_CURRENCY}


def babel_locale() -> str:
    """The active Django language as a Babel locale ("zh-hans" -> "zh_Hans")."""
    return to_locale(get_language() or settings.LANGUAGE_CODE)


def currency_name(code: str) -> str:
    try:
        return get_currency_name(code, locale=babel_locale())
    except (ValueError, LookupError):
        return code


def currency_choices() -> list[tuple[str, str]]:
    """(code, "EUR – Euro") for every accepted code, the name in the active language.

    A callable, so model fields and forms name the currencies in the language of the request.
    """
    return [(code, f"{code} – {currency_name(code)}") for code in sorted(currency_codes())]


def is_currency(value: str) -> bool:
    return value in currency_codes()


def normalize_currency(value: str) -> str:
    """An accepted code from what a person typed (" eur " -> "EUR"), else ValidationError."""
    code = value.strip().upper() if value.isascii() else value
    if not is_currency(code):
        raise ValidationError(
            _("“%(value)s” is not an ISO 4217 currency code in use, such as EUR or USD."),
            code="unknown_currency",
            params={"value": Truncator(value).chars(20)},
        )
    return code


def validate_currency(value: str) -> None:
    """The model fields' validator: the stored code must be an accepted one, as it is."""
    if not is_currency(value):
        normalize_currency(value)  # raises with the message
        raise ValidationError(
            _("Write the currency code in capitals, such as EUR."), code="currency_case"
        )


class CurrencyFormField(forms.TypedChoiceField):
    """A currency select that also takes a typed code in any case (" eur "), as the API does."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Currency"))
        super().__init__(choices=currency_choices, **kwargs)

    def to_python(self, value: Any) -> str:
        text = super().to_python(value)
        return text.strip().upper() if text.isascii() else text
