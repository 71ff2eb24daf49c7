"""What happens to sales records when their customer is merged or deleted."""

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from sales.models import Order
from tests.factories import CustomerFactory, DealFactory

pytestmark = pytest.mark.django_db


def make_order(customer, number="SO-1"):
    return Order.objects.create(
        customer=customer, number=number, ordered_at=timezone.now(), total="10.00"
    )


def test_a_customer_with_orders_is_not_deleted_and_the_manager_is_told_why(manager_client):
    customer = CustomerFactory()
    make_order(customer)
    response = manager_client.post(
        reverse("customers:customer-delete", args=[customer.pk]), follow=True
    )
    assert response.status_code == 200
    assert "has orders" in response.content.decode()
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_merging_moves_deals_and_orders_to_the_kept_customer(manager_client):
    kept, duplicate = CustomerFactory(), CustomerFactory()
    deal = DealFactory(customer=duplicate)
    order = make_order(duplicate)
    manager_client.post(
        reverse("customers:customer-merge", args=[kept.pk]),
        {"duplicate": duplicate.pk, "confirm": "1"},
    )
    deal.refresh_from_db()
    order.refresh_from_db()
    assert (deal.customer_id, order.customer_id) == (kept.pk, kept.pk)
    assert not Customer.objects.filter(pk=duplicate.pk).exists()
