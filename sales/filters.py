"""The deal list's filters, sort orders and search."""

import re
from datetime import date, datetime, time

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.lib.params import BoundedModelChoiceFilter
from customers.filters import StableOrderingFilter
from sales.models import Deal, Stage
from sales.selectors import deal_owners, stale_deal_condition

_MONTH = re.compile(r"^([12]\d{3})-(0[1-9]|1[0-2])$")
_MAX_AMOUNT = 10**12  # the largest amount a deal can hold (14 digits, 2 decimals)


class DealFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_search", max_length=200)
    mine = django_filters.BooleanFilter(
        label=_("Only my deals"),
        method="filter_mine",
        widget=forms.CheckboxInput(attrs={"value": "true"}),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Deal.Status.choices, empty_label=_("Any")
    )
    stage = BoundedModelChoiceFilter(
        label=_("Stage"),
        queryset=Stage.objects.select_related("pipeline").order_by("pipeline", "order", "id"),
        empty_label=_("Any"),
    )
    owner = BoundedModelChoiceFilter(label=_("Owner"), queryset=deal_owners(), empty_label=_("Any"))
    close_month = django_filters.CharFilter(
        label=_("Expected close month"),
        method="filter_close_month",
        validators=[RegexValidator(_MONTH, _("Enter a month as YYYY-MM."))],
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
    )
    closed_month = django_filters.CharFilter(
        label=_("Closed in month"),
        method="filter_closed_month",
        validators=[RegexValidator(_MONTH, _("Enter a month as YYYY-MM."))],
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}),
    )
    stale = django_filters.BooleanFilter(
        label=_("Only stale deals"),
        method="filter_stale",
        widget=forms.CheckboxInput(attrs={"value": "true"}),
    )
    amount_min = django_filters.NumberFilter(
        label=_("Amount from"),
        field_name="amount",
        lookup_expr="gte",
        min_value=0,
        max_value=_MAX_AMOUNT,
    )
    amount_max = django_filters.NumberFilter(
        label=_("Amount to"),
        field_name="amount",
        lookup_expr="lte",
        min_value=0,
        max_value=_MAX_AMOUNT,
    )
    sort = StableOrderingFilter(
        label=_("Sort by"),
        fields=(
            ("expected_close_date", "close"),
            ("amount", "amount"),
            ("title", "title"),
            ("created_at", "created"),
            ("last_activity_at", "activity"),
        ),
        empty_label=_("Expected close date"),
        field_labels={
            "expected_close_date": _("Expected close date"),
            "amount": _("Amount"),
            "title": _("Title"),
            "created_at": _("Created"),
            "last_activity_at": _("Last activity"),
            "-close": _("Expected close date (descending)"),
            "-amount": _("Amount (descending)"),
            "-title": _("Title (descending)"),
            "-created": _("Created (descending)"),
            "-activity": _("Last activity (descending)"),
        },
    )

    class Meta:
        model = Deal
        fields = [
            "q",
            "mine",
            "status",
            "stage",
            "owner",
            "close_month",
            "closed_month",
            "stale",
            "amount_min",
            "amount_max",
        ]

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        if not request.user.has_perm("sales.view_any_deal"):
            # A rep sees only their own deals; an owner filter would only confuse.
            del self.filters["owner"]
            del self.filters["mine"]

    def filter_search(self, queryset, name, value):
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(Q(title__icontains=term) | Q(customer__name__icontains=term))

    def filter_mine(self, queryset, name, value):
        return queryset.filter(owner=self.request.user) if value else queryset

    def filter_close_month(self, queryset, name, value):
        bounds = _month_bounds(value)
        if bounds is None:
            return queryset
        return queryset.filter(
            expected_close_date__gte=bounds[0], expected_close_date__lt=bounds[1]
        )

    def filter_closed_month(self, queryset, name, value):
        """Deals closed (won or lost) in the month, in the local time zone: the team view's
        "won" bars."""
        bounds = _month_bounds(value)
        if bounds is None:
            return queryset
        tz = timezone.get_current_timezone()
        start, end = (datetime.combine(day, time.min, tzinfo=tz) for day in bounds)
        return queryset.filter(closed_at__gte=start, closed_at__lt=end)

    def filter_stale(self, queryset, name, value):
        return queryset.filter(stale_deal_condition()) if value else queryset


def _month_bounds(value: str | None) -> tuple[date, date] | None:
    """The first day of a YYYY-MM month and of the next one."""
    match = _MONTH.match(value or "")
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)
