"""The one download of attachments: only for whoever may see the record the file belongs
to (core.attachments registry); a refusal looks like a missing file (404), so an id tells
nothing. Always a download, never rendered: an HTML or SVG file cannot run in our origin."""

from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from core.attachments import ACTIVE_TYPES, can_view_attachments
from core.models import Attachment


@require_GET
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    attachment = get_object_or_404(Attachment.objects.select_related("owner_type"), pk=pk)
    if not can_view_attachments(request.user, attachment.owner):
        raise Http404
    try:
        stream = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    content_type = attachment.content_type
    if content_type in ACTIVE_TYPES or content_type.startswith("text/"):
        content_type = "application/octet-stream"
    response = FileResponse(
        stream, as_attachment=True, filename=attachment.name, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response
