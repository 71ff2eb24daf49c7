"""A run as of today starts from sales' order statistics; one as of a past date, from the
orders. Both must give the same result on the same data."""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics.models import CustomerValue, SegmentRun
from analytics.pipeline import staging
from analytics.services import run_compute_now
from core.models import ExchangeRate
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db
FIELDS = [
    f.attname for f in CustomerValue._meta.concrete_fields if f.attname not in ("id", "run_id")
]


def values(run: SegmentRun) -> dict[int, tuple]:
    return {
        row[0]: row
        for row in CustomerValue.objects.filter(run=run)
        .order_by("customer_id")
        .values_list(*FIELDS)
    }


@pytest.fixture
def shop(db):
    """40 customers with orders over a year up to today, some on the same day, some
    dated after today (which a run as of today must leave out)."""
    rng = random.Random(7)
    today = timezone.localdate()
    for _ in range(40):
        customer = CustomerFactory()
        for _ in range(rng.randint(1, 8)):
            day = today - timedelta(days=rng.randint(0, 365))
            at = datetime.combine(
                day, time(rng.randint(0, 23)), tzinfo=timezone.get_current_timezone()
            )
            OrderFactory(customer=customer, ordered_at=at, total=Decimal(rng.randint(1, 500)))
        if rng.random() < 0.2:
            OrderFactory(customer=customer, ordered_at=timezone.now() + timedelta(days=3))
    only_later = CustomerFactory()  # orders only after today: not in the run at all
    OrderFactory(customer=only_later, ordered_at=timezone.now() + timedelta(days=2))


def test_the_statistics_and_the_orders_give_the_same_run(shop, settings):
    today = timezone.localdate()
    assert staging.uses_order_stats(today)
    assert not staging.uses_order_stats(today - timedelta(days=1))  # a past date: the orders
    from_stats = run_compute_now(as_of=today)
    assert from_stats.status == SegmentRun.Status.SUCCEEDED, from_stats.error
    assert from_stats.parameters["aggregated_from"] == "order statistics"
    # The same days in another zone without offset from UTC: the statistics' zone differs,
    # so the run aggregates the orders.
    settings.TIME_ZONE = "Africa/Abidjan"
    assert not staging.uses_order_stats(today)
    from_orders = run_compute_now(as_of=today)
    assert from_orders.status == SegmentRun.Status.SUCCEEDED, from_orders.error
    assert from_orders.parameters["aggregated_from"] == "orders"
    assert from_stats.customers == from_orders.customers == 40
    assert values(from_stats) == values(from_orders)
    fitted = ("r", "alpha", "a", "b", "p", "q", "gamma")
    assert [from_stats.parameters[k] for k in fitted] == pytest.approx(
        [from_orders.parameters[k] for k in fitted]
    )
    assert from_stats.quintiles == from_orders.quintiles


def test_both_paths_sum_revenue_in_the_reporting_currency(db, settings):
    """A EUR order counts at its day's rate in a run from the statistics and in one as of a
    past date (from the orders); an order without a rate counts nothing."""
    settings.CRM_CURRENCY = "USD"
    today = timezone.localdate()
    ExchangeRate.objects.create(currency="EUR", day=today - timedelta(days=100), rate="1.50")
    customer = CustomerFactory()
    at = timezone.now() - timedelta(days=20)
    OrderFactory(customer=customer, ordered_at=at, total=Decimal("100.00"), currency="EUR")
    OrderFactory(customer=customer, ordered_at=at, total=Decimal("5.00"), currency="USD")
    OrderFactory(
        customer=customer, ordered_at=at - timedelta(days=200), total=Decimal("9"), currency="EUR"
    )
    for as_of in (today, today - timedelta(days=1)):
        run = run_compute_now(as_of=as_of)
        assert run.status == SegmentRun.Status.SUCCEEDED, run.error
        revenue = CustomerValue.objects.get(run=run, customer=customer).revenue
        assert revenue == Decimal("155.00"), as_of  # 100 × 1.50 + 5; 9 EUR have no rate
