"""What the service app tells people (core.notifications): a customer's reply on your
ticket, a mention of you (`@username`) in an internal note, and an SLA about to be breached."""

from django.contrib.auth.models import User
from django.utils.translation import gettext_noop

from core.notifications import notify, notify_mentions
from service.models import Escalation, Ticket, TicketMessage

SLA_NOTIFY_BATCH = 2000


def customer_reply_notify(*, message: TicketMessage) -> None:
    ticket = message.ticket
    if ticket.assignee is None:
        return
    notify(
        recipient=ticket.assignee,
        kind="reply",
        message=gettext_noop("The customer replied on ticket %(ticket)s"),
        params={"ticket": str(ticket)},
        url=ticket.get_absolute_url(),
        key=f"ticket-reply:{message.pk}",
    )


def note_mentions_notify(*, message: TicketMessage, author: User) -> None:
    notify_mentions(
        text=message.body,
        author=author,
        message=gettext_noop("%(name)s mentioned you in a note on ticket %(ticket)s"),
        params={"ticket": message.ticket.number},
        url=message.ticket.get_absolute_url(),
        key=f"mention:ticket-message:{message.pk}",
    )


def sla_at_risk_notify(escalation_ids: list[int]) -> int:
    """Tell each at-risk ticket's assignee, once per escalation; returns how many."""
    told = 0
    for start in range(0, len(escalation_ids), SLA_NOTIFY_BATCH):
        escalations = (
            Escalation.objects.filter(
                pk__in=escalation_ids[start : start + SLA_NOTIFY_BATCH],
                level=Escalation.Level.AT_RISK,
                ticket__assignee__isnull=False,
            )
            .select_related("ticket__assignee")
            .order_by("pk")
        )
        for escalation in escalations:
            told += _sla_notify(escalation.ticket, escalation)
    return told


def _sla_notify(ticket: Ticket, escalation: Escalation) -> int:
    if escalation.target == Escalation.Target.FIRST_RESPONSE:
        message = gettext_noop("Ticket %(ticket)s needs a first response soon (SLA)")
    else:
        message = gettext_noop("Ticket %(ticket)s must be resolved soon (SLA)")
    assert ticket.assignee is not None  # filtered above
    sent = notify(
        recipient=ticket.assignee,
        kind="sla_breach",
        message=message,
        params={"ticket": str(ticket)},
        url=ticket.get_absolute_url(),
        key=f"sla:{escalation.pk}",
    )
    return int(sent is not None)
