"""Writes of the customer CSV import: keep an upload, apply it in bulk (as a Celery job), cancel it."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.lib.concurrency import ConcurrentEditError
from crm.lib.csv_import import chunked
from crm.lib.tasks import queue_on_commit
from customers.duplicate_refresh import duplicates_refresh_queue
from customers.import_preview import import_preview_key
from customers.importing import (
    CREATE,
    ROW_ERROR,
    UPDATE,
    ImportAnalysis,
    RowResult,
    analyse_import,
)
from customers.models import (
    Customer,
    CustomerImport,
    Tag,
)
from customers.services import (
    CUSTOMER_FIELDS,
    customer_create,
    customer_update,
)
from customers.tasks import import_customers


class ImportClosedError(Exception):
    """The import was already applied or cancelled."""


@dataclass
class ImportResult:
    customer_import: CustomerImport
    analysis: ImportAnalysis
    applied: bool  # False: nothing was written


OPEN_STATUSES = [CustomerImport.Status.PENDING, CustomerImport.Status.FAILED]


def too_many_pending_message(limit: int) -> str:
    return _(
        "You have %(count)d imports waiting for confirmation. Import or cancel one of them "
        "before uploading another file."
    ) % {"count": limit}


@transaction.atomic
def customer_import_create(
    *, user: User, file_name: str, text: str, row_count: int
) -> CustomerImport:
    """Keep an uploaded file until its owner has seen the preview and confirmed; refuse it
    (ValidationError) while the user has CRM_IMPORT_MAX_PENDING imports waiting."""
    User.objects.select_for_update().filter(pk=user.pk).first()  # one upload at a time
    limit = settings.CRM_IMPORT_MAX_PENDING
    if CustomerImport.objects.filter(user=user, status__in=OPEN_STATUSES).count() >= limit:
        raise ValidationError(too_many_pending_message(limit), code="too_many_pending")
    customer_import = CustomerImport(
        user=user,
        file_name=(file_name or "customers.csv")[-255:],
        text=text,
        row_count=row_count,
    )
    customer_import.full_clean()
    customer_import.save()
    return customer_import


@transaction.atomic
def customer_import_cancel(*, customer_import: CustomerImport) -> CustomerImport:
    customer_import = CustomerImport.objects.select_for_update().get(pk=customer_import.pk)
    if not customer_import.is_open:
        raise ImportClosedError(_("This import was already imported or cancelled."))
    customer_import_purge(customer_import)
    return customer_import


def customer_import_purge(customer_import: CustomerImport) -> None:
    """Forget an import's file, its skipped rows and its cached preview; an open import is
    cancelled (importing it later would bring back what an erasure removed)."""
    if customer_import.is_open or customer_import.status == CustomerImport.Status.QUEUED:
        customer_import.status = CustomerImport.Status.CANCELLED
    customer_import.text = ""
    customer_import.row_errors = []
    customer_import.save(update_fields=["status", "text", "row_errors"])
    cache.delete(import_preview_key(customer_import))


@transaction.atomic
def customer_imports_purge_stale(*, now: datetime | None = None) -> int:
    """The import sweep: imports left waiting for CRM_IMPORT_KEEP_DAYS are cancelled and
    emptied, and applied ones forget the rows they skipped; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.CRM_IMPORT_KEEP_DAYS)
    stale = CustomerImport.objects.select_for_update(skip_locked=True).filter(created_at__lt=cutoff)
    rows = 0
    for customer_import in stale.exclude(text="", row_errors=[]).exclude(
        status=CustomerImport.Status.QUEUED
    ):
        customer_import_purge(customer_import)
        rows += 1
    return rows


class _ImportAborted(Exception):
    """A row of an all-or-nothing import failed while writing."""


def import_progress_key(import_id: int) -> str:
    return f"customer-import-progress:{import_id}"


@transaction.atomic
def customer_import_queue(
    *, customer_import: CustomerImport, user: User, mode: str
) -> CustomerImport:
    """Mark the import as running and queue its background job once committed; refuse a
    second start."""
    customer_import = CustomerImport.objects.select_for_update().get(pk=customer_import.pk)
    if customer_import.user_id != user.pk:
        raise ImportClosedError(_("Only the user who uploaded a file may import it."))
    if customer_import.status == CustomerImport.Status.QUEUED:
        raise ImportClosedError(_("This file is being imported already."))
    if not customer_import.is_open:
        raise ImportClosedError(_("This import was already imported or cancelled."))
    if mode not in CustomerImport.Mode.values:
        raise ValueError(f"unknown import mode {mode!r}")
    customer_import.status = CustomerImport.Status.QUEUED
    customer_import.mode = mode
    customer_import.error = ""
    customer_import.queued_at = timezone.now()
    customer_import.language = translation.get_language() or ""
    customer_import.save(update_fields=["status", "mode", "error", "queued_at", "language"])
    cache.delete(import_progress_key(customer_import.pk))
    queue_on_commit(import_customers, customer_import.pk, user.pk, mode)
    return customer_import


