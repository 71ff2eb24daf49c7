"""Who may see and add the files of deals and quotes (core.attachments): the rules of the
deal and quote pages (sales.selectors), so another rep's deal's file is 404 by URL, and a
service agent or a marketer (no deals) never sees one."""

from typing import Any

from core.attachments import register_attachment_owner
from sales.models import Deal, Quote
from sales.selectors import can_change_deal, can_change_quote


def may_see_deal(user: Any, deal: Deal) -> bool:
    """deals_visible_to()'s rule on a deal already read: no query."""
    if not user.is_authenticated or not user.has_perm("sales.view_deal"):
        return False
    return user.has_perm("sales.view_any_deal") or deal.owner_id == user.pk


def may_see_quote(user: Any, quote: Quote) -> bool:
    """quotes_visible_to()'s rule on a quote already read."""
    return user.has_perm("sales.view_quote") and may_see_deal(user, quote.deal)


def register_sales_attachments() -> None:
    register_attachment_owner(Deal, can_view=may_see_deal, can_add=can_change_deal)  # type: ignore[arg-type]
    register_attachment_owner(Quote, can_view=may_see_quote, can_add=can_change_quote)  # type: ignore[arg-type]
