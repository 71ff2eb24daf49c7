"""The support mailbox's handler (integrations.mail.ingest): a new thread becomes a ticket,
an answer joins its ticket (service.email_intake has the rules)."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from integrations.mail.outcome import Outcome
from integrations.mail.parse import ParsedEmail
from integrations.models import InboundEmail, Mailbox
from service.email_intake import EmailFile, IncomingEmail, ticket_email_receive

MESSAGE_ID = re.compile(r"<[^<>\s\x00]{1,253}>")


def handle(inbound: InboundEmail, parsed: ParsedEmail) -> Outcome:
    skipped = _skip_reason(parsed)
    if skipped:
        return Outcome(InboundEmail.Status.IGNORED, skipped)
    received = ticket_email_receive(email=incoming_email(parsed, inbound.mailbox.address))
    number = received.ticket.number
    text = f"ticket {number} created" if received.created else f"reply on {number}"
    return Outcome(InboundEmail.Status.PROCESSED, text, result=received.message)


def _skip_reason(parsed: ParsedEmail) -> str:
    """Mail that must not become a ticket (auto-replies and our own are skipped earlier)."""
    if parsed.delivery_report:
        return "delivery report"
    try:
        if len(parsed.from_address) > 254:  # longer than a ticket can keep
            raise ValidationError("too long")
        validate_email(parsed.from_address)
    except ValidationError:
        return "no usable sender address"
    if Mailbox.objects.filter(address__iexact=parsed.from_address).exists():
        return "sent by one of our mailboxes (a loop)"
    return ""


def incoming_email(parsed: ParsedEmail, to_address: str) -> IncomingEmail:
    message_id = parsed.message_id if MESSAGE_ID.fullmatch(parsed.message_id) else ""
    return IncomingEmail(
        sender_email=parsed.from_address,
        sender_name=parsed.from_name,
        subject=parsed.subject,
        text=parsed.new_text or parsed.text,
        message_id=message_id,
        thread_ids=thread_ids(parsed),
        to_address=to_address,
        files=[
            EmailFile(name=file.name, data=file.data, content_id=file.content_id)
            for file in parsed.attachments
        ],
        oversized_bytes=parsed.size if parsed.oversized else 0,
    )


def thread_ids(parsed: ParsedEmail) -> list[str]:
    """The Message-IDs the email answers, the closest first: In-Reply-To, then References
    from the newest."""
    answered = MESSAGE_ID.findall(parsed.in_reply_to)
    referenced = [i for i in reversed(parsed.references) if MESSAGE_ID.fullmatch(i)]
    return list(dict.fromkeys([*answered, *referenced]))
