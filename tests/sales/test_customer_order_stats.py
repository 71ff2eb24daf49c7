"""CustomerOrderStats equals the raw aggregate of the orders after every way orders change.

The expected figures are computed here in Python from the orders themselves, independently
of the triggers' SQL; each test runs on SQLite and on PostgreSQL (DATABASE_URL)."""

import io
import threading
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from core.exchange_rates import exchange_rates_save
from core.models import ExchangeRate
from customers.erasure import customer_erase
from customers.services import customers_merge
from sales import order_stats
from sales.import_services import order_import
from sales.models import CustomerOrderStats, Order
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def expected() -> dict[int, tuple]:
    """(first day, last day, purchase days, orders, revenue, first day's value) per customer."""
    by_customer: dict[int, list] = defaultdict(list)
    for customer_id, ordered_at, total in Order.objects.values_list(
        "customer_id", "ordered_at", "total_reporting"
    ):
        value = Decimal(total if total is not None else 0)  # in CRM_CURRENCY; no rate: 0
        by_customer[customer_id].append((timezone.localdate(ordered_at), value))
    result = {}
    for customer_id, orders in by_customer.items():
        days = {day for day, _ in orders}
        first = min(days)
        first_value = sum(total for day, total in orders if day == first)
        revenue = sum(total for _, total in orders)
        result[customer_id] = (first, max(days), len(days), len(orders), revenue, first_value)
    return result


def stored() -> dict[int, tuple]:
    return {
        row.customer_id: (
            row.first_day,
            row.last_day,
            row.purchase_days,
            row.orders,
            Decimal(row.revenue).quantize(Decimal("0.01")),
            Decimal(row.first_day_revenue).quantize(Decimal("0.01")),
        )
        for row in CustomerOrderStats.objects.all()
    }


def assert_consistent():
    assert stored() == expected()


def test_inserts_on_new_same_earlier_and_middle_days():
    customer = CustomerFactory()
    OrderFactory(customer=customer, ordered_at=T0, total=10)
    assert stored()[customer.pk] == (T0.date(), T0.date(), 1, 1, Decimal("10.00"), 10)
    OrderFactory(customer=customer, ordered_at=T0 + timedelta(hours=2), total=5)  # same day
    OrderFactory(customer=customer, ordered_at=T0 + 10 * DAY, total=7)  # a later day
    OrderFactory(customer=customer, ordered_at=T0 - 10 * DAY, total=3)  # a new first day
    OrderFactory(customer=customer, ordered_at=T0 - 10 * DAY, total=2)  # on the first day
    OrderFactory(customer=customer, ordered_at=T0 + 3 * DAY, total=1)  # between
    OrderFactory(customer=customer, ordered_at=T0 + 3 * DAY + timedelta(hours=1), total=1)
    assert stored()[customer.pk] == (
        (T0 - 10 * DAY).date(),
        (T0 + 10 * DAY).date(),
        4,
        7,
        Decimal("29.00"),
        Decimal("5.00"),
    )
    assert_consistent()


def test_one_statement_inserting_many_orders_of_many_customers():
    first, second = CustomerFactory(), CustomerFactory()
    OrderFactory(customer=second, ordered_at=T0)
    Order.objects.bulk_create(
        Order(
            customer=customer,
            number=f"B-{i}",
            ordered_at=T0 + (i % 4) * DAY,
            total=i,
            total_reporting=i,  # bulk_create skips save(), which converts
        )
        for i, customer in enumerate([first, second] * 6)
    )
    assert_consistent()


def test_updates_of_total_customer_and_date():
    kept, other = CustomerFactory(), CustomerFactory()
    orders = [OrderFactory(customer=kept, ordered_at=T0 + i * DAY, total=10 + i) for i in range(4)]
    OrderFactory(customer=other, ordered_at=T0)
    orders[0].total = 99  # the first day's value
    orders[0].save()
    assert_consistent()
    orders[0].ordered_at = T0 + 2 * DAY  # re-dated onto another purchase day
    orders[0].save()
    assert stored()[kept.pk][2] == 3
    assert_consistent()
    orders[3].customer = other  # moved to another customer
    orders[3].save()
    assert_consistent()
    Order.objects.filter(customer=kept).update(ordered_at=T0 - 30 * DAY)  # all on one day
    assert stored()[kept.pk][:3] == ((T0 - 30 * DAY).date(),) * 2 + (1,)
    assert_consistent()
    orders[1].coupon_code = "X"  # a change to anything else leaves it
    orders[1].save()
    assert_consistent()


def test_revenue_is_in_the_reporting_currency_and_follows_new_rates(
    settings, django_capture_on_commit_callbacks
):
    """A EUR order counts at its day's rate; one without a rate counts 0 until a rate comes."""
    settings.CRM_CURRENCY = "USD"
    ExchangeRate.objects.create(currency="EUR", day=T0.date() - 10 * DAY, rate="1.25")
    customer = CustomerFactory()
    OrderFactory(customer=customer, ordered_at=T0, total=Decimal("100.00"), currency="EUR")
    OrderFactory(customer=customer, ordered_at=T0 + DAY, total=Decimal("10.00"), currency="USD")
    OrderFactory(customer=customer, ordered_at=T0 - 20 * DAY, total=Decimal("8.00"), currency="EUR")
    assert stored()[customer.pk][3:] == (3, Decimal("135.00"), Decimal("0.00"))  # 8 EUR: no rate
    assert_consistent()
    with django_capture_on_commit_callbacks(execute=True):
        exchange_rates_save(rates={("EUR", T0.date() - 30 * DAY): Decimal("1.50")})
    assert stored()[customer.pk][3:] == (3, Decimal("147.00"), Decimal("12.00"))
    assert_consistent()


