"""Loyalty points, 12-month spend and tiers count orders in the reporting currency at
their day's rate: a 45,000 JPY order once earned 45,000 points and added 45,000 to a
spend that also held USD and CHF totals. An order without a rate earns nothing and adds
nothing until it has one (it is flagged on the order and in the reports)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.models import ExchangeRate
from marketing.models import LoyaltyAccount
from marketing.services.loyalty import loyalty_earn
from marketing.services.order_rewards import loyalty_earn_orders
from sales.models import Order
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def usd_with_a_eur_rate(settings):
    settings.CRM_CURRENCY = "USD"
    ExchangeRate.objects.create(
        currency="EUR", day=timezone.localdate() - timedelta(days=30), rate=Decimal("1.10")
    )


def orders_of(customer):
    yesterday = timezone.now() - timedelta(days=1)
    return [
        OrderFactory(customer=customer, total=Decimal("100.00"), currency="USD",
                     ordered_at=yesterday),
        OrderFactory(customer=customer, total=Decimal("100.00"), currency="EUR",
                     ordered_at=yesterday),
        OrderFactory(customer=customer, total=Decimal("45000.00"), currency="JPY",
                     ordered_at=yesterday),
    ]  # fmt: skip


def test_one_order_earns_points_on_its_value_in_the_reporting_currency():
    customer = CustomerFactory()
    usd, eur, jpy = orders_of(customer)
    assert loyalty_earn(order=usd).points == 100
    assert loyalty_earn(order=eur).points == 110  # 100 EUR at 1.10
    assert loyalty_earn(order=jpy) is None  # no JPY rate: no points yet
    account = LoyaltyAccount.objects.get(customer=customer)
    assert (account.balance, account.spend_12m) == (210, Decimal("210.00"))


def test_bulk_earning_and_spend_use_the_reporting_currency_too():
    customer = CustomerFactory()
    orders_of(customer)
    assert loyalty_earn_orders(Order.objects.all()) == 2  # the JPY order earns nothing
    account = LoyaltyAccount.objects.get(customer=customer)
    assert (account.balance, account.spend_12m) == (210, Decimal("210.00"))


def test_the_panel_shows_the_spend_as_money_in_the_reporting_currency(manager_client):
    # It read "89304.44 spent" beside the orders panel's "68,730.24 USD" on the 360° page.
    customer = CustomerFactory()
    OrderFactory(
        customer=customer,
        total=Decimal("12345.60"),
        currency="USD",
        ordered_at=timezone.now() - timedelta(days=1),
    )
    loyalty_earn_orders(Order.objects.all())
    html = manager_client.get(f"/customers/{customer.pk}/").content.decode()
    assert "12,345.60\u00a0USD spent in the last 12 months" in html


def test_an_order_earns_its_points_when_a_rate_for_its_day_comes_later(
    django_capture_on_commit_callbacks,
):
    """The JPY order earned nothing without a rate; the rate an admin adds days later
    converts it (sales) and then earns its points (marketing), once."""
    from core.exchange_rates import exchange_rates_save

    customer = CustomerFactory()
    jpy = orders_of(customer)[2]
    jpy.created_at = timezone.now() - timedelta(days=10)  # past the nightly catch-up
    jpy.save(update_fields=["created_at"])
    loyalty_earn_orders(Order.objects.all())
    day = timezone.localdate() - timedelta(days=5)
    with django_capture_on_commit_callbacks(execute=True):
        exchange_rates_save(rates={("JPY", day): Decimal("0.0070")})
    jpy.refresh_from_db()
    assert jpy.total_reporting == Decimal("315.00")
    account = LoyaltyAccount.objects.get(customer=customer)
    assert account.balance == 210 + 315
    with django_capture_on_commit_callbacks(execute=True):  # the same rate again: no more
        exchange_rates_save(rates={("JPY", day): Decimal("0.0070")})
    account.refresh_from_db()
    assert account.balance == 525
