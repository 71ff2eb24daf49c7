"""What analytics adds to other apps' pages (registered from AnalyticsConfig.ready):

- the 360° page's "Value and segment" panel (crm.lib.panels);
- the customer list's segment, predicted-LTV and probability-alive filters and columns
  (crm.lib.list_extensions), so `customers` never imports analytics.

Money follows the report permission (issue 13): the predicted-LTV column and filters are a
separate extension that needs analytics.view_value_report, so a rep (segments only) gets
neither the column nor a filter that would tell values apart (?ltv_min=... is ignored).

The filters are semi-joins on the current run's rows, found by its id (a scalar subquery,
no join): for the segment an index-only scan of the (run, segment, customer) index. The
columns are three lookups per shown row on the (run, customer) index, inside the list's
own query: no query is added to the page.
"""

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from analytics.csv_export import display
from analytics.models import CustomerValue, Segment, SegmentRun, SegmentSummary
from crm.lib.list_extensions import (
    CUSTOMER_LIST,
    Cell,
    Column,
    ListExtension,
    register_list_extension,
)
from crm.lib.panels import CUSTOMER_PAGE, Panel, register_panel

SEGMENT_COLUMN = Column(_("Segment"), "d-none d-lg-table-cell")
LTV_COLUMN = Column(_("LTV"), "text-end d-none d-xxl-table-cell")
ALIVE_COLUMN = Column(_("P(alive)"), "text-end d-none d-xxl-table-cell")
SEGMENTS_PERMISSION = "analytics.view_customervalue"
MONEY_PERMISSION = "analytics.view_value_report"


def register_analytics_panels() -> None:
    from analytics.views.dashboards import CUSTOMER_VALUE_PANEL, customer_value_context

    register_panel(
        CUSTOMER_PAGE,
        Panel(
            title=_("Value and segment"),
            url_name="analytics:customer-value-panel",
            permission="analytics.view_customervalue",
            order=40,
            template=CUSTOMER_VALUE_PANEL,
            context=customer_value_context,  # one row of the current run, five recommendations
        ),
    )
    # Three extensions, in the order their columns appear; the middle one is money.
    register_list_extension(
        CUSTOMER_LIST,
        ListExtension(
            name="analytics",
            permission=SEGMENTS_PERMISSION,
            filters=segment_filters,
            columns=(SEGMENT_COLUMN,),
            annotate=segment_annotations,
            cells=segment_cells,
            count=customer_count,
        ),
    )
    register_list_extension(
        CUSTOMER_LIST,
        ListExtension(
            name="analytics-value",
            permission=MONEY_PERMISSION,
            filters=value_filters,
            columns=(LTV_COLUMN,),
            annotate=value_annotations,
            cells=value_cells,
        ),
    )
    register_list_extension(
        CUSTOMER_LIST,
        ListExtension(
            name="analytics-alive",
            permission=SEGMENTS_PERMISSION,
            filters=alive_filters,
            columns=(ALIVE_COLUMN,),
            annotate=alive_annotations,
            cells=alive_cells,
        ),
    )


def current_run_id():
    """The current run's id as a scalar subquery: evaluated once per query (an InitPlan),
    with no join and no query of its own."""
    return Subquery(SegmentRun.objects.filter(is_current=True).order_by().values("pk")[:1])


def _current_values(**lookups):
    """Rows of the current run: `run_id = (SELECT id ... WHERE is_current)`. Joining the run
    instead made PostgreSQL read every run's rows of the segment (a second of the
    customer list's count at 1M customers); by id it is an index-only scan of one run."""
    return CustomerValue.objects.filter(run_id=current_run_id(), **lookups)


