from django.contrib import admin

from sales.models import (
    CompanyDetails,
    CustomerOrderStats,
    Deal,
    DealStageChange,
    Order,
    OrderImport,
    OrderLine,
    Pipeline,
    Product,
    Quota,
    Quote,
    QuoteLine,
    Stage,
)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "unit_price", "tax_rate", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["sku", "name"]


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default"]
    inlines = [StageInline]


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ["name", "pipeline", "order", "probability", "is_won", "is_lost"]
    list_filter = ["pipeline", "is_won", "is_lost"]


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "customer",
        "amount",
        "currency",
        "stage",
        "probability",
        "status",
        "owner",
        "expected_close_date",
    ]
    list_filter = ["status", "pipeline", "stage", "owner"]
    search_fields = ["title", "customer__name"]
    raw_id_fields = ["customer", "contact", "owner", "next_step"]
    list_select_related = ["customer", "stage", "owner"]
    readonly_fields = ["version", "created_at", "updated_at"]
    date_hierarchy = "expected_close_date"
    show_full_result_count = False


@admin.register(DealStageChange)
class DealStageChangeAdmin(admin.ModelAdmin):
    list_display = ["deal", "from_stage", "to_stage", "changed_by", "changed_at"]
    raw_id_fields = ["deal", "changed_by"]
    list_select_related = ["deal", "from_stage", "to_stage", "changed_by"]


class QuoteLineInline(admin.TabularInline):
    model = QuoteLine
    extra = 0
    raw_id_fields = ["product"]


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    list_display = ["number", "deal", "status", "valid_until", "created_at"]
    list_filter = ["status"]
    search_fields = ["number", "deal__title", "deal__customer__name"]
    raw_id_fields = ["deal", "created_by"]
    inlines = [QuoteLineInline]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    raw_id_fields = ["product"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "customer",
        "ordered_at",
        "channel",
        "total",
        "currency",
        "coupon_code",
    ]
    list_filter = ["channel"]
    search_fields = ["number", "customer__name", "coupon_code"]
    raw_id_fields = ["customer", "deal", "quote"]
    list_select_related = ["customer"]
    date_hierarchy = "ordered_at"
    show_full_result_count = False
    inlines = [OrderLineInline]


@admin.register(OrderImport)
class OrderImportAdmin(admin.ModelAdmin):
    list_display = ["file_name", "user", "created_at", "row_count", "status", "created_count"]
    list_filter = ["status"]
    search_fields = ["file_name", "user__username"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "applied_at"]
    date_hierarchy = "created_at"


@admin.register(CustomerOrderStats)
class CustomerOrderStatsAdmin(admin.ModelAdmin):
    """Read-only: database triggers keep it (manage.py rebuild_order_stats recomputes it)."""

    list_display = ["customer", "first_day", "last_day", "purchase_days", "orders", "revenue"]
    search_fields = ["customer__name"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Quota)
class QuotaAdmin(admin.ModelAdmin):
    list_display = ["owner", "month", "amount", "currency", "updated_at"]
    list_filter = ["month", "owner"]
    search_fields = ["owner__username", "owner__first_name", "owner__last_name"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner", "updated_by"]
    date_hierarchy = "month"


@admin.register(CompanyDetails)
class CompanyDetailsAdmin(admin.ModelAdmin):
    """One record: the seller printed on quotes."""

    list_display = ["name", "tax_id", "email", "phone"]
    search_fields = ["name", "tax_id"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not CompanyDetails.objects.exists()
