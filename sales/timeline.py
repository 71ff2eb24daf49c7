"""Sales events on the customer's timeline (crm.lib.timeline): deals created, moved, won
and lost, quotes sent and accepted, orders. Each source reads only what the viewer may
open (deals_visible_to and its siblings): a rep does not see another rep's deals.

Deals moved, won and lost are one group (stage changes, told apart by the stage they went
to), quotes sent and accepted another (two dates of a quote): one query each."""

from django.db.models import OuterRef, Q, Subquery
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from crm.lib.timeline import (
    Cursor,
    GroupMember,
    TimelineEvent,
    TimelineSource,
    grouped_older_than,
    older_than,
    register_group,
    register_source,
)
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


def _moved(change) -> str:
    return _("Deal “%(title)s” moved: %(old)s → %(new)s") % {
        "title": change.deal.title,
        "old": change.from_stage.name,
        "new": change.to_stage.name,
    }


def _won(change) -> str:
    deal = change.deal
    return _("Deal “%(title)s” won: %(amount)s") % {
        "title": deal.title,
        "amount": _amount_then(change.amount, change.currency, deal),
    }


def _lost(change) -> str:
    return _("Deal “%(title)s” lost: %(reason)s") % {
        "title": change.deal.title,
        "reason": change.deal.lost_reason,
    }


# kind: its rows among the stage changes, its line and badge (the stage's flags are
# exclusive: a check constraint, so each change is one of the three)
STAGE_KINDS = {
    "deal_moved": (Q(to_stage__is_won=False, to_stage__is_lost=False), _moved, ("", "")),
    "deal_won": (Q(to_stage__is_won=True), _won, (_("Won"), "text-bg-success")),
    "deal_lost": (Q(to_stage__is_lost=True), _lost, (_("Lost"), "text-bg-secondary")),
}


def stage_change_events(user, customer: Customer, cursor: Cursor | None, limit: int, kinds):
    members = [
        GroupMember(kind, "changed_at", rows)
        for kind, (rows, _line, _badge) in STAGE_KINDS.items()
        if kind in kinds
    ]
    events = []
    changes = _stage_changes(user, customer)
    for kind, when, change in grouped_older_than(changes, members, cursor, limit):
        _rows, line, badge = STAGE_KINDS[kind]
        events.append(
            TimelineEvent(
                when=when,
                kind=kind,
                pk=change.pk,
                text=line(change),
                url=change.deal.get_absolute_url(),
                who=_username(change.changed_by),
                badge=str(badge[0]),
                badge_class=badge[1] or "text-bg-light",
            )
        )
    return events


QUOTE_KINDS = {
    "quote_sent": ("sent_at", _("Quote %(number)s sent (deal “%(title)s”)")),
    "quote_accepted": ("accepted_at", _("Quote %(number)s accepted (deal “%(title)s”)")),
}


def quote_events(user, customer: Customer, cursor: Cursor | None, limit: int, kinds):
    quotes = quotes_visible_to(user).filter(deal__customer=customer)
    quotes = quotes.select_related("deal", "created_by")
    members = [GroupMember(kind, QUOTE_KINDS[kind][0]) for kind in QUOTE_KINDS if kind in kinds]
    return [
        TimelineEvent(
            when=when,
            kind=kind,
            pk=quote.pk,
            text=QUOTE_KINDS[kind][1] % {"number": quote.number, "title": quote.deal.title},
            url=quote.get_absolute_url(),
            who=_username(quote.created_by) if kind == "quote_sent" else "",
        )
        for kind, when, quote in grouped_older_than(quotes, members, cursor, limit)
    ]


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
    register_source(
        TimelineSource("deal_created", _("Deals created"), "◆", "sales.view_deal",
                       deal_created_events, order=30)
    )  # fmt: skip
    register_group("stage_change", stage_change_events, (
        TimelineSource("deal_moved", _("Deal stage moves"), "→", "sales.view_deal", order=31),
        TimelineSource("deal_won", _("Deals won"), "★", "sales.view_deal", order=32),
        TimelineSource("deal_lost", _("Deals lost"), "✕", "sales.view_deal", order=33),
    ))  # fmt: skip
    register_group("quote", quote_events, (
        TimelineSource("quote_sent", _("Quotes sent"), "✎", "sales.view_quote", order=40),
        TimelineSource("quote_accepted", _("Quotes accepted"), "✔", "sales.view_quote",
                       order=41),
    ))  # fmt: skip
    register_source(
        TimelineSource("order", _("Orders"), "▣", "sales.view_order", order_events, order=50)
    )
