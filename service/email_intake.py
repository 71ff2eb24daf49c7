"""Writes for email reaching a support mailbox: a new thread becomes a ticket, an answer joins
its ticket through the same service as the self-service page (ticket_customer_reply).

integrations.mail.support reads the message and calls `ticket_email_receive`; this module
knows nothing of IMAP or MIME (service never imports integrations).

Which ticket an answer belongs to, in order:
1. a Message-ID it names (In-Reply-To, then References newest first) that is one of ours
   (an email about the ticket or one of its replies) or one of the ticket's earlier emails;
2. a ticket number in the subject ("[T-000123]"), only when the sender is the ticket's
   requester, customer or one of the customer's contacts: a number is easy to guess, so a
   stranger's email naming it becomes a ticket of its own.
A ticket closed, or resolved more than CRM_MAIL_REOPEN_DAYS ago, takes no more answers: the
email opens a new ticket with a note naming the old one.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from core.attachments import attachment_add
from core.models import OutboxMessage
from crm.lib.params import parse_id
from customers.models import Contact
from service import emails
from service.models import Ticket, TicketMessage
from service.services import match_customer_by_email, ticket_create, ticket_customer_reply

SUBJECT_LIMIT = Ticket._meta.get_field("subject").max_length or 200
BODY_LIMIT = 20_000  # TicketMessage.body and Ticket.description
THREAD_IDS_LIMIT = 100  # Message-IDs read from one email's In-Reply-To and References
TICKET_NUMBER = re.compile(r"\[T-([0-9]{1,12})\]", re.ASCII)


@dataclass(frozen=True)
class EmailFile:
    name: str
    data: bytes
    content_id: str = ""


@dataclass(frozen=True)
class IncomingEmail:
    """What the support desk keeps of a received email."""

    sender_email: str
    sender_name: str
    subject: str
    text: str  # the new text, without the quoted history of a reply
    message_id: str = ""  # "<...@...>"; "" when absent or too long to keep
    thread_ids: list[str] = field(default_factory=list)  # In-Reply-To, then References
    to_address: str = ""  # the support address it was sent to
    files: list[EmailFile] = field(default_factory=list)
    oversized_bytes: int = 0  # > 0: too large to read; only the headers were kept


@dataclass(frozen=True)
class EmailReceived:
    ticket: Ticket
    message: TicketMessage
    created: bool  # a new ticket (else an answer on an existing one)


@transaction.atomic
def ticket_email_receive(*, email: IncomingEmail, now: datetime | None = None) -> EmailReceived:
    """File the email on its ticket, or open a ticket (channel email) with its SLA due times
    and the acknowledgement the web form sends. The files are stored on the message."""
    now = now or timezone.now()
    files, file_notes = _files_within_limits(email.files)
    body = _body(email, file_notes)
    ticket, proves_sender = _thread_ticket(email)
    if ticket is not None and _takes_answers(ticket, now):
        message = ticket_customer_reply(
            ticket=ticket,
            body=body,
            now=now,
            via_email=True,
            email_message_id=email.message_id,
            proves_sender=proves_sender,
        )
        _attach(message, files)
        return EmailReceived(ticket=message.ticket, message=message, created=False)
    previous = ticket  # closed, or resolved too long ago: a new ticket names it
    ticket, message = _open_ticket(email, body, now)
    _attach(message, files)
    if previous is not None:
        _note_follow_up(ticket, previous, now)
    emails.send_ticket_acknowledgement(ticket)
    return EmailReceived(ticket=ticket, message=message, created=True)


def _open_ticket(email: IncomingEmail, body: str, now: datetime) -> tuple[Ticket, TicketMessage]:
    customer, contact = match_customer_by_email(email.sender_email)
    ticket = ticket_create(
        customer=customer,
        contact=contact,
        requester_name=_without_nul(email.sender_name)[:200],
        requester_email=email.sender_email,
        # A From header proves nothing (anyone can write a customer's address there): like a
        # web form's, an emailed ticket is unverified until the sender answers one of our
        # emails (which names our Message-ID) or follows the emailed link.
        sender_unverified=True,
        reply_address=email.to_address,
        subject=_subject(email.subject),
        description=body,
        channel=Ticket.Channel.EMAIL,
        now=now,
    )
    message = TicketMessage(
        ticket=ticket,
        kind=TicketMessage.Kind.REPLY,
        from_customer=True,
        via_email=True,
        email_message_id=email.message_id,
        body=body,
        created_at=ticket.created_at,
    )
    message.full_clean()
    message.save()
    return ticket, message


def _note_follow_up(ticket: Ticket, previous: Ticket, now: datetime) -> None:
    """An internal note: the customer answered a ticket that takes no more answers."""
    TicketMessage.objects.create(
        ticket=ticket,
        kind=TicketMessage.Kind.NOTE,
        body=_(
            "This email answers %(number)s (%(status)s), which takes no more answers: "
            "it was opened as a new ticket."
        )
        % {"number": previous.number, "status": previous.get_status_display()},
        created_at=now,
    )


def _takes_answers(ticket: Ticket, now: datetime) -> bool:
    if ticket.is_open:
        return True
    if ticket.status != Ticket.Status.RESOLVED or ticket.resolved_at is None:
        return False
    return ticket.resolved_at >= now - timedelta(days=settings.CRM_MAIL_REOPEN_DAYS)


def _without_nul(text: str) -> str:
    return text.replace("\x00", "")  # the database cannot store NUL bytes


def _subject(subject: str) -> str:
    subject = " ".join(_without_nul(subject).split())
    if not subject:
        return _("(no subject)")
    if len(subject) > SUBJECT_LIMIT:
        return subject[: SUBJECT_LIMIT - 1] + "…"
    return subject


def _body(email: IncomingEmail, notes: list[str]) -> str:
    """The text, with notes on what was left out; never empty, never over the limit."""
    notes = list(notes)
    if email.oversized_bytes:
        notes.insert(
            0,
            _(
                "This email was too large to read (%(size)s): only its sender and subject "
                "were kept. Ask the sender to send it again in smaller parts."
            )
            % {"size": filesizeformat(email.oversized_bytes)},
        )
    subject = " ".join(_without_nul(email.subject).split())
    if len(subject) > SUBJECT_LIMIT:
        notes.append(_("The subject was shortened. In full: %(subject)s") % {"subject": subject})
    text = _without_nul(email.text).strip()
    if not text and not email.oversized_bytes:
        text = _("(no text)")
    tail = "\n\n".join(f"[{note}]" for note in notes)
    room = BODY_LIMIT - len(tail) - 2
    if len(text) > room:
        cut = _("[The email was shortened: the whole message is kept with the received email.]")
        text = text[: max(0, room - len(cut) - 2)].rstrip() + "\n\n" + cut
    return "\n\n".join(part for part in (text, tail) if part)[:BODY_LIMIT]


def _files_within_limits(files: list[EmailFile]) -> tuple[list[EmailFile], list[str]]:
    """The files within the per-file and per-message limits, and a note for each left out."""
    kept, notes, total = [], [], 0
    for file in files:
        too_big = len(file.data) > settings.CRM_ATTACHMENT_MAX_BYTES
        if too_big or total + len(file.data) > settings.CRM_ATTACHMENT_MAX_MESSAGE_BYTES:
            notes.append(
                _("The attachment “%(name)s” (%(size)s) was not kept: it is over the size limit.")
                % {"name": file.name[:200], "size": filesizeformat(len(file.data))}
            )
            continue
        total += len(file.data)
        kept.append(file)
    return kept, notes


def _attach(message: TicketMessage, files: list[EmailFile]) -> None:
    for file in files:
        attachment_add(
            owner=message,
            content=file.data,
            name=file.name,
            content_id=_without_nul(file.content_id),
        )


def _thread_ticket(email: IncomingEmail) -> tuple[Ticket | None, bool]:
    """The ticket the email answers, and whether the sender showed they got our email."""
    ids = [i for i in dict.fromkeys(email.thread_ids) if i and len(i) <= 255][:THREAD_IDS_LIMIT]
    if ids:
        found = _ticket_by_message_ids(ids)
        if found[0] is not None:
            return found
    return _ticket_by_subject_number(email.subject, email.sender_email), False


def _ticket_by_message_ids(ids: list[str]) -> tuple[Ticket | None, bool]:
    """The ticket of the first id (in the email's order) we know: ours or the thread's."""
    rank = {message_id: position for position, message_id in enumerate(ids)}
    candidates: list[tuple[int, int, bool]] = []  # (rank, ticket id, ours)
    for message_id, ticket_id, from_customer in TicketMessage.objects.filter(
        email_message_id__in=ids
    ).values_list("email_message_id", "ticket_id", "from_customer"):
        candidates.append((rank[message_id], ticket_id, not from_customer))
    ticket_type = ContentType.objects.get_for_model(Ticket)
    message_type = ContentType.objects.get_for_model(TicketMessage)
    for message_id, about_type, about_id in OutboxMessage.objects.filter(
        message_id__in=ids, about_type__in=[ticket_type, message_type]
    ).values_list("message_id", "about_type", "about_id"):
        about_ticket_id = _outbox_ticket_id(about_type == ticket_type.pk, about_id)
        if about_ticket_id is not None:
            candidates.append((rank[message_id], about_ticket_id, True))
    if not candidates:
        return None, False
    _, ticket_id, ours = min(candidates, key=lambda c: (c[0], not c[2]))
    return Ticket.objects.filter(pk=ticket_id).first(), ours


def _outbox_ticket_id(about_ticket: bool, about_id: str) -> int | None:
    pk = parse_id(about_id)
    if pk is None or about_ticket:
        return pk
    return TicketMessage.objects.filter(pk=pk).values_list("ticket_id", flat=True).first()


def _ticket_by_subject_number(subject: str, sender: str) -> Ticket | None:
    for number in TICKET_NUMBER.findall(subject)[:5]:
        pk = parse_id(number)
        if pk is None:
            continue
        ticket = Ticket.objects.select_related("customer", "contact").filter(pk=pk).first()
        if ticket is not None and sender_belongs_to(ticket, sender):
            return ticket
    return None


def sender_belongs_to(ticket: Ticket, address: str) -> bool:
    """The address is the ticket's requester's, its customer's or one of its contacts'."""
    address = address.strip().lower()
    if not address:
        return False
    known = {
        ticket.requester_email,
        getattr(ticket.customer, "email", ""),
        getattr(ticket.contact, "email", ""),
    }
    if address in {value.lower() for value in known if value}:
        return True
    return (
        ticket.customer_id is not None
        and Contact.objects.filter(customer_id=ticket.customer_id, email__iexact=address).exists()
    )
