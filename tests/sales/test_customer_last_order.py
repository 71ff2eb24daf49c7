"""CustomerLastOrder follows every way orders are written: the database triggers keep it."""

import io
from datetime import UTC, datetime, timedelta

import pytest

from customers.services import customers_merge
from sales.import_services import order_import
from sales.models import CustomerLastOrder, Order
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def last(customer):
    row = CustomerLastOrder.objects.filter(customer=customer).first()
    return row.last_ordered_at if row else None


def test_inserts_only_move_the_date_forward():
    customer = CustomerFactory()
    assert last(customer) is None
    OrderFactory(customer=customer, ordered_at=T0)
    assert last(customer) == T0
    OrderFactory(customer=customer, ordered_at=T0 - timedelta(days=3))  # an older order, later
    assert last(customer) == T0
    OrderFactory(customer=customer, ordered_at=T0 + timedelta(microseconds=1))
    assert last(customer) == T0 + timedelta(microseconds=1)


def test_re_dating_or_deleting_the_last_order_recounts():
    customer = CustomerFactory()
    older = OrderFactory(customer=customer, ordered_at=T0 - timedelta(days=10))
    newest = OrderFactory(customer=customer, ordered_at=T0)
    newest.ordered_at = T0 - timedelta(days=20)
    newest.save()
    assert last(customer) == older.ordered_at
    Order.objects.filter(pk=older.pk).delete()
    assert last(customer) == T0 - timedelta(days=20)
    newest.total = 5  # a change to anything else leaves it
    newest.save()
    assert last(customer) == T0 - timedelta(days=20)
    Order.objects.all().delete()
    assert last(customer) is None


def test_a_merge_moves_the_orders_and_the_date(manager):
    kept, duplicate = CustomerFactory(), CustomerFactory()
    OrderFactory(customer=kept, ordered_at=T0 - timedelta(days=30))
    OrderFactory(customer=duplicate, ordered_at=T0)
    customers_merge(kept=kept, duplicate=duplicate, merged_by=manager)
    assert last(kept) == T0
    assert not CustomerLastOrder.objects.filter(customer_id=duplicate.pk).exists()


def test_a_bulk_import_sets_each_customer_once():
    first, second = CustomerFactory(external_id="A"), CustomerFactory(external_id="B")
    OrderFactory(customer=second, ordered_at=T0 + timedelta(days=1))
    csv = (
        "customer_external_id,ordered_at,total,order_number\n"
        "A,2026-01-05T10:00:00Z,1,X-1\nA,2026-02-01T10:00:00Z,1,X-2\nA,2026-01-20T10:00:00Z,1,X-3\n"
        "B,2026-02-01T10:00:00Z,1,X-4\n"
    )
    order_import(source=io.StringIO(csv, newline=""))
    assert last(first) == datetime(2026, 2, 1, 10, 0, tzinfo=UTC)
    assert last(second) == T0 + timedelta(days=1)  # its own order is newer than the import's


# serialized_rollback as in every transactional test: later tests get the migrations' rows.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_re_dating_waits_for_an_order_being_placed(postgres):
    """Session A places a newer order and has not committed; session B re-dates another
    order to an older date. B's recount must wait for A and count A's order."""
    import threading

    from django.db import connection, transaction

    customer = CustomerFactory()
    old = OrderFactory(customer=customer, ordered_at=T0)
    placed, done = threading.Event(), threading.Event()

    def place():
        try:
            with transaction.atomic():
                OrderFactory(customer=customer, ordered_at=T0 + timedelta(days=100))
                placed.set()
                done.wait(timeout=2)  # B is (or would be) waiting for this commit
        finally:
            connection.close()

    def re_date():
        try:
            placed.wait(timeout=10)
            with transaction.atomic():
                Order.objects.filter(pk=old.pk).update(ordered_at=T0 - timedelta(days=365))
        finally:
            connection.close()

    threads = [threading.Thread(target=place), threading.Thread(target=re_date)]
    for thread in threads:
        thread.start()
    threads[1].join(timeout=1)  # blocked on A's row
    done.set()
    for thread in threads:
        thread.join(timeout=30)
    assert last(customer) == T0 + timedelta(days=100)
