"""Walking a message's MIME tree into the ParsedEmail's text, HTML, attachments, forward and
delivery report (integrations.mail.parse). Lenient: a multipart without its boundary is read
as text, a part that does not decode is kept as the bytes it has, a tree deeper or wider
than any mail client writes is read up to a limit."""

import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import Parser

from integrations.mail.decoding import decode_bytes, decode_words, one_line, undo_surrogates
from integrations.mail.html import html_to_text, sanitise_html
from integrations.mail.message import (
    ParsedAttachment,
    ParsedEmail,
    address_list,
    header_text,
)
from integrations.mail.quotes import forwarded_headers, strip_quoted

MAX_DEPTH = 40
MAX_PARTS = 1000
META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.I)
FORWARD_LINE = "---------- Forwarded message ---------"


@dataclass
class Body:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)


def read_body(message: Message, parsed: ParsedEmail) -> None:
    walker = Walker(parsed)
    body = Body()
    walker.walk(message, body, 0, report=False)
    html = "\n".join(body.html)
    parsed.html = sanitise_html(html)
    text = "\n\n".join(chunk.strip("\n") for chunk in body.plain if chunk.strip())
    parsed.text = text or html_to_text(html)
    parsed.new_text = strip_quoted(parsed.text) or parsed.text.strip()
    parsed.attachments = body.attachments
    if not parsed.forwarded_from:
        _read_forwarded_text(parsed)
    if parsed.delivery_report and not parsed.bounced_addresses:
        failed = header_text(message, "X-Failed-Recipients")  # Exim's, without a DSN part
        parsed.bounced_addresses = [a.strip().lower() for a in failed.split(",") if "@" in a]


def _read_forwarded_text(parsed: ParsedEmail) -> None:
    found = forwarded_headers(parsed.text, parsed.subject)
    if found is not None:
        parsed.forwarded_from = found.from_address
        parsed.forwarded_from_name = found.from_name
        parsed.forwarded_participants = found.participants


class Walker:
    def __init__(self, parsed: ParsedEmail) -> None:
        self.parsed = parsed
        self.parts = 0

    def walk(self, part: Message, body: Body, depth: int, *, report: bool) -> None:
        self.parts += 1
        if depth > MAX_DEPTH or self.parts > MAX_PARTS:
            if "too many parts" not in self.parsed.defects:
                self.parsed.defects.append("too many parts")
            return
        content_type = part.get_content_type()
        children = _children(part)
        if content_type == "message/delivery-status":
            self._delivery_status(part, children)
        elif content_type in ("message/rfc822", "text/rfc822-headers") and report:
            self._bounced_original(part, children)
        elif content_type == "message/rfc822" and children:
            self._forwarded(children[0], body, depth)
        elif content_type == "multipart/alternative" and children is not None:
            self._alternative(children, body, depth)
        elif children is not None:
            report = report or content_type == "multipart/report"
            for child in children:
                self.walk(child, body, depth + 1, report=report)
        else:
            self._leaf(part, content_type, body)

    def _alternative(self, children: list[Message], body: Body, depth: int) -> None:
        """The plain text of the first version that has one, the HTML of the last."""
        versions = []
        for child in children:
            version = Body()
            self.walk(child, version, depth + 1, report=False)
            versions.append(version)
        plain = next((v.plain for v in versions if v.plain), [])
        html = next((v.html for v in reversed(versions) if v.html), [])
        body.plain.extend(plain)
        body.html.extend(html)
        for version in versions:
            body.attachments.extend(version.attachments)

    def _leaf(self, part: Message, content_type: str, body: Body) -> None:
        name = file_name(part)
        data = payload_bytes(part)
        inline_text = content_type in ("text/plain", "text/html") or (
            content_type.startswith("multipart/")  # a multipart without its boundary
        )
        if inline_text and not name and part.get_content_disposition() != "attachment":
            if content_type == "text/html":
                body.html.append(decode_bytes(data, _charset(part) or _meta_charset(data)))
            else:
                body.plain.append(_lines(decode_bytes(data, _charset(part))))
            return
        if not data and not name:
            return
        body.attachments.append(
            ParsedAttachment(
                name=name or _default_name(content_type),
                content_type=content_type,
                data=data,
                content_id=header_text(part, "Content-ID").strip("<> "),
            )
        )

    def _forwarded(self, inner: Message, body: Body, depth: int) -> None:
        """A forward as attachment: its original's people, and its text under a line."""
        senders = address_list(inner, "From")
        people = senders + address_list(inner, "To") + address_list(inner, "Cc")
        if senders and not self.parsed.forwarded_from:
            self.parsed.forwarded_from_name, self.parsed.forwarded_from = senders[0]
            self.parsed.forwarded_participants = list(dict.fromkeys(a for _, a in people))
        forwarded = Body()
        self.walk(inner, forwarded, depth + 1, report=False)
        text = "\n".join(forwarded.plain) or html_to_text("\n".join(forwarded.html))
        heading = [FORWARD_LINE]
        for label in ("From", "Date", "Subject", "To", "Cc"):
            value = header_text(inner, label)
            if value:
                heading.append(f"{label}: {value}")
        body.plain.append("\n".join(heading) + "\n\n" + text)
        body.attachments.extend(forwarded.attachments)

    def _delivery_status(self, part: Message, children: list[Message] | None) -> None:
        self.parsed.delivery_report = True
        for block in children if children is not None else _status_blocks(part):
            recipient = header_text(block, "Final-Recipient") or header_text(
                block, "Original-Recipient"
            )
            status = header_text(block, "Status")
            action = header_text(block, "Action").lower()
            failed = status.startswith("5") or (not status and action == "failed")
            address = recipient.rpartition(";")[2].strip().strip("<>").lower()
            if failed and "@" in address and address not in self.parsed.bounced_addresses:
                self.parsed.bounced_addresses.append(address)

    def _bounced_original(self, part: Message, children: list[Message] | None) -> None:
        if children:
            original = children[0]
        else:
            text = decode_bytes(payload_bytes(part), _charset(part))
            original = Parser(policy=policy.compat32).parsestr(text, headersonly=True)
        if not self.parsed.bounced_message_id:
            self.parsed.bounced_message_id = header_text(original, "Message-ID")


