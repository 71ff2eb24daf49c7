"""Reading a delivery-status notification (RFC 3464, RFC 6533): who failed, how, and which
message of ours it was about.

A DSN is a multipart/report whose machine-readable part (message/delivery-status, or
message/global-delivery-status for internationalised mail) is a block of per-message
fields followed by a block per recipient (Final-Recipient, Original-Recipient, Action,
Status, Diagnostic-Code), and whose last part quotes the original message or its headers
(message/rfc822, text/rfc822-headers), where its Message-ID is. Postfix, Exim, Gmail,
Outlook and Sendmail all send this shape. Never raises: a part that cannot be read adds
nothing.
"""

import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser, HeaderParser

STATUS_PARTS = ("message/delivery-status", "message/global-delivery-status")
QUOTED_PARTS = ("message/rfc822", "message/global", "text/rfc822-headers")
_STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")
_ADDRESS = re.compile(r"[^\s<>;\"']+@[^\s<>;\"']+")


@dataclass(frozen=True)
class RecipientStatus:
    address: str  # as we sent to it: Original-Recipient, else Final-Recipient; lower case
    action: str  # failed, delayed, delivered, relayed, expanded ("" when not given)
    status: str  # 5.1.1 ("" when not given)
    diagnostic: str

    @property
    def is_bounce(self) -> bool:
        """The message did not reach this recipient and will not (a delay is a warning)."""
        if self.action:
            return self.action == "failed"
        return self.status[:1] in ("4", "5")

    @property
    def is_hard(self) -> bool:
        """Permanent: the address does not exist or refuses mail (5.x.x)."""
        return self.is_bounce and self.status.startswith("5")

    @property
    def detail(self) -> str:
        kind = "hard" if self.is_hard else "soft"
        text = f"{kind} bounce {self.status or '?'}"
        return f"{text}: {self.diagnostic}" if self.diagnostic else text


@dataclass
class DeliveryReport:
    recipients: list[RecipientStatus] = field(default_factory=list)
    original_message_id: str = ""

    @property
    def bounces(self) -> list[RecipientStatus]:
        return [r for r in self.recipients if r.is_bounce and r.address]


def read_delivery_report(raw: bytes) -> DeliveryReport | None:
    """The report of a DSN; None for any other message."""
    try:
        message: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception:  # noqa: BLE001 - the parser is lenient; this is a last resort
        return None
    if message.get_content_type() != "multipart/report":
        return None
    parts = list(message.walk())
    status_parts = [p for p in parts if p.get_content_type() in STATUS_PARTS]
    if not status_parts:
        return None  # a read receipt or another report type
    report = DeliveryReport()
    for part in status_parts:
        report.recipients += _recipients(part)
    for part in parts:
        if part.get_content_type() in QUOTED_PARTS and not report.original_message_id:
            report.original_message_id = _quoted_message_id(part)
    return report


def _blocks(part: Message) -> list[Message]:
    """The status part's field blocks (the email package parses them into messages; a
    part it left as text is parsed here)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    raw = part.get_payload(decode=True)
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(payload)
    chunks = re.split(r"\r?\n\s*\r?\n", text.strip())
    return [HeaderParser().parsestr(chunk) for chunk in chunks if chunk.strip()]


def _field(block: Message, name: str) -> str:
    try:
        value = block.get(name, "")
    except Exception:  # noqa: BLE001 - a malformed field reads as missing
        return ""
    return " ".join(str(value).split())


def _address(value: str) -> str:
    """From "rfc822; user@example.com" (or "utf-8; ..."): the address, lower case."""
    found = _ADDRESS.search(value.rpartition(";")[2] or value)
    return found[0].lower().strip(".") if found else ""


def _recipients(part: Message) -> list[RecipientStatus]:
    recipients = []
    for block in _blocks(part):
        final = _field(block, "Final-Recipient")
        if not final:
            continue  # the per-message block
        original = _address(_field(block, "Original-Recipient"))
        status = _STATUS.search(_field(block, "Status"))
        recipients.append(
            RecipientStatus(
                address=original or _address(final),
                action=_field(block, "Action").lower().split(" ")[0],
                status=status[0] if status else "",
                diagnostic=_field(block, "Diagnostic-Code")[:400],
            )
        )
    return recipients


def _quoted_message_id(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return _field(payload[0], "Message-ID")
    raw = part.get_payload(decode=True)
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(payload)
    return _field(HeaderParser().parsestr(text, headersonly=True), "Message-ID")
