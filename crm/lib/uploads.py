"""Reading uploaded CSV files: refuse what is not UTF-8 text with a message that says why;
refuse an upload too large before its body is read (`UploadSizeLimitMiddleware`)."""

import codecs
from collections.abc import Callable
from typing import Any, BinaryIO

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.lib.upload_limits import install_upload_limits, view_upload_limits

# Files that are not text, recognised by their first bytes.
FILE_SIGNATURES = [
    (b"\x89PNG", gettext_lazy("a PNG image")),
    (b"\xff\xd8\xff", gettext_lazy("a JPEG image")),
    (b"GIF8", gettext_lazy("a GIF image")),
    (b"%PDF", gettext_lazy("a PDF document")),
    (b"PK\x03\x04", gettext_lazy("an Excel workbook (.xlsx) or another zip file")),
    (b"\xd0\xcf\x11\xe0", gettext_lazy("an old Excel or Word file (.xls, .doc)")),
]
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
SAVE_AS_CSV = gettext_lazy(
    "In your spreadsheet program choose “Save as” and the type “CSV UTF-8”, then upload that file."
)


class ImportFileError(Exception):
    """The file as a whole cannot be imported; `messages` say why, for the user."""

    def __init__(self, *messages: str | Promise) -> None:
        super().__init__(" ".join(str(m) for m in messages))
        self.messages = [str(m) for m in messages]


def refuse_binary_head(head: bytes) -> None:
    """Refuse a file whose first bytes show it is an image, a spreadsheet or UTF-16 text."""
    for signature, what in FILE_SIGNATURES:
        if head.startswith(signature):
            raise ImportFileError(
                _("This is not a CSV file: it looks like %(what)s.") % {"what": what}, SAVE_AS_CSV
            )
    if head.startswith(UTF16_BOMS):
        raise ImportFileError(
            _("The file is encoded as UTF-16 (“Unicode text”); only UTF-8 can be imported."),
            SAVE_AS_CSV,
        )


def decode_upload(data: bytes) -> str:
    """The text of an uploaded CSV: UTF-8 with or without a byte order mark, nothing else."""
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    limit = settings.CRM_IMPORT_MAX_BYTES
    if len(data) > limit:
        raise ImportFileError(
            _("The file is %(size)s; the largest file you can import is %(max)s.")
            % {"size": filesizeformat(len(data)), "max": filesizeformat(limit)}
        )
    refuse_binary_head(data)
    if b"\x00" in data:
        raise ImportFileError(
            _("The file contains NUL bytes: it is a binary file or UTF-16 text, not a UTF-8 CSV."),
            SAVE_AS_CSV,
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _(
                "The file is not UTF-8 text (the first invalid byte is number %(position)d); "
                "files saved as GBK, Big5 or another encoding cannot be imported."
            )
            % {"position": error.start + 1},
            SAVE_AS_CSV,
        ) from error


def check_binary(stream: BinaryIO, *, block_size: int = 16 * 1024 * 1024) -> None:
    """Refuse files that are not UTF-8 text: empty, images, spreadsheets, UTF-16, NUL bytes.

    Reads the whole stream once in blocks (a 60 MB file in well under a second), then rewinds
    it. Raises ImportFileError with the line at fault.
    """
    head = stream.read(4096)
    if not head.strip():
        stream.seek(0)
        if not stream.read().strip():
            raise ImportFileError(_("The file is empty."))
    refuse_binary_head(head)
    stream.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines_before = 0
    while True:
        block = stream.read(block_size)
        if not block:
            break
        nul = block.find(b"\x00")
        if nul >= 0:
            raise ImportFileError(
                _(
                    "Line %(line)d contains NUL bytes: this is a binary file or UTF-16 text, "
                    "not a UTF-8 CSV."
                )
                % {"line": lines_before + block.count(b"\n", 0, nul) + 1},
                SAVE_AS_CSV,
            )
        try:
            decoder.decode(block)
        except UnicodeDecodeError as error:
            raise ImportFileError(
                _(
                    "Line %(line)d is not UTF-8 text; files saved in another encoding cannot be imported."
                )
                % {"line": lines_before + block.count(b"\n", 0, error.start) + 1},
                SAVE_AS_CSV,
            ) from error
        lines_before += block.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _("The file ends in the middle of a character."), SAVE_AS_CSV
        ) from error
    stream.seek(0)


class CsvUploadForm(forms.Form):
    """A CSV file to import: the field and its size limit (CRM_IMPORT_MAX_BYTES). A subclass
    reads the file in read_file, raising ImportFileError; its rows are checked in the preview."""

    too_large_message = gettext_lazy(
        "The file is %(size)s; the largest file you can import is %(max)s."
    )

    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        help_text=gettext_lazy("UTF-8 encoded, with the column names on the first line."),
        error_messages={
            "required": gettext_lazy("Choose a CSV file to upload."),
            "empty": gettext_lazy("The file is empty."),
            "invalid": gettext_lazy("No file was uploaded; choose a CSV file."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        limit = settings.CRM_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                self.too_large_message
                % {"size": filesizeformat(upload.size), "max": filesizeformat(limit)}
            )
        try:
            self.read_file(upload)
        except ImportFileError as error:
            raise forms.ValidationError(error.messages) from error
        return upload

    def read_file(self, upload: UploadedFile) -> None:
        """Read the file, setting self.text and self.row_count."""
        raise NotImplementedError


# Room for the form's other fields and the multipart boundaries around the file.
FORM_OVERHEAD_BYTES = 64 * 1024


class UploadSizeLimitMiddleware:
    """Refuse a file upload whose declared size (Content-Length) is over the import limit
    before anything reads the body: the worker answers at once with a page that says the
    limit, instead of receiving megabytes it will throw away. (The proxy in front should
    refuse such bodies too: nginx `client_max_body_size`, README.) Django reads no body
    without a Content-Length, so a request without one cannot get past this.

    A view marked `@accepts_uploads` (attachments, crm/lib/upload_limits.py) is not refused
    unread: its limits are enforced while the body streams in, so that the form's other
    fields (a typed reply, a request) arrive and are shown again with the reason. Runs in
    process_view, before the CSRF check reads the body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if request.content_type != "multipart/form-data":
            return None
        limits = view_upload_limits(view)
        if limits is not None:
            install_upload_limits(request, limits)
            return None
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        limit = settings.CRM_IMPORT_MAX_BYTES
        if declared > limit + FORM_OVERHEAD_BYTES:
            return self.too_large(request, declared, limit)
        return None

    @staticmethod
    def too_large(request: HttpRequest, declared: int, limit: int) -> HttpResponse:
        context = {"size": filesizeformat(declared), "max": filesizeformat(limit)}
        # gunicorn's sync workers close the connection after each response, so the unread
        # body is never parsed as a next request.
        return render(request, "upload_too_large.html", context, status=413)
