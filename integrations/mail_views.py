"""Mail pages (issue 14). The original of an inbound message: its headers, its body as
sanitised HTML (or text) with remote images blocked until the user asks (?images=1, which
also opens the page's CSP img-src to https: for that response only), and its files."""

import hashlib
import re

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from core.attachments import attachments_of
from core.models import Attachment
from integrations.mail.access import can_view_inbound, inbound_result
from integrations.mail.html import has_blocked_images, show_remote_images
from integrations.mail.parse import ParsedEmail, header_text, parse_email, read_headers
from integrations.models import InboundEmail

REMOTE_IMAGES_CSP = {"img-src": ["https:"]}
INLINE_IMAGE = re.compile(r'src="cid:([^"]*)"')


@require_GET
def original_view(request: HttpRequest, pk: int) -> HttpResponse:
    inbound = get_object_or_404(InboundEmail.objects.select_related("mailbox", "owner"), pk=pk)
    if not can_view_inbound(request.user, inbound):
        raise Http404
    context = _original_context(inbound, images=request.GET.get("images") == "1")
    response = render(request, "integrations/mail/original.html", context)
    if context["images_shown"]:
        # What django-csp's @csp_update sets, on this response only: the page's img-src
        # (self and data:) plus https:, for the images the user asked to see.
        setattr(response, "_csp_update", REMOTE_IMAGES_CSP)  # noqa: B010
    return response


def _original_context(inbound: InboundEmail, *, images: bool) -> dict:
    raw = _raw_bytes(inbound)
    parsed = parse_email(raw) if raw is not None else None
    stored = _stored_attachments(inbound)
    html = parsed.html if parsed else inbound.html
    blocked = has_blocked_images(html)
    if images:
        html = show_remote_images(html)
    return {
        "inbound": inbound,
        "parsed": parsed,
        "headers": _headers(raw) if raw is not None else [],
        "html": _link_inline_images(html, stored),
        "text": parsed.text if parsed else inbound.text,
        "files": _files(parsed, stored, shown_inline=set(INLINE_IMAGE.findall(html))),
        "has_blocked_images": blocked,
        "images_shown": images and blocked,
    }


def _raw_bytes(inbound: InboundEmail) -> bytes | None:
    if not inbound.raw:
        return None
    try:
        with inbound.raw.open("rb") as stream:
            return stream.read()
    except (FileNotFoundError, OSError):
        return None


def _headers(raw: bytes) -> list[tuple[str, str]]:
    message = read_headers(raw)
    names = list(dict.fromkeys(name for name, _ in message.raw_items()))
    rows = []
    for name in names:
        for index, value in enumerate(message.get_all(name, [])):
            shown = header_text(message, name) if index == 0 else " ".join(str(value).split())
            rows.append((name, shown))
    return rows


def _stored_attachments(inbound: InboundEmail) -> list[Attachment]:
    result = inbound_result(inbound)
    return list(attachments_of(result)) if result is not None else []


def _link_inline_images(html: str, stored: list[Attachment]) -> str:
    """cid: images shown through the download view, when the record kept the file."""
    by_content_id = {a.content_id: a for a in stored if a.content_id}

    def link(match: re.Match[str]) -> str:
        attachment = by_content_id.get(match.group(1))
        if attachment is None:
            return 'data-missing-src="cid:' + match.group(1) + '"'
        return 'src="' + reverse("attachment-download", args=[attachment.pk]) + '"'

    return INLINE_IMAGE.sub(link, html)


def _files(
    parsed: ParsedEmail | None, stored: list[Attachment], *, shown_inline: set[str]
) -> list[dict]:
    """The message's attachments, each linked to the record's copy (same bytes) if kept;
    not the images its body shows (cid:)."""
    if parsed is None:
        return []
    by_hash = {a.sha256: a for a in stored}
    return [
        {
            "name": file.name,
            "size": len(file.data),
            "attachment": by_hash.get(hashlib.sha256(file.data).hexdigest()),
        }
        for file in parsed.attachments
        if not (file.content_id and file.content_id in shown_inline)
    ]
