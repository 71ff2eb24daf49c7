"""The customer export, scoped by role (issue 13), registered with crm.lib.exports.

- Whoever may change customers exports the full layout (the import's) of the customers
  they may change: a manager every customer, a rep their own.
- Whoever only reads them (a marketer) exports the columns a campaign needs (who, how to
  reach them, on which channels they consented) of every customer they see; no street
  address, organisation, industry, owner or key-account flag.
The list's filter (or the bulk form's selected ids) narrows the rows as the list shows them.
"""

from collections.abc import Iterator
from itertools import chain
from types import SimpleNamespace

from django import forms
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.lib.csv_export import Row
from crm.lib.exports import ExportSource, ExportTable, register_export
from crm.lib.forms import IdListField
from customers.csv_format import COLUMNS, TAG_SEPARATOR, customer_row
from customers.filters import CustomerFilter
from customers.models import Channel, Customer
from customers.selectors import customers_editable_by, customers_visible_to

SOURCE = "customers"
CONSENT_CHANNELS = [Channel.EMAIL, Channel.SMS, Channel.PHONE]
CAMPAIGN_COLUMNS = [
    "external_id",
    "name",
    "email",
    "phone",
    "preferred_channel",
    "stage",
    "region",
    "tags",
    *(f"consent_{channel}" for channel in CONSENT_CHANNELS),
]
FULL, CAMPAIGN = "full", "campaign"


class _SelectedForm(forms.Form):
    id = IdListField(required=False)


def export_layout(user: User | AnonymousUser) -> str:
    return FULL if user.has_perm("customers.change_customer") else CAMPAIGN


def _scope(user: User | AnonymousUser) -> QuerySet[Customer]:
    visible = customers_visible_to(user)
    if export_layout(user) == FULL:
        return visible.filter(pk__in=customers_editable_by(user).values("pk"))
    return visible


def _filtered(user: User | AnonymousUser, params: QueryDict) -> QuerySet[Customer]:
    rows = _scope(user)
    if "id" in params:  # the bulk form's selected rows
        form = _SelectedForm({"id": params.getlist("id")})
        ids = form.cleaned_data["id"] if form.is_valid() else []
        return rows.filter(pk__in=ids[:1000])
    # The filterset reads the user from its request (the "mine" filter, analytics' filters).
    request = SimpleNamespace(user=user)
    return CustomerFilter(params, queryset=rows, request=request).qs


def _campaign_row(customer: Customer) -> list[object]:
    consents = {c.channel: c.granted for c in customer.consents.all()}
    return [
        customer.external_id,
        customer.name,
        customer.email,
        customer.phone,
        customer.preferred_channel,
        customer.stage,
        customer.region,
        TAG_SEPARATOR.join(tag.name for tag in customer.tags.all()),
        *("yes" if consents.get(channel) else "no" for channel in CONSENT_CHANNELS),
    ]


def build_customer_export(user: User | AnonymousUser, params: QueryDict) -> ExportTable:
    if not user.has_perm("customers.export_customers"):
        raise PermissionDenied
    layout = export_layout(user)
    customers = _filtered(user, params)

    def lines() -> Iterator[Row]:
        rows = customers.order_by("pk").prefetch_related("tags")
        if layout == FULL:
            full = rows.select_related("owner").iterator(chunk_size=2000)
            return chain([COLUMNS], (customer_row(c) for c in full))
        campaign = rows.prefetch_related("consents").iterator(chunk_size=2000)
        return chain([CAMPAIGN_COLUMNS], (_campaign_row(c) for c in campaign))

    return ExportTable(
        source=SOURCE,
        filename=f"customers-{timezone.localdate():%Y%m%d}.csv",
        model=Customer,
        params=params,
        count=customers.count,
        lines=lines,
        detail={"filter": params.urlencode()[:500], "layout": layout},
    )


def register_customer_export() -> None:
    register_export(ExportSource(SOURCE, _("Customers"), build_customer_export))
