"""A customer's personal data across apps: what erasure blanks and what access hands over.

`customers` must not import the apps downstream of it, so:
- **erasure** is the `customers.signals.customer_erasing` signal: each app's receiver blanks
  its own rows of the customer, with the helpers below;
- **access** (a copy of everything held on a customer) is this registry: each app registers
  in AppConfig.ready() a section that returns its rows of the customer as JSON-ready values,
  and the files it holds on them.

    register_data_section(DataSection("sales", collect=sales_data_of))
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q

# What a blanked free text reads afterwards (not translated: it is stored).
ERASED = "[erased]"
# A value shorter than this is too common to hunt for in other people's texts ("Li", "Bo").
MIN_SCRUB_LENGTH = 3


@dataclass(frozen=True)
class DataFile:
    name: str  # the path inside the download's zip
    content: bytes


@dataclass(frozen=True)
class DataSection:
    key: str  # the section's key in the JSON ("sales")
    collect: Callable[[Any], dict[str, Any]]  # customer -> JSON-ready values
    files: Callable[[Any], Iterable[DataFile]] | None = None  # customer -> files held on them


_sections: dict[str, DataSection] = {}


def register_data_section(section: DataSection) -> None:
    _sections[section.key] = section


def data_sections() -> list[DataSection]:
    return list(_sections.values())


def scrub(text: str, values: Iterable[str]) -> str:
    """`text` with every occurrence of the values (any case) replaced by ERASED."""
    for value in sorted(_usable(values), key=len, reverse=True):
        text = re.sub(re.escape(value), ERASED, text, flags=re.IGNORECASE)
    return text


def mentioning(field: str, values: Iterable[str]) -> Q:
    """Rows whose `field` contains any of the values (any case); matches nothing without any."""
    conditions = [Q(**{f"{field}__icontains": value}) for value in _usable(values)]
    return reduce(or_, conditions) if conditions else Q(pk__in=[])


def _usable(values: Iterable[str]) -> set[str]:
    return {value.strip() for value in values if len(value.strip()) >= MIN_SCRUB_LENGTH}


def rows_of(queryset: Any, *fields: str) -> list[dict[str, Any]]:
    """The rows as dicts for the access download (DjangoJSONEncoder writes dates, decimals)."""
    return list(queryset.order_by("pk").values(*fields))


def scrub_rows(queryset: Any, field: str, values: Iterable[str]) -> int:
    """Scrub the values out of `field` in the rows that mention them; returns how many."""
    values = list(values)
    rows = 0
    for pk, text in queryset.filter(mentioning(field, values)).values_list("pk", field):
        queryset.model.objects.filter(pk=pk).update(**{field: scrub(text, values)})
        rows += 1
    return rows
