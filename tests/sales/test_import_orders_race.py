"""An order import racing another writer of the same order number, on PostgreSQL: the
number the other commits while the import writes is "already present", not an error.

Real sessions, each thread with its own connection: nothing of our own is patched. The
other writer holds an uncommitted order "N-1" while the import runs, so the import's
anti-join cannot see it and its INSERT waits on the unique index until the other commits.
"""

import io
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from sales.import_services import order_import
from sales.models import Order
from tests.factories import CustomerFactory, OrderFactory
from tests.helpers import race_past_an_uncommitted_write

FILE = (
    "customer_external_id,ordered_at,total,order_number,channel,currency,coupon_code\n"
    "C1,2026-01-01T10:00:00,10.00,N-1,,,\n"
    "C1,2026-01-02T10:00:00,20.00,N-2,,,\n"
)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_number_committed_by_another_writer_meanwhile_is_already_present(
    postgres: None,
) -> None:
    customer = CustomerFactory(external_id="C1")
    written, commit = threading.Event(), threading.Event()

    def other_writer() -> None:
        with transaction.atomic():
            OrderFactory(
                customer=customer,
                number="N-1",
                ordered_at=timezone.now() - timedelta(days=1),
                total=Decimal("5.00"),
                coupon_code="",
            )
            written.set()
            commit.wait(timeout=10)  # the import stages its rows and waits on the index

    def importer():
        written.wait(timeout=10)
        return order_import(source=io.StringIO(FILE, newline=""))

    outcomes, blocked = race_past_an_uncommitted_write(
        {"other": other_writer, "import": importer}, commit
    )

    assert blocked == 1, "the import did not wait on the other writer's number"
    report = outcomes["import"]
    assert not isinstance(report, Exception), report
    assert (report.created, report.already_present) == (1, 1)
    assert dict(Order.objects.values_list("number", "total")) == {
        "N-1": Decimal("5.00"),
        "N-2": Decimal("20.00"),
    }
