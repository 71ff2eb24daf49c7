"""Reads with the access rules: reps see their own deals, managers every deal."""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import (
    BooleanField,
    DecimalField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from core.exchange import RateBook, Tally
from customers.models import Customer
from sales.converted import stage_totals, weighted_amount
from sales.models import Deal, OpenDealTotal, Order, Pipeline, Product, Quote, Stage


@dataclass(frozen=True)
class DealScope:
    """Whose deals a user sees: one owner rule for the deals and for their totals
    (sales.deal_totals), so a figure read from the totals shows what the deals would."""

    visible: bool
    owner: Q = field(default_factory=Q)  # Q() is every owner

    def deals(self) -> QuerySet[Deal]:
        return Deal.objects.filter(self.owner) if self.visible else Deal.objects.none()

    def open_totals(self) -> QuerySet[OpenDealTotal]:
        objects = OpenDealTotal.objects
        return objects.filter(self.owner) if self.visible else objects.none()

    def owned_by(self, owner: User | int) -> "DealScope":
        """Only `owner`'s deals among those visible (an id or a user)."""
        owner_id = owner if isinstance(owner, int) else owner.pk
        return DealScope(self.visible, self.owner & Q(owner_id=owner_id))


def deal_scope(user: User | AnonymousUser) -> DealScope:
    if not user.is_authenticated or not user.has_perm("sales.view_deal"):
        return DealScope(visible=False)
    if user.has_perm("sales.view_any_deal"):
        return DealScope(visible=True)
    return DealScope(visible=True, owner=Q(owner_id=user.pk))


def deals_visible_to(user: User | AnonymousUser) -> QuerySet[Deal]:
    return deal_scope(user).deals()


def can_change_deal(user: User | AnonymousUser, deal: Deal) -> bool:
    if user.has_perm("sales.change_any_deal"):
        return True
    return user.has_perm("sales.change_deal") and deal.owner_id == user.pk


def quotes_visible_to(user: User | AnonymousUser) -> QuerySet[Quote]:
    if not user.has_perm("sales.view_quote"):
        return Quote.objects.none()
    return Quote.objects.filter(deal__in=deals_visible_to(user))


def orders_visible_to(user: User | AnonymousUser) -> QuerySet[Order]:
    """Managers see every order; reps the orders of the customers they own."""
    if not user.is_authenticated or not user.has_perm("sales.view_order"):
        return Order.objects.none()
    if user.has_perm("sales.view_any_deal"):
        return Order.objects.all()
    return Order.objects.filter(customer__owner=user)


def default_pipeline() -> Pipeline | None:
    """The default pipeline, else the first one; None only when there is no pipeline at all."""
    return (
        Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.order_by("pk").first()
    )


def pipeline_stages(pipeline: Pipeline) -> QuerySet[Stage]:
    return pipeline.stages.order_by("order", "id")


def rep_name(rep) -> str:
    """How a rep is shown: the full name, or the login when there is none."""
    return rep.get_full_name() or rep.get_username()


class ForecastOwner(NamedTuple):
    """A row of the forecast by rep, sorted by the name it shows; two reps of one name
    stay two rows."""

    unowned: bool  # deals without an owner come last
    sort_name: str
    pk: int
    username: str
    name: str  # the full name, or the login when there is none

    def __str__(self) -> str:
        return self.name

    @classmethod
    def of(cls, user) -> "ForecastOwner":
        name = rep_name(user)
        return cls(False, name.casefold(), user.pk, user.get_username(), name)


NO_OWNER = ForecastOwner(True, "", 0, "—", "—")


@dataclass(frozen=True)
class ForecastRow:
    """Amounts for one month (or one rep) of expected closes."""

    key: object
    won: Decimal
    committed: Decimal  # won + open deals at or above the commit probability
    best_case: Decimal  # won + every open deal
    weighted: Decimal  # won + open amount × probability
    open_deals: int


@dataclass(frozen=True)
class Forecast:
    by_month: list[ForecastRow]
    by_owner: list[ForecastRow]
    missing: dict[str, Decimal] = field(default_factory=dict)  # no rate: left out, per currency


def forecast(scope: DealScope, *, start: date, months: int, commit_probability: int) -> Forecast:
    """The pipeline's expected revenue per month and per owner.

    Open deals count in the month of their expected close date, won deals in the month
    they were closed; lost deals never count. The open deals are read from their totals
    per day, owner, currency and probability (sales.deal_totals: a few thousand rows for
    1,000,000 deals), the won ones summed per day and owner from the closed deals' index;
    the months and names are rolled up here from the few hundred groups.
    """
    end = _add_months(start, months)
    tz = timezone.get_current_timezone()
    money = DecimalField(max_digits=20, decimal_places=2)
    zero = Value(Decimal("0"), output_field=money)
    open_groups = (
        scope.open_totals()
        .filter(expected_close_date__gte=start, expected_close_date__lt=end)
        .values("expected_close_date", "owner_id", "currency")
        .annotate(
            committed=Coalesce(Sum("amount", filter=Q(probability__gte=commit_probability)), zero),
            total=Sum("amount"),
            weighted=Sum(weighted_amount()),
            count=Sum("deals"),
        )
        .order_by()
    )
    won_groups = (
        scope.deals()
        .filter(
            status=Deal.Status.WON,
            closed_at__gte=datetime.combine(start, time.min, tzinfo=tz),
            closed_at__lt=datetime.combine(end, time.min, tzinfo=tz),
        )
        .annotate(day=TruncDate("closed_at", tzinfo=tz))
        .values("day", "owner_id", "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    nothing = Decimal("0")
    open_rows, won_rows = list(open_groups), list(won_groups)
    book = RateBook.load([g["currency"] for g in open_rows] + [w["currency"] for w in won_rows])
    today, missing = timezone.localdate(), Tally(book)
    groups: list[dict] = []
    for g in open_rows:  # open deals convert at today's rate
        amounts = _converted(
            missing, g["currency"], today, g["committed"], g["total"], g["weighted"]
        )
        if amounts is not None:
            committed, total, weighted = amounts
            groups.append(
                {"day": g["expected_close_date"], "owner_id": g["owner_id"], "won": nothing,
                 "open_committed": committed, "open_total": total, "open_weighted": weighted,
                 "open_deals": g["count"]}
            )  # fmt: skip
    for w in won_rows:  # won deals at their close date's
        won = _converted(missing, w["currency"], w["day"], w["total"])
        if won is not None:
            groups.append(
                {"day": w["day"], "owner_id": w["owner_id"], "won": won[0], "open_committed": nothing,
                 "open_total": nothing, "open_weighted": nothing, "open_deals": 0}
            )  # fmt: skip
    owners = get_user_model().objects.filter(pk__in={g["owner_id"] for g in groups})
    by_id = {
        owner.pk: ForecastOwner.of(owner)
        for owner in owners.only("username", "first_name", "last_name")
    }
    every_month = [_add_months(start, n) for n in range(months)]
    return Forecast(
        by_month=_roll_up(groups, key=lambda g: g["day"].replace(day=1), keys=every_month),
        by_owner=_roll_up(groups, key=lambda g: by_id.get(g["owner_id"], NO_OWNER)),
        missing=missing.result.missing,
    )


def _converted(
    tally: Tally, currency: str, day: date, *amounts: Decimal
) -> tuple[Decimal, ...] | None:
    """The amounts in the reporting currency, or None (the biggest one noted as missing)."""
    rate = tally.book.rate(currency, day)
    if rate is None:
        tally.add(max(amounts), currency, day)
        return None
    return tuple(amount * rate for amount in amounts)


def _roll_up(groups: list[dict], key, keys=()) -> list[ForecastRow]:
    """Sum the groups per key; `keys` appear even without deals (a month with nothing)."""
    empty = dict.fromkeys(("won", "committed", "best", "weighted", "n"), 0)
    sums: dict = {name: dict(empty) for name in keys}
    for group in groups:
        total = sums.setdefault(
            key(group), dict.fromkeys(("won", "committed", "best", "weighted", "n"), 0)
        )
        total["won"] += group["won"]
        total["committed"] += group["won"] + group["open_committed"]
        total["best"] += group["won"] + group["open_total"]
        total["weighted"] += group["won"] + group["open_weighted"]
        total["n"] += group["open_deals"]
    cent = Decimal("0.01")
    return [
        ForecastRow(
            key=name,
            won=Decimal(t["won"]).quantize(cent),
            committed=Decimal(t["committed"]).quantize(cent),
            best_case=Decimal(t["best"]).quantize(cent),
            weighted=Decimal(t["weighted"]).quantize(cent),
            open_deals=t["n"],
        )
        for name, t in sorted(sums.items())
    ]


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    return date(day.year + month_index // 12, month_index % 12 + 1, 1)


def accepted_quote(deal: Deal) -> Quote | None:
    """The deal's latest accepted quote: its order is made from it when the deal is won."""
    return deal.quotes.filter(status=Quote.Status.ACCEPTED).order_by("-created_at").first()


def can_change_quote(user: User | AnonymousUser, quote: Quote) -> bool:
    """Whoever may change the quote's deal may edit the quote and move its status."""
    return user.has_perm("sales.change_quote") and can_change_deal(user, quote.deal)


def order_customers_for(user: User | AnonymousUser) -> QuerySet[Customer]:
    """The customers a user may enter orders for: a rep their own, a manager every one."""
    if not user.is_authenticated or not user.has_perm("sales.add_order"):
        return Customer.objects.none()
    if user.has_perm("sales.view_any_deal"):
        return Customer.objects.all()
    return Customer.objects.filter(owner=user)


def can_enter_orders_for(user: User | AnonymousUser, customer: Customer) -> bool:
    """order_customers_for()'s rule on a customer already read: no query."""
    if not user.has_perm("sales.add_order"):
        return False
    return user.has_perm("sales.view_any_deal") or customer.owner_id == user.pk


def active_products() -> QuerySet[Product]:
    return Product.objects.filter(is_active=True).order_by("name", "id")


# --- Deals and the board ----------------------------------------------------------------------

BOARD_CLOSED_DAYS = 30  # won and lost columns show the deals closed in the last 30 days
BOARD_CARDS_PER_COLUMN = 25  # the rest are counted in the column header and found in the list


def deal_owners() -> QuerySet:
    """Users that may own deals, for filters."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__permissions__codename="change_deal") | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


def deal_owner_choices(user: User | AnonymousUser, current: User | None = None) -> QuerySet[User]:
    """Whom this user may give a deal to (the deal form's owners); a deal's `current` owner
    stays a choice whoever edits it."""
    from customers.selectors import assignable_users

    owners = assignable_users(user)
    if current is None:
        return owners
    return (
        get_user_model()
        .objects.filter(Q(pk__in=owners.values("pk")) | Q(pk=current.pk))
        .order_by("username")
    )


def stale_before() -> datetime:
    """An open deal whose last activity is older than this is stale."""
    from datetime import timedelta

    from django.conf import settings

    return timezone.now() - timedelta(days=settings.CRM_STALE_DEAL_DAYS)


def stale_deal_condition() -> Q:
    """The stale-deal rule, the one place it is written: open, and no activity for a while."""
    return Q(status=Deal.Status.OPEN, last_activity_at__lt=stale_before())


def with_stale_flag(deals: QuerySet[Deal]) -> QuerySet[Deal]:
    """The deals with `is_stale` (a boolean), for lists, cards and templates."""
    return deals.annotate(
        is_stale=ExpressionWrapper(stale_deal_condition(), output_field=BooleanField())
    )


def is_stale(deal: Deal) -> bool:
    """The rule for one deal already read (the database evaluates it on the deal's values)."""
    values = {"status": deal.status, "last_activity_at": deal.last_activity_at}
    return stale_deal_condition().check(values)


@dataclass(frozen=True)
class DealTimelineEntry:
    kind: str  # "stage" or "interaction"
    when: datetime
    item: object


def deal_timeline(deal: Deal, *, limit: int = 50) -> list[DealTimelineEntry]:
    """The deal's stage changes and its customer's interactions, newest first (two queries)."""
    from customers.models import Interaction

    changes = deal.stage_changes.select_related("from_stage", "to_stage", "changed_by").order_by(
        "-changed_at", "-id"
    )[:limit]
    interactions = (
        Interaction.objects.filter(customer_id=deal.customer_id)
        .select_related("logged_by", "contact")
        .order_by("-occurred_at", "-id")[:limit]
    )
    entries = [DealTimelineEntry("stage", c.changed_at, c) for c in changes]
    entries += [DealTimelineEntry("interaction", i.occurred_at, i) for i in interactions]
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries[:limit]


def board_deals(deals: QuerySet[Deal], pipeline: Pipeline) -> QuerySet[Deal]:
    """The deals a board shows: open ones and those closed in the last BOARD_CLOSED_DAYS."""
    return deals.filter(pipeline=pipeline).filter(
        Q(status=Deal.Status.OPEN) | Q(closed_at__gte=_board_closed_since())
    )


def _board_closed_since() -> datetime:
    from datetime import timedelta

    return timezone.now() - timedelta(days=BOARD_CLOSED_DAYS)


def board_totals(scope: DealScope, pipeline: Pipeline) -> dict[int, dict]:
    """Count, total in the reporting currency and unconverted amounts per stage of the
    board's deals: the open ones from their totals (sales.deal_totals), the recently
    closed ones from the closed deals' index."""
    closed = scope.deals().filter(
        pipeline=pipeline,
        status__in=[Deal.Status.WON, Deal.Status.LOST],
        closed_at__gte=_board_closed_since(),
    )
    open_totals = scope.open_totals().filter(pipeline=pipeline)
    return {
        stage_id: {"count": t.count, "total": t.total, "missing": t.missing}
        for stage_id, t in stage_totals(closed, open_totals).items()
    }


# What a card reads: the whole deal, and of its customer, owner and next step only what
# the card shows (a third of the cards' reading time went to the customers' other columns).
_CARD_FIELDS = [
    *(field.name for field in Deal._meta.concrete_fields),
    "customer__name",
    "owner__username",
    "next_step__title",
    "next_step__done",
    "next_step__due_date",
]


def board_columns(scope: DealScope, pipeline: Pipeline) -> list[dict]:
    """The board's columns with their cards, in four queries whatever the number of deals."""
    stages = list(pipeline_stages(pipeline))
    totals = board_totals(scope, pipeline)
    # The first cards of each column are picked from the deals alone, then read with
    # their customer, owner and next step: the joins touch only the cards shown.
    card_ids = _first_cards_per_stage(board_deals(scope.deals(), pipeline), stages)
    cards = with_stale_flag(
        Deal.objects.filter(pk__in=list(card_ids))
        .select_related("customer", "owner", "next_step")
        .only(*_CARD_FIELDS)
        .order_by("stage_id", "expected_close_date", "id")
    )
    by_stage: dict[int, list[Deal]] = {stage.pk: [] for stage in stages}
    for deal in cards:
        by_stage.setdefault(deal.stage_id, []).append(deal)
    empty = {"count": 0, "total": Decimal("0"), "missing": {}}
    return [
        {"stage": stage, **totals.get(stage.pk, empty), "cards": by_stage[stage.pk]}
        for stage in stages
    ]


def _first_cards_per_stage(deals: QuerySet[Deal], stages: list[Stage]):
    """The ids of the first BOARD_CARDS_PER_COLUMN deals of each stage, in one query.

    PostgreSQL: one LIMIT per stage, joined with UNION ALL, each walking the
    (stage, expected_close_date, id) index. Elsewhere a ROW_NUMBER() window, which reads
    every deal of the board (SQLite cannot LIMIT the parts of a UNION).
    """
    from django.db import connections
    from django.db.models import Window
    from django.db.models.functions import RowNumber

    if not stages:
        return []
    ordered = deals.order_by("expected_close_date", "id").values_list("pk", flat=True)
    if connections[deals.db].vendor == "postgresql":
        parts = [ordered.filter(stage=stage)[:BOARD_CARDS_PER_COLUMN] for stage in stages]
        return parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return (
        deals.order_by()
        .annotate(
            column_row=Window(
                RowNumber(),
                partition_by=[F("stage_id")],
                order_by=[F("expected_close_date").asc(), F("id").asc()],
            )
        )
        .filter(column_row__lte=BOARD_CARDS_PER_COLUMN)
        .values_list("pk", flat=True)
    )
