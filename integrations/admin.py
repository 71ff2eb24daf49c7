from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from integrations.models import (
    EmailTemplate,
    InboundEmail,
    Mailbox,
    WebhookDelivery,
    WebhookEndpoint,
)
from integrations.webhook_services import delivery_redeliver


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["__str__", "url", "owner", "is_active", "consecutive_failures", "disabled_at"]
    list_filter = ["is_active", "disabled_at"]
    search_fields = ["name", "url", "owner__username"]
    raw_id_fields = ["owner"]
    # The secret is shown once on the endpoint's page; the admin shows its start only.
    exclude = ["secret"]
    readonly_fields = ["secret_hint", "consecutive_failures", "paused_until", "created_at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at", "endpoint", "event", "status", "attempts", "response_code", "duration_ms",
        "next_attempt_at",
    ]  # fmt: skip
    list_filter = ["status", "created_at"]
    search_fields = ["event__uuid", "object_key", "error"]
    list_select_related = ["endpoint", "event"]
    raw_id_fields = ["endpoint", "event"]
    readonly_fields = ["claimed_at", "claim_token", "delivered_at", "last_attempt_at"]
    actions = ["redeliver"]

    @admin.action(description=_("Redeliver now"))
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = 0
        for delivery in queryset.exclude(status=WebhookDelivery.Status.SENDING):
            delivery_redeliver(delivery=delivery)
            count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery will be sent again.",
                "%(count)d deliveries will be sent again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = ["name", "purpose", "address", "host", "folder", "is_active", "last_polled_at"]
    list_filter = ["purpose", "is_active"]
    search_fields = ["name", "address", "host"]
    readonly_fields = ["uid_validity", "last_uid", "last_polled_at", "last_error"]


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = ["received_at", "mailbox", "from_address", "subject", "status", "outcome"]
    list_filter = ["status", "mailbox"]
    search_fields = ["from_address", "subject", "message_id"]
    readonly_fields = [field.name for field in InboundEmail._meta.fields]


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "subject", "owner", "shared", "updated_at"]
    list_filter = ["shared"]
    search_fields = ["name", "subject", "owner__username"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
