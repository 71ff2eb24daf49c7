"""The unfiled sales email: drop-box messages that matched no customer, waiting for their
rep to file them on a customer (logged as on arrival) or discard them."""

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils import timezone

from customers.email_log import AddressMatch
from customers.models import Contact, Customer, Interaction
from integrations.mail.parse import parse_email
from integrations.mail.sales import log_on_customers, read_message
from integrations.models import InboundEmail

ALL_UNFILED = "customers.change_any_customer"  # managers see every rep's unfiled email


def may_file_email(user: User | AnonymousUser) -> bool:
    return user.is_authenticated and user.has_perm("customers.add_interaction")


def unfiled_visible_to(user: User | AnonymousUser) -> QuerySet[InboundEmail]:
    """The rep's own unfiled messages; managers see all of them. Newest first."""
    if not may_file_email(user):
        return InboundEmail.objects.none()
    unfiled = InboundEmail.objects.filter(status=InboundEmail.Status.UNFILED)
    if not user.has_perm(ALL_UNFILED):
        unfiled = unfiled.filter(owner_id=user.pk)
    return unfiled.select_related("owner").order_by("-received_at", "-pk")


def unfiled_count(user: User | AnonymousUser) -> int:
    return unfiled_visible_to(user).count()


@transaction.atomic
def unfiled_file(*, inbound: InboundEmail, customer: Customer, by: User) -> Interaction | None:
    """Log the message on `customer` as the drop-box would have; None if it was filed or
    discarded meanwhile (by another tab or the manager)."""
    inbound = InboundEmail.objects.select_for_update().get(pk=inbound.pk)
    if inbound.status != InboundEmail.Status.UNFILED:
        return None
    with inbound.raw.open("rb") as stream:
        parsed = parse_email(stream.read())
    reading = read_message(parsed)
    reading.rep = reading.rep or inbound.owner or by
    match = AddressMatch(customer, _contact_among(customer, reading.participants))
    interaction = log_on_customers(inbound, parsed, reading, [match])[0]
    inbound.status = InboundEmail.Status.PROCESSED
    inbound.outcome = f"filed on customer {customer.pk} by {by.get_username()}"[:300]
    inbound.result_type = Interaction._meta.label_lower
    inbound.result_id = str(interaction.pk)
    inbound.processed_at = timezone.now()
    inbound.save(update_fields=["status", "outcome", "result_type", "result_id", "processed_at"])
    return interaction


def _contact_among(customer: Customer, addresses: list[str]) -> Contact | None:
    contacts = customer.contacts.annotate(email_lower=Lower("email"))
    return contacts.filter(email_lower__in=addresses).order_by("pk").first()


@transaction.atomic
def unfiled_discard(*, inbound: InboundEmail, by: User) -> bool:
    """Mark the message discarded; False if it was no longer unfiled."""
    discarded = InboundEmail.objects.filter(
        pk=inbound.pk, status=InboundEmail.Status.UNFILED
    ).update(
        status=InboundEmail.Status.DISCARDED,
        outcome=f"discarded by {by.get_username()}"[:300],
        processed_at=timezone.now(),
    )
    return bool(discarded)
