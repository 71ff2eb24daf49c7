"""Filters and columns that apps add to list pages they do not own.

`customers` must not import analytics (apps import left to right), yet its customer
list offers segment and lifetime-value filters and columns. Like crm.lib.panels, the
downstream app registers an extension in AppConfig.ready(); the list applies whatever
is registered for the user's permissions.

- `filters()` returns django-filter filters (name -> Filter) to add to the list's
  FilterSet; their `method` is a callable (queryset, name, value) -> queryset.
- `columns` are the extra headers; `annotate(queryset)` adds what they show to the
  list's own query (no extra query per page or row), and `cells(row)` turns one row's
  annotations into one Cell per column (None when the row has nothing to show).
- `count(queryset)` may return the list's exact length when the extension knows it
  cheaper than COUNT(*) (analytics: a segment's size is stored per run), or None to let
  the list count; it replaces the paginator's count query (one query either way).
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Model, QuerySet
from django.utils.functional import Promise

CUSTOMER_LIST = "customer-list"


@dataclass(frozen=True)
class Column:
    label: str | Promise
    css_class: str = ""  # e.g. "text-end d-none d-lg-table-cell"


@dataclass(frozen=True)
class Cell:
    text: str
    url: str = ""
    css_class: str = ""


@dataclass(frozen=True)
class ListExtension:
    name: str
    permission: str  # applied only for users with this permission
    filters: Callable[[], dict] = dict
    columns: Sequence[Column] = field(default_factory=tuple)
    annotate: Callable | None = None  # (queryset) -> queryset
    cells: Callable | None = None  # (row) -> [Cell, ...] | None
    count: Callable | None = None  # (queryset) -> int | None


_extensions: dict[str, list[ListExtension]] = {CUSTOMER_LIST: []}

M = TypeVar("M", bound=Model)
_COUNTERS = "_list_counters"  # the extensions' count callables, on a counted queryset


def register_list_extension(page: str, extension: ListExtension) -> None:
    extensions = _extensions[page]
    if all(existing.name != extension.name for existing in extensions):
        extensions.append(extension)


def extensions_for(page: str, user: User | AnonymousUser) -> list[ListExtension]:
    return [ext for ext in _extensions[page] if user.has_perm(ext.permission)]


def extra_filters(page: str, user: User | AnonymousUser) -> dict:
    """Fresh filter instances (a FilterSet binds each filter to itself)."""
    filters = {}
    for extension in extensions_for(page, user):
        filters.update(extension.filters())
    return filters


def extra_columns(page: str, user: User | AnonymousUser) -> list[Column]:
    return [column for ext in extensions_for(page, user) for column in ext.columns]


def annotate_rows(page: str, user: User | AnonymousUser, queryset: QuerySet[M]) -> QuerySet[M]:
    """The list's queryset with what the extensions' columns show (and their counts)."""
    extensions = extensions_for(page, user)
    for extension in extensions:
        if extension.annotate:
            queryset = extension.annotate(queryset)
    counters = tuple(ext.count for ext in extensions if ext.count)
    if counters:
        queryset = queryset.all()  # a copy
        queryset.__class__ = _counted_class(queryset.__class__)
        setattr(queryset, _COUNTERS, counters)  # noqa: B010 - what the counted class reads
    return queryset


_counted_classes: dict[type[QuerySet], type[QuerySet]] = {}


def _counted_class(base: type[QuerySet]) -> type[QuerySet]:
    """`base` (a QuerySet class) whose count() asks the extensions first."""
    if getattr(base, "_asks_list_counters", False):
        return base
    if base not in _counted_classes:

        def count(self: QuerySet) -> int:
            if self._result_cache is None:
                for counter in getattr(self, _COUNTERS, ()):
                    known = counter(self)
                    if known is not None:
                        return known
            return base.count(self)

        def _clone(self: QuerySet) -> QuerySet:
            clone = base._clone(self)  # type: ignore[attr-defined]  # django-stubs omits QuerySet._clone
            setattr(clone, _COUNTERS, getattr(self, _COUNTERS, ()))
            return clone

        _counted_classes[base] = type(
            f"Counted{base.__name__}",
            (base,),
            {"count": count, "_clone": _clone, "_asks_list_counters": True},
        )
    return _counted_classes[base]


def attach_cells(page: str, user: User | AnonymousUser, rows: Iterable[object]) -> None:
    """Sets `row.extra_cells` (a list aligned with extra_columns) on each row."""
    extensions = [ext for ext in extensions_for(page, user) if ext.columns and ext.cells]
    for row in rows:
        extra_cells: list[Cell] = []
        for extension in extensions:
            blank = [Cell("—", css_class=column.css_class) for column in extension.columns]
            cells = extension.cells(row) if extension.cells else None
            extra_cells.extend(cells or blank)
        setattr(row, "extra_cells", extra_cells)  # noqa: B010 - rows are any model's objects