# A queued import that has not started after this long lost its message (the broker was
# down when it was queued, or lost it): the sweep publishes it again.
REQUEUE_AFTER = timedelta(minutes=5)


@transaction.atomic
def customer_imports_requeue_stalled(*, now: datetime | None = None) -> int:
    """The import sweep (beat): publish again the queued imports that have not started for
    REQUEUE_AFTER; returns how many. An import being written is locked and skipped; a
    second message for an import is harmless (the first to run applies it, the other
    finds it closed and stops)."""
    now = now or timezone.now()
    stalled = list(
        CustomerImport.objects.select_for_update(skip_locked=True)
        .filter(status=CustomerImport.Status.QUEUED)
        .exclude(queued_at__gte=now - REQUEUE_AFTER)  # null (queued before the field) too
        .order_by("pk")
    )
    for customer_import in stalled:
        customer_import.queued_at = now
        customer_import.save(update_fields=["queued_at"])
        queue_on_commit(
            import_customers, customer_import.pk, customer_import.user_id, customer_import.mode
        )
    return len(stalled)


@transaction.atomic
def customer_import_stop(*, customer_import: CustomerImport, error: str) -> None:
    """The background job failed unexpectedly: nothing was written; the user may try again."""
    CustomerImport.objects.filter(
        pk=customer_import.pk, status=CustomerImport.Status.QUEUED
    ).update(status=CustomerImport.Status.PENDING, error=error[:2000])


@transaction.atomic
def customer_import_apply(
    *, customer_import: CustomerImport, user: User, mode: str
) -> ImportResult:
    """Write the rows of a stored import as `user`: every row or none, or only the valid ones.

    The stored text is analysed again, so rows are matched and checked against the data as it
    is now. Matched customers are updated, others created; importing the same file again finds
    the customers it created and changes nothing. Rows are written in batches with a few
    queries each (see _import_batch); a batch that fails in the database is written again row
    by row through customer_create/customer_update, to find the row at fault.
    """
    customer_import = CustomerImport.objects.select_for_update().get(pk=customer_import.pk)
    if customer_import.user_id != user.pk:
        raise ImportClosedError(_("Only the user who uploaded a file may import it."))
    if not (customer_import.is_open or customer_import.status == CustomerImport.Status.QUEUED):
        raise ImportClosedError(_("This import was already imported or cancelled."))
    if mode not in CustomerImport.Mode.values:
        raise ValueError(f"unknown import mode {mode!r}")
    progress_key = import_progress_key(customer_import.pk)
    analysis = analyse_import(customer_import.text, user=user)
    if mode == CustomerImport.Mode.ALL_OR_NOTHING and analysis.error_count:
        return _import_finish(customer_import, analysis, mode=mode, applied=False)
    to_write = [row for row in analysis.rows if row.ok and row.action in (CREATE, UPDATE)]
    batches = list(chunked(to_write, settings.CRM_CUSTOMER_IMPORT_BATCH_ROWS))
    if mode == CustomerImport.Mode.ALL_OR_NOTHING:
        try:
            with transaction.atomic():  # a savepoint: a failing row undoes every row
                for done, batch in enumerate(batches, start=1):
                    if not _import_batch(batch, user=user):
                        raise _ImportAborted
                    _report_progress(progress_key, done, len(batches))
        except _ImportAborted:
            return _import_finish(customer_import, analysis, mode=mode, applied=False)
    else:
        for done, batch in enumerate(batches, start=1):
            _import_batch(batch, user=user)
            _report_progress(progress_key, done, len(batches))
    written = [row for row in to_write if row.ok]
    return _import_finish(
        customer_import,
        analysis,
        mode=mode,
        applied=True,
        created=sum(1 for row in written if row.action == CREATE),
        updated=sum(1 for row in written if row.action == UPDATE),
    )


def _report_progress(key: str, done: int, total: int) -> None:
    """Progress lives in the cache: the import's own row is locked until the job commits."""
    cache.set(key, {"done": done, "total": total}, timeout=3600)


