"""What the CRM keeps of a parsed message (ParsedEmail), and reading its headers: decoded,
on one line, never raising. Shared by parse.py and the body walk in parts.py."""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.utils import getaddresses

from integrations.mail.decoding import decode_words, one_line

log = logging.getLogger(__name__)


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
    html: str  # sanitised: safe to show in a page; remote images as data-blocked-src
    attachments: list[ParsedAttachment] = field(default_factory=list)
    # Auto-Submitted, X-Autoreply, Precedence bulk/junk/list; never a delivery report (DSNs
    # carry Auto-Submitted too, and they must reach the bounces handler, not be ignored).
    auto_reply: bool = False
    delivery_report: bool = False  # a DSN (multipart/report, or a message/delivery-status)
    bounced_addresses: list[str] = field(default_factory=list)
    oversized: bool = False  # larger than CRM_MAIL_MAX_BYTES: headers only
    size: int = 0
    # The Message-ID of the message that bounced (from the DSN's returned headers).
    bounced_message_id: str = ""
    # A forward (a message/rfc822 part, or a "Forwarded message" block in the text): who
    # wrote the original, and everyone on it (its sender, To and Cc), lower-case addresses.
    forwarded_from: str = ""
    forwarded_from_name: str = ""
    forwarded_participants: list[str] = field(default_factory=list)
    # Something was wrong with the message (unreadable MIME): what could be read is here.
    defects: list[str] = field(default_factory=list)


def raw_header(message: Message, name: str) -> str:
    """The first `name` header as the message has it (unfolded), or ""."""
    wanted = name.lower()
    for key, value in message.raw_items():
        if key.lower() == wanted:
            return " ".join(str(value).split())
    return ""


def header_text(message: Message, name: str) -> str:
    """A header decoded (encoded words, 8-bit bytes), on one line, never raising."""
    try:
        return one_line(decode_words(raw_header(message, name)))
    except Exception:  # a header no decoder reads: as good as nothing
        log.info("unreadable %s header", name, exc_info=True)
        return ""


def address_list(message: Message, name: str) -> list[tuple[str, str]]:
    """(name, lower-case address) of every address in every `name` header; display names
    decoded after the split, so a decoded comma splits nothing."""
    wanted = name.lower()
    values = [" ".join(str(v).split()) for key, v in message.raw_items() if key.lower() == wanted]
    found = []
    for display, address in getaddresses(values):
        address = one_line(decode_words(address)).lower()
        if "@" in address:
            found.append((one_line(decode_words(display)).strip("'\" "), address))
    return found
