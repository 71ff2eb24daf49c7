"""Sales events on the customer's timeline (crm.lib.timeline): deals created, moved, won
and lost, quotes sent and accepted, orders. Each source reads only what the viewer may
open (deals_visible_to and its siblings): a rep does not see another rep's deals."""

from django.db.models import OuterRef, Subquery
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from crm.lib.timeline import Cursor, TimelineEvent, TimelineSource, older_than, register_source
from customers.models import Customer
from sales.models import DealStageChange
from sales.selectors import deals_visible_to, orders_visible_to, quotes_visible_to


def _username(user) -> str:
    return user.get_username() if user is not None else ""


def _money(amount, currency: str) -> str:
    return f"{formats.number_format(amount, 2, use_l10n=True, force_grouping=True)} {currency}"


def _amount_then(change_amount, change_currency: str, deal) -> str:
    """The amount a stage change recorded (rows from before it did: the deal's own)."""
    if change_amount is None:
        return _money(deal.amount, deal.currency)
    return _money(change_amount, change_currency or deal.currency)


def deal_created_events(user, customer: Customer, cursor: Cursor | None, limit: int):
    created = DealStageChange.objects.filter(deal=OuterRef("pk"), from_stage__isnull=True)
    created = created.order_by("changed_at", "pk")
    deals = (
        deals_visible_to(user)
        .filter(customer=customer)
        .select_related("owner")
        .annotate(
            created_amount=Subquery(created.values("amount")[:1]),
            created_currency=Subquery(created.values("currency")[:1]),
        )
    )
    return [
        TimelineEvent(
            when=deal.created_at,
            kind="deal_created",
            pk=deal.pk,
            text=_("Deal “%(title)s” created: %(amount)s")
            % {
                "title": deal.title,
                "amount": _amount_then(deal.created_amount, deal.created_currency or "", deal),
            },
            url=deal.get_absolute_url(),
            who=_username(deal.owner),
        )
        for deal in older_than(deals, "created_at", "deal_created", cursor, limit)
    ]


def _stage_changes(user, customer: Customer):
    visible = deals_visible_to(user).filter(customer=customer).values("pk")
    return DealStageChange.objects.filter(
        deal__in=visible, from_stage__isnull=False
    ).select_related("deal", "from_stage", "to_stage", "changed_by")


def _stage_events(changes, kind: str, cursor: Cursor | None, limit: int, line, badge=("", "")):
    return [
        TimelineEvent(
            when=change.changed_at,
            kind=kind,
            pk=change.pk,
            text=line(change),
            url=change.deal.get_absolute_url(),
            who=_username(change.changed_by),
            badge=str(badge[0]),
            badge_class=badge[1] or "text-bg-light",
        )
        for change in older_than(changes, "changed_at", kind, cursor, limit)
    ]


def deal_moved_events(user, customer: Customer, cursor: Cursor | None, limit: int):
    changes = _stage_changes(user, customer).filter(to_stage__is_won=False, to_stage__is_lost=False)

    def line(change):
        return _("Deal “%(title)s” moved: %(old)s → %(new)s") % {
            "title": change.deal.title,
            "old": change.from_stage.name,
            "new": change.to_stage.name,
        }

    return _stage_events(changes, "deal_moved", cursor, limit, line)


def deal_won_events(user, customer: Customer, cursor: Cursor | None, limit: int):
    changes = _stage_changes(user, customer).filter(to_stage__is_won=True)

    def line(change):
        deal = change.deal
        return _("Deal “%(title)s” won: %(amount)s") % {
            "title": deal.title,
            "amount": _amount_then(change.amount, change.currency, deal),
        }

    return _stage_events(changes, "deal_won", cursor, limit, line, (_("Won"), "text-bg-success"))


def deal_lost_events(user, customer: Customer, cursor: Cursor | None, limit: int):
    changes = _stage_changes(user, customer).filter(to_stage__is_lost=True)

    def line(change):
        return _("Deal “%(title)s” lost: %(reason)s") % {
            "title": change.deal.title,
            "reason": change.deal.lost_reason,
        }

    return _stage_events(
        changes, "deal_lost", cursor, limit, line, (_("Lost"), "text-bg-secondary")
    )


def _quote_events(user, customer, cursor, limit, *, kind: str, time_field: str, line):
    quotes = quotes_visible_to(user).filter(deal__customer=customer).select_related("deal")
    return [
        TimelineEvent(
            when=getattr(quote, time_field),
            kind=kind,
            pk=quote.pk,
            text=line % {"number": quote.number, "title": quote.deal.title},
            url=quote.get_absolute_url(),
            who=_username(quote.created_by) if kind == "quote_sent" else "",
        )
        for quote in older_than(
            quotes.select_related("created_by"), time_field, kind, cursor, limit
        )
    ]


def quote_sent_events(user, customer: Customer, cursor: Cursor | None, limit: int):
    line = _("Quote %(number)s sent (deal “%(title)s”)")
    return _quote_events(
        user, customer, cursor, limit, kind="quote_sent", time_field="sent_at", line=line
    )


def quote_accepted_events(user, customer: Customer, cursor: Cursor | None, limit: int):
    line = _("Quote %(number)s accepted (deal “%(title)s”)")
    return _quote_events(
        user, customer, cursor, limit, kind="quote_accepted", time_field="accepted_at", line=line
    )


def order_events(user, customer: Customer, cursor: Cursor | None, limit: int):
    orders = orders_visible_to(user).filter(customer=customer)
    return [
        TimelineEvent(
            when=order.ordered_at,
            kind="order",
            pk=order.pk,
            text=_("Order %(number)s: %(total)s")
            % {"number": order.number, "total": _money(order.total, order.currency)},
            url=order.get_absolute_url(),
            badge=order.coupon_code,
        )
        for order in older_than(orders, "ordered_at", "order", cursor, limit)
    ]


def register_sales_timeline() -> None:
    for source in (
        TimelineSource("deal_created", _("Deals created"), "◆", "sales.view_deal",
                       deal_created_events, order=30),
        TimelineSource("deal_moved", _("Deal stage moves"), "→", "sales.view_deal",
                       deal_moved_events, order=31),
        TimelineSource("deal_won", _("Deals won"), "★", "sales.view_deal",
                       deal_won_events, order=32),
        TimelineSource("deal_lost", _("Deals lost"), "✕", "sales.view_deal",
                       deal_lost_events, order=33),
        TimelineSource("quote_sent", _("Quotes sent"), "✎", "sales.view_quote",
                       quote_sent_events, order=40),
        TimelineSource("quote_accepted", _("Quotes accepted"), "✔", "sales.view_quote",
                       quote_accepted_events, order=41),
        TimelineSource("order", _("Orders"), "▣", "sales.view_order", order_events, order=50),
    ):  # fmt: skip
        register_source(source)
