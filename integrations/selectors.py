"""Reads with the access rules: webhook endpoints are the company's, seen by whoever may
manage them (managers and admins), all of them."""

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from integrations.models import WebhookDelivery, WebhookEndpoint

MANAGE = "integrations.change_webhookendpoint"


def may_manage_webhooks(user: User | AnonymousUser) -> bool:
    return user.has_perm(MANAGE)


def endpoints_visible_to(user: User | AnonymousUser) -> QuerySet[WebhookEndpoint]:
    if not may_manage_webhooks(user):
        return WebhookEndpoint.objects.none()
    return WebhookEndpoint.objects.select_related("owner")


def deliveries_of(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """Newest first."""
    return endpoint.deliveries.select_related("event").order_by("-pk")
