"""The form field for attaching several files, used by every form that takes attachments.

The limits themselves are enforced while the body streams in (crm/lib/upload_limits.py);
this field turns what the stream refused into messages that name the file, refuses empty
files, checks the limits again (for a form bound without the streaming handler, in tests or
from a shell) and sniffs each file's real type from its content."""

from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.attachments import clean_file_name
from core.file_types import SNIFF_BYTES, kind_label, sniff_content_type
from crm.lib.upload_limits import (
    UploadLimits,
    UploadRefusal,
    capped_file_bytes,
    upload_refusals,
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


@dataclass(frozen=True)
class CheckedUpload:
    """A file that passed the checks: its cleaned name and the type its content shows."""

    upload: UploadedFile
    name: str
    content_type: str
    size: int

    @property
    def kind(self) -> str:
        return kind_label(self.content_type)


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern), cleaned to a list of
    CheckedUpload. Every file's problem is reported, not only the first one's."""

    widget = MultipleFileInput

    def __init__(self, *, max_files: int = 10, max_file_bytes: int | None = None, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", gettext_lazy("Attach files"))
        super().__init__(**kwargs)
        self.max_files = max_files
        self.file_bytes_cap = max_file_bytes
        self.widget.attrs.setdefault("class", "form-control")

    def clean(self, data, initial=None) -> list[CheckedUpload]:
        uploads = [upload for upload in _as_list(data) if upload]
        if not uploads:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        errors = [*self._count_errors(uploads), *self._total_errors(uploads)]
        checked = []
        for upload in uploads:
            problem = file_problem(upload, self.max_file_bytes)
            if problem:
                errors.append(problem)
            else:
                checked.append(check_upload(upload))
        if errors:
            raise forms.ValidationError(errors)
        return checked

    @property
    def max_file_bytes(self) -> int:
        return capped_file_bytes(self.file_bytes_cap)

    def _count_errors(self, uploads: list[UploadedFile]) -> list[str]:
        if len(uploads) <= self.max_files:
            return []
        return [too_many_message(self.max_files)]

    def _total_errors(self, uploads: list[UploadedFile]) -> list[str]:
        total = sum(upload.size or 0 for upload in uploads)
        if total <= settings.CRM_ATTACHMENT_MAX_MESSAGE_BYTES:
            return []
        return [total_too_large_message(settings.CRM_ATTACHMENT_MAX_MESSAGE_BYTES)]


def _as_list(data) -> list:
    if isinstance(data, (list, tuple)):
        return list(data)
    return [data] if data else []


def file_problem(upload: UploadedFile, max_file_bytes: int) -> str | None:
    name = clean_file_name(upload.name or "")
    if not upload.size:
        return _("“%(name)s” is empty (0 bytes): choose the file again or another one.") % {
            "name": name
        }
    if upload.size > max_file_bytes:
        return too_large_message(name, max_file_bytes)
    return None


def check_upload(upload: UploadedFile) -> CheckedUpload:
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    return CheckedUpload(
        upload=upload,
        name=clean_file_name(upload.name or ""),
        content_type=sniff_content_type(head),
        size=upload.size or 0,
    )


def too_large_message(name: str, limit: int) -> str:
    return _("“%(name)s” is larger than %(max)s, the largest file you can attach.") % {
        "name": name,
        "max": filesizeformat(limit),
    }


def too_many_message(limit: int) -> str:
    return ngettext(
        "Attach at most %(count)d file at a time.",
        "Attach at most %(count)d files at a time.",
        limit,
    ) % {"count": limit}


def total_too_large_message(limit: int) -> str:
    return _("The files together are larger than %(max)s: attach fewer or smaller files.") % {
        "max": filesizeformat(limit)
    }


def refusal_message(refusal: UploadRefusal) -> str:
    limits: UploadLimits = refusal.limits
    if refusal.reason == UploadRefusal.TOO_LARGE:
        return too_large_message(clean_file_name(refusal.file_name), limits.max_file_bytes)
    if refusal.reason == UploadRefusal.TOO_MANY:
        return too_many_message(limits.max_files)
    return total_too_large_message(limits.max_total_bytes)


def add_upload_refusals(form: forms.Form, request: HttpRequest, field_name: str) -> None:
    """Show on `form` what the streaming limits refused (the form keeps its other data).
    Call after is_valid(); the form becomes invalid when something was refused."""
    seen: set[str] = set()
    for refusal in upload_refusals(request):
        message = refusal_message(refusal)
        if message not in seen:
            seen.add(message)
            form.add_error(field_name, message)
    if seen:
        form.add_error(field_name, _("No file was kept: choose the files again."))


class AttachmentUploadForm(forms.Form):
    """The upload form of a record's attachments panel."""

    attachments = MultipleFileField(
        required=True,
        error_messages={"required": gettext_lazy("Choose one or more files to attach.")},
    )
