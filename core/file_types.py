"""What a file really is, from its first bytes (the `filetype` package's signatures), never
from the name's extension or the type the sender claimed: a "photo.jpg" that holds HTML is
HTML. Types a browser would render or run (HTML, SVG, XML) are recognised by their text so
that the download view can refuse to serve them as themselves."""

import filetype
from django.utils.translation import gettext_lazy as _

# The bytes filetype reads to decide.
SNIFF_BYTES = 8192

# Types a browser would render or run: served as plain bytes, whatever they are.
ACTIVE_TYPES = {"text/html", "image/svg+xml", "application/xhtml+xml", "text/xml"}

_TEXT_STARTS = [
    (b"<svg", "image/svg+xml"),
    (b"<!doctype html", "text/html"),
    (b"<html", "text/html"),
    (b"<?xml", "text/xml"),
]
# The same bytes as other texts: an SVG often starts with an XML declaration.
_TEXT_CONTAINS = [(b"<svg", "image/svg+xml"), (b"<script", "text/html"), (b"<html", "text/html")]
BINARY = "application/octet-stream"


def sniff_content_type(head: bytes) -> str:
    """The type the content's first bytes show (give it SNIFF_BYTES of them)."""
    kind = filetype.guess(head) if head else None
    if kind is not None:
        return str(kind.mime)
    if not _is_text(head):
        return BINARY
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    for start, content_type in _TEXT_STARTS:
        if text.startswith(start):
            return _refined_markup(text, content_type)
    for marker, content_type in _TEXT_CONTAINS:
        if marker in text:
            return content_type
    return "text/plain"


def _refined_markup(text: bytes, content_type: str) -> str:
    if content_type == "text/xml" and b"<svg" in text:
        return "image/svg+xml"
    return content_type


def _is_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A character cut at the end of the sample is still text.
        return error.start >= len(head) - 3
    return True


# What the list shows beside a file's name: a short word for its kind.
_KIND_LABELS = [
    ("image/", _("Image")),
    ("video/", _("Video")),
    ("audio/", _("Audio")),
    ("application/pdf", _("PDF")),
    *[(archive, _("Archive")) for archive in ("application/zip", "application/gzip")],
    *[(f"application/x-{archive}", _("Archive")) for archive in ("tar", "7z", "rar", "bzip2")],
    ("text/", _("Text")),
]


def kind_label(content_type: str) -> str:
    if content_type in ACTIVE_TYPES:
        return str(_("Web page"))
    for prefix, label in _KIND_LABELS:
        if content_type.startswith(prefix):
            return str(label)
    if "officedocument" in content_type or "msword" in content_type:
        return str(_("Document"))
    return str(_("File"))


def kind_css(content_type: str) -> str:
    """A CSS class per kind (the icon's colour), from a fixed list."""
    for prefix, css in (("image/", "image"), ("application/pdf", "pdf"), ("text/", "text")):
        if content_type.startswith(prefix) and content_type not in ACTIVE_TYPES:
            return f"file-kind-{css}"
    return "file-kind-other"
