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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

CUSTOMER_LIST = "customer-list"


@dataclass(frozen=True)
class Column:
    label: str
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


def register_list_extension(page: str, extension: ListExtension) -> None:
    extensions = _extensions[page]
    if all(existing.name != extension.name for existing in extensions):
        extensions.append(extension)


def extensions_for(page: str, user) -> list[ListExtension]:
    return [ext for ext in _extensions[page] if user.has_perm(ext.permission)]


def extra_filters(page: str, user) -> dict:
    """Fresh filter instances (a FilterSet binds each filter to itself)."""
    filters = {}
    for extension in extensions_for(page, user):
        filters.update(extension.filters())
    return filters


def extra_columns(page: str, user) -> list[Column]:
    return [column for ext in extensions_for(page, user) for column in ext.columns]


def annotate_rows(page: str, user, queryset):
    """The list's queryset with what the extensions' columns show (and their counts)."""
    extensions = extensions_for(page, user)
    for extension in extensions:
        if extension.annotate:
            queryset = extension.annotate(queryset)
    counters = tuple(ext.count for ext in extensions if ext.count)
    if counters:
        queryset = queryset._chain()
        queryset.__class__ = _counted_class(queryset.__class__)
        queryset._list_counters = counters
    return queryset


_counted_classes: dict[type, type] = {}


def _counted_class(base: type) -> type:
    """`base` (a QuerySet class) whose count() asks the extensions first."""
    if getattr(base, "_asks_list_counters", False):
        return base
    if base not in _counted_classes:

        def count(self):
            if self._result_cache is None:
                for counter in getattr(self, "_list_counters", ()):
                    known = counter(self)
                    if known is not None:
                        return known
            return base.count(self)

        def _clone(self):
            clone = base._clone(self)
            clone._list_counters = getattr(self, "_list_counters", ())
            return clone

        _counted_classes[base] = type(
            f"Counted{base.__name__}",
            (base,),
            {"count": count, "_clone": _clone, "_asks_list_counters": True},
        )
    return _counted_classes[base]


def attach_cells(page: str, user, rows) -> None:
    """Sets `row.extra_cells` (a list aligned with extra_columns) on each row."""
    extensions = [ext for ext in extensions_for(page, user) if ext.columns and ext.cells]
    for row in rows:
        row.extra_cells = []
        for extension in extensions:
            blank = [Cell("—", css_class=column.css_class) for column in extension.columns]
            row.extra_cells.extend(extension.cells(row) or blank)
