"""Parsing a raw message into what the CRM keeps of it (ParsedEmail). Never raises on bad
mail: a header or part that cannot be decoded is read as well as it can be."""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

import nh3
from django.conf import settings


@dataclass
class ParsedAttachment:
    name: str
    content_type: str  # as the message declares it; core.attachments sniffs the real one
    data: bytes
    content_id: str = ""  # an inline image the HTML refers to as cid:...


@dataclass
class ParsedEmail:
    message_id: str
    in_reply_to: str
    references: list[str]
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    reply_to: list[str]
    subject: str
    sent_at: datetime | None
    text: str  # the whole plain text (from the HTML when there is no plain part)
    new_text: str  # the text without the quoted history of a reply
    html: str  # sanitised: safe to show in a page
    attachments: list[ParsedAttachment] = field(default_factory=list)
    auto_reply: bool = False  # Auto-Submitted, X-Autoreply, Precedence bulk/junk/list
    delivery_report: bool = False  # a DSN (multipart/report)
    bounced_addresses: list[str] = field(default_factory=list)
    oversized: bool = False  # larger than CRM_MAIL_MAX_BYTES: headers only
    size: int = 0


def message_key(raw: bytes, message_id: str) -> str:
    """What makes a message the same message: its Message-ID, else a hash of its bytes."""
    if message_id and len(message_id) <= 250:
        return message_id
    source = message_id.encode() if message_id else raw
    return "sha256:" + hashlib.sha256(source).hexdigest()


def read_headers(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)


def header_text(message: MIMEPart, name: str) -> str:
    try:
        value = message.get(name, "")
    except Exception:  # a malformed header: its raw text
        value = message.get_all(name, failobj=[""])[0] if message.keys() else ""
    return " ".join(str(value).split())


def _message_ids(value: str) -> list[str]:
    return [
        part.strip() for part in value.replace(">", "> ").split() if part.strip().startswith("<")
    ]


def _addresses(message: EmailMessage, name: str) -> list[tuple[str, str]]:
    values = [str(v) for v in message.get_all(name, failobj=[])]
    return [(n, a.lower()) for n, a in getaddresses(values) if "@" in a]


def _date(message: EmailMessage) -> datetime | None:
    try:
        return parsedate_to_datetime(header_text(message, "Date"))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _is_auto_reply(message: EmailMessage) -> bool:
    auto_submitted = header_text(message, "Auto-Submitted").lower()
    precedence = header_text(message, "Precedence").lower()
    return (
        (auto_submitted not in ("", "no"))
        or bool(header_text(message, "X-Autoreply"))
        or bool(header_text(message, "X-Autorespond"))
        or precedence in ("bulk", "junk", "list", "auto_reply")
    )


def sanitise_html(html: str) -> str:
    return nh3.clean(html)


def parse_email(raw: bytes) -> ParsedEmail:
    message: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)
    senders = _addresses(message, "From")
    from_name, from_address = senders[0] if senders else ("", "")
    parsed = ParsedEmail(
        message_id=header_text(message, "Message-ID"),
        in_reply_to=header_text(message, "In-Reply-To"),
        references=_message_ids(header_text(message, "References")),
        from_address=from_address,
        from_name=from_name,
        to=[a for _, a in _addresses(message, "To")],
        cc=[a for _, a in _addresses(message, "Cc")],
        reply_to=[a for _, a in _addresses(message, "Reply-To")],
        subject=header_text(message, "Subject"),
        sent_at=_date(message),
        text="",
        new_text="",
        html="",
        auto_reply=_is_auto_reply(message),
        delivery_report=message.get_content_type() == "multipart/report",
        size=len(raw),
    )
    if len(raw) > settings.CRM_MAIL_MAX_BYTES:
        parsed.oversized = True
        return parsed
    _read_body(message, parsed)
    return parsed


def _read_body(message: EmailMessage, parsed: ParsedEmail) -> None:
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    if html is not None:
        parsed.html = sanitise_html(_content(html))
    if plain is not None:
        parsed.text = _content(plain)
    elif parsed.html:
        parsed.text = nh3.clean(parsed.html, tags=set()).strip()
    parsed.new_text = parsed.text
    for part in message.iter_attachments():
        data = _payload_bytes(part)
        parsed.attachments.append(
            ParsedAttachment(
                name=part.get_filename() or "attachment",
                content_type=part.get_content_type(),
                data=data,
                content_id=header_text(part, "Content-ID").strip("<>"),
            )
        )


def _content(part: MIMEPart) -> str:
    try:
        return str(part.get_content())
    except (LookupError, UnicodeError, AssertionError, KeyError):
        return _payload_bytes(part).decode("utf-8", errors="replace")


def _payload_bytes(part: MIMEPart) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def display_address(name: str, address: str) -> str:
    return str(Address(display_name=name, addr_spec=address)) if name else address
