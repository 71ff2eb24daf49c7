"""Every domain event recorded (core.events) is fanned out to the webhook endpoints, in the
transaction that records it."""

from typing import Any

from django.dispatch import receiver

from core.events import event_recorded
from core.models import DomainEvent
from integrations.webhook_services import deliveries_fan_out


@receiver(event_recorded, sender=DomainEvent, dispatch_uid="webhooks-fan-out")
def _fan_out(sender: Any, event: DomainEvent, **kwargs: Any) -> None:
    deliveries_fan_out(event)
