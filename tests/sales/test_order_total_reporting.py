"""Order.total_reporting: each order's total in the reporting currency at its day's rate,
set by every writer (save, the import on either database, the migration's fill) and
converted again when rates change; NULL while there is no rate."""

import io
from datetime import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from core.exchange_rates import exchange_rates_save
from core.models import ExchangeRate
from sales.import_services import order_import
from sales.models import Order
from sales.reporting_totals import orders_convert_all
from sales.services import order_create
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def usd_reporting(settings):
    settings.CRM_CURRENCY = "USD"
    settings.TIME_ZONE = "Asia/Shanghai"  # days are local: 2026-03-10 00:30 there is 03-09 UTC


def at(day: str, clock: str = "12:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=timezone.get_current_timezone())


@pytest.fixture
def eur():
    """EUR: 1.10 USD from 2026-03-01, 1.20 from 2026-03-10."""
    ExchangeRate.objects.create(currency="EUR", day="2026-03-01", rate="1.10")
    ExchangeRate.objects.create(currency="EUR", day="2026-03-10", rate="1.20")


def test_save_converts_at_the_rate_of_the_local_order_day(eur):
    usd = OrderFactory(total=Decimal("50.00"), currency="USD", ordered_at=at("2026-02-01"))
    before = OrderFactory(total=Decimal("100.00"), currency="EUR", ordered_at=at("2026-02-28"))
    first = OrderFactory(total=Decimal("100.00"), currency="EUR", ordered_at=at("2026-03-09"))
    # 00:30 on the 10th in Shanghai is still the 9th in UTC: the local day's rate applies.
    second = OrderFactory(
        total=Decimal("100.01"), currency="EUR", ordered_at=at("2026-03-10", "00:30")
    )
    values = dict(Order.objects.values_list("pk", "total_reporting"))
    assert values[usd.pk] == Decimal("50.00")
    assert values[before.pk] is None  # no rate yet on that day
    assert values[first.pk] == Decimal("110.00")
    assert values[second.pk] == Decimal("120.01")  # 100.01 × 1.20 = 120.012


def test_order_create_and_a_changed_total_convert_again(eur):
    order = order_create(
        customer=CustomerFactory(),
        ordered_at=at("2026-03-05"),
        lines=[{"description": "Beans", "quantity": 2, "unit_price": Decimal("10.00")}],
        currency="EUR",
    )
    order.refresh_from_db()
    assert (order.total, order.total_reporting) == (Decimal("20.00"), Decimal("22.00"))
    order.ordered_at = at("2026-03-12")
    order.save(update_fields=["ordered_at"])
    order.refresh_from_db()
    assert order.total_reporting == Decimal("24.00")


def test_an_order_saved_without_a_rate_gets_its_value_once_a_rate_is_added(
    django_capture_on_commit_callbacks,
):
    early = OrderFactory(total=Decimal("100.00"), currency="EUR", ordered_at=at("2026-03-02"))
    late = OrderFactory(total=Decimal("100.00"), currency="EUR", ordered_at=at("2026-03-20"))
    pounds = OrderFactory(total=Decimal("100.00"), currency="GBP", ordered_at=at("2026-03-20"))
    assert Order.objects.filter(total_reporting__isnull=False).count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        exchange_rates_save(rates={("EUR", datetime(2026, 3, 1).date()): Decimal("1.1")})
    values = dict(Order.objects.values_list("pk", "total_reporting"))
    assert (values[early.pk], values[late.pk], values[pounds.pk]) == (
        Decimal("110.00"),
        Decimal("110.00"),
        None,
    )
    # A later rate changes the orders from its day on, not the earlier ones.
    with django_capture_on_commit_callbacks(execute=True):
        exchange_rates_save(rates={("EUR", datetime(2026, 3, 15).date()): Decimal("1.3")})
    values = dict(Order.objects.values_list("pk", "total_reporting"))
    assert (values[early.pk], values[late.pk]) == (Decimal("110.00"), Decimal("130.00"))


def test_the_import_converts_in_sql_on_either_database(eur):
    CustomerFactory(external_id="C1")
    text = (
        "customer_external_id,ordered_at,total,order_number,currency\n"
        "C1,2026-03-05,12.50,N-1,EUR\n"
        "C1,2026-02-05,12.50,N-2,EUR\n"
        "C1,2026-03-10T00:30:00+08:00,10.00,N-3,EUR\n"
        "C1,2026-02-05,7.25,N-4,USD\n"
    )
    report = order_import(source=io.StringIO(text, newline=""))
    assert report.created == 4
    values = dict(Order.objects.values_list("number", "total_reporting"))
    assert values == {
        "N-1": Decimal("13.75"),  # 12.50 × 1.10
        "N-2": None,
        "N-3": Decimal("12.00"),
        "N-4": Decimal("7.25"),
    }, connection.vendor


def test_the_migration_fill_converts_every_order(eur):
    OrderFactory(total=Decimal("10.00"), currency="EUR", ordered_at=at("2026-03-11"))
    OrderFactory(total=Decimal("10.00"), currency="USD", ordered_at=at("2026-01-01"))
    OrderFactory(total=Decimal("10.00"), currency="EUR", ordered_at=at("2026-01-01"))
    Order.objects.update(total_reporting=Decimal("999.00"))
    with connection.cursor() as cursor:
        orders_convert_all(cursor)
    assert sorted(
        Order.objects.values_list("total_reporting", flat=True), key=lambda v: v or 0
    ) == [None, Decimal("10.00"), Decimal("12.00")]


@pytest.fixture
def eur_and_gbp(eur):
    """Beside the EUR rates, GBP: 2.00 USD from 2026-03-05 and a later 3.00 from 2026-03-20,
    so the latest rate on or before an order's day is often another currency's."""
    ExchangeRate.objects.create(currency="GBP", day="2026-03-05", rate="2.00")
    ExchangeRate.objects.create(currency="GBP", day="2026-03-20", rate="3.00")


def test_the_fill_uses_each_orders_own_currency_and_never_another_ones_rate(eur_and_gbp):
    # The rate's subquery once compared the rate's currency with itself (an unqualified
    # column resolves to the inner table), so any currency's latest rate converted the order.
    euros = OrderFactory(total=Decimal("10.00"), currency="EUR", ordered_at=at("2026-03-21"))
    pounds = OrderFactory(total=Decimal("10.00"), currency="GBP", ordered_at=at("2026-03-11"))
    francs = OrderFactory(total=Decimal("10.00"), currency="CHF", ordered_at=at("2026-03-21"))
    Order.objects.update(total_reporting=Decimal("999.00"))
    with connection.cursor() as cursor:
        orders_convert_all(cursor)
    values = dict(Order.objects.values_list("pk", "total_reporting"))
    assert values[euros.pk] == Decimal("12.00"), connection.vendor  # EUR 1.20, not GBP 3.00
    assert values[pounds.pk] == Decimal("20.00")  # GBP 2.00, not EUR 1.20 of the 10th
    assert values[francs.pk] is None  # CHF has no rate: flagged, never converted


def test_a_rate_change_converts_again_with_the_orders_own_currency(
    eur_and_gbp, django_capture_on_commit_callbacks
):
    pounds = OrderFactory(total=Decimal("10.00"), currency="GBP", ordered_at=at("2026-03-12"))
    with django_capture_on_commit_callbacks(execute=True):
        # A EUR rate after the last GBP one; the GBP order must keep GBP's 2.00.
        exchange_rates_save(
            rates={
                ("GBP", datetime(2026, 3, 6).date()): Decimal("2.50"),
                ("EUR", datetime(2026, 3, 11).date()): Decimal("1.50"),
            }
        )
    pounds.refresh_from_db()
    assert pounds.total_reporting == Decimal("25.00")
