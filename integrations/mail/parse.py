"""Parsing a raw message into what the CRM keeps of it (ParsedEmail). Never raises on bad
mail: a header or part that cannot be decoded is read as well as it can be, and a message
the email package cannot read at all still gives its bytes as text.

The message is read with the lenient compat32 policy and its headers are decoded here
(integrations.mail.decoding): the strict policy raises or keeps surrogates on the encoded
words, 8-bit headers and mislabelled charsets that real clients send. The body's parts are
walked in mail/parts.py; the quoted history of replies and the header block of forwards are
read in mail/quotes.py; the HTML is sanitised in mail/html.py.
"""

import hashlib
import logging
from dataclasses import fields
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

from django.conf import settings

from integrations.mail.decoding import clean_text, decode_bytes
from integrations.mail.html import sanitise_html
from integrations.mail.message import (
    ParsedAttachment,
    ParsedEmail,
    address_list,
    header_text,
)
from integrations.mail.parts import read_body

log = logging.getLogger(__name__)

# Re-exported: callers sanitise other HTML the same way, and read parsed messages.
__all__ = ["ParsedAttachment", "ParsedEmail", "address_list", "header_text", "sanitise_html"]


def message_key(raw: bytes, message_id: str) -> str:
    """What makes a message the same message: its Message-ID, else a hash of its bytes."""
    if message_id and len(message_id) <= 250:
        return message_id
    source = message_id.encode() if message_id else raw
    return "sha256:" + hashlib.sha256(source).hexdigest()


def read_headers(raw: bytes) -> Message:
    return BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True)


def _message_ids(value: str) -> list[str]:
    return [
        part.strip() for part in value.replace(">", "> ").split() if part.strip().startswith("<")
    ]


def _date(message: Message) -> datetime | None:
    try:
        sent = parsedate_to_datetime(header_text(message, "Date"))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return sent if sent.tzinfo else sent.replace(tzinfo=UTC)  # "-0000": UTC, time unknown


def _is_auto_reply(message: Message) -> bool:
    auto_submitted = header_text(message, "Auto-Submitted").lower()
    precedence = header_text(message, "Precedence").lower()
    return (
        (auto_submitted not in ("", "no"))
        or bool(header_text(message, "X-Autoreply"))
        or bool(header_text(message, "X-Autorespond"))
        or precedence in ("bulk", "junk", "list", "auto_reply")
    )


def parse_email(raw: bytes) -> ParsedEmail:
    """What the CRM keeps of `raw`; never raises."""
    oversized = len(raw) > settings.CRM_MAIL_MAX_BYTES
    try:
        message = BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=oversized)
        parsed = _headers_of(message, len(raw))
    except Exception as error:  # the email package gave up: the bytes as text
        log.warning("unparseable message (%s bytes): %s", len(raw), error)
        return _clean(_unreadable(raw, error))
    if oversized:
        parsed.oversized = True
    else:
        _read_body(message, parsed, raw)
    parsed.auto_reply = parsed.auto_reply and not parsed.delivery_report
    return _clean(parsed)


def _read_body(message: Message, parsed: ParsedEmail, raw: bytes) -> None:
    try:
        read_body(message, parsed)
    except Exception as error:  # a body no walk survives (a recursion bomb): its text
        log.warning("unreadable body of %s: %s", parsed.message_id, error)
        parsed.defects.append(f"body: {type(error).__name__}")
        parsed.text = parsed.new_text = decode_bytes(raw.partition(b"\n\n")[2], None)


def _headers_of(message: Message, size: int) -> ParsedEmail:
    senders = address_list(message, "From")
    from_name, from_address = senders[0] if senders else ("", "")
    return ParsedEmail(
        message_id=header_text(message, "Message-ID"),
        in_reply_to=header_text(message, "In-Reply-To"),
        references=_message_ids(header_text(message, "References")),
        from_address=from_address,
        from_name=from_name,
        to=[a for _, a in address_list(message, "To")],
        cc=[a for _, a in address_list(message, "Cc")],
        reply_to=[a for _, a in address_list(message, "Reply-To")],
        subject=header_text(message, "Subject"),
        sent_at=_date(message),
        text="",
        new_text="",
        html="",
        auto_reply=_is_auto_reply(message),
        delivery_report=message.get_content_type() == "multipart/report",
        size=size,
    )


def _unreadable(raw: bytes, error: Exception) -> ParsedEmail:
    text = decode_bytes(raw, None)
    return ParsedEmail(
        message_id="",
        in_reply_to="",
        references=[],
        from_address="",
        from_name="",
        to=[],
        cc=[],
        reply_to=[],
        subject="",
        sent_at=None,
        text=text,
        new_text=text,
        html="",
        size=len(raw),
        defects=[f"message: {type(error).__name__}"],
    )


def _clean(parsed: ParsedEmail) -> ParsedEmail:
    """No NUL bytes or lone surrogates in any text (PostgreSQL refuses them)."""
    for item in fields(parsed):
        value = getattr(parsed, item.name)
        if isinstance(value, str):
            setattr(parsed, item.name, clean_text(value))
        elif isinstance(value, list) and value and isinstance(value[0], str):
            setattr(parsed, item.name, [clean_text(v) for v in value])
    for attachment in parsed.attachments:
        attachment.name = clean_text(attachment.name)
        attachment.content_type = clean_text(attachment.content_type)
        attachment.content_id = clean_text(attachment.content_id)
    return parsed


def display_address(name: str, address: str) -> str:
    if not name:
        return address
    try:
        return str(Address(display_name=name, addr_spec=address))
    except (ValueError, IndexError, TypeError):
        return f"{name} <{address}>"
