"""Loyalty points: a ledger per customer, its balance, and the tier it reaches.

The rule (points per currency unit, a minimum order) is a LoyaltyRule row admins edit
in Django admin rather than a setting: marketers change it without a deployment, and
the demo can show it. Every change is a LoyaltyEntry; LoyaltyAccount keeps the running
balance so a redemption can lock it (select_for_update) and a CHECK constraint makes a
negative balance impossible even if two redemptions race.

The tier and the 12-month spend are stored on the account too (loyalty_refresh), so
audiences select a tier through an index and the 360° page reads one row: refreshed for
the customer on each of their orders and ledger changes, for imported orders in bulk
(marketing.services.order_rewards), and for everyone nightly and when admins change the tiers.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import (
    Case,
    DecimalField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.lib.tasks import publish, queue_on_commit
from customers.models import Customer
from marketing.models import LoyaltyAccount, LoyaltyEntry, LoyaltyRule, LoyaltyTier
from marketing.tasks import imported_orders, refresh_loyalty_tiers
from sales.models import Order

MAX_POINTS = 10**9
SPEND_WINDOW = timedelta(days=365)
CATCH_UP = timedelta(days=2)  # how far back the nightly job looks for missed orders


def loyalty_rule() -> LoyaltyRule:
    rule = LoyaltyRule.objects.order_by("pk").first()
    return rule if rule is not None else LoyaltyRule.objects.create()


def points_for(total: Decimal, rule: LoyaltyRule) -> int:
    """Whole points for an order total (rounded down: 99.99 at 1 per unit earns 99)."""
    if not rule.is_active or total <= 0 or total < rule.minimum_order_total:
        return 0
    points = (Decimal(total) * rule.points_per_unit).to_integral_value(rounding=ROUND_FLOOR)
    return min(int(points), MAX_POINTS)


def _locked_account(customer: Customer) -> LoyaltyAccount:
    LoyaltyAccount.objects.get_or_create(customer=customer)
    return LoyaltyAccount.objects.select_for_update().get(customer=customer)


def _record(*, customer, kind, points, reason, order=None, by=None) -> LoyaltyEntry:
    account = _locked_account(customer)
    if account.balance + points < 0:
        raise ValidationError(
            _("The balance is %(balance)s points; it cannot go below zero.")
            % {"balance": account.balance}
        )
    entry = LoyaltyEntry(
        customer=customer, kind=kind, points=points, reason=reason, order=order, created_by=by
    )
    entry.full_clean(validate_constraints=False)  # the order's uniqueness is the database's
    entry.save()
    account.balance = F("balance") + points
    if points > 0 and kind != LoyaltyEntry.Kind.REDEEMED:
        account.earned = F("earned") + points
    account.save(update_fields=["balance", "earned"])
    return entry


def loyalty_earn(*, order: Order) -> LoyaltyEntry | None:
    """Points for an order by the rule (an order earns once: a unique constraint says so),
    then the customer's spend and tier."""
    # In the reporting currency (the rule's unit); no rate for the order's day: no points
    # until a rate converts it (the nightly catch-up earns the last days' missed orders).
    points = points_for(order.total_reporting or Decimal("0"), loyalty_rule())
    entry = None
    if points > 0:
        try:
            with transaction.atomic():
                entry = _record(
                    customer=order.customer,
                    kind=LoyaltyEntry.Kind.EARNED,
                    points=points,
                    reason=LoyaltyEntry.order_reason(order.number),
                    order=order,
                )
        except IntegrityError:
            pass  # already earned (the signal was delivered twice)
    loyalty_refresh([order.customer_id])
    return entry


def _lock_accounts(customer_ids: Iterable[int] | QuerySet) -> None:
    """Lock these customers' accounts in customer order (they must exist)."""
    accounts = LoyaltyAccount.objects.select_for_update().filter(customer_id__in=customer_ids)
    list(accounts.order_by("customer_id").values_list("pk", flat=True))


def _sum(rows: QuerySet, field: str) -> Subquery:
    return Subquery(rows.values("customer_id").annotate(total=Sum(field)).values("total"))


@transaction.atomic
def loyalty_adjust(
    *, customer: Customer, points: int, reason: str, by: User | None
) -> LoyaltyEntry:
    """A manual correction, up or down (not below zero)."""
    _check_points(points, allow_negative=True)
    entry = _record(
        customer=customer, kind=LoyaltyEntry.Kind.ADJUSTED, points=points, reason=reason, by=by
    )
    loyalty_refresh([customer.pk])
    return entry


@transaction.atomic
def loyalty_redeem(
    *, customer: Customer, points: int, reason: str, by: User | None
) -> LoyaltyEntry:
    """Spend `points` (> 0) of the balance for a reward."""
    _check_points(points, allow_negative=False)
    return _record(
        customer=customer, kind=LoyaltyEntry.Kind.REDEEMED, points=-points, reason=reason, by=by
    )


def _check_points(points: int, *, allow_negative: bool) -> None:
    if not isinstance(points, int) or points == 0 or abs(points) > MAX_POINTS:
        raise ValidationError(_("Enter a non-zero number of points up to 1,000,000,000."))
    if points < 0 and not allow_negative:
        raise ValidationError(_("Enter the points to redeem as a positive number."))


@transaction.atomic
def loyalty_merge(*, kept: Customer, duplicate: Customer) -> None:
    """A merged duplicate's ledger and balance join the kept customer's."""
    _open_accounts([kept.pk, duplicate.pk])
    _lock_accounts(sorted([kept.pk, duplicate.pk]))
    LoyaltyEntry.objects.filter(customer=duplicate).update(customer=kept)
    theirs = LoyaltyAccount.objects.get(customer=duplicate)
    account = LoyaltyAccount.objects.get(customer=kept)
    account.balance = F("balance") + theirs.balance
    account.earned = F("earned") + theirs.earned
    account.save(update_fields=["balance", "earned"])
    theirs.delete()
    loyalty_refresh([kept.pk])


