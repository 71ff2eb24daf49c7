"""The one download of attachments, and the upload and delete of a record's attachments
panel, for every app's records (core.attachments registry).

A refusal looks like a missing file (404), so an id tells nothing. A download is always a
download, never rendered: an HTML or SVG file cannot run in our origin."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from core.attachment_forms import AttachmentUploadForm, add_upload_refusals
from core.attachments import (
    ACTIVE_TYPES,
    attachment_add,
    can_add_attachments,
    can_view_attachments,
    owner_page_url,
    registered_owner,
)
from core.models import Attachment
from crm.lib.http import AuthenticatedHttpRequest
from crm.lib.params import MAX_ID
from crm.lib.upload_limits import accepts_uploads, attachment_limits


def _attachment(pk: int) -> Attachment:
    if pk > MAX_ID:
        raise Http404
    return get_object_or_404(Attachment.objects.select_related("owner_type"), pk=pk)


@require_GET
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    attachment = _attachment(pk)
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


@require_POST
@accepts_uploads(attachment_limits(max_files=10))
def attachment_upload(request: AuthenticatedHttpRequest, label: str, owner_pk: int) -> HttpResponse:
    """Files added from a record's attachments panel; back to the record's page."""
    owner = registered_owner(label, str(owner_pk)) if owner_pk <= MAX_ID else None
    if owner is None or not can_view_attachments(request.user, owner):
        raise Http404
    if not can_add_attachments(request.user, owner):
        raise PermissionDenied
    form = AttachmentUploadForm(request.POST, request.FILES)
    form.is_valid()
    add_upload_refusals(form, request, "attachments")
    if form.errors:
        for error in form.errors.get("attachments", []):
            messages.error(request, str(error))
    else:
        with transaction.atomic():
            for checked in form.cleaned_data["attachments"]:
                attachment_add(
                    owner=owner, content=checked.upload, name=checked.name, uploaded_by=request.user
                )
        count = len(form.cleaned_data["attachments"])
        messages.success(
            request,
            ngettext("%(count)d file attached.", "%(count)d files attached.", count)
            % {"count": count},
        )
    return redirect(f"{owner_page_url(owner)}#attachments")


@require_POST
def attachment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = _attachment(pk)
    owner = attachment.owner
    if owner is None or not can_view_attachments(request.user, owner):
        raise Http404
    if not can_add_attachments(request.user, owner):
        raise PermissionDenied
    name = attachment.name
    attachment.delete()  # its file leaves storage when the transaction commits
    messages.success(request, _("“%(name)s” deleted.") % {"name": name})
    return redirect(f"{owner_page_url(owner)}#attachments")
