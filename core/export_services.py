"""Background CSV exports: the only writer of ExportFile (issue 13).

queued -> running -> ready -> downloaded (the file deleted), or expired (not downloaded in
CRM_EXPORT_KEEP_HOURS; the sweep deletes the file), or failed. The job rebuilds the table
from the registered source (crm.lib.exports) with the owner's permissions when it runs,
writes it to a temporary file, then to Django's storage under a random name. Inline (no
REDIS_URL) the job runs when the request's transaction commits, so the file is ready when
the exports page opens.
"""

import logging
import tempfile
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import Http404, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from core import tasks
from core.models import ExportFile
from crm.lib.csv_export import csv_lines
from crm.lib.exports import ExportTable, export_source
from crm.lib.tasks import publish, queue_on_commit

logger = logging.getLogger(__name__)

PROGRESS_EVERY = 2000  # rows between two progress (and heartbeat) writes
REQUEUE_AFTER = timedelta(minutes=5)  # queued and never started: the message was lost
STALLED_AFTER = timedelta(minutes=10)  # running without a heartbeat: the worker stopped


class ExportGoneError(Exception):
    """The file was downloaded already, expired, or is not ready."""


def export_file_create(*, owner: User, table: ExportTable, rows: int) -> ExportFile:
    """Record a large export and queue its job once the caller's transaction commits."""
    job = ExportFile.objects.create(
        owner=owner,
        source=table.source,
        params=table.params.urlencode(),
        filename=table.filename,
        rows_total=rows,
    )
    queue_on_commit(tasks.build_export_file, job.pk)
    return job


def export_file_build(pk: int) -> str:
    """The job's body: write the file, or record why not. Returns the final status."""
    with transaction.atomic():
        # The job's row alone: FOR UPDATE without OF also locked its owner's user row.
        jobs = ExportFile.objects.select_for_update(of=("self",)).select_related("owner")
        job = jobs.filter(pk=pk).first()
        if job is None or job.status != ExportFile.Status.QUEUED:
            return job.status if job else "missing"
        _set(job, status=ExportFile.Status.RUNNING, heartbeat_at=timezone.now())
    try:
        source = export_source(job.source)
        if source is None:
            raise PermissionDenied(f"no export source {job.source!r}")
        table = source.build(job.owner, QueryDict(job.params))
        name = _write(job, table)
    except (PermissionDenied, Http404) as error:
        return _fail(job, _("You may no longer export these rows.") + f" ({error})")
    except Exception as error:
        logger.exception("export %s failed", pk)
        return _fail(job, str(error) or error.__class__.__name__)
    now = timezone.now()
    keep = timedelta(hours=settings.CRM_EXPORT_KEEP_HOURS)
    _set(job, file=name, status=ExportFile.Status.READY, finished_at=now, expires_at=now + keep)
    return ExportFile.Status.READY


def _write(job: ExportFile, table: ExportTable) -> str:
    with tempfile.TemporaryFile(mode="w+b") as spool:
        for line in csv_lines(_counted(job, table.lines()), bom=table.bom):
            spool.write(line.encode("utf-8"))
        spool.seek(0)
        # A random name: the file is reached only through its owner's download view.
        return default_storage.save(f"exports/{uuid.uuid4().hex}.csv", File(spool))


def _counted(job: ExportFile, lines: Iterable) -> Iterable:
    """The lines, with the progress and heartbeat written every PROGRESS_EVERY rows."""
    done = -1  # the header is not a row
    for line in lines:
        yield line
        done += 1
        if done and done % PROGRESS_EVERY == 0:
            _set(job, rows_done=done, heartbeat_at=timezone.now())
    _set(job, rows_done=max(done, 0), heartbeat_at=timezone.now())


def _set(job: ExportFile, **changes) -> None:
    for name, value in changes.items():
        setattr(job, name, value)
    ExportFile.objects.filter(pk=job.pk).update(**changes)


def _fail(job: ExportFile, error: str) -> str:
    _set(job, status=ExportFile.Status.FAILED, error=error[:2000], finished_at=timezone.now())
    return ExportFile.Status.FAILED


@transaction.atomic
def export_file_take(*, pk: int, user: User) -> ExportFile:
    """Mark the user's ready file downloaded (once: a second take raises ExportGoneError)."""
    job = ExportFile.objects.select_for_update().filter(pk=pk, owner=user).first()
    if job is None:
        raise Http404
    if job.status != ExportFile.Status.READY or not job.file:
        raise ExportGoneError(_("This export was downloaded already or has expired."))
    _set(job, status=ExportFile.Status.DOWNLOADED, downloaded_at=timezone.now())
    return job


def export_file_discard(*, pk: int) -> None:
    """Delete a downloaded or expired job's file from storage (kept: the row)."""
    job = ExportFile.objects.filter(pk=pk).first()
    if job is None or not job.file or job.status in ExportFile.ACTIVE:
        return
    default_storage.delete(str(job.file.name))
    _set(job, file="")


def export_files_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: expire files not downloaded in time, delete leftovers, publish jobs whose
    message was lost, fail jobs whose worker stopped."""
    now = now or timezone.now()
    expired = 0
    for job in ExportFile.objects.filter(status=ExportFile.Status.READY, expires_at__lte=now):
        _set(job, status=ExportFile.Status.EXPIRED)
        expired += 1
    leftovers = ExportFile.objects.filter(
        status__in=[ExportFile.Status.DOWNLOADED, ExportFile.Status.EXPIRED]
    ).exclude(file="")
    for job in leftovers:
        export_file_discard(pk=job.pk)
    requeued = 0
    lost = ExportFile.objects.filter(
        status=ExportFile.Status.QUEUED, created_at__lte=now - REQUEUE_AFTER
    )
    for pk in lost.values_list("pk", flat=True):
        requeued += publish(tasks.build_export_file, pk)
    stalled = ExportFile.objects.filter(
        status=ExportFile.Status.RUNNING, heartbeat_at__lte=now - STALLED_AFTER
    ).update(
        status=ExportFile.Status.FAILED,
        error=_("The job stopped while writing the file; export again."),
        finished_at=now,
    )
    return {"expired": expired, "requeued": requeued, "stalled": stalled}
