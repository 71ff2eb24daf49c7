"""The customer list's filters, sort orders and search."""

import django_filters
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, Tag
from customers.selectors import customer_owners, search_customers


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_search")
    mine = django_filters.BooleanFilter(
        label=_("Only mine"), method="filter_mine", widget=django_filters.widgets.BooleanWidget
    )
    stage = django_filters.MultipleChoiceFilter(label=_("Stage"), choices=Customer.Stage.choices)
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=customer_owners())
    tags = django_filters.ModelMultipleChoiceFilter(
        label=_("Tags"), queryset=Tag.objects.all(), method="filter_tags"
    )
    region = django_filters.CharFilter(label=_("Region"), lookup_expr="iexact")
    industry = django_filters.CharFilter(label=_("Industry"), lookup_expr="iexact")
    source = django_filters.ChoiceFilter(label=_("Source"), choices=Customer.Source.choices)
    is_key_account = django_filters.BooleanFilter(label=_("Key account"))
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=Customer.Kind.choices)
    sort = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields=(
            ("name", "name"),
            ("updated_at", "updated"),
            ("created_at", "created"),
            ("region", "region"),
        ),
        field_labels={
            "name": _("Name"),
            "updated_at": _("Last updated"),
            "created_at": _("Created"),
            "region": _("Region"),
        },
    )

    class Meta:
        model = Customer
        fields = [
            "q",
            "mine",
            "stage",
            "owner",
            "tags",
            "region",
            "industry",
            "source",
            "is_key_account",
            "kind",
        ]

    def filter_search(self, queryset, name, value):
        return search_customers(queryset, value)

    def filter_mine(self, queryset, name, value):
        if value:
            return queryset.filter(owner=self.request.user)
        return queryset

    def filter_tags(self, queryset, name, value):
        if not value:
            return queryset
        tagged = Customer.tags.through.objects.filter(tag__in=value).values("customer_id")
        return queryset.filter(pk__in=tagged)