def _children(part: Message) -> list[Message] | None:
    """The parts inside a multipart or message/* part; None for a leaf."""
    if not part.is_multipart():
        return None
    payload = part.get_payload()
    items = payload if isinstance(payload, list) else [payload]
    return [item for item in items if isinstance(item, Message)]


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _status_blocks(part: Message) -> list[Message]:
    text = decode_bytes(payload_bytes(part), None)
    return [
        Parser(policy=policy.compat32).parsestr(block.strip() + "\n", headersonly=True)
        for block in re.split(r"\r?\n\s*\r?\n", text)
        if block.strip()
    ]


def payload_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # a transfer encoding nothing decodes: the part as it is
        payload = str(part.get_payload()).encode("utf-8", errors="surrogateescape")
    return payload if isinstance(payload, bytes) else b""


def _charset(part: Message) -> str | None:
    try:
        charset = part.get_param("charset")
    except Exception:
        return None
    if isinstance(charset, tuple):  # RFC 2231 on a charset: (charset, language, value)
        charset = charset[2]
    return str(charset) if charset else None


def _meta_charset(html: bytes) -> str | None:
    found = META_CHARSET.search(html[:4096])
    return found.group(1).decode("ascii", errors="ignore") if found else None


def file_name(part: Message) -> str:
    """The part's file name: RFC 2231 (filename*=gb2312''...), RFC 2047 in quotes, raw 8-bit
    UTF-8 or GBK, in Content-Disposition's filename or Content-Type's name."""
    for param, header in (("filename", "content-disposition"), ("name", "content-type")):
        try:
            value = part.get_param(param, header=header)
        except Exception:  # a parameter the email package cannot split: no name from it
            value = None
        if isinstance(value, tuple):
            charset, _, text = value
            try:
                data = str(text).encode("latin-1", errors="surrogateescape")
                name = decode_bytes(data, charset or None)
            except UnicodeEncodeError:
                name = str(text)
        elif value:
            name = str(value)
        else:
            continue
        name = one_line(decode_words(undo_surrogates(name)))
        if name:
            return name
    return ""


def _default_name(content_type: str) -> str:
    extension = mimetypes.guess_extension(content_type) or ".bin"
    stem = "image" if content_type.startswith("image/") else "attachment"
    return stem + extension
