"""Loyalty ledger balances and tiers; coupon codes and their redemption by orders."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.services import customers_merge
from marketing.models import (
    CampaignRecipient,
    LoyaltyAccount,
    LoyaltyEntry,
    LoyaltyRule,
    LoyaltyTier,
)
from marketing.services.campaigns import COUPON_ALPHABET, coupon_codes
from marketing.services.loyalty import (
    loyalty_adjust,
    loyalty_earn,
    loyalty_redeem,
    loyalty_refresh,
    loyalty_rule,
    loyalty_status,
    points_for,
)
from marketing.services.order_rewards import loyalty_earn_orders
from sales.models import Order
from sales.services import order_create
from tests.factories import (
    CampaignFactory,
    CampaignRecipientFactory,
    CustomerFactory,
    OrderFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal


def place_order(customer, total="100.00", coupon_code="", capture=None, **kwargs):
    """An order through the sales service, its after-commit signal delivered."""
    with capture(execute=True):
        return order_create(
            customer=customer,
            ordered_at=kwargs.pop("ordered_at", timezone.now()),
            coupon_code=coupon_code,
            lines=[{"description": "Item", "quantity": D("1"), "unit_price": D(total),
                    "discount_percent": D("0"), "tax_rate": D("0")}],
        )  # fmt: skip


def balance(customer) -> int:
    return LoyaltyAccount.objects.get(customer=customer).balance


def test_the_migration_made_a_default_rule_and_tiers():
    assert loyalty_rule().points_per_unit == D("1")
    assert list(LoyaltyTier.objects.values_list("name", flat=True)) == ["Gold", "Silver", "Bronze"]


def test_points_follow_the_rule():
    rule = LoyaltyRule(points_per_unit=D("1.5"), minimum_order_total=D("10"))
    assert points_for(D("99.99"), rule) == 149  # rounded down
    assert points_for(D("9.99"), rule) == 0  # under the minimum
    assert points_for(D("0"), rule) == 0
    rule.is_active = False
    assert points_for(D("500"), rule) == 0


def test_an_order_earns_points_once(django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    order = place_order(customer, "250.40", capture=django_capture_on_commit_callbacks)
    assert balance(customer) == 250
    entry = LoyaltyEntry.objects.get(customer=customer)
    assert (entry.kind, entry.points, entry.order) == ("earned", 250, order)
    assert order.number in entry.reason
    assert loyalty_earn(order=order) is None  # the signal delivered again
    assert balance(customer) == 250
    assert LoyaltyEntry.objects.filter(order=order).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        LoyaltyEntry.objects.create(
            customer=customer, kind="earned", points=5, reason="x", order=order
        )


def test_adjustments_and_redemptions_never_go_below_zero(manager):
    customer = CustomerFactory()
    loyalty_adjust(customer=customer, points=100, reason="Welcome gift", by=manager)
    loyalty_redeem(customer=customer, points=60, reason="Mug", by=manager)
    assert balance(customer) == 40
    with pytest.raises(ValidationError):
        loyalty_redeem(customer=customer, points=41, reason="Too much", by=manager)
    with pytest.raises(ValidationError):
        loyalty_adjust(customer=customer, points=-41, reason="Too much", by=manager)
    for bad in (0, -5, 10**10):
        with pytest.raises(ValidationError):
            loyalty_redeem(customer=customer, points=bad, reason="bad", by=manager)
    loyalty_adjust(customer=customer, points=-40, reason="Correction", by=manager)
    assert balance(customer) == 0
    entries = LoyaltyEntry.objects.filter(customer=customer)
    assert sum(e.points for e in entries) == 0  # the balance is the ledger's sum
    assert entries.filter(created_by=manager).count() == 3
    # The database refuses a negative balance even past the service.
    with pytest.raises(IntegrityError), transaction.atomic():
        LoyaltyAccount.objects.filter(customer=customer).update(balance=-1)


def test_tier_by_points_earned_or_twelve_month_spend(manager):
    customer = CustomerFactory()
    assert loyalty_status(customer).tier.name == "Bronze"
    loyalty_adjust(customer=customer, points=1000, reason="Bonus", by=manager)
    status = loyalty_status(customer)
    assert (status.tier.name, status.next_tier.name) == ("Silver", "Gold")
    loyalty_redeem(customer=customer, points=1000, reason="Trip", by=manager)
    assert loyalty_status(customer).tier.name == "Silver"  # redeeming keeps the tier
    other = CustomerFactory()
    OrderFactory(customer=other, total=D("3000"), ordered_at=timezone.now() - timedelta(days=400))
    loyalty_refresh()  # the nightly refresh
    assert loyalty_status(other).tier.name == "Bronze"  # spent over a year ago
    OrderFactory(customer=other, total=D("5000.00"))
    assert loyalty_status(other).tier.name == "Bronze"  # stored: not refreshed yet
    loyalty_refresh()
    status = loyalty_status(other)
    assert (status.tier.name, status.spend_12m, status.next_tier) == ("Gold", D("5000.00"), None)


def test_an_order_refreshes_the_tier_and_the_nightly_refresh_lets_spend_expire(
    django_capture_on_commit_callbacks,
):
    rule = loyalty_rule()
    rule.is_active = False  # tiers by spend alone: no points
    rule.save()
    customer = CustomerFactory()
    place_order(customer, "1200.00", capture=django_capture_on_commit_callbacks)
    status = loyalty_status(customer)
    assert (status.tier.name, status.spend_12m, status.earned) == ("Silver", D("1200.00"), 0)
    Order.objects.update(ordered_at=timezone.now() - timedelta(days=366))  # a year later
    assert loyalty_refresh() == 1
    status = loyalty_status(customer)
    assert (status.tier.name, status.spend_12m) == ("Bronze", D("0.00"))


def test_a_customer_without_an_account_is_in_the_base_tier_if_there_is_one():
    customer = CustomerFactory()
    assert loyalty_status(customer).tier.name == "Bronze"
    LoyaltyTier.objects.filter(name="Bronze").update(minimum_points=10)
    assert loyalty_status(customer).tier is None
    assert loyalty_status(customer).next_tier.name == "Bronze"


def test_changing_the_tiers_in_admin_re_tiers_every_account(
    admin_client, manager, django_capture_on_commit_callbacks
):
    customer = CustomerFactory()
    loyalty_adjust(customer=customer, points=1500, reason="Bonus", by=manager)
    assert loyalty_status(customer).tier.name == "Silver"
    silver = LoyaltyTier.objects.get(name="Silver")
    data = {"name": "Silver", "rank": 2, "minimum_points": 2000, "minimum_spend": "1000.00"}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/marketing/loyaltytier/{silver.pk}/change/", data)
    assert response.status_code == 302
    assert loyalty_status(customer).tier.name == "Bronze"  # the task ran (eagerly) on commit


def test_bulk_earning_is_idempotent_and_keeps_balances_equal_to_the_ledger(manager):
    buyer, other = CustomerFactory(), CustomerFactory()
    loyalty_adjust(customer=buyer, points=30, reason="Gift", by=manager)
    orders = [
        OrderFactory(customer=buyer, total=D("120.50")),
        OrderFactory(customer=buyer, total=D("1000.00")),
        OrderFactory(customer=other, total=D("0.40")),  # earns nothing
    ]
    loyalty_earn(order=orders[0])  # one of them already earned through its signal
    queryset = Order.objects.filter(pk__in=[o.pk for o in orders])
    assert loyalty_earn_orders(queryset) == 1
    assert loyalty_earn_orders(queryset) == 0
    status = loyalty_status(buyer)
    assert (status.balance, status.earned, status.tier.name) == (1150, 1150, "Silver")
    assert status.spend_12m == D("1120.50")
    assert balance(other) == 0  # an account, for its spend
    assert LoyaltyEntry.objects.filter(kind="earned", customer=buyer).count() == 2


def test_merge_moves_the_ledger_and_adds_the_balances(manager):
    kept, duplicate = CustomerFactory(), CustomerFactory()
    loyalty_adjust(customer=kept, points=10, reason="a", by=manager)
    loyalty_adjust(customer=duplicate, points=25, reason="b", by=manager)
    campaign = CampaignFactory()
    CampaignRecipientFactory(campaign=campaign, customer=kept)
    CampaignRecipientFactory(campaign=campaign, customer=duplicate)
    moved = CampaignRecipientFactory(customer=duplicate)
    customers_merge(kept=kept, duplicate=duplicate, merged_by=manager)
    assert balance(kept) == 35
    assert LoyaltyEntry.objects.filter(customer=kept).count() == 2
    assert CampaignRecipient.objects.filter(campaign=campaign).count() == 1
    moved.refresh_from_db()
    assert moved.customer == kept


def test_coupon_codes_are_unique_random_and_avoid_stored_ones():
    codes = coupon_codes(2000, prefix="spring")
    assert len(set(codes)) == 2000
    assert all(code.startswith("SPRING-") and len(code) == 17 for code in codes)
    assert all(set(code[7:]) <= set(COUPON_ALPHABET) for code in codes)
    recipient = CampaignRecipientFactory(coupon_code=codes[0])
    assert recipient.coupon_code not in coupon_codes(50, prefix="spring")
    assert coupon_codes(0) == []


def test_an_order_with_the_code_converts_the_recipient_once(django_capture_on_commit_callbacks):
    campaign = CampaignFactory(coupon_prefix="SPR")
    code = coupon_codes(1, prefix="SPR")[0]
    recipient = CampaignRecipientFactory(campaign=campaign, coupon_code=code)
    first = place_order(
        recipient.customer, "80.00", coupon_code=f" {code.lower()} ",
        capture=django_capture_on_commit_callbacks,
    )  # fmt: skip
    recipient.refresh_from_db()
    assert recipient.conversion_order == first
    assert recipient.revenue == D("80.00")
    assert recipient.outcome == "converted"
    assert recipient.converted_at == first.ordered_at
    place_order(
        recipient.customer, "500.00", coupon_code=code, capture=django_capture_on_commit_callbacks
    )
    recipient.refresh_from_db()
    assert recipient.conversion_order == first  # the first redemption counts
    # Unknown codes and orders without codes change nothing.
    place_order(
        CustomerFactory(), coupon_code="NOPE-123", capture=django_capture_on_commit_callbacks
    )
    assert CampaignRecipient.objects.exclude(conversion_order=None).count() == 1


def test_a_coupon_code_belongs_to_one_recipient():
    CampaignRecipientFactory(coupon_code="SAME")
    with pytest.raises(IntegrityError), transaction.atomic():
        CampaignRecipientFactory(coupon_code="SAME")
    # Recipients without coupons do not collide.
    CampaignRecipientFactory()
    CampaignRecipientFactory()
    assert CampaignRecipient.objects.filter(coupon_code="").count() == 2


def test_imported_orders_earn_points_and_redeem_coupons_after_commit(
    django_capture_on_commit_callbacks,
):
    """The import sends one signal with the new orders' ids; the task (eager here) does
    what order_placed does for a single order."""
    import io

    from sales.import_services import order_import

    buyer = CustomerFactory(external_id="EXT-1")
    recipient = CampaignRecipientFactory(customer=buyer, coupon_code="SPRING-ABC")
    csv = (
        "customer_external_id,ordered_at,total,order_number,coupon_code\n"
        "EXT-1,2026-01-05,100.00,IMP-1,spring-abc\n"
        "EXT-1,2026-01-06,1000.00,IMP-2,\n"
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order_import(source=io.StringIO(csv, newline=""))
    assert len(callbacks) == 1
    assert balance(buyer) == 1100
    recipient.refresh_from_db()
    assert recipient.conversion_order.number == "IMP-1"
    assert recipient.revenue == D("100.00")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order_import(source=io.StringIO(csv, newline=""))  # all already present
    assert callbacks == []
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        order_import(source=io.StringIO(csv, newline=""), dry_run=True)
    assert callbacks == []


def test_the_nightly_run_catches_up_on_missed_points_and_coupons():
    """Orders whose after-commit work never ran (written here without the signals)."""
    from marketing.tasks import nightly_loyalty

    buyer = CustomerFactory()
    recipient = CampaignRecipientFactory(customer=buyer, coupon_code="MISSED-1")
    OrderFactory(customer=buyer, total=D("300.00"), coupon_code="missed-1")
    OrderFactory(customer=buyer, total=D("900.00"))
    result = nightly_loyalty()
    assert (result["entries"], result["redemptions"]) == (2, 1)
    status = loyalty_status(buyer)
    assert (status.balance, status.tier.name) == (1200, "Silver")
    recipient.refresh_from_db()
    assert recipient.revenue == D("300.00")
    again = nightly_loyalty()
    assert (again["entries"], again["redemptions"]) == (0, 0)
    assert balance(buyer) == 1200


def test_a_failing_receiver_of_an_import_does_not_fail_the_import(
    django_capture_on_commit_callbacks,
):
    import io

    from sales.import_services import order_import
    from sales.signals import orders_imported

    def broker_down(**kwargs):
        raise ConnectionError("broker unreachable")

    CustomerFactory(external_id="EXT-9")
    orders_imported.connect(broker_down, dispatch_uid="test-broker-down")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            report = order_import(
                source=io.StringIO("customer_external_id,ordered_at,total\nEXT-9,2026-01-05,5\n")
            )
    finally:
        orders_imported.disconnect(dispatch_uid="test-broker-down")
    assert report.created == 1
