"""The customer list's filters, sort orders and search."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from crm.lib.list_extensions import CUSTOMER_LIST, extra_filters
from crm.lib.paging import with_deep_paging
from crm.lib.params import BoundedModelChoiceFilter, BoundedModelMultipleChoiceFilter
from customers.models import Customer, Tag
from customers.selectors import customer_owners, search_customers


class AnyYesNoWidget(django_filters.widgets.BooleanWidget):
    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = (("", _("Any")), ("true", _("Yes")), ("false", _("No")))


class StableOrderingFilter(django_filters.OrderingFilter):
    """Sorts with tie-breakers (region, then name; then id) in the chosen direction.

    Without them rows that tie (every customer of a region) come in whatever order the
    plan yields, which may differ between pages: rows repeat or go missing. The model's
    indexes cover each order with its tie-breakers.
    """

    TIE_BREAKERS = {"region": ["name", "id"]}

    def filter(self, qs, value):
        qs = super().filter(qs, value)
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        ordering = list(qs.query.order_by)
        if not ordering or not all(isinstance(field, str) for field in ordering):
            return qs
        last = ordering[-1]
        descending = last.startswith("-")
        used = {field.lstrip("-") for field in ordering}
        for field in self.TIE_BREAKERS.get(last.lstrip("-"), ["id"]):
            if field not in used:
                ordering.append(f"-{field}" if descending else field)
        return qs.order_by(*ordering)


class CustomerFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_search")
    mine = django_filters.BooleanFilter(
        label=_("Only my customers"),
        method="filter_mine",
        widget=forms.CheckboxInput(attrs={"value": "true"}),
    )
    stage = django_filters.MultipleChoiceFilter(
        label=_("Stage"),
        choices=Customer.Stage.choices,
        distinct=False,
        widget=forms.CheckboxSelectMultiple,
        method="filter_stage",
    )
    owner = BoundedModelChoiceFilter(
        label=_("Owner"), queryset=customer_owners(), empty_label=_("Any")
    )
    tags = BoundedModelMultipleChoiceFilter(
        label=_("Tags"),
        queryset=Tag.objects.all(),
        method="filter_tags",
        widget=forms.CheckboxSelectMultiple,
    )
    region = django_filters.CharFilter(label=_("Region"), lookup_expr="iexact")
    industry = django_filters.CharFilter(label=_("Industry"), lookup_expr="iexact")
    source = django_filters.ChoiceFilter(
        label=_("Source"), choices=Customer.Source.choices, empty_label=_("Any")
    )
    is_key_account = django_filters.BooleanFilter(label=_("Key account"), widget=AnyYesNoWidget)
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=Customer.Kind.choices, empty_label=_("Any")
    )
    sort = StableOrderingFilter(
        label=_("Sort by"),
        fields=(
            ("name", "name"),
            ("updated_at", "updated"),
            ("created_at", "created"),
            ("region", "region"),
        ),
        empty_label=_("Name"),
        field_labels={
            "name": _("Name"),
            "updated_at": _("Last updated"),
            "created_at": _("Created"),
            "region": _("Region"),
            # Given here, not built from descending_fmt: django-filter formats those labels
            # once at import, so they would never be translated.
            "-name": _("Name (descending)"),
            "-updated": _("Last updated (descending)"),
            "-created": _("Created (descending)"),
            "-region": _("Region (descending)"),
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Filters other apps register (analytics: segment, LTV, probability alive).
        user = getattr(self.request, "user", None)
        if user is not None:
            for name, extra in extra_filters(CUSTOMER_LIST, user).items():
                extra.parent = self
                self.filters[name] = extra
            # Keep the sort order last in the form (the API's subclass has none).
            if "sort" in self.filters:
                self.filters["sort"] = self.filters.pop("sort")

    @property
    def qs(self):
        """The filtered customers; a deep page of them is read by id (DeepPagingQuerySet)."""
        if not hasattr(self, "_paged_qs"):
            self._paged_qs = with_deep_paging(super().qs)
        return self._paged_qs

    def filter_search(self, queryset, name, value):
        return search_customers(queryset, value)

    def filter_stage(self, queryset, name, value):
        # stage IN (...), which the (stage, name, id) index answers; the default
        # stage = a OR stage = b made PostgreSQL count by reading the whole table (18 ms -> 3 ms).
        return queryset.filter(stage__in=value) if value else queryset

    def filter_mine(self, queryset, name, value):
        if value:
            return queryset.filter(owner=self.request.user)
        return queryset

    def filter_tags(self, queryset, name, value):
        if not value:
            return queryset
        tagged = Customer.tags.through.objects.filter(tag__in=value).values("customer_id")
        return queryset.filter(pk__in=tagged)
