"""Integrations' part of an erasure and of an access download (customers.erasure,
crm.lib.personal_data): the emails the mailboxes received from or about the customer.

An inbound email is the customer's when the record it became (its result) is one of their
interactions, tickets or ticket messages, or when the customer's or a contact's address is
its sender or among its recipients (unfiled mail, ignored auto-replies, quarantined ones).
Erasure deletes the stored message (its raw file leaves storage on commit, so a rolled back
erasure keeps it) and blanks its people and texts; the row stays, with its status and dates,
so the mailbox's counts and its once-only key still hold."""

import json
from functools import reduce
from operator import or_
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from crm.lib.personal_data import ERASED, rows_of, scrub
from customers.models import Interaction
from integrations.models import InboundEmail
from service.models import Ticket, TicketMessage

# What a customer's access download shows of each email: its headers and its text.
DOWNLOADED_FIELDS = [
    *["id", "message_id", "from_address", "from_name", "to", "cc", "subject"],
    *["sent_at", "received_at", "text"],
]


def inbound_emails_of(customer: Any, values: frozenset[str] | set[str]) -> QuerySet[InboundEmail]:
    """The inbound emails that became the customer's records or carry their addresses."""
    return InboundEmail.objects.filter(_results_of(customer) | _addressed(_addresses(values)))


def _results_of(customer: Any) -> Q:
    tickets = Ticket.objects.filter(customer=customer)
    records = {
        Interaction: Interaction.objects.filter(customer=customer),
        Ticket: tickets,
        TicketMessage: TicketMessage.objects.filter(ticket__in=tickets),
    }
    return reduce(
        or_,
        (
            Q(
                result_type=model._meta.label_lower,
                result_id__in=[str(pk) for pk in rows.values_list("pk", flat=True)],
            )
            for model, rows in records.items()
        ),
    )


def _addresses(values: frozenset[str] | set[str]) -> set[str]:
    return {value.strip().lower() for value in values if "@" in value and value.strip()}


def _addressed(addresses: set[str]) -> Q:
    """From one of the addresses, or one of them in To/Cc (a JSON list of addresses: the
    quoted address matches a whole element, not a longer address containing it)."""
    condition = Q(pk__in=[])
    for address in addresses:
        condition |= Q(from_address__iexact=address)
        for needle in {f'"{address}"', json.dumps(address)}:
            condition |= Q(to__icontains=needle) | Q(cc__icontains=needle)
    return condition


@transaction.atomic
def inbound_emails_erase(*, customer: Any, values: frozenset[str]) -> int:
    rows = 0
    for inbound in inbound_emails_of(customer, values).select_for_update():
        _erase(inbound, values)
        rows += 1
    return rows


def _erase(inbound: InboundEmail, values: frozenset[str]) -> None:
    if inbound.raw:
        storage, name = inbound.raw.storage, str(inbound.raw.name)
        transaction.on_commit(lambda: storage.delete(name))
    inbound.raw = ""  # an empty FileField
    inbound.from_address = inbound.from_name = ""
    inbound.to, inbound.cc = [], []
    inbound.subject = ERASED if inbound.subject else ""
    inbound.text = ERASED if inbound.text else ""
    inbound.html = ""
    inbound.outcome = scrub(inbound.outcome, values)[:300]
    inbound.error = scrub(inbound.error, values)
    inbound.save(
        update_fields=[
            *["raw", "from_address", "from_name", "to", "cc", "subject", "text", "html"],
            *["outcome", "error"],
        ]
    )


def inbound_emails_data_of(customer: Any) -> dict[str, Any]:
    """The emails for the customer's access download (their addresses as they are now)."""
    values = frozenset(
        value
        for value in [
            customer.email,
            *customer.contacts.values_list("email", flat=True),
        ]
        if value
    )
    return {"emails": rows_of(inbound_emails_of(customer, values), *DOWNLOADED_FIELDS)}
