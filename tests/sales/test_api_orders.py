"""The orders and products API (sales/api_orders.py, sales/api.py): access as on the order
pages, an order posted by a web shop placed like an app order (loyalty points, coupon),
upsert by order number, Idempotency-Key (also from two threads at once), hostile bodies."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from marketing.models import CampaignRecipient, LoyaltyAccount, LoyaltyEntry
from marketing.services.campaigns import coupon_codes
from sales.models import CustomerLastOrder, Order, OrderLine, Product
from tests.factories import (
    CampaignFactory,
    CampaignRecipientFactory,
    CustomerFactory,
    OrderFactory,
    OrderLineFactory,
    ProductFactory,
)
from tests.sales.test_api_deals import api, assert_problem

pytestmark = pytest.mark.django_db
D = Decimal
URL = "/api/v1/orders/"


def order_body(customer, **changes):
    body = {
        "customer": customer.pk,
        "order_number": "WEB-1001",
        "ordered_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "currency": "usd",
        "lines": [{"product": "SKU-A", "quantity": "2"}, {"description": "Gift wrap", "quantity": 1, "unit_price": "5.00"}],
    }  # fmt: skip
    return body | changes


@pytest.fixture
def product(db):
    return ProductFactory(sku="SKU-A", name="Kettle", unit_price=D("40.00"), tax_rate=D("10"))


# --- create, upsert, side effects ---------------------------------------------------------------


def test_a_web_shop_order_is_placed_like_an_app_order(
    manager, product, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory(coupon_prefix="SPR")
    code = coupon_codes(1, prefix="SPR")[0]
    recipient = CampaignRecipientFactory(campaign=campaign, coupon_code=code)
    customer = recipient.customer
    customer.external_id = "shop-77"
    customer.save()
    body = order_body(customer, customer_external_id="shop-77", coupon_code=code.lower())
    del body["customer"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api(manager).post(URL, body)
    assert response.status_code == 201, response.content
    data = response.json()
    order = Order.objects.get(number="WEB-1001")
    # 2 × 40.00 + 10% tax = 88.00; 5.00 gift wrap.
    assert (data["id"], data["total"], data["currency"], data["channel"]) == (
        order.pk,
        "93.00",
        "USD",
        "web",
    )
    assert [line["product_sku"] for line in data["lines"]] == ["SKU-A", None]
    assert data["lines"][0]["description"] == "Kettle" and data["lines"][0]["tax_rate"] == "10.00"
    # What order_placed's receivers do for an app order: points, the coupon, the last-order index.
    assert LoyaltyAccount.objects.get(customer=customer).balance == 93
    assert LoyaltyEntry.objects.get(order=order).points == 93
    recipient.refresh_from_db()
    assert (recipient.conversion_order, recipient.revenue) == (order, D("93.00"))
    assert CustomerLastOrder.objects.get(customer=customer).last_ordered_at == order.ordered_at


def test_an_order_posted_again_by_number_is_replaced_not_doubled(
    manager, product, django_capture_on_commit_callbacks
):
    customer = CustomerFactory()
    client = api(manager)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(URL, order_body(customer))
    assert first.status_code == 201
    changed = order_body(
        customer, lines=[{"product": product.pk, "quantity": "1", "unit_price": "30.00"}]
    )
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(URL, changed)
    assert second.status_code == 200, second.content
    assert second.json()["id"] == first.json()["id"]
    order = Order.objects.get()
    assert order.total == D("33.00") and OrderLine.objects.filter(order=order).count() == 1
    assert LoyaltyEntry.objects.filter(order=order).count() == 1  # earned once


def test_a_rep_posts_orders_for_their_customers_only_and_cannot_replace_them(rep, rep2, product):
    mine, theirs = CustomerFactory(owner=rep), CustomerFactory(owner=rep2)
    client = api(rep)
    assert client.post(URL, order_body(mine)).status_code == 201
    assert_problem(client.post(URL, order_body(theirs, order_number="WEB-2")), 400, "customer")
    # Orders change only with the change permission (managers), as in the admin.
    assert_problem(client.post(URL, order_body(mine)), 400, "order_number")
    # Another rep's order number is taken, not theirs to change.
    assert_problem(api(rep2).post(URL, order_body(theirs)), 400, "order_number")
    assert Order.objects.count() == 1
    # The CRM's own numbers are not for new orders.
    assert_problem(
        client.post(URL, order_body(mine, order_number="SO-2026-000009")), 400, "order_number"
    )


def test_without_a_number_the_crm_numbers_the_order(manager, product):
    body = order_body(CustomerFactory())
    del body["order_number"]
    response = api(manager).post(URL, body)
    assert response.status_code == 201
    assert response.json()["order_number"] == f"SO-{timezone.localdate().year}-000001"


def test_one_idempotency_key_makes_one_order(manager, product):
    customer = CustomerFactory()
    body = order_body(customer)
    del body["order_number"]  # no upsert: only the key keeps the retry from doubling
    client = api(manager)
    first = client.post(URL, body, HTTP_IDEMPOTENCY_KEY="key-1")
    again = client.post(URL, body, HTTP_IDEMPOTENCY_KEY="key-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Order.objects.count() == 1
    assert client.post(URL, body, HTTP_IDEMPOTENCY_KEY="key-2").status_code == 201
    assert Order.objects.count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("key", ["same-key", None])
def test_two_threads_posting_one_order_at_once_make_one_order(postgres, manager, key):
    """Each thread has its own database connection; with the key the second waits for and
    replays the first answer, without it the order number's unique constraint decides."""
    ProductFactory(sku="SKU-A", unit_price=D("40.00"))
    body = order_body(CustomerFactory())
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    barrier, answers = threading.Barrier(2), []

    def post():
        try:
            client = api(manager)
            barrier.wait()
            answers.append(client.post(URL, body, **headers).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Order.objects.filter(number="WEB-1001").count() == 1
    assert sorted(answers) == ([201, 201] if key else [200, 201])


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"order_number": "WEB\x00-1"}, "order_number"),
        ({"order_number": "x" * 51}, "order_number"),
        ({"ordered_at": "2026-02-30T10:00:00Z"}, "ordered_at"),
        ({"ordered_at": "٢٠٢٦-01-01T10:00:00Z"}, "ordered_at"),
        ({"ordered_at": "1970-01-01T00:00:00Z"}, "ordered_at"),
        ({"ordered_at": "2999-01-01T00:00:00Z"}, "ordered_at"),
        ({"currency": "€€€"}, "currency"),
        ({"customer": 10**30}, "customer"),
        ({"customer": "١"}, "customer"),
        ({"customer": [1]}, "customer"),
        ({"customer_external_id": "x"}, "customer"),
        ({"channel": "<script>"}, "channel"),
        ({"coupon_code": {"a": 1}}, "coupon_code"),
        ({"lines": []}, "lines"),
        ({"lines": "many"}, "lines"),
        ({"lines": [{"product": "SKU-A", "quantity": "-1"}]}, "lines"),
        ({"lines": [{"product": "SKU-A", "quantity": "1e400"}]}, "lines"),
        ({"lines": [{"product": "SKU-A", "quantity": "١"}]}, "lines"),
        ({"lines": [{"product": "SKU-A", "quantity": "NaN"}]}, "lines"),
        ({"lines": [{"product": True, "quantity": "1"}]}, "lines"),
        ({"lines": [{"product": 10**30, "quantity": "1"}]}, "lines"),
        ({"lines": [{"product": "NOPE", "quantity": "1"}]}, "lines"),
        ({"lines": [{"quantity": "1", "unit_price": "1"}]}, "lines"),
        ({"lines": [{"product": "SKU-A", "quantity": "99999999", "unit_price": "999999999999"}]}, "non_field_errors"),
    ],
)  # fmt: skip
def test_hostile_bodies_are_400_problems(manager, product, changes, field):
    response = api(manager).post(URL, order_body(CustomerFactory()) | changes)
    assert_problem(response, 400, field)
    assert not Order.objects.exists()


