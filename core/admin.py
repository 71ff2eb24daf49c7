import json
from itertools import chain

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core import exchange_admin  # noqa: F401  (registers ExchangeRate's admin)
from core.api_tokens import api_token_revoke
from core.audit import audit_record
from core.models import (
    ApiToken,
    Attachment,
    AuditEvent,
    DomainEvent,
    ExportFile,
    IdempotencyKey,
    Notification,
    NotificationPreference,
    OutboxMessage,
    PeriodicTaskRun,
    UserProfile,
)
from core.services import outbox_retry_now
from crm.lib.csv_export import streaming_csv_response


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "status",
        "recipients_display",
        "subject",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "kind", "about_type", "created_at"]
    search_fields = ["to", "subject", "message_id", "last_error", "about_id"]
    date_hierarchy = "created_at"
    actions = ["retry_now"]
    readonly_fields = ["message_id", "claimed_at", "claim_token", "sent_at", "created_at"]

    @admin.action(description=_("Retry now"))
    def retry_now(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        count = outbox_retry_now(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext(
                "%(count)d message will be retried now.",
                "%(count)d messages will be retried now.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Searchable and exportable; nobody adds, edits or deletes an entry."""

    list_display = ["at", "actor_name", "action", "target_type", "target_id", "rows", "ip_address"]
    list_filter = ["action", "target_type", "at"]
    search_fields = ["actor_name", "target_id", "ip_address", "detail"]
    date_hierarchy = "at"
    actions = ["export_csv"]
    list_select_related = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Export the selected entries as CSV"))
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[AuditEvent]
    ) -> StreamingHttpResponse:
        header = ["at", "who", "action", "object type", "object id", "rows", "from", "detail"]
        rows = (
            [
                *(e.at.isoformat(), e.actor_name, e.action, e.target_type, e.target_id),
                *(e.rows, e.ip_address, json.dumps(e.detail, ensure_ascii=False)),
            ]
            for e in queryset.order_by("-at", "-pk").iterator(chunk_size=2000)
        )
        audit_record(
            AuditEvent.Action.EXPORT, request=request, target=AuditEvent, rows=queryset.count()
        )
        return streaming_csv_response(chain([header], rows), filename="audit-log.csv")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the application writes; admins read them (and may delete a key)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ExportFile)
class ExportFileAdmin(ReadOnlyAdmin):
    """The background exports, for watching jobs; files are downloaded only by their owner
    from the exports page (so the admin shows no link to them)."""

    list_display = ["created_at", "owner", "source", "status", "rows_total", "rows_done",
                    "finished_at", "downloaded_at", "expires_at"]  # fmt: skip
    list_filter = ["status", "source", "created_at"]
    search_fields = ["owner__username", "filename", "error"]
    date_hierarchy = "created_at"
    exclude = ["file"]


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "scope", "key", "user", "state", "response_status"]
    list_filter = ["state", "scope", "created_at"]
    search_fields = ["key", "scope", "response_location"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]


@admin.register(PeriodicTaskRun)
class PeriodicTaskRunAdmin(ReadOnlyAdmin):
    list_display = ["task", "outcome", "started_at", "finished_at", "duration_seconds",
                    "last_success_at", "failures_in_a_row"]  # fmt: skip
    list_filter = ["outcome"]
    search_fields = ["task", "error"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Every user's API tokens: admins see them and revoke them (the secret is never
    stored, so never shown); only their owner makes them, on their account page."""

    list_display = ["name", "user", "prefix", "scope", "expires_at", "last_used_at",
                    "created_at", "revoked_at"]  # fmt: skip
    list_filter = ["scope", "revoked_at", "created_at"]
    search_fields = ["name", "prefix", "user__username"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    exclude = ["secret_hash"]
    actions = ["revoke"]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # revoked, not deleted: the list and the audit log keep it

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        tokens = list(queryset.filter(revoked_at__isnull=True).select_related("user"))
        for token in tokens:
            api_token_revoke(token=token, by=request.user, request=request)  # type: ignore[arg-type]
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", len(tokens))
            % {"count": len(tokens)},
            messages.SUCCESS,
        )


@admin.register(DomainEvent)
class DomainEventAdmin(admin.ModelAdmin):
    """What the services recorded for webhooks: read-only, like the audit log."""

    list_display = ["occurred_at", "type", "object_type", "object_id", "uuid"]
    list_filter = ["type", "object_type", "occurred_at"]
    search_fields = ["uuid", "object_id"]
    date_hierarchy = "occurred_at"
    readonly_fields = ["uuid", "type", "occurred_at", "object_type", "object_id", "data"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["name", "content_type", "size", "owner_type", "owner_id", "created_at"]
    list_filter = ["owner_type", "content_type"]
    search_fields = ["name", "sha256"]
    readonly_fields = [field.name for field in Attachment._meta.fields]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "kind", "text", "actor", "read_at", "emailed_at"]
    readonly_fields = ["message", "params"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["text", "recipient__username", "key"]
    date_hierarchy = "created_at"
    raw_id_fields = ["recipient", "actor"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "delivery"]
    list_filter = ["kind", "delivery"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "language", "phone", "job_title"]
    list_filter = ["language"]
    search_fields = ["user__username", "phone", "job_title"]
    raw_id_fields = ["user"]
