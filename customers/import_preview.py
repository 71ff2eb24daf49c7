"""The preview of an open customer import, analysed once and kept in the cache while its
owner pages and filters it (issue 13, point 8: 20,000 rows took seconds per page view).

The cache holds the rows packed as plain tuples, with the counts: reading 20,000 pickled
row objects back took almost as long as analysing the file again. A page unpacks only the
rows it shows. Importing analyses the file again, against the data as it is then.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

from django.contrib.auth.models import User
from django.core.cache import cache
from django.urls import reverse

from customers.importing import CREATE, UNCHANGED, UPDATE, ImportAnalysis, RowResult, analyse_import
from customers.models import CustomerImport

PREVIEW_SECONDS = 30 * 60

# line, action, cells in column order, errors, changed, (customer pk, name) or None, tags
Packed = tuple[int, str, tuple[str, ...], dict, dict, tuple[int, str] | None, list[str] | None]


def import_preview_key(customer_import: CustomerImport) -> str:
    """Its upload time too: ids start again in a restored or re-created database."""
    return f"customer-import-preview:{customer_import.pk}:{customer_import.created_at.timestamp()}"


@dataclass(frozen=True)
class CustomerLink:
    """What the preview shows of a matched customer."""

    pk: int
    name: str

    def get_absolute_url(self) -> str:
        return reverse("customers:customer-detail", args=[self.pk])


class PreviewRows(Sequence):
    """Packed rows, unpacked into RowResults only when read (a page's worth)."""

    def __init__(self, packed: list[Packed], columns: list[str]):
        self.packed, self.columns = packed, columns

    def __len__(self) -> int:
        return len(self.packed)

    @overload
    def __getitem__(self, index: int) -> RowResult: ...
    @overload
    def __getitem__(self, index: slice) -> list[RowResult]: ...
    def __getitem__(self, index: int | slice) -> RowResult | list[RowResult]:
        if isinstance(index, slice):
            return [self._unpack(item) for item in self.packed[index]]
        return self._unpack(self.packed[index])

    def _unpack(self, item: Packed) -> RowResult:
        line, action, values, errors, changed, link, tags = item
        return RowResult(
            line=line,
            cells=dict(zip(self.columns, values, strict=False)),
            errors=errors,
            action=action,
            customer=CustomerLink(*link) if link else None,  # type: ignore[arg-type]
            changed=changed,
            tags=tags,
            columns=self.columns,
        )


@dataclass
class ImportPreview:
    """An ImportAnalysis as the preview page reads it."""

    columns: list[str]
    packed: list[Packed]
    counts: dict[str, int]

    @property
    def rows(self) -> PreviewRows:
        return PreviewRows(self.packed, self.columns)

    def rows_with(self, show: str) -> PreviewRows:
        if show == "errors":
            return PreviewRows([item for item in self.packed if item[3]], self.columns)
        if show in (CREATE, UPDATE, UNCHANGED):
            chosen = [item for item in self.packed if not item[3] and item[1] == show]
            return PreviewRows(chosen, self.columns)
        return self.rows

    def __getattr__(self, name: str) -> Any:
        counts = self.__dict__.get("counts", {})
        if name in counts:  # create_count, update_count... as on ImportAnalysis
            return counts[name]
        raise AttributeError(name)


COUNTS = ["create_count", "update_count", "unchanged_count", "error_count", "without_key_count"]


def pack(analysis: ImportAnalysis) -> ImportPreview:
    def packed(row: RowResult) -> Packed:
        link = (row.customer.pk, row.customer.name) if row.customer else None
        values = tuple(row.cells.get(column, "") for column in analysis.columns)
        return (row.line, row.action, values, row.errors, row.changed, link, row.tags)

    return ImportPreview(
        columns=analysis.columns,
        packed=[packed(row) for row in analysis.rows],
        counts={name: getattr(analysis, name) for name in COUNTS},
    )


def import_preview(customer_import: CustomerImport, *, user: User) -> ImportPreview:
    key = import_preview_key(customer_import)
    preview = cache.get(key)
    if not isinstance(preview, ImportPreview):
        preview = pack(analyse_import(customer_import.text, user=user))
        cache.set(key, preview, timeout=PREVIEW_SECONDS)
    return preview
