"""The one ingestion path: every message, from IMAP or from a file, goes through ingest_raw.

1. The message is stored once, keyed by its Message-ID (or a hash of its bytes), with its
   raw bytes, in a transaction of its own: fetching twice, or a second worker, finds the row.
2. It is processed in a second transaction that locks the row and does nothing unless the
   row is still `received`: a worker killed mid-way leaves it `received`, and the next
   fetch (or the sweep) processes it; nothing is stored twice.
3. A message that fails is quarantined with its error (status and error committed on their
   own) and never blocks the next one; an admin retries it from Django admin.
"""

import logging
import traceback
from collections.abc import Callable
from email.utils import getaddresses

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.models import OutboxMessage
from integrations.mail.outcome import Outcome
from integrations.mail.parse import ParsedEmail, header_text, message_key, parse_email, read_headers
from integrations.models import InboundEmail, Mailbox

log = logging.getLogger(__name__)


Handler = Callable[[InboundEmail, ParsedEmail], Outcome]


def _handlers() -> dict[str, Handler]:
    from integrations.mail import bounces, sales, support

    return {
        Mailbox.Purpose.SUPPORT: support.handle,
        Mailbox.Purpose.SALES: sales.handle,
        Mailbox.Purpose.BOUNCES: bounces.handle,
    }


def ingest_raw(*, mailbox: Mailbox, raw: bytes) -> tuple[InboundEmail, bool]:
    """Store the message once and process it; `created` is False for one already stored."""
    key = message_key(raw, header_text(read_headers(raw), "Message-ID"))
    inbound = InboundEmail.objects.filter(mailbox=mailbox, message_key=key).first()
    created = False
    if inbound is None:
        inbound, created = _store(mailbox, key, raw)
    if inbound.status == InboundEmail.Status.RECEIVED:
        process_inbound(inbound.pk)
        inbound.refresh_from_db()
    return inbound, created


def _store(mailbox: Mailbox, key: str, raw: bytes) -> tuple[InboundEmail, bool]:
    inbound = InboundEmail(mailbox=mailbox, message_key=key, size=len(raw))
    inbound.raw.save("message.eml", ContentFile(raw), save=False)
    try:
        with transaction.atomic():
            inbound.save()
    except IntegrityError:  # another worker stored it first
        inbound.raw.delete(save=False)
        return InboundEmail.objects.get(mailbox=mailbox, message_key=key), False
    return inbound, True


def locked_inbound(pk: int) -> InboundEmail:
    """The stored message, locked, with its mailbox (not locked: the poller goes on storing
    the mailbox's next messages and its last UID while this one is handled)."""
    rows = InboundEmail.objects.select_for_update(of=("self",), no_key=True)
    rows = rows.select_related("mailbox")
    return rows.get(pk=pk)


def process_inbound(pk: int) -> InboundEmail:
    """Parse and hand a stored message to its mailbox's handler, once."""
    try:
        with transaction.atomic():
            inbound = locked_inbound(pk)
            if inbound.status != InboundEmail.Status.RECEIVED:
                return inbound
            with inbound.raw.open("rb") as stream:
                raw = stream.read()
            parsed = parse_email(raw)
            _copy_fields(inbound, parsed)
            purpose = inbound.mailbox.purpose
            outcome = _ignored(parsed, purpose) or _handlers()[purpose](inbound, parsed)
            _finish(inbound, outcome)
            return inbound
    except Exception as error:
        log.warning("inbound email %s quarantined: %s", pk, error, exc_info=True)
        return _quarantine(pk, error)


def _ignored(parsed: ParsedEmail, purpose: str) -> Outcome | None:
    """Mail loops and noise: never tickets or interactions. In the bounces mailbox the
    auto-reply rule does not apply: MTAs mark their bounces `Auto-Submitted: auto-replied`."""
    if parsed.message_id and OutboxMessage.objects.filter(message_id=parsed.message_id).exists():
        return Outcome(InboundEmail.Status.IGNORED, "our own message")
    if parsed.auto_reply and purpose != Mailbox.Purpose.BOUNCES:
        return Outcome(InboundEmail.Status.IGNORED, "auto-reply")
    return None


def _copy_fields(inbound: InboundEmail, parsed: ParsedEmail) -> None:
    inbound.message_id = parsed.message_id[:998]
    inbound.in_reply_to = parsed.in_reply_to[:998]
    inbound.references = " ".join(parsed.references)
    inbound.from_address = parsed.from_address[:320]
    inbound.from_name = parsed.from_name[:200]
    inbound.to = parsed.to
    inbound.cc = parsed.cc
    inbound.subject = parsed.subject[:998]
    inbound.sent_at = parsed.sent_at
    inbound.text = parsed.new_text
    inbound.html = parsed.html


def _finish(inbound: InboundEmail, outcome: Outcome) -> None:
    inbound.status = outcome.status
    inbound.outcome = outcome.text[:300]
    inbound.owner = outcome.owner  # type: ignore[assignment]
    if outcome.result is not None:
        inbound.result_type = outcome.result._meta.label_lower
        inbound.result_id = str(outcome.result.pk)
    inbound.error = ""
    inbound.attempts += 1
    inbound.processed_at = timezone.now()
    inbound.save()


def _quarantine(pk: int, error: BaseException) -> InboundEmail:
    detail = "".join(traceback.format_exception_only(type(error), error)).strip()
    with transaction.atomic():
        inbound = InboundEmail.objects.select_for_update().get(pk=pk)
        inbound.status = InboundEmail.Status.QUARANTINED
        inbound.error = detail[:5000]
        inbound.attempts += 1
        inbound.processed_at = timezone.now()
        fields = ["status", "error", "attempts", "processed_at"]
        if not (inbound.from_address or inbound.subject):
            fields += _copy_headers(inbound)
        inbound.save(update_fields=fields)
    return inbound


def _copy_headers(inbound: InboundEmail) -> list[str]:
    """The admin's quarantine list tells who wrote what even when processing failed:
    the headers alone, read as leniently as parse.read_headers does."""
    try:
        with inbound.raw.open("rb") as stream:
            headers = read_headers(stream.read(256 * 1024))
        senders = [
            (n, a.lower()) for n, a in getaddresses([header_text(headers, "From")]) if "@" in a
        ]
    except Exception:  # noqa: BLE001 - the quarantine itself must not fail
        log.warning("inbound email %s: headers unreadable", inbound.pk, exc_info=True)
        return []
    inbound.from_name, inbound.from_address = senders[0] if senders else ("", "")
    inbound.from_name, inbound.from_address = inbound.from_name[:200], inbound.from_address[:320]
    inbound.subject = header_text(headers, "Subject")[:998]
    inbound.message_id = inbound.message_id or header_text(headers, "Message-ID")[:998]
    return ["from_name", "from_address", "subject", "message_id"]


def inbound_retry(*, ids: list[int]) -> int:
    """Put quarantined messages back to `received` and process them again (admin action)."""
    retried = 0
    for pk in InboundEmail.objects.filter(
        pk__in=ids, status=InboundEmail.Status.QUARANTINED
    ).values_list("pk", flat=True):
        InboundEmail.objects.filter(pk=pk).update(status=InboundEmail.Status.RECEIVED)
        process_inbound(pk)
        retried += 1
    return retried
