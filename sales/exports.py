"""The deal export (registered with crm.lib.exports): the filtered deal list, within the
role's deals (a rep their own, a manager every deal: deals_visible_to)."""

from collections.abc import Iterator
from itertools import chain
from types import SimpleNamespace

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.lib.csv_export import Row
from crm.lib.exports import ExportSource, ExportTable, register_export
from sales.filters import DealFilter
from sales.models import Deal
from sales.selectors import deals_visible_to

SOURCE = "deals"
EXPORT_COLUMNS = [
    "id",
    "title",
    "customer",
    "amount",
    "currency",
    "stage",
    "probability",
    "status",
    "expected_close_date",
    "owner",
    "lost_reason",
    "closed_at",
]


def _export_row(deal: Deal) -> list[object]:
    return [
        deal.pk,
        deal.title,
        deal.customer.name,
        deal.amount,
        deal.currency,
        deal.stage.name,
        deal.probability,
        deal.status,
        deal.expected_close_date.isoformat(),
        deal.owner.get_username(),
        deal.lost_reason,
        deal.closed_at.isoformat() if deal.closed_at else "",
    ]


def build_deal_export(user: User | AnonymousUser, params: QueryDict) -> ExportTable:
    if not user.has_perm("sales.view_deal"):
        raise PermissionDenied
    request = SimpleNamespace(user=user)  # the filterset reads the user from its request
    deals = DealFilter(params, queryset=deals_visible_to(user), request=request).qs

    def lines() -> Iterator[Row]:
        rows = deals.select_related("customer", "owner", "stage").order_by("pk")
        return chain([EXPORT_COLUMNS], (_export_row(d) for d in rows.iterator(chunk_size=2000)))

    return ExportTable(
        source=SOURCE,
        filename=f"deals-{timezone.localdate():%Y%m%d}.csv",
        model=Deal,
        params=params,
        count=deals.count,
        lines=lines,
        detail={"filter": params.urlencode()[:500]},
    )


def register_deal_export() -> None:
    register_export(ExportSource(SOURCE, _("Deals"), build_deal_export))
