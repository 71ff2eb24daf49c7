"""CSV exports that can be written in the background: one registry of export sources.

An app registers an `ExportSource` in AppConfig.ready() (customers, deals, a mail campaign's
address file). Its `build(user, params)` applies the role's scope (which rows, which
columns) and the list's filter, and returns an `ExportTable`: how to count the rows and how
to read them. The same table is streamed to the browser when it is small, or rebuilt by a
background job from the stored parameters when it is large (`core.exporting`), so a
background export sees exactly the rows and columns an inline one would, with the user's
permissions at the time it runs. `build` raises PermissionDenied (or Http404 for an object
the user may not see) when the user may not export.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Model
from django.http import QueryDict
from django.utils.functional import Promise

from crm.lib.csv_export import Row


@dataclass(frozen=True)
class ExportTable:
    source: str  # the registered source's name
    filename: str
    model: type[Model]  # what the rows are (the audit log's object type)
    params: QueryDict  # what a background job rebuilds the table from
    count: Callable[[], int]
    lines: Callable[[], Iterable[Row]]  # the header, then the rows, read as written
    detail: dict[str, Any] = field(default_factory=dict)  # for the audit log: filter, layout
    bom: bool = True
    content_type: str = "text/csv; charset=utf-8"


ExportBuilder = Callable[[User | AnonymousUser, QueryDict], ExportTable]


@dataclass(frozen=True)
class ExportSource:
    name: str
    title: str | Promise
    build: ExportBuilder


_sources: dict[str, ExportSource] = {}


def register_export(source: ExportSource) -> None:
    _sources[source.name] = source


def export_source(name: str) -> ExportSource | None:
    return _sources.get(name)


def export_sources() -> list[ExportSource]:
    return list(_sources.values())
