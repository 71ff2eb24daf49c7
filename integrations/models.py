"""Webhooks: endpoints that other systems registered, and the delivery of each event to them.

Domain events are recorded by the apps' services through core.events;
integrations.webhook_services fans each one out to a WebhookDelivery per subscribed active
endpoint, in the same transaction, and Celery delivers them (integrations.delivery_services,
with the claim pattern of core.claims). docs/webhooks.md is the integrator's guide.
"""

import secrets
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    url = models.URLField(_("URL"), max_length=2000)
    events = models.JSONField(_("events"), default=list)
    # Kept as it is: the HMAC needs it. Shown once after creation and after each rotation.
    secret = models.CharField(_("signing secret"), max_length=100, default=new_secret)
    is_active = models.BooleanField(_("active"), default=True)
    # Failed attempts since the last success; each one pauses the endpoint a little longer,
    # and CRM_WEBHOOK_DISABLE_AFTER of them disable it.
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    paused_until = models.DateTimeField(_("paused until"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.name or self.url

    @property
    def secret_hint(self) -> str:
        """Enough of the secret to tell which one a receiver holds."""
        return f"{self.secret[: len(SECRET_PREFIX) + 4]}…"


class WebhookDelivery(models.Model):
    """One event on its way to one endpoint: pending -> sending (claimed) -> sent, or back to
    pending with a later attempt, or failed once it is a day old (CRM_WEBHOOK_RETRY_HOURS)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Delivered")
        FAILED = "failed", _("Failed")

    STATUS_BADGES: ClassVar[dict[str, str]] = {
        "pending": "text-bg-warning",
        "sending": "text-bg-info",
        "sent": "text-bg-success",
        "failed": "text-bg-danger",
    }

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    event = models.ForeignKey(
        "core.DomainEvent", on_delete=models.CASCADE, related_name="+", verbose_name=_("event")
    )
    # The event's object ("sales.deal:42"): an endpoint gets an object's events in order.
    object_key = models.CharField(_("object"), max_length=170)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("time taken (ms)"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "object_key", "event"], name="webhook_delivery_order"),
        ]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.endpoint_id} ({self.get_status_display()})"
