"""Service's part of an erasure and of an access download (customers.erasure,
crm.lib.personal_data).

Tickets stay, with their category, priority, dates, SLA figures and CSAT score (the service
report counts them); what the customer and the agents wrote goes."""

from typing import Any

from django.db import transaction
from django.db.models import Q

from core.attachments import attachment_data_files, attachments_delete_of_many
from crm.lib.personal_data import ERASED, DataFile, rows_of
from service.models import SatisfactionResponse, Ticket, TicketMessage


@transaction.atomic
def service_erase(*, customer: Any, values: frozenset[str]) -> int:
    # Web requests from one of the customer's addresses that no agent linked yet are theirs.
    addresses = Q()
    for value in values:
        if "@" in value:
            addresses |= Q(requester_email__iexact=value)
    rows = Ticket.objects.filter(addresses, customer__isnull=True).update(customer=customer)
    tickets = Ticket.objects.filter(customer=customer)
    rows += tickets.update(
        subject=ERASED, description=ERASED, requester_name="", requester_email=""
    )
    messages = TicketMessage.objects.filter(ticket__in=tickets)
    rows += messages.update(body=ERASED, email_message_id="")
    rows += SatisfactionResponse.objects.filter(ticket__in=tickets).update(comment="")
    # Photos and documents sent with the requests (by email or the help form) or the
    # replies go with their texts.
    rows += attachments_delete_of_many(tickets) + attachments_delete_of_many(messages)
    return rows


def service_data_of(customer: Any) -> dict[str, Any]:
    tickets = Ticket.objects.filter(customer=customer)
    return {
        "tickets": rows_of(
            tickets,
            *["id", "subject", "description", "channel", "category", "priority", "status"],
            *["requester_name", "requester_email"],
            *["root_cause", "created_at", "resolved_at", "closed_at"],
        ),
        # Internal notes are the staff's working notes about the customer: included too.
        "ticket_messages": rows_of(
            TicketMessage.objects.filter(ticket__in=tickets),
            *["ticket_id", "kind", "from_customer", "body", "created_at"],
        ),
        "satisfaction": rows_of(
            SatisfactionResponse.objects.filter(ticket__in=tickets),
            "ticket_id",
            "score",
            "comment",
            "created_at",
        ),
    }


def service_files_of(customer: Any) -> list[DataFile]:
    """The files of the customer's tickets and of their messages, for the access download."""
    tickets = Ticket.objects.filter(customer=customer)
    return [
        *attachment_data_files(tickets, "tickets"),
        *attachment_data_files(TicketMessage.objects.filter(ticket__in=tickets), "tickets"),
    ]
