"""Emails to customers and agents: plain text plus HTML, in the active language.

Each is written to the outbox (core) in the caller's transaction, so a rolled-back change
emails nobody, and delivered by Celery with retries: no web request talks to the mail server.
The functions return how many emails were queued (0 or 1).
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import models
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from core.models import OutboxMessage
from core.selectors import outbox_about
from core.services import outbox_email_enqueue
from service import links
from service.models import Escalation, Ticket, TicketMessage
from service.selectors import EscalationDigestRow


def customer_address(ticket: Ticket) -> str:
    """The contact's address when there is one, else the customer's, else the requester's
    (a ticket from an unknown address has no customer); "" for none."""
    contact = ticket.contact
    if contact is not None and contact.email:
        return contact.email
    if ticket.customer is not None and ticket.customer.email:
        return ticket.customer.email
    return ticket.requester_email


def _subject(ticket: Ticket, text: str) -> str:
    # Header injection: a newline in a subject would be refused by the mail module.
    clean = " ".join(str(text).split())
    return f"[{ticket.number}] {clean}"[:250]


# References names the thread's first message and its latest ones (RFC 5322 3.6.4 lets a
# long thread drop the middle): enough for every mail client to thread, never a huge header.
REFERENCES_LIMIT = 20


def reply_address(ticket: Ticket) -> str:
    """Where the customer's answer should go: the support address the ticket came in on."""
    return ticket.reply_address or settings.CRM_SUPPORT_ADDRESS


def thread_headers(ticket: Ticket) -> dict[str, str]:
    """In-Reply-To (the customer's last emailed message, else our last email) and
    References (the thread's Message-IDs, oldest first: the conversation's emails and ours
    about the ticket, such as the acknowledgement) for an email on the ticket."""
    messages = (
        ticket.messages.exclude(email_message_id="")
        .filter(kind=TicketMessage.Kind.REPLY)
        .values_list("created_at", "email_message_id", "from_customer")
    )
    ours = outbox_about(ticket).values_list("created_at", "message_id")
    thread = sorted([*messages, *((at, message_id, False) for at, message_id in ours)])
    if not thread:
        return {}
    customers = [message_id for _at, message_id, from_customer in thread if from_customer]
    ids = list(dict.fromkeys(message_id for _at, message_id, _from_customer in thread))
    if len(ids) > REFERENCES_LIMIT:
        ids = [ids[0], *ids[-(REFERENCES_LIMIT - 1) :]]
    return {
        "In-Reply-To": customers[-1] if customers else thread[-1][1],
        "References": " ".join(ids),
    }


def _send(
    *,
    to: list[str],
    subject: str,
    template: str,
    context: dict[str, object],
    about: models.Model | None,
    headers: dict[str, str] | None = None,
    reply_to: str = "",
    attach_about_files: bool = False,
) -> OutboxMessage | None:
    recipients = [address for address in dict.fromkeys(to) if address]
    if not recipients:
        return None
    text = render_to_string(f"service/email/{template}.txt", context)
    html = render_to_string(f"service/email/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        reply_to=[reply_to] if reply_to else None,
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return outbox_email_enqueue(message=message, about=about, attach_about_files=attach_about_files)


AUTO_REPLY_HEADERS = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}


def send_ticket_acknowledgement(ticket: Ticket) -> int:
    row = _send(
        about=ticket,
        to=[customer_address(ticket)],
        subject=_subject(ticket, ticket.subject),
        template="acknowledgement",
        context={"ticket": ticket, "follow_url": links.follow_url(ticket)},
        # An automatic answer (RFC 3834): other systems' auto-replies must not answer it,
        # so two robots never write to each other forever.
        headers={**thread_headers(ticket), **AUTO_REPLY_HEADERS},
        reply_to=reply_address(ticket),
    )
    return int(row is not None)


def send_reply(message: TicketMessage) -> int:
    """Email a public reply to the customer; an internal note is never sent.

    The email threads in the customer's mail client (In-Reply-To, References) and answers
    go to the support mailbox (Reply-To); its Message-ID is kept on the message, so an
    answer naming it finds the ticket (integrations.mail.support).
    """
    if message.kind != TicketMessage.Kind.REPLY or message.from_customer:
        return 0
    ticket = message.ticket
    row = _send(
        to=[customer_address(ticket)],
        subject=_subject(ticket, _("Re: %(subject)s") % {"subject": ticket.subject}),
        template="reply",
        about=message,
        context={"ticket": ticket, "message": message, "follow_url": links.follow_url(ticket)},
        headers=thread_headers(ticket),
        reply_to=reply_address(ticket),
        attach_about_files=True,  # the files the agent added to the reply
    )
    if row is None:
        return 0
    message.email_message_id = row.message_id
    message.save(update_fields=["email_message_id"])
    return 1


def send_csat_request(ticket: Ticket) -> int:
    row = _send(
        about=ticket,
        reply_to=reply_address(ticket),
        to=[customer_address(ticket)],
        subject=_subject(ticket, _("How did we do?")),
        template="csat_request",
        context={"ticket": ticket, "csat_url": links.csat_url(ticket)},
    )
    return int(row is not None)


DIGEST_LIMIT = 100


def send_escalation_digest(
    address: str, rows: list[EscalationDigestRow], *, about: models.Model | None = None
) -> int:
    """One email to one person listing the escalations of a run, breaches first.

    `rows` come from selectors.escalation_digests; past DIGEST_LIMIT the email says how
    many more there are and links to the queue.
    """
    ordered = sorted(rows, key=lambda r: (r["level"] != Escalation.Level.BREACHED, r["due_at"]))
    breached = sum(1 for r in rows if r["level"] == Escalation.Level.BREACHED)
    subject = _("SLA escalation: %(breached)d breached, %(at_risk)d at risk") % {
        "breached": breached,
        "at_risk": len(rows) - breached,
    }
    levels, targets = dict(Escalation.Level.choices), dict(Escalation.Target.choices)
    items = [
        {
            "number": f"T-{r['ticket_id']:06d}",
            "subject": r["ticket__subject"],
            "level": levels[r["level"]],
            "target": targets[r["target"]],
            "due_at": r["due_at"],
            "url": settings.CRM_BASE_URL + reverse("service:ticket-detail", args=[r["ticket_id"]]),
        }
        for r in ordered[:DIGEST_LIMIT]
    ]
    row = _send(
        to=[address],
        subject=subject,
        template="escalation_digest",
        context={
            "items": items,
            "more": max(0, len(rows) - DIGEST_LIMIT),
            "queue_url": settings.CRM_BASE_URL + reverse("service:ticket-list"),
        },
        about=about,
    )
    return int(row is not None)
