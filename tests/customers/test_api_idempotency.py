"""One Idempotency-Key, two requests racing on PostgreSQL, each on its own connection (as
two gunicorn workers): one customer, and both answers are the first one's."""

import threading

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from core.api_tokens import api_token_create
from customers.models import Customer
from tests.factories import UserFactory

RACERS = 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_customer_posted_concurrently_with_one_key_is_one_customer():
    if connection.vendor != "postgresql":
        pytest.skip("the race needs PostgreSQL's row locks (SQLite serialises writers)")
    from crm import roles

    rep = UserFactory(username="racer", role=roles.SALES_REP)
    _token, text = api_token_create(user=rep, name="t", scope="read_write", expires_in_days=1)
    barrier = threading.Barrier(RACERS)
    answers: list = []

    def post() -> None:
        try:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {text}")
            barrier.wait()
            answers.append(
                client.post(
                    "/api/v1/customers/",
                    {"name": "Ann", "external_id": "shop-7"},
                    format="json",
                    HTTP_IDEMPOTENCY_KEY="order-7",
                )
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(a.status_code for a in answers) == [201, 201]
    assert Customer.objects.count() == 1
    assert {a.json()["id"] for a in answers} == {Customer.objects.get().pk}
    assert [a.get("Idempotent-Replayed") for a in answers].count("true") == 1
