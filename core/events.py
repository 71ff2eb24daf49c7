"""Domain events: the one writer, `event_record(...)`, in the caller's transaction.

    event_record(type="deal.won", target=deal, data={"amount": str(deal.amount)})

The service that makes a change records its event after it has locked the object, in
its own @transaction.atomic: a change that rolls back records nothing, one that commits
always has its event (core.models.DomainEvent). `event_recorded` is sent at once, inside
the transaction, so a listener (integrations' webhook fan-out) writes its rows atomically
with the change too. `core` knows the catalogue of event types but no app.

`data` carries ids, codes, amounts and the names of changed fields: no personal values
(names, emails, message texts), which a receiver reads through the API.
"""

from typing import Any

from django.db import models
from django.dispatch import Signal
from django.utils.translation import gettext_lazy as _

from core.models import DomainEvent

# The events endpoints may subscribe to, in the order the form lists them.
EVENT_TYPES = {
    "customer.created": _("Customer created"),
    "customer.updated": _("Customer updated"),
    "customer.merged": _("Customers merged"),
    "customer.erased": _("Customer erased"),
    "consent.changed": _("Consent changed"),
    "deal.stage_changed": _("Deal stage changed"),
    "deal.won": _("Deal won"),
    "deal.lost": _("Deal lost"),
    "order.created": _("Order created"),
    "ticket.created": _("Ticket created"),
    "ticket.customer_replied": _("Customer replied to a ticket"),
    "ticket.resolved": _("Ticket resolved"),
    "csat.received": _("Satisfaction rating received"),
    "segment_run.completed": _("Segment run completed"),
}
# Sent to one endpoint on request ("Send test event"); nobody subscribes to it.
TEST_EVENT = "webhook.test"

# Sent inside the transaction with `event` (a DomainEvent).
event_recorded = Signal()


def event_record(
    *, type: str, target: models.Model, data: dict[str, Any] | None = None
) -> DomainEvent:  # noqa: A002 - the event's field
    """Record that `type` happened to `target` (in the caller's transaction)."""
    if type not in EVENT_TYPES and type != TEST_EVENT:
        raise ValueError(f"unknown event type {type!r}")
    event = DomainEvent.objects.create(
        type=type,
        object_type=target._meta.label_lower,
        object_id=str(target.pk),
        data={"id": target.pk, **(data or {})},
    )
    event_recorded.send(sender=DomainEvent, event=event)
    return event


def changed_fields(obj: models.Model, data: dict[str, Any], fields: list[str]) -> list[str]:
    """The names of `fields` whose value in `data` differs from `obj`'s (before saving)."""
    return [f for f in fields if f in data and getattr(obj, f) != data[f]]


def events_erase(*, target: models.Model) -> int:
    """An erasure: the object's events forget the one identifying value they may carry (the
    external id another system knows the customer by). Returns how many changed."""
    events = DomainEvent.objects.filter(
        object_type=target._meta.label_lower, object_id=str(target.pk), data__has_key="external_id"
    )
    changed = 0
    for event in events.exclude(data__external_id=""):
        event.data["external_id"] = ""
        event.save(update_fields=["data"])
        changed += 1
    return changed
