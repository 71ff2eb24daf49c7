"""What the global search finds among deals (crm.lib.search): title or customer name."""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.lib.search import SearchHit, SearchSource, User, register_search_source, search_words
from sales.models import Deal
from sales.selectors import deals_visible_to


def _deals(user: User, text: str, limit: int) -> list[SearchHit]:
    condition = Q()
    for word in search_words(text):
        condition &= Q(title__icontains=word) | Q(customer__name__icontains=word)
    deals = (
        deals_visible_to(user)
        .filter(condition)
        .select_related("customer", "stage")
        .order_by("-updated_at", "-id")
    )
    return [
        SearchHit(title=deal.title, detail=_detail(deal), url=deal.get_absolute_url())
        for deal in deals[:limit]
    ]


def _detail(deal: Deal) -> str:
    """Customer, stage and status, the status left out when the stage's name says it
    ("Northwind · Won · Won" said it twice)."""
    parts = [deal.customer.name, str(deal.stage)]
    status = str(deal.get_status_display())
    if status != parts[-1]:
        parts.append(status)
    return " · ".join(parts)


def register_deal_search() -> None:
    register_search_source(SearchSource("deals", _("Deals"), "sales.view_deal", _deals, order=30))
