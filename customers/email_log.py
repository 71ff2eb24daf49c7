"""Emails on the timeline: who an address belongs to, and logging an email as an Interaction.

The sales drop-box and the compose page (integrations) call these; the customers app keeps
the rules of its own records (what an email interaction holds, how a thread is keyed).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from customers.models import Channel, Contact, Customer, Interaction

SUMMARY_LIMIT = Interaction._meta.get_field("summary").max_length or 5000
ID_LIMIT = Interaction._meta.get_field("message_id").max_length or 998


@dataclass(frozen=True)
class AddressMatch:
    """A customer found by one of the addresses, and the contact it belongs to (if not the
    customer's own address)."""

    customer: Customer
    contact: Contact | None


def customers_with_addresses(addresses: Iterable[str]) -> list[AddressMatch]:
    """Every customer (not erased) whose address or one of whose contacts' addresses is among
    `addresses` (case-insensitive), once each, in id order; two queries."""
    wanted = sorted({a.strip().lower() for a in addresses if a and "@" in a})
    if not wanted:
        return []
    matches: dict[int, AddressMatch] = {}
    customers = (
        Customer.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=wanted, erased_at__isnull=True)
        .select_related("owner")
    )
    for customer in customers:
        matches[customer.pk] = AddressMatch(customer, None)
    contacts = (
        Contact.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=wanted, customer__erased_at__isnull=True)
        .select_related("customer", "customer__owner")
        .order_by("pk")
    )
    for contact in contacts:
        matches.setdefault(contact.customer_id, AddressMatch(contact.customer, contact))
    return [matches[pk] for pk in sorted(matches)]


def email_threads_of(message_ids: Iterable[str]) -> list[Interaction]:
    """The email interactions one of these Message-IDs names (a reply's In-Reply-To and
    References), the oldest first."""
    ids = [m[:ID_LIMIT] for m in message_ids if m]
    if not ids:
        return []
    return list(
        Interaction.objects.filter(channel=Channel.EMAIL, message_id__in=ids)
        .exclude(thread="")
        .select_related("customer", "contact", "logged_by")
        .order_by("occurred_at", "pk")
    )


def email_summary(*, subject: str, body: str, note: str = "") -> str:
    """What the timeline shows of an email: its subject, an optional note (the deal or ticket
    it was about), and as much of its body as fits."""
    head = subject.strip() or "(no subject)"
    if note:
        head = f"{head}\n{note}"
    text = f"{head}\n\n{body.strip()}".strip().replace("\x00", "")
    if len(text) > SUMMARY_LIMIT:
        text = text[: SUMMARY_LIMIT - 1] + "…"
    return text


@transaction.atomic
def interaction_log_email(
    *,
    customer: Customer,
    logged_by: User | None,
    direction: str,
    subject: str,
    body: str,
    message_id: str,
    thread: str = "",
    contact: Contact | None = None,
    occurred_at: datetime | None = None,
    note: str = "",
) -> Interaction:
    """Log an email on the customer's timeline. `thread` is the conversation's root
    Message-ID (this message's own when it starts one)."""
    message_id = message_id.replace("\x00", "")[:ID_LIMIT]
    thread = thread.replace("\x00", "")
    interaction = Interaction(
        customer=customer,
        contact=contact if contact is not None and contact.customer_id == customer.pk else None,
        logged_by=logged_by,
        channel=Channel.EMAIL,
        direction=direction,
        summary=email_summary(subject=subject, body=body, note=note),
        occurred_at=occurred_at or timezone.now(),
        message_id=message_id,
        thread=(thread or message_id)[:ID_LIMIT],
    )
    interaction.full_clean(exclude=["logged_by"] if logged_by is None else None)
    interaction.save()
    return interaction


@transaction.atomic
def interaction_set_message_id(*, interaction: Interaction, message_id: str) -> Interaction:
    """Record the Message-ID an email got when it was queued (the outbox assigns it after the
    interaction exists); a message that starts a conversation is its own thread's root."""
    interaction.message_id = message_id[:ID_LIMIT]
    if not interaction.thread:
        interaction.thread = interaction.message_id
    interaction.save(update_fields=["message_id", "thread"])
    return interaction