@dataclass(frozen=True)
class LoyaltyStatus:
    balance: int
    earned: int
    spend_12m: Decimal
    tier: LoyaltyTier | None
    next_tier: LoyaltyTier | None


def loyalty_status(customer: Customer) -> LoyaltyStatus:
    """Balance, points earned, 12-month spend and tier, as last refreshed: two queries."""
    account = LoyaltyAccount.objects.filter(customer=customer).select_related("tier").first()
    tiers = list(LoyaltyTier.objects.order_by("rank"))
    if account is None:
        account = LoyaltyAccount(customer=customer, tier=base_tier(tiers))
    rank = account.tier.rank if account.tier else -1
    return LoyaltyStatus(
        balance=account.balance,
        earned=account.earned,
        spend_12m=account.spend_12m,
        tier=account.tier,
        next_tier=next((t for t in tiers if t.rank > rank), None),
    )


def base_tier(tiers: list[LoyaltyTier] | None = None) -> LoyaltyTier | None:
    """The tier of a customer without an account (no points, no spend): the highest
    with a zero threshold, if any."""
    if tiers is None:
        tiers = list(LoyaltyTier.objects.order_by("rank"))
    zero = [t for t in tiers if 0 in (t.minimum_points, t.minimum_spend)]
    return zero[-1] if zero else None


REFRESH_BATCH = 10_000


def loyalty_refresh_queue() -> None:
    """Every account's spend and tier, in the background once committed (admins changed
    the tiers)."""
    queue_on_commit(refresh_loyalty_tiers)


def loyalty_refresh(customer_ids: list[int] | None = None) -> int:
    """Store the 12-month spend and tier of these customers' accounts (None: everyone).

    For everyone, customers who bought in the last 12 months get an account first, since
    a tier can be reached by spend alone; then the accounts are refreshed REFRESH_BATCH
    at a time in customer order, each batch its own transaction that locks its rows in
    that order first (as every bulk writer here does), so the nightly run neither holds
    a million row locks nor deadlocks with orders. Returns the accounts refreshed.
    """
    since = timezone.now() - SPEND_WINDOW
    if customer_ids is not None:
        _open_accounts(customer_ids)
        return _refresh(sorted(customer_ids), since)
    _open_accounts_for_buyers(since)
    refreshed, after = 0, 0
    while True:
        batch = list(
            LoyaltyAccount.objects.filter(customer_id__gt=after)
            .order_by("customer_id")
            .values_list("customer_id", flat=True)[:REFRESH_BATCH]
        )
        if not batch:
            return refreshed
        refreshed += _refresh(batch, since)
        after = batch[-1]


@transaction.atomic
def _refresh(customer_ids: list[int], since) -> int:
    _lock_accounts(customer_ids)
    accounts = LoyaltyAccount.objects.filter(customer_id__in=customer_ids)
    spent = Order.objects.filter(customer_id=OuterRef("customer_id"), ordered_at__gte=since)
    # In the reporting currency: orders without a rate add nothing (never a sum of currencies).
    spend = Coalesce(
        _sum(spent.order_by(), "total_reporting"), Value(Decimal("0")), output_field=_MONEY
    )
    refreshed = accounts.update(spend_12m=spend, refreshed_at=timezone.now())
    # Its own statement: an UPDATE's expressions see the row as it was before it.
    accounts.update(tier=tier_expression())
    return refreshed


_MONEY = DecimalField(max_digits=14, decimal_places=2)


def _open_accounts_for_buyers(since) -> None:
    # NOT EXISTS, an anti-join: NOT IN (subquery) is a subplan that PostgreSQL cannot hash
    # once the accounts outgrow work_mem, and then rescans per order (10 minutes and more).
    has_account = LoyaltyAccount.objects.filter(customer_id=OuterRef("customer_id"))
    buyers = (
        Order.objects.filter(ordered_at__gte=since)
        .exclude(Exists(has_account))
        .values_list("customer_id", flat=True)
        .distinct()
        .order_by()
    )
    ids = list(buyers)
    for start in range(0, len(ids), REFRESH_BATCH):
        _open_accounts(ids[start : start + REFRESH_BATCH])  # no locks: inserts only


def _open_accounts(customer_ids: list[int]) -> None:
    LoyaltyAccount.objects.bulk_create(
        [LoyaltyAccount(customer_id=pk) for pk in customer_ids],
        batch_size=5000,
        ignore_conflicts=True,
    )


def tier_expression() -> Case:
    """An account's tier: the highest whose points OR 12-month spend threshold it meets."""
    whens = [
        When(qualifies(tier), then=Value(tier.pk)) for tier in LoyaltyTier.objects.order_by("-rank")
    ]
    return Case(*whens, default=Value(None), output_field=IntegerField())


def qualifies(tier: LoyaltyTier) -> Q:
    """Over accounts: the tier's thresholds are met (a tier with neither matches nobody)."""
    condition = Q(pk__in=[])
    if tier.minimum_points is not None:
        condition |= Q(earned__gte=tier.minimum_points)
    if tier.minimum_spend is not None:
        condition |= Q(spend_12m__gte=tier.minimum_spend)
    return condition


# --- the background jobs' work (marketing.tasks) ----------------------------------


def imported_orders_queue(*, first_id: int, last_id: int) -> None:
    """Reward an import's orders (ids first_id..last_id) in the background: an import may
    bring a million orders. Queued at once: sales sends orders_imported after its commit."""
    publish(imported_orders, first_id, last_id)
