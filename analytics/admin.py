"""Django admin for the analytics models: results are read-only (runs write them)."""

from django.contrib import admin

from analytics.models import (
    CustomerStats,
    CustomerValue,
    ProductAffinity,
    Recommendation,
    SegmentMigration,
    SegmentRun,
    SegmentSummary,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SegmentRun)
class SegmentRunAdmin(ReadOnlyAdmin):
    list_display = [
        *["id", "as_of", "status", "is_current", "customers", "progress", "created_at"],
        "details_pruned_at",
    ]
    list_filter = ["status", "is_current"]
    date_hierarchy = "created_at"
    search_fields = ["error"]

    def has_delete_permission(self, request, obj=None):
        # A run being written, or the current one, must not disappear under the readers.
        return obj is None or not (obj.is_current or obj.is_active)


@admin.register(CustomerValue)
class CustomerValueAdmin(ReadOnlyAdmin):
    list_display = [
        "customer", "run", "segment", "r_score", "f_score", "m_score", "revenue",
        "probability_alive", "predicted_ltv",
    ]  # fmt: skip
    list_filter = ["segment", "run__is_current"]
    list_select_related = ["customer", "run"]
    search_fields = ["customer__name", "customer__email"]
    raw_id_fields = ["customer", "run"]
    show_full_result_count = False


@admin.register(SegmentSummary)
class SegmentSummaryAdmin(ReadOnlyAdmin):
    list_display = ["run", "segment", "customers", "revenue", "average_ltv"]
    list_filter = ["segment"]
    list_select_related = ["run"]


@admin.register(SegmentMigration)
class SegmentMigrationAdmin(ReadOnlyAdmin):
    list_display = ["run", "from_segment", "to_segment", "customers"]
    list_filter = ["to_segment"]
    list_select_related = ["run"]


@admin.register(ProductAffinity)
class ProductAffinityAdmin(ReadOnlyAdmin):
    list_display = ["run", "product", "related", "score", "customers"]
    list_select_related = ["run", "product", "related"]
    search_fields = ["product__name", "product__sku"]
    raw_id_fields = ["product", "related", "run"]
    show_full_result_count = False


@admin.register(Recommendation)
class RecommendationAdmin(ReadOnlyAdmin):
    list_display = ["customer", "run", "rank", "product", "score"]
    list_select_related = ["customer", "run", "product"]
    search_fields = ["customer__name"]
    raw_id_fields = ["customer", "product", "run"]
    show_full_result_count = False


@admin.register(CustomerStats)
class CustomerStatsAdmin(ReadOnlyAdmin):
    list_display = ["run", "customer_id", "first_day", "last_day", "purchase_days", "orders"]
    show_full_result_count = False
