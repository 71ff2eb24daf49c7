"""Loyalty points: a ledger per customer, its balance, and the tier it reaches.

The rule (points per currency unit, a minimum order) is a LoyaltyRule row admins edit
in Django admin rather than a setting: marketers change it without a deployment, and
the demo can show it. Every change is a LoyaltyEntry; LoyaltyAccount keeps the running
balance so a redemption can lock it (select_for_update) and a CHECK constraint makes a
negative balance impossible even if two redemptions race.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_FLOOR, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer
from marketing.models import LoyaltyAccount, LoyaltyEntry, LoyaltyRule, LoyaltyTier
from sales.models import Order

MAX_POINTS = 10**9
SPEND_WINDOW = timedelta(days=365)


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
    """Points for an order by the rule; an order earns once (a unique constraint says so)."""
    points = points_for(order.total, loyalty_rule())
    if points <= 0:
        return None
    try:
        with transaction.atomic():
            return _record(
                customer=order.customer,
                kind=LoyaltyEntry.Kind.EARNED,
                points=points,
                reason=_("Order %(number)s") % {"number": order.number},
                order=order,
            )
    except IntegrityError:
        return None  # already earned (the signal was delivered twice)


@transaction.atomic
def loyalty_adjust(*, customer: Customer, points: int, reason: str, by) -> LoyaltyEntry:
    """A manual correction, up or down (not below zero)."""
    _check_points(points, allow_negative=True)
    return _record(
        customer=customer, kind=LoyaltyEntry.Kind.ADJUSTED, points=points, reason=reason, by=by
    )


@transaction.atomic
def loyalty_redeem(*, customer: Customer, points: int, reason: str, by) -> LoyaltyEntry:
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
    LoyaltyEntry.objects.filter(customer=duplicate).update(customer=kept)
    theirs = LoyaltyAccount.objects.select_for_update().filter(customer=duplicate).first()
    if theirs is None:
        return
    account = _locked_account(kept)
    account.balance = F("balance") + theirs.balance
    account.earned = F("earned") + theirs.earned
    account.save(update_fields=["balance", "earned"])
    theirs.delete()


@dataclass(frozen=True)
class LoyaltyStatus:
    balance: int
    earned: int
    spend_12m: Decimal
    tier: LoyaltyTier | None
    next_tier: LoyaltyTier | None


def loyalty_status(customer: Customer) -> LoyaltyStatus:
    """Balance, 12-month spend and tier: three small indexed queries."""
    account = LoyaltyAccount.objects.filter(customer=customer).first()
    balance, earned = (account.balance, account.earned) if account else (0, 0)
    since = timezone.now() - SPEND_WINDOW
    spend = Order.objects.filter(customer=customer, ordered_at__gte=since).aggregate(
        total=Sum("total")
    )["total"]
    spend = Decimal(str(spend or 0)).quantize(Decimal("0.01"))  # SQLite sums as float
    tiers = list(LoyaltyTier.objects.order_by("-rank"))
    tier = next((t for t in tiers if qualifies(t, earned=earned, spend=spend)), None)
    better = [t for t in tiers if tier is None or t.rank > tier.rank]
    return LoyaltyStatus(
        balance=balance,
        earned=earned,
        spend_12m=spend,
        tier=tier,
        next_tier=better[-1] if better else None,
    )


def qualifies(tier: LoyaltyTier, *, earned: int, spend: Decimal) -> bool:
    by_points = tier.minimum_points is not None and earned >= tier.minimum_points
    by_spend = tier.minimum_spend is not None and spend >= tier.minimum_spend
    return by_points or by_spend
