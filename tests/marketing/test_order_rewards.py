"""The set-based rewards of many orders (an import, the nightly catch-up) equal placing the
orders one by one, on both databases, and never double points when run again."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from marketing.models import (
    CampaignRecipient,
    LoyaltyAccount,
    LoyaltyEntry,
    LoyaltyRule,
    LoyaltyTier,
)
from marketing.services import order_rewards
from marketing.services.campaigns import coupon_redeem
from marketing.services.loyalty import loyalty_adjust, loyalty_earn
from marketing.services.order_rewards import coupon_redeem_orders, loyalty_earn_orders
from sales.models import Order
from tests.factories import CampaignRecipientFactory, CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db
D = Decimal


def _world(manager):
    """Three customers, coupons, and orders in neither id nor customer order."""
    now = timezone.now()
    ann, bob, cid = (CustomerFactory(name=n) for n in ("Ann", "Bob", "Cid"))
    loyalty_adjust(customer=ann, points=30, reason="Gift", by=manager)
    CampaignRecipientFactory(customer=ann, coupon_code="ANN-1")
    CampaignRecipientFactory(customer=bob, coupon_code="BOB-1")
    CampaignRecipientFactory(customer=cid, coupon_code="CID-1")
    rows = [  # customer, total, days ago, coupon
        (ann, "120.50", 3, " ann-1 "),
        (bob, "0.29", 400, ""),  # outside the 12-month spend; 0.29 at 100 a unit earns 29
        (ann, "1000.00", 10, "ANN-1"),  # older: this one converts the coupon
        (cid, "0.40", 1, "BOB-1"),  # another customer's coupon: redeems nothing
        (bob, "5.00", 2, ""),  # under the minimum: no points
        (cid, "77.77", 5, "CID-1"),
        (bob, "250.00", 20, "bob-1"),
    ]
    for customer, total, days, coupon in rows:
        OrderFactory(
            customer=customer, total=D(total), ordered_at=now - timedelta(days=days),
            coupon_code=coupon,
        )  # fmt: skip
    return Order.objects.filter(customer__in=[ann, bob, cid])


def _state():
    accounts = {
        a.customer.name: (a.balance, a.earned, a.spend_12m, a.tier and a.tier.name)
        for a in LoyaltyAccount.objects.select_related("customer", "tier")
    }
    entries = sorted(LoyaltyEntry.objects.values_list("customer__name", "kind", "points", "reason"))
    conversions = sorted(
        CampaignRecipient.objects.values_list(
            "coupon_code", "conversion_order__number", "converted_at", "revenue", "outcome"
        )
    )
    return accounts, entries, conversions


def _one_by_one(orders):
    for order in orders.order_by("ordered_at", "pk").select_related("customer"):
        loyalty_earn(order=order)
        coupon_redeem(order=order)


@pytest.mark.parametrize(
    ("points_per_unit", "minimum"),
    [(D("1"), D("10")), (D("100"), D("0")), (D("0.125"), D("0")), (D("0.001"), D("0"))],
)
def test_set_based_rewards_equal_the_orders_placed_one_by_one(manager, points_per_unit, minimum):
    LoyaltyRule.objects.update(points_per_unit=points_per_unit, minimum_order_total=minimum)
    orders = _world(manager)
    with transaction.atomic():
        _one_by_one(orders)
        expected = _state()
        transaction.set_rollback(True)
    earned = sum(kind == "earned" for _name, kind, _points, _reason in expected[1])
    assert loyalty_earn_orders(orders) == earned
    assert coupon_redeem_orders(orders) == 3
    assert _state() == expected


def test_hand_computed_balances_tiers_and_conversions(manager):
    LoyaltyRule.objects.update(minimum_order_total=D("10"))
    orders = _world(manager)
    assert loyalty_earn_orders(orders) == 4  # 0.29, 0.40 and 5.00 earn nothing at 1 a unit
    assert coupon_redeem_orders(orders) == 3
    accounts, entries, conversions = _state()
    assert accounts == {
        "Ann": (30 + 120 + 1000, 1150, D("1120.50"), "Silver"),
        "Bob": (250, 250, D("255.00"), "Bronze"),
        "Cid": (77, 77, D("78.17"), "Bronze"),
    }
    assert ("Ann", "earned", 120, f"Order {orders.get(total=D('120.50')).number}") in entries
    by_code = {code: (number, revenue) for code, number, _at, revenue, _o in conversions}
    assert by_code["ANN-1"] == (orders.get(total=D("1000.00")).number, D("1000.00"))
    assert by_code["BOB-1"] == (orders.get(total=D("250.00")).number, D("250.00"))
    assert by_code["CID-1"] == (orders.get(total=D("77.77")).number, D("77.77"))


def test_run_again_after_a_kill_doubles_nothing(manager, monkeypatch):
    """Batches of two orders, each its own transaction: a run killed after some batches
    committed (here: run over the first orders only), then the whole run again."""
    monkeypatch.setattr(order_rewards, "EARN_BATCH", 2)
    orders = _world(manager)
    with transaction.atomic():
        _one_by_one(orders)
        expected = _state()
        transaction.set_rollback(True)
    first = orders.order_by("pk")[:3]
    assert loyalty_earn_orders(orders.filter(pk__in=list(first.values_list("pk", flat=True)))) == 2
    assert loyalty_earn_orders(orders) == 3  # 0.29 and 0.40 earn nothing at 1 a unit
    assert loyalty_earn_orders(orders) == 0
    assert coupon_redeem_orders(orders) == 3
    assert coupon_redeem_orders(orders) == 0
    assert _state() == expected


def test_an_inactive_rule_earns_nothing_but_still_tiers_by_spend(manager):
    LoyaltyRule.objects.update(is_active=False)
    orders = _world(manager)
    assert loyalty_earn_orders(orders) == 0
    accounts, _entries, _conversions = _state()
    assert accounts["Ann"] == (30, 30, D("1120.50"), "Silver")


def test_only_earned_entries_name_an_order_and_each_order_earns_once():
    """One unique index of the ledger's orders keeps both rules (it replaced a partial
    unique index beside a plain one, an import's extra write per entry)."""
    from django.db import IntegrityError

    order = OrderFactory(total=D("10.00"))
    entry = {"customer": order.customer, "points": 5, "reason": "Test", "order": order}
    with pytest.raises(IntegrityError), transaction.atomic():
        LoyaltyEntry.objects.create(kind=LoyaltyEntry.Kind.ADJUSTED, **entry)
    LoyaltyEntry.objects.create(kind=LoyaltyEntry.Kind.EARNED, **entry)
    with pytest.raises(IntegrityError), transaction.atomic():
        LoyaltyEntry.objects.create(kind=LoyaltyEntry.Kind.EARNED, **entry)


def test_a_batch_is_a_constant_number_of_statements(manager, django_assert_max_num_queries):
    """Set-based: more orders and customers, not more statements."""
    orders = _world(manager)
    for _ in range(20):
        OrderFactory(customer=CustomerFactory(), total=D("12.00"))
    with django_assert_max_num_queries(14):
        assert loyalty_earn_orders(Order.objects.all()) == 25
    assert {
        a.balance for a in LoyaltyAccount.objects.exclude(customer__in=orders.values("customer"))
    } == {12}


def test_without_any_tier_threshold_points_are_earned_and_nobody_is_tiered(manager):
    """Every tier deleted (an admin may): the set-based statement still runs (its tier SQL
    was "CASE ELSE NULL END", a syntax error on PostgreSQL that failed every import's
    follow-up)."""
    LoyaltyTier.objects.all().delete()
    orders = _world(manager)
    assert loyalty_earn_orders(orders) > 0
    assert not LoyaltyAccount.objects.filter(tier__isnull=False).exists()