def test_deletes_recount_and_the_last_order_removes_the_row():
    customer = CustomerFactory()
    first = OrderFactory(customer=customer, ordered_at=T0, total=4)
    OrderFactory(customer=customer, ordered_at=T0 + DAY, total=6)
    first.delete()
    assert stored()[customer.pk] == ((T0 + DAY).date(),) * 2 + (1, 1, Decimal("6.00"), 6)
    Order.objects.filter(customer=customer).delete()
    assert customer.pk not in stored()
    assert_consistent()


def test_a_merge_moves_the_statistics(manager):
    kept, duplicate = CustomerFactory(), CustomerFactory()
    OrderFactory(customer=kept, ordered_at=T0 - 30 * DAY, total=1)
    OrderFactory(customer=duplicate, ordered_at=T0, total=2)
    OrderFactory(customer=duplicate, ordered_at=T0 - 30 * DAY, total=3)  # same day as kept's
    customers_merge(kept=kept, duplicate=duplicate, merged_by=manager)
    assert stored()[kept.pk][2:5] == (2, 3, Decimal("6.00"))
    assert duplicate.pk not in stored()
    assert_consistent()


def test_a_bulk_import_and_an_erasure():
    first, second = CustomerFactory(external_id="A"), CustomerFactory(external_id="B")
    OrderFactory(customer=second, ordered_at=datetime(2026, 2, 1, 8, 0, tzinfo=UTC), total=5)
    csv = (
        "customer_external_id,ordered_at,total,order_number\n"
        "A,2026-01-05T10:00:00Z,1,X-1\nA,2026-02-01T10:00:00Z,1,X-2\nA,2026-01-05T11:00:00Z,2,X-3\n"
        "B,2026-02-01T10:00:00Z,4,X-4\nB,2026-01-01T10:00:00Z,8,X-5\n"
    )
    order_import(source=io.StringIO(csv, newline=""))
    assert stored()[first.pk][2:] == (2, 3, Decimal("4.00"), Decimal("3.00"))
    assert stored()[second.pk][2:] == (2, 3, Decimal("17.00"), Decimal("8.00"))
    customer_erase(customer=first, erased_by=None)  # orders stay: so do their statistics
    assert_consistent()


def test_the_same_file_imported_again_counts_nothing_twice():
    """The second import skips every order number already taken (ON CONFLICT DO NOTHING on
    PostgreSQL): the statistics stay as the first import left them."""
    customer = CustomerFactory(external_id="A")
    csv = (
        "customer_external_id,ordered_at,total,order_number\n"
        "A,2026-01-05T10:00:00Z,1,Y-1\nA,2026-01-07T10:00:00Z,2,Y-2\n"
    )
    order_import(source=io.StringIO(csv, newline=""))
    first = stored()[customer.pk]
    order_import(source=io.StringIO(csv, newline=""))
    days = (datetime(2026, 1, 5).date(), datetime(2026, 1, 7).date())
    assert first == (*days, 2, 2, Decimal("3.00"), Decimal("1.00"))
    assert stored()[customer.pk] == first
    assert_consistent()


def test_a_merge_into_a_customer_without_orders(manager):
    """The kept customer has no row yet: the merge creates it from the moved orders."""
    kept, duplicate = CustomerFactory(), CustomerFactory()
    OrderFactory(customer=duplicate, ordered_at=T0, total=2)
    OrderFactory(customer=duplicate, ordered_at=T0 + DAY, total=3)
    customers_merge(kept=kept, duplicate=duplicate, merged_by=manager)
    assert stored()[kept.pk][2:5] == (2, 2, Decimal("5.00"))
    assert duplicate.pk not in stored()
    assert_consistent()


def test_rebuild_recomputes_the_table():
    customer = CustomerFactory()
    OrderFactory(customer=customer, ordered_at=T0)
    CustomerOrderStats.objects.all().delete()
    call_command("rebuild_order_stats", verbosity=0)
    assert order_stats.zone() == "UTC"
    assert_consistent()


def test_days_are_counted_in_time_zone(settings):
    """Two orders on one UTC day but two days in Shanghai (UTC+8)."""
    settings.TIME_ZONE = "Asia/Shanghai"
    customer = CustomerFactory()
    order_stats.rebuild()
    assert order_stats.zone() == "Asia/Shanghai"
    with timezone.override("Asia/Shanghai"):
        OrderFactory(customer=customer, ordered_at=datetime(2026, 3, 1, 10, 0, tzinfo=UTC))
        OrderFactory(customer=customer, ordered_at=datetime(2026, 3, 1, 18, 0, tzinfo=UTC))
        assert stored()[customer.pk][2] == 2
        assert_consistent()


# serialized_rollback as in every transactional test: later tests get the migrations' rows.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_orders_of_one_customer_on_one_day_count_one_day(postgres):
    """Two sessions place the customer's first orders on the same day at once: the second
    waits for the first's commit and sees its order, so the day is counted once."""
    customer = CustomerFactory()
    placed, done = threading.Event(), threading.Event()

    def place(first: bool):
        try:
            if not first:
                placed.wait(timeout=10)
            with transaction.atomic():
                OrderFactory(customer=customer, ordered_at=T0 + timedelta(hours=first))
                if first:
                    placed.set()
                    done.wait(timeout=2)  # the other session is (or would be) waiting
        finally:
            connection.close()

    threads = [threading.Thread(target=place, args=(flag,)) for flag in (True, False)]
    for thread in threads:
        thread.start()
    threads[1].join(timeout=1)
    done.set()
    for thread in threads:
        thread.join(timeout=30)
    assert stored()[customer.pk][2:4] == (1, 2)
    assert_consistent()