class _RunFilter:
    """A filter `method`: customers whose current-run values match `lookup`."""

    def __init__(self, lookup: str, scale: Decimal | None = None):
        self.lookup, self.scale = lookup, scale

    def __call__(self, queryset, name, value):
        if value in (None, ""):
            return queryset
        if self.scale is not None:
            value = float(value / self.scale)
        matching = _current_values(**{self.lookup: value}).values("customer_id")
        filtered = queryset.filter(pk__in=matching)
        if self.lookup == "segment" and _unfiltered(queryset):
            # Every customer of the segment is listed: customer_count() can tell how many.
            filtered.query.analytics_whole_segment = value
        return filtered


def _unfiltered(queryset) -> bool:
    query = queryset.query
    return not (query.where or query.distinct or query.combinator or query.is_sliced)


def customer_count(queryset) -> int | None:
    """The list's length when it is exactly one segment of the current run, else None.

    Counting a segment of 300,000 customers means a semi-join of that many ids with the
    customer table (150-250 ms at 1M customers, whatever the plan); the run stored each
    segment's size (SegmentSummary), and every row of a run is an existing customer
    (deleting a customer deletes its rows). One small query (the run's at most 11
    summaries) instead of the COUNT(*).
    Only when the segment filter is the list's only condition: a second filter (search,
    owner, LTV, ...) adds a condition to the WHERE and the list counts as usual.
    """
    query = queryset.query
    segment = getattr(query, "analytics_whole_segment", None)
    if segment is None or len(query.where.children) != 1 or query.where.negated:
        return None
    if query.distinct or query.combinator or query.is_sliced:
        return None
    sizes = dict(
        SegmentSummary.objects.filter(run_id=current_run_id()).values_list("segment", "customers")
    )
    if not sizes:  # a run without summaries (finish() never publishes one): count the list
        return None
    return sizes.get(segment, 0)  # a segment nobody is in has no summary


def _amount(label, lookup):
    return django_filters.NumberFilter(
        method=_RunFilter(lookup),
        label=label,
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0"}),
    )


def _percent(label, lookup):
    return django_filters.NumberFilter(
        method=_RunFilter(lookup, scale=Decimal("100")),
        label=label,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=5,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "max": "100"}),
    )


def segment_filters() -> dict:
    """Fresh filters for one CustomerFilter (each is bound to its filterset)."""
    return {
        "segment": django_filters.ChoiceFilter(
            method=_RunFilter("segment"),
            label=_("Segment"),
            choices=Segment.choices,
            empty_label=_("Any"),
        ),
    }


def value_filters() -> dict:
    return {
        "ltv_min": _amount(_("Predicted value from"), "predicted_ltv__gte"),
        "ltv_max": _amount(_("Predicted value up to"), "predicted_ltv__lte"),
    }


def alive_filters() -> dict:
    return {
        "alive_min": _percent(_("Probability alive from (%)"), "probability_alive__gte"),
        "alive_max": _percent(_("Probability alive up to (%)"), "probability_alive__lte"),
    }


def _current(field: str) -> Subquery:
    """The current run's `field` for the row's customer, inside the list's own query."""
    return Subquery(_current_values(customer=OuterRef("pk")).values(field)[:1])


def segment_annotations(queryset):
    return queryset.annotate(analytics_segment=_current("segment"))


def value_annotations(queryset):
    return queryset.annotate(analytics_ltv=_current("predicted_ltv"))


def alive_annotations(queryset):
    return queryset.annotate(analytics_alive=_current("probability_alive"))


def segment_cells(customer) -> list[Cell] | None:
    segment = customer.analytics_segment
    if not segment:
        return None
    list_url = reverse("customers:customer-list")
    label = str(dict(Segment.choices).get(segment, segment))
    return [Cell(label, url=f"{list_url}?segment={segment}", css_class=SEGMENT_COLUMN.css_class)]


def value_cells(customer) -> list[Cell] | None:
    if customer.analytics_ltv is None:
        return None
    return [Cell(display("money", customer.analytics_ltv), css_class=LTV_COLUMN.css_class)]


def alive_cells(customer) -> list[Cell] | None:
    if customer.analytics_alive is None:
        return None
    return [Cell(display("percent", customer.analytics_alive), css_class=ALIVE_COLUMN.css_class)]
