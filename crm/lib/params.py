"""Query parameters are parsed by form fields: a clean value, or None (an ignored filter).

Never `int(x) if x.isdigit()`: `str.isdigit()` accepts "²", which `int()` rejects (a 500),
and "١٢" or "９", which `int()` reads as 12 and 9. A number that fits Python may still not
fit the database: PostgreSQL answers 10**30 in a foreign-key or IN lookup with a DataError
(a 500) where SQLite returns nothing. Ids are therefore ASCII digits from 1 to 2**63 - 1,
the range of a bigint primary key.

- `IdField` is a form field for one row id; `BoundedModelChoiceField` and
  `BoundedModelMultipleChoiceField` refuse ids no database integer holds, and the
  `Bounded*Filter` classes put them in django-filter FilterSets.
- `query_param(request.GET, "category", IdField())` cleans one parameter with a field and
  answers None when it is missing or invalid, for views that read a single parameter;
  `parse_id(raw)` does the same for an id already in hand.
- `search_text(request.GET)` is the text of a search box (?q=), cut and without NUL.
"""

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

MAX_ID = 2**63 - 1
SEARCH_MAX_LENGTH = 200
_MAX_ID_DIGITS = len(str(MAX_ID))


def is_valid_id(value: object) -> bool:
    """True for a row id written in ASCII digits, between 1 and MAX_ID."""
    digits = str(value).lstrip("0")
    return (
        digits.isascii()
        and digits.isdigit()
        and len(digits) <= _MAX_ID_DIGITS
        and int(digits) <= MAX_ID
    )


class IdField(forms.IntegerField):
    """A row id: ASCII digits only (not "²", "١٢", "1e5" or "-1"), from 1 to MAX_ID."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        digits = text.lstrip("0") or "0"
        # Past 19 digits the max_value validator refuses it (int() of 5,000 digits raises).
        return int(digits) if len(digits) <= _MAX_ID_DIGITS else MAX_ID + 1


class BoundedModelChoiceField(forms.ModelChoiceField):
    """A choice by id that refuses ids no database integer holds."""

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and not is_valid_id(value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Choices by id that refuse ids no database integer holds (10**30 in an IN list)."""

    def _check_values(self, value: Any) -> Any:
        for pk in value:
            if not is_valid_id(pk):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)  # type: ignore[misc]  # private; django-stubs omits it


class BoundedModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = BoundedModelChoiceField


class BoundedModelMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = BoundedModelMultipleChoiceField


def parse_id(raw: object) -> int | None:
    """A row id from raw text (a query parameter), or None when it is not one."""
    return int(str(raw).lstrip("0")) if raw is not None and is_valid_id(raw) else None


def query_param(params: QueryDict, name: str, field: forms.Field) -> Any | None:
    """`params[name]` cleaned by `field`; None when it is absent or invalid (ignored)."""
    raw = params.get(name)
    if raw in field.empty_values:
        return None
    try:
        return field.clean(raw)
    except ValidationError:
        return None


def search_text(params: QueryDict, name: str = "q") -> str:
    """A search box's text: its first 200 characters, without NUL (PostgreSQL refuses it)."""
    return str(params.get(name, ""))[:SEARCH_MAX_LENGTH].replace("\x00", "")