@pytest.mark.parametrize("raw", [b"{", b"[]", b"null", b'"x"', b"\x00", b'{"lines": 1e999999}'])
def test_bodies_that_are_not_an_order_are_400(manager, raw):
    response = api(manager).post(URL, raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"


# --- reads --------------------------------------------------------------------------------------


def test_a_rep_reads_their_customers_orders_and_another_reps_is_404(rep, rep2):
    mine = OrderFactory(customer=CustomerFactory(owner=rep))
    theirs = OrderFactory(customer=CustomerFactory(owner=rep2))
    client = api(rep)
    assert [o["id"] for o in client.get(URL).json()["results"]] == [mine.pk]
    assert client.get(f"{URL}{mine.pk}/").status_code == 200
    assert_problem(client.get(f"{URL}{theirs.pk}/"), 404)


def test_orders_filter_like_the_order_list(manager):
    OrderFactory(channel="web", coupon_code="SPRING")
    OrderFactory(channel="store")
    client = api(manager)
    assert [o["channel"] for o in client.get(f"{URL}?channel=web").json()["results"]] == ["web"]
    assert len(client.get(f"{URL}?coupon=spring").json()["results"]) == 1
    assert_problem(client.get(f"{URL}?date_from=2026-02-30"), 400, "date_from")


def test_order_list_queries_do_not_grow_with_orders_or_lines(
    manager, django_assert_max_num_queries
):
    client = api(manager)

    def add(count):
        for _ in range(count):
            order = OrderFactory()
            OrderLineFactory.create_batch(3, order=order, product=ProductFactory())

    add(2)
    with django_assert_max_num_queries(12) as few:
        assert client.get(URL).status_code == 200
    add(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(URL).json()["results"]) == 22


def test_products_are_read_by_sales_and_written_by_managers(rep, manager):
    product = ProductFactory(sku="SKU-Z")
    assert api(rep).get("/api/v1/products/").json()["results"][0]["sku"] == "SKU-Z"
    body = {"sku": " NEW-1 ", "name": "New", "unit_price": "12.50", "tax_rate": "6"}
    assert_problem(api(rep).post("/api/v1/products/", body), 403)
    created = api(manager).post("/api/v1/products/", body)
    assert created.status_code == 201, created.content
    assert Product.objects.get(pk=created.json()["id"]).sku == "NEW-1"
    changed = api(manager).patch(f"/api/v1/products/{product.pk}/", {"is_active": False})
    assert changed.status_code == 200 and changed.json()["is_active"] is False
    assert_problem(
        api(manager).patch(f"/api/v1/products/{product.pk}/", {"tax_rate": "101"}), 400, "tax_rate"
    )
    assert_problem(api(manager).post("/api/v1/products/", body | {"sku": "SKU-Z"}), 400, "sku")
    assert CampaignRecipient.objects.count() == 0