def _import_batch(rows: list[RowResult], *, user: User) -> bool:
    """Write a batch of analysed rows; False when some failed (their errors are on the rows)."""
    if connection.features.can_return_rows_from_bulk_insert:
        try:
            with transaction.atomic():
                _import_bulk_write(rows, user=user)
            return True
        except (ValidationError, IntegrityError, ConcurrentEditError):
            pass  # find the row at fault below
    ok = True
    tag_cache: dict[str, Tag] = {}
    for row in rows:
        with transaction.atomic():  # a savepoint per row: a failing row is undone alone
            if not _import_row(row, tag_cache):
                transaction.set_rollback(True)
                ok = False
    return ok


def _import_bulk_write(rows: list[RowResult], *, user: User) -> None:
    """What customer_create and customer_update do, for many rows in a few queries.

    Each customer is validated (full_clean; the database checks the unique external id),
    an updated one gets a new version, and each gets one history record with its tags, as
    the history page reads them.
    """
    now = timezone.now()
    tags = _import_tags({name for row in rows for name in row.tags or ()})
    created = []
    for row in rows:
        if row.action == CREATE:
            customer = Customer(owner=row.owner, **_customer_data(row.data))
            customer.full_clean(
                exclude=["owner"], validate_unique=False, validate_constraints=False
            )
            created.append(customer)
    Customer.objects.bulk_create(created)
    updates = [(row, _matched_customer(row)) for row in rows if row.action == UPDATE]
    locked = Customer.objects.select_for_update().in_bulk([seen.pk for _row, seen in updates])
    changed: list[Customer] = []
    changed_fields: list[list[str]] = []
    for row, seen in updates:
        current = locked.get(seen.pk)
        if current is None or current.version != seen.version:
            raise ConcurrentEditError(f"The customer of line {row.line} changed meanwhile.")
        customer = current
        fields = []  # only what changed: an UPDATE costs more with every column
        for name, value in _customer_data(row.data).items():
            if name in row.changed:
                setattr(customer, name, value)
                fields.append(name)
        if "owner" in row.changed:
            customer.owner = row.owner
            fields.append("owner")
        customer.version += 1
        customer.updated_at = now
        customer.full_clean(exclude=["owner"], validate_unique=False, validate_constraints=False)
        changed.append(customer)
        changed_fields.append(fields)
    _import_save_changes(changed, changed_fields, now=now)
    wanted = {}  # customer pk -> tag pks, for the rows that set tags
    for row, customer in zip([r for r in rows if r.action == CREATE], created, strict=True):
        wanted[customer.pk] = {tags[name].pk for name in row.tags or ()}
    for row, seen in updates:
        if "tags" in row.changed:
            wanted[seen.pk] = {tags[name].pk for name in row.tags or ()}
    _import_set_tags(wanted)
    records = [
        *Customer.history.bulk_history_create(created, default_user=user),
        *Customer.history.bulk_history_create(changed, update=True, default_user=user),
    ]
    _import_history_tags(records)


def _import_save_changes(
    customers: list[Customer], fields: list[list[str]], *, now: datetime
) -> None:
    """Save updated customers, each with its changed fields and a new version.

    Customers given the same values (a new stage, owner or city for all) share one UPDATE;
    the others go through bulk_update, in small batches since its CASE costs rows squared.
    """
    attname_of = {field.name: field.attname for field in Customer._meta.concrete_fields}
    groups: defaultdict[tuple[tuple[str, object], ...], list[Customer]] = defaultdict(list)
    for customer, names in zip(customers, fields, strict=True):
        attnames = [attname_of[name] for name in names]
        key = tuple((attname, getattr(customer, attname)) for attname in attnames)
        groups[key].append(customer)
    single: defaultdict[tuple[str, ...], list[Customer]] = defaultdict(list)
    for key, group in groups.items():
        if len(group) > 1:
            Customer.objects.filter(pk__in=[customer.pk for customer in group]).update(
                **dict(key), version=F("version") + 1, updated_at=now
            )
        else:
            single[tuple(attname for attname, _value in key)].extend(group)
    for group_attnames, group in single.items():
        Customer.objects.bulk_update(
            group, [*group_attnames, "version", "updated_at"], batch_size=100
        )


def _customer_data(data: dict) -> dict:
    return {name: value for name, value in data.items() if name in CUSTOMER_FIELDS}


