from urllib.parse import urlencode

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from integrations.mail.ingest import inbound_retry
from integrations.models import (
    EmailTemplate,
    InboundEmail,
    Mailbox,
    WebhookDelivery,
    WebhookEndpoint,
)
from integrations.tasks import poll_mailbox
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
    list_display = [
        "name", "purpose", "address", "host", "folder", "is_active", "last_polled_at",
        "last_error_short", "quarantined",
    ]  # fmt: skip
    list_filter = ["purpose", "is_active"]
    search_fields = ["name", "address", "host"]
    readonly_fields = ["uid_validity", "last_uid", "last_polled_at", "last_error"]
    actions = ["poll_now"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Mailbox]:
        quarantined = Count("messages", filter=Q(messages__status=InboundEmail.Status.QUARANTINED))
        return super().get_queryset(request).annotate(quarantined_count=quarantined)

    @admin.display(description=_("last error"))
    def last_error_short(self, mailbox: Mailbox) -> str:
        return Truncator(mailbox.last_error).chars(80)

    @admin.display(description=_("quarantined"), ordering="quarantined_count")
    def quarantined(self, mailbox: Mailbox) -> str:
        count = getattr(mailbox, "quarantined_count", 0)
        if not count:
            return "0"
        url = reverse("admin:integrations_inboundemail_changelist")
        query = urlencode({"mailbox__id__exact": mailbox.pk, "status__exact": "quarantined"})
        return format_html('<a href="{}?{}">{}</a>', url, query, count)

    @admin.action(description=_("Poll now"))
    def poll_now(self, request: HttpRequest, queryset: QuerySet[Mailbox]) -> None:
        # A worker polls: a web request never talks to an IMAP server.
        ids = list(queryset.filter(is_active=True).values_list("pk", flat=True))
        for mailbox_id in ids:
            poll_mailbox.delay(mailbox_id)
        self.message_user(
            request,
            ngettext(
                "%(count)d active mailbox will be polled now; refresh to see the result.",
                "%(count)d active mailboxes will be polled now; refresh to see the result.",
                len(ids),
            )
            % {"count": len(ids)},
            messages.SUCCESS,
        )


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = [
        "received_at", "mailbox", "from_address", "subject", "status", "outcome", "error_short",
        "attempts",
    ]  # fmt: skip
    list_filter = ["status", "mailbox", "received_at"]
    search_fields = ["from_address", "subject", "message_id", "error"]
    list_select_related = ["mailbox"]
    readonly_fields = [field.name for field in InboundEmail._meta.fields]
    actions = ["retry_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # messages arrive by IMAP or import_mail, never typed in

    @admin.display(description=_("error"))
    def error_short(self, inbound: InboundEmail) -> str:
        return Truncator(inbound.error.strip().splitlines()[-1] if inbound.error else "").chars(80)

    @admin.action(description=_("Retry now"))
    def retry_now(self, request: HttpRequest, queryset: QuerySet[InboundEmail]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        retried = inbound_retry(ids=ids)
        still = InboundEmail.objects.filter(pk__in=ids, status=InboundEmail.Status.QUARANTINED)
        self.message_user(
            request,
            ngettext(
                "%(count)d quarantined message was processed again",
                "%(count)d quarantined messages were processed again",
                retried,
            )
            % {"count": retried}
            + "; "
            + ngettext(
                "%(count)d is still quarantined.", "%(count)d are still quarantined.", still.count()
            )
            % {"count": still.count()},
            messages.SUCCESS if not still.exists() else messages.WARNING,
        )


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "subject", "owner", "shared", "updated_at"]
    list_filter = ["shared"]
    search_fields = ["name", "subject", "owner__username"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
