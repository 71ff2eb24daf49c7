"""Webhook endpoints (the managers' pages) and the fan-out of domain events to them.

Fan-out runs inside the transaction that records the event (core.events.event_recorded),
so each subscribed active endpoint has its delivery row exactly when the change committed;
the delivery itself is integrations.delivery_services' work, queued for after the commit.
"""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.events import EVENT_TYPES, TEST_EVENT, event_record
from core.models import DomainEvent
from core.services import outbox_email_enqueue
from crm.lib.tasks import queue_on_commit
from integrations import tasks
from integrations.models import WebhookDelivery, WebhookEndpoint, new_secret
from integrations.webhook_http import UnsafeURLError, check_url


def validate_url(url: str) -> None:
    try:
        check_url(url)
    except UnsafeURLError as error:
        raise ValidationError({"url": str(error)}) from error


def _save(endpoint: WebhookEndpoint, *, name: str, url: str, events: Iterable[str]) -> None:
    unknown = set(events) - set(EVENT_TYPES)
    if unknown:
        raise ValidationError({"events": _("Unknown events: %s") % ", ".join(sorted(unknown))})
    endpoint.name, endpoint.url = name.strip(), url.strip()
    endpoint.events = [event for event in EVENT_TYPES if event in set(events)]
    endpoint.full_clean()
    validate_url(endpoint.url)
    endpoint.save()


@transaction.atomic
def endpoint_create(*, owner: User, name: str, url: str, events: Iterable[str]) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(owner=owner)
    _save(endpoint, name=name, url=url, events=events)
    return endpoint


@transaction.atomic
def endpoint_update(
    *, endpoint: WebhookEndpoint, name: str, url: str, events: Iterable[str]
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    _save(endpoint, name=name, url=url, events=events)
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> str:
    """A new secret at once (the old one stops working): returns it to be shown once."""
    secret = new_secret()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(secret=secret)
    return secret


@transaction.atomic
def endpoint_enable(*, endpoint: WebhookEndpoint) -> None:
    """Active again after an automatic disabling: waiting deliveries go now."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=True, disabled_at=None, disabled_reason="", consecutive_failures=0,
        paused_until=None,
    )  # fmt: skip
    waiting = endpoint.deliveries.filter(status=WebhookDelivery.Status.PENDING)
    waiting.update(next_attempt_at=timezone.now())
    queue_on_commit(tasks.deliver_webhooks, None)


@transaction.atomic
def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> bool:
    """Stop delivering (deliveries wait); True when it was active. Its owner is emailed."""
    now = timezone.now()
    changed = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
        is_active=False, disabled_at=now, disabled_reason=reason[:300]
    )
    if changed:
        _email_owner_disabled(WebhookEndpoint.objects.select_related("owner").get(pk=endpoint.pk))
    return bool(changed)


def _email_owner_disabled(endpoint: WebhookEndpoint) -> None:
    if not endpoint.owner.email:
        return
    link = settings.CRM_BASE_URL + reverse("integrations:webhook-detail", args=[endpoint.pk])
    body = _(
        "Your webhook endpoint %(url)s was disabled after %(count)s failed deliveries in a "
        "row.\n\nLast error: %(reason)s\n\nEvents wait for it. Fix the receiver, then enable "
        "the endpoint again: %(link)s"
    ) % {
        "url": endpoint.url,
        "count": endpoint.consecutive_failures,
        "reason": endpoint.disabled_reason,
        "link": link,
    }
    message = EmailMessage(
        subject=_("Webhook endpoint disabled: %(name)s") % {"name": str(endpoint)[:150]},
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[endpoint.owner.email],
    )
    outbox_email_enqueue(message=message, about=endpoint)


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


@transaction.atomic
def endpoint_send_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A `webhook.test` event to this endpoint alone (nobody subscribes to it)."""
    event = event_record(type=TEST_EVENT, target=endpoint, data={"url": endpoint.url})
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event=event, object_key=event.object_key
    )
    queue_on_commit(tasks.deliver_webhooks, [delivery.pk])
    return delivery


@transaction.atomic
def delivery_redeliver(*, delivery: WebhookDelivery) -> None:
    """Send it again now (the same event id: the receiver may recognise a duplicate)."""
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status == WebhookDelivery.Status.SENDING:
        raise ValidationError(_("This delivery is being sent right now."))
    delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.PENDING, timezone.now()
    delivery.save(update_fields=["status", "next_attempt_at"])
    WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(paused_until=None)
    queue_on_commit(tasks.deliver_webhooks, [delivery.pk])


def deliveries_fan_out(event: DomainEvent) -> list[int]:
    """A delivery per active endpoint subscribed to the event's type (in the event's
    transaction); queued for delivery when it commits. Returns their ids."""
    endpoints = [
        endpoint.pk
        for endpoint in WebhookEndpoint.objects.filter(is_active=True).only("pk", "events")
        if event.type in endpoint.events
    ]
    if not endpoints:
        return []
    now = timezone.now()
    rows = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint_id=pk, event=event, object_key=event.object_key, created_at=now)
        for pk in endpoints
    )
    ids = [row.pk for row in rows]
    queue_on_commit(tasks.deliver_webhooks, ids)
    return ids
