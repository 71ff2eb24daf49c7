from django.contrib import admin
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from customers.models import (
    CalendarFeed,
    Consent,
    Contact,
    Customer,
    CustomerImport,
    CustomerMerge,
    DuplicateDismissal,
    Interaction,
    SavedView,
    Tag,
    Task,
)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0


class ConsentInline(admin.TabularInline):
    model = Consent
    extra = 0


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "kind",
        "stage",
        "owner",
        "email",
        "phone",
        "region",
        "is_key_account",
        "updated_at",
    ]
    list_filter = [
        "stage",
        "kind",
        "source",
        "is_key_account",
        "preferred_channel",
        "language",
        "tags",
        "owner",
    ]
    search_fields = ["name", "organization", "email", "phone", "external_id"]
    list_select_related = ["owner"]
    autocomplete_fields = ["tags"]
    raw_id_fields = ["owner"]
    # The bounce flag is the bounces mailbox's observation (marketing.services.feedback);
    # correcting the address clears it.
    readonly_fields = ["version", "created_at", "updated_at", "email_bounced", "email_bounced_at"]
    inlines = [ContactInline, ConsentInline]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "customer", "job_title", "email", "phone", "is_primary"]
    search_fields = ["name", "email", "phone", "customer__name"]
    list_filter = ["is_primary"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "customer", "channel", "direction", "logged_by"]
    list_filter = ["channel", "direction"]
    search_fields = ["summary", "customer__name", "=message_id", "=thread"]
    raw_id_fields = ["customer", "contact", "logged_by", "attendees", "attendee_contacts"]
    list_select_related = ["customer", "logged_by"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["title", "customer", "assignee", "due_date", "due_time", "reminder", "done"]
    list_filter = ["done", "due_date", "reminder"]
    search_fields = ["title", "customer__name"]
    raw_id_fields = ["customer", "assignee", "created_by"]
    list_select_related = ["customer", "assignee"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Raising the version here resets a user's calendar link (the old one answers 404)."""

    list_display = ["user", "version", "reset_at"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
    list_filter = ["reset_at"]


@admin.register(Consent)
class ConsentAdmin(SimpleHistoryAdmin):
    list_display = ["customer", "channel", "granted", "changed_at", "source"]
    list_filter = ["channel", "granted"]
    search_fields = ["customer__name", "customer__email"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "query", "created_at"]
    search_fields = ["name", "user__username"]
    raw_id_fields = ["user"]


@admin.register(CustomerImport)
class CustomerImportAdmin(admin.ModelAdmin):
    list_display = [
        "file_name",
        "user",
        "created_at",
        "status",
        "mode",
        "row_count",
        "created_count",
        "updated_count",
        "failed_count",
        "applied_at",
    ]
    list_filter = ["status", "mode", "created_at"]
    search_fields = ["file_name", "user__username"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"
    # The file can be megabytes: show its start instead of a huge text box.
    exclude = ["text"]
    readonly_fields = ["created_at", "text_start"]

    @admin.display(description=_("file contents (start)"))
    def text_start(self, obj):
        return Truncator(obj.text).chars(5000)


@admin.register(DuplicateDismissal)
class DuplicateDismissalAdmin(admin.ModelAdmin):
    list_display = ["first", "second", "dismissed_by", "dismissed_at"]
    list_filter = ["dismissed_at"]
    search_fields = ["first__name", "second__name", "dismissed_by__username"]
    raw_id_fields = ["first", "second", "dismissed_by"]
    list_select_related = ["first", "second", "dismissed_by"]


@admin.register(CustomerMerge)
class CustomerMergeAdmin(admin.ModelAdmin):
    list_display = ["customer", "duplicate_id", "duplicate_name", "merged_by", "merged_at"]
    list_filter = ["merged_at"]
    search_fields = ["customer__name", "duplicate_name", "merged_by__username"]
    raw_id_fields = ["customer", "merged_by"]
    list_select_related = ["customer", "merged_by"]
    date_hierarchy = "merged_at"
