"""Limits on uploaded files enforced while the body streams in, not after it was stored.

A view that accepts files is marked with `@accepts_uploads(limits)`; before anything reads
the body (UploadSizeLimitMiddleware.process_view, ahead of the CSRF check), the request gets
`LimitedUploadHandler` in front of Django's own handlers. It counts each file's bytes as they
arrive and:
- past `max_file_bytes`, skips the rest of that file (nothing more is kept: the parser reads
  the part to its end and goes on with the next field, so the form's other fields arrive);
- past `max_files`, skips every further file;
- past `max_total_bytes` for all files together, stops the upload (the rest of the body is
  read and thrown away; the fields sent before the files are kept: forms put their file
  input last).
Each refusal is kept on the request (`upload_refusals(request)`), for the form to say why
while it shows again what the user typed. A file of 0 bytes is left to the form (its
message names the file).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from django.http import HttpRequest

REFUSALS_ATTRIBUTE = "_crm_upload_refusals"
LIMITS_ATTRIBUTE = "crm_upload_limits"


@dataclass(frozen=True)
class UploadLimits:
    max_file_bytes: int
    max_total_bytes: int
    max_files: int


def attachment_limits(
    *, max_files: int = 10, max_file_bytes: int | None = None
) -> Callable[[], UploadLimits]:
    """The limits of attachments (CRM_ATTACHMENT_MAX_BYTES, _MAX_MESSAGE_BYTES, or the lower
    `max_file_bytes` of a public form), read when a request arrives so that tests and
    deployments may change the settings."""

    def limits() -> UploadLimits:
        return UploadLimits(
            max_file_bytes=capped_file_bytes(max_file_bytes),
            max_total_bytes=settings.CRM_ATTACHMENT_MAX_MESSAGE_BYTES,
            max_files=max_files,
        )

    return limits


def capped_file_bytes(cap: int | None) -> int:
    limit = int(settings.CRM_ATTACHMENT_MAX_BYTES)
    return min(limit, cap) if cap else limit


@dataclass(frozen=True)
class UploadRefusal:
    TOO_LARGE = "too_large"
    TOO_MANY = "too_many"
    TOTAL_TOO_LARGE = "total_too_large"

    reason: str
    field_name: str
    file_name: str
    limits: UploadLimits


View = TypeVar("View", bound=Callable[..., Any])


def accepts_uploads(limits: Callable[[], UploadLimits]) -> Callable[[View], View]:
    """Mark a view whose uploads are limited while they stream in (see the module's doc)."""

    def mark(view: View) -> View:
        setattr(view, LIMITS_ATTRIBUTE, limits)
        return view

    return mark


def view_upload_limits(view: Callable[..., Any]) -> UploadLimits | None:
    limits = getattr(view, LIMITS_ATTRIBUTE, None)
    return limits() if limits else None


def install_upload_limits(request: HttpRequest, limits: UploadLimits) -> None:
    """Put the limiting handler first; must run before anything reads request.POST."""
    setattr(request, REFUSALS_ATTRIBUTE, [])
    request.upload_handlers.insert(0, LimitedUploadHandler(request, limits))


def upload_refusals(request: HttpRequest) -> list[UploadRefusal]:
    return list(getattr(request, REFUSALS_ATTRIBUTE, []))


class LimitedUploadHandler(FileUploadHandler):
    """Counts bytes and files; passes each chunk on to Django's handlers until a limit."""

    def __init__(self, request: HttpRequest, limits: UploadLimits) -> None:
        super().__init__(request)
        self.limits = limits
        self.total_bytes = 0
        self.file_count = 0
        self.file_bytes = 0
        self.skipping = False

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        self.file_bytes = 0
        self.file_count += 1
        # Skipped at its first chunk, once the next handlers opened it: skipping here would
        # make the parser close the file those handlers completed before.
        self.skipping = self.file_count > self.limits.max_files

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if self.skipping:
            self._refuse(UploadRefusal.TOO_MANY)
            raise SkipFile
        self.file_bytes += len(raw_data)
        self.total_bytes += len(raw_data)
        if self.total_bytes > self.limits.max_total_bytes:
            self._refuse(UploadRefusal.TOTAL_TOO_LARGE)
            raise StopUpload(connection_reset=False)
        if self.file_bytes > self.limits.max_file_bytes:
            # This file's bytes no longer count towards the total: none of them is kept.
            self.total_bytes -= self.file_bytes
            self._refuse(UploadRefusal.TOO_LARGE)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler (memory or temporary file) makes the file

    def _refuse(self, reason: str) -> None:
        refusal = UploadRefusal(
            reason=reason,
            field_name=self.field_name or "",
            file_name=self.file_name or "",
            limits=self.limits,
        )
        getattr(self.request, REFUSALS_ATTRIBUTE).append(refusal)
