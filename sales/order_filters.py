"""The order list's filters: channel, date range, customer search, coupon code."""

import django_filters
from django.utils.translation import gettext_lazy as _

from crm.lib.forms import DateInput, reject_nul
from customers.models import Customer
from customers.selectors import search_customers
from sales.models import Order


class OrderFilter(django_filters.FilterSet):
    customer = django_filters.CharFilter(
        label=_("Customer"), method="filter_customer", max_length=200, validators=[reject_nul]
    )
    channel = django_filters.ChoiceFilter(
        label=_("Channel"), choices=Order.Channel.choices, empty_label=_("Any channel")
    )
    date_from = django_filters.DateFilter(
        label=_("From"), field_name="ordered_at", lookup_expr="date__gte", widget=DateInput()
    )
    date_to = django_filters.DateFilter(
        label=_("To"), field_name="ordered_at", lookup_expr="date__lte", widget=DateInput()
    )
    coupon = django_filters.CharFilter(
        label=_("Coupon code"),
        field_name="coupon_code",
        lookup_expr="iexact",
        max_length=50,
        validators=[reject_nul],
    )

    class Meta:
        model = Order
        fields: list[str] = []

    def filter_customer(self, queryset, name, value):
        matches = search_customers(Customer.objects.all(), value)
        return queryset.filter(customer__in=matches.values("pk"))
