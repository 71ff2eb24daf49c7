"""Every domain event recorded (core.events) is fanned out to the webhook endpoints, in the
transaction that records it; an erased customer's inbound emails lose their contents."""

from typing import Any

from django.dispatch import receiver

from core.events import event_recorded
from core.models import DomainEvent
from customers.signals import customer_erasing
from integrations.mail.erasure import inbound_emails_erase
from integrations.webhook_services import deliveries_fan_out


@receiver(event_recorded, sender=DomainEvent, dispatch_uid="webhooks-fan-out")
def _fan_out(sender: Any, event: DomainEvent, **kwargs: Any) -> None:
    deliveries_fan_out(event)


@receiver(customer_erasing, dispatch_uid="integrations-erase")
def erase_inbound_emails(
    sender: Any, *, customer: Any, values: frozenset[str], **kwargs: Any
) -> int:
    """Inside the erasure transaction: the raw messages go, their people and texts blanked."""
    return inbound_emails_erase(customer=customer, values=values)
