from django.contrib import admin

from service.models import (
    ArticleCategory,
    ArticleTranslation,
    CategoryTranslation,
    Escalation,
    Holiday,
    KnowledgeArticle,
    Macro,
    ReplyDraft,
    SatisfactionResponse,
    SLAPolicy,
    SuggestionOpen,
    Team,
    Ticket,
    TicketMessage,
)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "manager"]
    search_fields = ["name"]
    raw_id_fields = ["manager"]
    filter_horizontal = ["members"]


@admin.register(SLAPolicy)
class SLAPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "priority",
        "first_response_minutes",
        "resolution_minutes",
        "business_hours_only",
        "at_risk_percent",
        "raise_priority_on_breach",
    ]
    list_filter = ["business_hours_only", "raise_priority_on_breach"]


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name"]
    search_fields = ["name"]
    date_hierarchy = "date"


class TicketMessageInline(admin.TabularInline):
    model = TicketMessage
    extra = 0
    raw_id_fields = ["author"]
    fields = ["created_at", "kind", "from_customer", "author", "body"]


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "subject",
        "customer",
        "status",
        "priority",
        "category",
        "channel",
        "assignee",
        "team",
        "resolution_due",
        "created_at",
    ]
    list_filter = ["status", "priority", "category", "channel", "team"]
    search_fields = ["subject", "customer__name", "customer__email", "requester_email"]
    raw_id_fields = ["customer", "contact", "assignee"]
    autocomplete_fields = ["tags"]
    list_select_related = ["customer", "assignee", "team"]
    readonly_fields = [
        "version",
        "created_at",
        "updated_at",
        # The SLA clock is kept by service.services (priority changes there recompute it).
        "first_response_due",
        "resolution_due",
        "first_response_at_risk_at",
        "resolution_at_risk_at",
        "sla_paused_minutes",
    ]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [TicketMessageInline]


@admin.register(TicketMessage)
class TicketMessageAdmin(admin.ModelAdmin):
    list_display = ["ticket", "kind", "from_customer", "via_email", "author", "created_at"]
    list_filter = ["kind", "from_customer", "via_email"]
    search_fields = ["body", "ticket__subject", "=email_message_id"]
    raw_id_fields = ["ticket", "author"]
    list_select_related = ["author"]
    show_full_result_count = False


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ["ticket", "target", "level", "due_at", "created_at"]
    list_filter = ["target", "level"]
    search_fields = ["ticket__subject"]
    raw_id_fields = ["ticket"]
    date_hierarchy = "created_at"
    show_full_result_count = False


class CategoryTranslationInline(admin.TabularInline):
    model = CategoryTranslation
    extra = 1


@admin.register(ArticleCategory)
class ArticleCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "order"]
    search_fields = ["name", "translations__name"]
    inlines = [CategoryTranslationInline]


@admin.register(ArticleTranslation)
class ArticleTranslationAdmin(admin.ModelAdmin):
    list_display = ["title", "article", "language", "is_published", "updated_at"]
    list_filter = ["language", "is_published"]
    search_fields = ["title", "body", "article__title"]
    raw_id_fields = ["article"]
    list_select_related = ["article"]


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "category",
        "is_published",
        "helpful_votes",
        "not_helpful_votes",
        "view_count",
        "updated_at",
    ]
    list_filter = ["is_published", "language", "category"]
    search_fields = ["title", "body"]
    raw_id_fields = ["author"]
    list_select_related = ["category"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(SuggestionOpen)
class SuggestionOpenAdmin(admin.ModelAdmin):
    list_display = ["article", "ticket_followed", "created_at"]
    list_filter = ["ticket_followed"]
    search_fields = ["article__title"]
    raw_id_fields = ["article"]


@admin.register(SatisfactionResponse)
class SatisfactionResponseAdmin(admin.ModelAdmin):
    list_display = ["ticket", "score", "created_at"]
    list_filter = ["score"]
    search_fields = ["ticket__subject", "comment"]
    raw_id_fields = ["ticket"]
    date_hierarchy = "created_at"


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "set_status", "set_priority", "set_assignee", "updated_at"]
    list_filter = ["set_status", "set_priority", ("owner", admin.EmptyFieldListFilter)]
    search_fields = ["name", "body", "owner__username"]
    raw_id_fields = ["owner", "set_assignee"]
    filter_horizontal = ["add_tags"]


@admin.register(ReplyDraft)
class ReplyDraftAdmin(admin.ModelAdmin):
    list_display = ["ticket", "author", "internal", "updated_at"]
    list_filter = ["internal", "updated_at"]
    search_fields = ["ticket__number", "author__username", "body"]
    raw_id_fields = ["ticket", "author"]
