"""Erasure: a customer's personal data leaves every app; their numbers stay.

`customer_erase` is the one entry point (the manager's page calls it; an API view will call
it the same way). In one transaction:
1. the customer's personal values are gathered (names, emails, phones, addresses, ids, as
   they are now and as the change history remembers them);
2. `customer_erasing` is sent: sales, service, analytics and marketing blank their rows of
   the customer (crm.lib.personal_data);
3. the customers app blanks its own: the customer (kept as "Erased customer #id", so orders,
   segments and reports keep their numbers), contacts, interactions, tasks, consents, the
   history rows, and the stored import files that mention the customer;
4. the records every app writes (core's outbox and audit log, Django admin's log) lose the
   values, and the erasure is written to the audit log (ids and counts, no values).
A receiver that fails rolls everything back: an erasure is whole or not at all.
"""

from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from core.attachments import attachments_delete_of_many
from core.audit import audit_record, audit_scrub
from core.events import event_record, events_erase
from core.models import AuditEvent
from core.services import outbox_erase
from crm.lib.personal_data import ERASED, mentioning, scrub
from customers.import_services import customer_import_purge
from customers.models import (
    Consent,
    Contact,
    Customer,
    CustomerImport,
    CustomerMerge,
    Interaction,
    Task,
)
from customers.signals import customer_erasing

# Blanked on the customer and on every history row of them.
ERASED_FIELDS = {
    "organization": "",
    "email": "",
    "email_bounced": "",
    "phone": "",
    "city": "",
    "address": "",
    "external_id": "",
    "notes": "",
    "preferred_channel": "",
}
# The values hunted for in free texts (country, region and industry are not identifying
# alone, and reports group by them; they stay).
VALUE_FIELDS = ["name", "email", "phone", "address", "external_id"]
CONTACT_VALUE_FIELDS = ["name", "email", "phone"]


class AlreadyErasedError(Exception):
    """The customer was erased before."""


def erased_name(customer: Customer) -> str:
    return f"Erased customer #{customer.pk}"


def personal_values(customer: Customer) -> frozenset[str]:
    """What identifies the customer in texts: their values now and in the change history."""
    rows = [
        *Customer.history.filter(id=customer.pk).values(*VALUE_FIELDS),
        {field: getattr(customer, field) for field in VALUE_FIELDS},
        *Contact.objects.filter(customer=customer).values(*CONTACT_VALUE_FIELDS),
        *CustomerMerge.objects.filter(customer=customer).values("duplicate_name"),
    ]
    return frozenset(value for row in rows for value in row.values() if value)


@transaction.atomic
def customer_erase(
    *, customer: Customer, erased_by: User | None, request: HttpRequest | None = None
) -> dict[str, int]:
    """Erase the customer's personal data everywhere; returns rows changed per place.

    `request` only gives the audit entry its address."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.erased_at is not None:
        raise AlreadyErasedError(customer.pk)
    values = personal_values(customer)
    changed: dict[str, int] = {}
    for receiver, rows in customer_erasing.send(
        sender=Customer, customer=customer, values=values, erased_by=erased_by
    ):
        app = receiver.__module__.split(".")[0]
        changed[app] = changed.get(app, 0) + int(rows or 0)
    changed["customers"] = _erase_own_rows(customer) + imports_purge_mentioning(values)
    emails = [value for value in values if "@" in value]
    changed["core"] = (
        outbox_erase(addresses=emails, values=values)
        + audit_scrub(list(values))
        + events_erase(target=customer)
    )
    changed["admin_log"] = _admin_log_scrub(values)
    event_record(type="customer.erased", target=customer)
    audit_record(
        AuditEvent.Action.ERASE,
        request=request,
        actor=erased_by,
        target=customer,
        rows=sum(changed.values()),
        detail={"rows": changed},
    )
    return changed


def _erase_own_rows(customer: Customer) -> int:
    # Files are personal data whatever they hold: the customer's and its interactions' go.
    rows = attachments_delete_of_many(Customer.objects.filter(pk=customer.pk))
    rows += attachments_delete_of_many(Interaction.objects.filter(customer=customer))
    rows += Contact.objects.filter(customer=customer).update(
        name="Erased contact", job_title="", email="", phone=""
    )
    rows += Interaction.objects.filter(customer=customer).update(summary=ERASED)
    rows += Task.objects.filter(customer=customer).update(title=ERASED)
    # The records merged into the customer were the same person: their names go too. `moved`
    # holds only counts and field names (merge_record), nothing personal.
    rows += CustomerMerge.objects.filter(customer=customer).update(duplicate_name=ERASED)
    consent_ids = list(Consent.objects.filter(customer=customer).values_list("pk", flat=True))
    rows += Consent.history.filter(Q(customer_id=customer.pk) | Q(id__in=consent_ids)).delete()[0]
    rows += Consent.objects.filter(pk__in=consent_ids).delete()[0]
    placeholder = erased_name(customer)
    rows += Customer.history.filter(id=customer.pk).update(
        name=placeholder, history_change_reason=None, **ERASED_FIELDS
    )
    customer.name = placeholder
    for field, blank in ERASED_FIELDS.items():
        setattr(customer, field, blank)
    customer.erased_at = timezone.now()
    customer.version += 1
    customer._change_reason = "erased"  # type: ignore[attr-defined]  # simple-history's hook
    customer.save()
    return rows + 1


def imports_purge_mentioning(values: frozenset[str] | list[str]) -> int:
    """Stored import files that mention the customer lose their contents; an open one is
    cancelled (importing it later would bring the customer back)."""
    mentions = mentioning("text", values) | mentioning("row_errors", values)
    rows = 0
    for customer_import in CustomerImport.objects.select_for_update().filter(mentions):
        customer_import_purge(customer_import)
        rows += 1
    return rows


def _admin_log_scrub(values: frozenset[str]) -> int:
    entries = LogEntry.objects.filter(
        mentioning("object_repr", values) | mentioning("change_message", values)
    )
    rows = 0
    for entry in entries:
        entry.object_repr = scrub(entry.object_repr, values)[:200]
        entry.change_message = scrub(entry.change_message, values)
        entry.save(update_fields=["object_repr", "change_message"])
        rows += 1
    return rows


def erased_summary(customer: Customer) -> dict[str, Any]:
    """What the confirmation page lists: how much of each kind will be blanked."""
    return {
        "contacts": customer.contacts.count(),
        "interactions": customer.interactions.count(),
        "tasks": customer.tasks.count(),
        "consents": customer.consents.count(),
        "history": customer.history.count(),
    }
