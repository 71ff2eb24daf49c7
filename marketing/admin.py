from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from marketing.models import (
    Campaign,
    CampaignRecipient,
    LeadSubmission,
    LoyaltyAccount,
    LoyaltyEntry,
    LoyaltyRule,
    LoyaltyTier,
    SubjectTest,
)
from marketing.services.loyalty import loyalty_refresh_queue


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "channel",
        "status",
        "owner",
        "starts_on",
        "ends_on",
        "send_at",
        "budget",
    ]
    list_filter = ["channel", "status"]
    search_fields = ["name", "subject", "form_title"]
    raw_id_fields = ["owner"]
    date_hierarchy = "created_at"


@admin.register(SubjectTest)
class SubjectTestAdmin(admin.ModelAdmin):
    list_display = ["campaign", "subject_b", "sample_percent", "metric", "wait_hours", "winner"]
    list_filter = ["metric", "winner", "reason"]
    search_fields = ["subject_b", "campaign__name", "campaign__subject"]
    raw_id_fields = ["campaign"]
    list_select_related = ["campaign"]
    readonly_fields = ["winner", "reason", "decided_at"]


@admin.register(CampaignRecipient)
class CampaignRecipientAdmin(admin.ModelAdmin):
    list_display = [
        "campaign",
        "customer",
        "status",
        "attempts",
        "coupon_code",
        "outcome",
        "bounce_kind",
        "open_count",
        "click_count",
        "variant",
    ]
    list_filter = ["status", "outcome", "bounce_kind", "variant"]
    search_fields = ["coupon_code", "customer__name", "campaign__name"]
    raw_id_fields = ["campaign", "customer", "conversion_order"]
    list_select_related = ["campaign", "customer"]


@admin.register(LeadSubmission)
class LeadSubmissionAdmin(admin.ModelAdmin):
    """Read-only: a submission is written by the form and confirmed by its visitor only."""

    list_display = ["email", "name", "campaign", "submitted_at", "confirmed_at"]
    list_filter = ["confirmed_at"]
    search_fields = ["email", "name", "campaign__name"]
    raw_id_fields = ["campaign", "customer"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(LoyaltyRule)
class LoyaltyRuleAdmin(admin.ModelAdmin):
    list_display = ["__str__", "minimum_order_total", "is_active"]


@admin.register(LoyaltyTier)
class LoyaltyTierAdmin(admin.ModelAdmin):
    """Changing the tiers re-tiers every account in the background (marketing.tasks)."""

    list_display = ["name", "rank", "minimum_points", "minimum_spend"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _refresh_tiers_after_commit(request)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _refresh_tiers_after_commit(request)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        _refresh_tiers_after_commit(request)


def _refresh_tiers_after_commit(request: HttpRequest) -> None:
    loyalty_refresh_queue()
    messages.info(request, _("Every customer's tier is being recalculated in the background."))


@admin.register(LoyaltyAccount)
class LoyaltyAccountAdmin(admin.ModelAdmin):
    """Read-only: the balance is the ledger's sum; change it with a loyalty entry."""

    list_display = ["customer", "balance", "earned", "spend_12m", "tier"]
    list_filter = ["tier"]
    search_fields = ["customer__name"]
    list_select_related = ["customer", "tier"]
    readonly_fields = ["customer", "balance", "earned", "spend_12m", "tier", "refreshed_at"]

    def has_add_permission(self, request):
        return False


@admin.register(LoyaltyEntry)
class LoyaltyEntryAdmin(admin.ModelAdmin):
    """Read-only: entries are written by marketing.services.loyalty, which keeps the balance."""

    list_display = ["customer", "kind", "points", "reason", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["customer__name", "reason"]
    list_select_related = ["customer", "created_by"]
    readonly_fields = ["customer", "kind", "points", "reason", "order", "created_by", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
