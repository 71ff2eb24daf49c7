"""What the global search finds among deals (crm.lib.search): title or customer name."""

from django.utils.translation import gettext_lazy as _

from crm.lib.search import (
    SearchHit,
    SearchSource,
    User,
    matching_any,
    register_search_source,
    search_words,
)
from sales.models import Deal
from sales.selectors import deals_visible_to


def _holding(word: str):
    return matching_any(
        Deal.objects.filter(title__icontains=word).values("pk"),
        Deal.objects.filter(customer__name__icontains=word).values("pk"),
    )


def _deals(user: User, text: str, limit: int) -> list[SearchHit]:
    deals = deals_visible_to(user)
    for word in search_words(text):
        deals = deals.filter(pk__in=_holding(word))
    deals = deals.select_related("customer", "stage").order_by("-updated_at", "-id")
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