def _import_tags(names: set[str]) -> dict[str, Tag]:
    """The tags by name, created when missing."""
    if not names:
        return {}
    Tag.objects.bulk_create([Tag(name=name) for name in sorted(names)], ignore_conflicts=True)
    return {tag.name: tag for tag in Tag.objects.filter(name__in=names)}


def _import_set_tags(wanted: dict[int, set[int]]) -> None:
    through = Customer.tags.through
    current: defaultdict[int, dict[int, int]] = defaultdict(
        dict
    )  # customer pk -> {tag pk: through pk}
    for pk, customer_id, tag_id in through.objects.filter(customer_id__in=wanted).values_list(
        "pk", "customer_id", "tag_id"
    ):
        current[customer_id][tag_id] = pk
    stale = [
        pk
        for customer_id, by_tag in current.items()
        for tag_id, pk in by_tag.items()
        if tag_id not in wanted[customer_id]
    ]
    through.objects.filter(pk__in=stale).delete()
    through.objects.bulk_create(
        through(customer_id=customer_id, tag_id=tag_id)
        for customer_id, tag_ids in wanted.items()
        for tag_id in sorted(tag_ids - current[customer_id].keys())
    )


def _import_history_tags(records: list) -> None:
    """Copy each customer's tag rows onto its new history record, as simple-history does."""
    history_tags = Customer.history.model.tags.model  # simple-history's HistoricalCustomer_tags
    rows = defaultdict(list)
    for pk, customer_id, tag_id in Customer.tags.through.objects.filter(
        customer_id__in=[record.id for record in records]
    ).values_list("pk", "customer_id", "tag_id"):
        rows[customer_id].append((pk, tag_id))
    history_tags.objects.bulk_create(
        history_tags(history=record, id=pk, customer_id=record.id, tag_id=tag_id)
        for record in records
        for pk, tag_id in rows[record.id]
    )


def _import_row(row: RowResult, tag_cache: dict[str, Tag]) -> bool:
    """Write one analysed row; on a late error (the data changed meanwhile) record it on the row."""
    try:
        tags = None
        if row.tags is not None:
            tags = [_import_tag(name, tag_cache) for name in row.tags]
        if row.action == CREATE:
            customer_create(data=row.data, owner=row.owner, tags=tags or [])
        else:
            customer = _matched_customer(row)
            customer_update(
                customer=customer,
                expected_version=customer.version,
                data=row.data,
                owner=row.owner,
                tags=tags,
            )
    except ValidationError as error:
        by_field = (
            error.message_dict if hasattr(error, "error_dict") else {ROW_ERROR: error.messages}
        )
        for column, messages in by_field.items():
            for message in messages:
                row.add_error(column if column in row.cells else ROW_ERROR, message)
        return False
    except ConcurrentEditError as error:
        row.add_error(ROW_ERROR, str(error))
        return False
    except IntegrityError:
        row.add_error(
            ROW_ERROR,
            _("The database refused this row: a change saved meanwhile conflicts with it."),
        )
        return False
    return True


def _import_tag(name: str, cache: dict[str, Tag]) -> Tag:
    if name not in cache:
        cache[name] = Tag.objects.filter(name=name).first() or Tag.objects.create(name=name)
    return cache[name]


def _import_finish(
    customer_import: CustomerImport,
    analysis: ImportAnalysis,
    *,
    mode: str,
    applied: bool,
    created: int = 0,
    updated: int = 0,
) -> ImportResult:
    customer_import.mode = mode
    customer_import.failed_count = analysis.error_count
    customer_import.row_errors = [
        {"line": row.line, "errors": row.errors, "cells": row.cells}
        for row in analysis.rows
        if not row.ok
    ]
    customer_import.unchanged_count = analysis.unchanged_count
    customer_import.created_count = created
    customer_import.updated_count = updated
    if applied:
        customer_import.status = CustomerImport.Status.APPLIED
        customer_import.applied_at = timezone.now()
        # The file is not needed any more: the rows it skipped (cells and errors, for the
        # user to fix) stay until the sweep, the rest is in the customers it wrote.
        customer_import.text = ""
        duplicates_refresh_queue()  # the new customers may duplicate the old ones
    else:
        customer_import.status = CustomerImport.Status.FAILED
    customer_import.save()
    cache.delete(import_preview_key(customer_import))
    return ImportResult(customer_import=customer_import, analysis=analysis, applied=applied)


def _matched_customer(row: RowResult) -> Customer:
    """The customer an UPDATE row matched: the analysis sets it on every such row."""
    if row.customer is None:
        raise ValueError(f"Line {row.line} updates no customer.")
    return row.customer
