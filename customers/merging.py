"""The parts of a merge (customers.services.customers_merge) that are not the moving of rows:
which values the kept record takes, the emails and phones it must not lose, consents, and
the record of what moved."""

from django.contrib.auth.models import User
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from customers.models import Consent, Contact, Customer, CustomerMerge

# The fields whose value a manager chooses side by side (the rest follow the kept record).
CHOOSABLE_FIELDS = [
    "kind",
    "name",
    "organization",
    "email",
    "phone",
    "country",
    "region",
    "city",
    "address",
    "industry",
    "company_size",
    "source",
    "stage",
    "preferred_channel",
    "owner",
    "notes",
]
# Reachable by these: a merge keeps every one of them, on the record or as a contact.
REACH_FIELDS = ("email", "phone")


def field_label(name: str) -> str:
    """A customer field's label, in the reader's language."""
    field = Customer._meta.get_field(name)
    return capfirst(str(getattr(field, "verbose_name", name)))


def _attr(field: str) -> str:
    return "owner_id" if field == "owner" else field


def differing_fields(kept: Customer, duplicate: Customer) -> list[str]:
    """The choosable fields where the two records disagree and the duplicate has a value."""
    return [
        field
        for field in CHOOSABLE_FIELDS
        if getattr(duplicate, _attr(field)) not in ("", None)
        and getattr(kept, _attr(field)) != getattr(duplicate, _attr(field))
    ]


def take_values(*, kept: Customer, duplicate: Customer, fields: list[str]) -> list[str]:
    """Copy the chosen fields from the duplicate; returns those that changed."""
    taken = []
    for field in fields:
        if field not in CHOOSABLE_FIELDS:
            continue
        value = getattr(duplicate, _attr(field))
        if value not in ("", None) and getattr(kept, _attr(field)) != value:
            setattr(kept, _attr(field), value)
            taken.append(field)
    return taken


def keep_reach(*, kept: Customer, records: list[tuple[str, str, str]]) -> int:
    """Each (name, email, phone) that the kept record no longer shows becomes a contact,
    unless one of its contacts already has it. Returns the contacts created."""
    known_emails = {kept.email.lower()} | {
        e.lower() for e in Contact.objects.filter(customer=kept).values_list("email", flat=True)
    }
    known_phones = {_digits(kept.phone)} | {
        _digits(p) for p in Contact.objects.filter(customer=kept).values_list("phone", flat=True)
    }
    created = 0
    for name, email, phone in records:
        email = email if email and email.lower() not in known_emails else ""
        phone = phone if phone and _digits(phone) not in known_phones else ""
        if email or phone:
            Contact.objects.create(
                customer=kept, name=name[:200], email=email, phone=phone, is_primary=False
            )
            known_emails.add(email.lower())
            known_phones.add(_digits(phone))
            created += 1
    return created


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


def merge_consents(*, kept: Customer, duplicate: Customer) -> None:
    """The most recent decision per channel wins."""
    kept_consents = {c.channel: c for c in kept.consents.all()}
    for consent in duplicate.consents.all():
        mine = kept_consents.get(consent.channel)
        if mine is None:
            Consent.objects.create(
                customer=kept,
                channel=consent.channel,
                granted=consent.granted,
                changed_at=consent.changed_at,
                source=consent.source,
            )
        elif consent.changed_at > mine.changed_at:
            mine.granted = consent.granted
            mine.changed_at = consent.changed_at
            mine.source = consent.source
            mine.save()


def moved_by_receivers(responses: list) -> dict[str, int]:
    """What the other apps' merge receivers report they moved ({"sales.deal": 2, ...})."""
    moved: dict[str, int] = {}
    for _receiver, response in responses:
        if isinstance(response, dict):
            for name, count in response.items():
                if isinstance(count, int) and count:
                    moved[str(name)] = moved.get(str(name), 0) + count
    return moved


def merge_record(
    *, kept: Customer, duplicate: Customer, merged_by: User, moved: dict, taken: list[str]
) -> CustomerMerge:
    return CustomerMerge.objects.create(
        customer=kept,
        duplicate_id=duplicate.pk,
        duplicate_name=duplicate.name[:200],
        merged_by=merged_by,
        moved={**{k: v for k, v in moved.items() if v}, "fields": taken},
    )


class MergeGoneError(Exception):
    """One of the two customers was merged away or erased since the page was shown."""


def lock_pair(kept: Customer, duplicate: Customer) -> tuple[Customer, Customer]:
    """Both rows, locked in one query in primary-key order: two people merging A<-B and
    B<-A at once then wait for each other instead of deadlocking."""
    rows = Customer.objects.select_for_update().filter(pk__in=[kept.pk, duplicate.pk])
    locked = {customer.pk: customer for customer in rows.order_by("pk")}
    if len(locked) < 2:
        raise MergeGoneError(
            _("One of the two customers was merged or removed meanwhile; nothing was merged.")
        )
    return locked[kept.pk], locked[duplicate.pk]
