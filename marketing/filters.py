"""The campaign list's filters, sort orders and search."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from crm.lib.forms import reject_nul
from customers.filters import StableOrderingFilter
from marketing.models import Campaign, CampaignChannel


class CampaignFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        field_name="name",
        lookup_expr="icontains",
        max_length=200,
        validators=[reject_nul],
    )
    mine = django_filters.BooleanFilter(
        label=_("Only my campaigns"),
        method="filter_mine",
        widget=forms.CheckboxInput(attrs={"value": "true"}),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Campaign.Status.choices, empty_label=_("Any")
    )
    channel = django_filters.ChoiceFilter(
        label=_("Channel"), choices=CampaignChannel.choices, empty_label=_("Any")
    )
    sort = StableOrderingFilter(
        label=_("Sort by"),
        fields=(
            ("created_at", "created"),
            ("name", "name"),
            ("starts_on", "starts"),
            ("budget", "budget"),
        ),
        empty_label=_("Newest first"),
        field_labels={
            "created_at": _("Created"),
            "name": _("Name"),
            "starts_on": _("Start date"),
            "budget": _("Budget"),
            "-created": _("Created (descending)"),
            "-name": _("Name (descending)"),
            "-starts": _("Start date (descending)"),
            "-budget": _("Budget (descending)"),
        },
    )

    class Meta:
        model = Campaign
        fields = ["q", "mine", "status", "channel"]

    def filter_mine(self, queryset, name, value):
        return queryset.filter(owner=self.request.user) if value else queryset
