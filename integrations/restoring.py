"""The restore of a full export (`import_all`): every exported table back, value for value.

For a database migrated to the same state as the export (the manifest says which). With
`replace`, the exported tables and the derived ones (integrations.tables.DERIVED) are emptied
first; everything happens in one transaction, so a failed restore changes nothing. Rows are
inserted in bulk with their ids (no signals, no history records, no emails: a restore is not
new activity), then PostgreSQL's id sequences are moved past them.

This is the one place besides each app's services that writes the apps' tables, on purpose:
it puts back rows the services wrote once, and their rules (emails, points, history) must
not run a second time.
"""

import csv
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import connection, models, transaction

from crm.lib.csv_export import restore_cell
from integrations.exporting import CHUNK_ROWS, FORMAT, migration_state, read_manifest, sha256_of
from integrations.tables import derived_models, label_of, model_of


class RestoreError(Exception):
    """The export cannot be restored here; nothing was written."""


@dataclass
class RestoreReport:
    rows: dict[str, int] = field(default_factory=dict)  # model label -> rows restored


def _decoder(model_field: models.Field) -> Callable[[str], object]:
    """The cell's text -> the value to store (see exporting.ESCAPING for the rules)."""
    text_field = isinstance(model_field, models.CharField | models.TextField)
    target = model_field.target_field if isinstance(model_field, models.ForeignKey) else model_field

    def decode(cell: str) -> object:
        text = restore_cell(cell)
        if text == "" and (model_field.null or not text_field):
            return None if model_field.null else text
        if isinstance(target, models.JSONField):
            return json.loads(text)
        return target.to_python(text)

    return decode


@contextmanager
def _stored_as_given(model: type[models.Model]) -> Iterator[None]:
    """Keep the exported auto_now/auto_now_add times instead of stamping the restore's."""
    fields = [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.DateField) and (f.auto_now or f.auto_now_add)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _objects(model: type[models.Model], path: Path, columns: list[str]) -> Iterator[models.Model]:
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    decoders = [_decoder(by_attname[name]) for name in columns]
    fill_password = label_of(model) == "auth.User"
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream)
        if next(reader, None) != columns:
            raise RestoreError(f"{path.name}: its header is not the manifest's columns.")
        for cells in reader:
            try:
                values = {n: d(c) for n, d, c in zip(columns, decoders, cells, strict=True)}
            except (ValueError, ValidationError) as error:
                raise RestoreError(f"{path.name}, line {reader.line_num}: {error}") from error
            if fill_password:
                values["password"] = make_password(None)  # unusable: set a new one
            yield model(**values)


def _check(directory: Path, manifest: dict) -> None:
    if manifest.get("format") != FORMAT:
        raise RestoreError(f"Not an export of this kind (format {manifest.get('format')!r}).")
    if manifest["migrations"] != migration_state():
        raise RestoreError(
            "The database is not migrated to the export's state: run the same version's "
            "migrate first (compare manifest.json's migrations with showmigrations)."
        )
    for entry in manifest["tables"]:
        if sha256_of(directory / entry["file"]) != entry["sha256"]:
            raise RestoreError(f"{entry['file']} is not the file that was exported (sha256).")


def _empty(models_to_empty: list[type[models.Model]]) -> None:
    for model in models_to_empty:
        model._base_manager.all()._raw_delete(connection.alias)


def import_all(*, directory: Path, replace: bool = False) -> RestoreReport:
    try:
        manifest = read_manifest(directory)
        _check(directory, manifest)
        entries = [(model_of(entry["model"]), entry) for entry in manifest["tables"]]
    except (ValueError, KeyError, TypeError, LookupError) as error:  # a damaged manifest
        raise RestoreError(f"manifest.json cannot be read: {error!r}") from error
    report = RestoreReport()
    with transaction.atomic():
        if replace:
            _empty(derived_models() + [model for model, _ in reversed(entries)])
        elif any(model._base_manager.exists() for model, _ in entries):
            raise RestoreError("The database already holds data: restore with --replace.")
        for model, entry in entries:
            objects = _objects(model, directory / entry["file"], entry["columns"])
            count = 0
            with _stored_as_given(model):
                while batch := list(islice(objects, CHUNK_ROWS)):
                    model._base_manager.bulk_create(batch)
                    count += len(batch)
            if count != entry["rows"]:
                raise RestoreError(
                    f"{entry['file']}: {count} rows, the manifest says {entry['rows']}."
                )
            report.rows[entry["model"]] = count
        _reset_sequences([model for model, _ in entries])
    return report


def _reset_sequences(restored: list[type[models.Model]]) -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), restored)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
