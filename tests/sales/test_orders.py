"""Orders: manual entry, list filters, detail, the 360° panel, access by persona, queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from sales.models import Order
from sales.services import order_create
from sales.signals import order_placed
from tests.factories import CustomerFactory, ProductFactory
from tests.sales.lines import form_line, line, line_formset_data

pytestmark = pytest.mark.django_db

D = Decimal


def make_order(customer, *lines, when=None, **extra):
    return order_create(
        customer=customer,
        ordered_at=when or timezone.now(),
        lines=list(lines) or [line()],
        **extra,
    )


def post_data(lines, *, customer, ordered_at="2026-01-15T10:30", channel="store", coupon=""):
    return {
        "customer": str(customer.pk),
        "ordered_at": ordered_at,
        "channel": channel,
        "coupon_code": coupon,
        **line_formset_data(lines),
    }


# --- service ------------------------------------------------------------------------------


def test_order_create_computes_the_total_numbers_and_signals(django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    received = []

    def receiver(sender, order, **kwargs):
        received.append(order.number)

    order_placed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            order = make_order(
                customer,
                line(quantity="2", unit_price="10.01", tax="13"),
                line(unit_price="50.00", discount="10"),
                coupon_code="  spring10 ",
            )
    finally:
        order_placed.disconnect(receiver)
    # 20.02 + 2.60 tax; 45.00
    assert order.total == D("67.62")
    assert order.number == f"SO-{timezone.localdate().year}-000001"
    assert order.coupon_code == "spring10"
    assert received == [order.number]
    assert make_order(customer).number.endswith("000002")


def test_order_create_refuses_bad_lines():
    customer = CustomerFactory()
    for lines in (
        [],
        [line(quantity="0")],
        [line(quantity="999999999", unit_price="999999999999")],
    ):
        with pytest.raises(ValidationError):
            order_create(customer=customer, ordered_at=timezone.now(), lines=lines)
    assert not Order.objects.exists()


# --- manual entry page --------------------------------------------------------------------


def test_rep_enters_an_order_for_their_customer(rep_client, rep):
    customer = CustomerFactory(owner=rep)
    product = ProductFactory(name="Router")
    url = reverse("sales:order-create") + f"?customer={customer.pk}"
    page = rep_client.get(url)
    assert page.status_code == 200 and "Router" in page.content.decode()
    lines = [
        {**form_line("Router", "2", "100.00", "0", "13"), "product": str(product.pk)},
        form_line("Cable", "4", "2.50", "10"),
    ]
    response = rep_client.post(url, post_data(lines, customer=customer, coupon="spring"))
    order = Order.objects.get()
    assert response.status_code == 302 and response.url == order.get_absolute_url()
    assert order.total == D("235.00")  # 200 + 26 tax + 9.00
    assert order.channel == "store" and order.coupon_code == "SPRING"
    assert timezone.localtime(order.ordered_at).strftime("%Y-%m-%d %H:%M") == "2026-01-15 10:30"
    detail = rep_client.get(order.get_absolute_url()).content.decode()
    for text in ("Router", "Cable", "226.00", "9.00", "235.00", order.number):
        assert text in detail


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ordered_at": "2026-02-30T10:00"}, "Enter a valid date/time"),
        ({"ordered_at": "0001-01-01T00:00"}, "Enter a date after"),
        ({"ordered_at": "9999-12-31T23:59"}, "in the future"),
        ({"channel": "telepathy"}, "Select a valid choice"),
        ({"coupon_code": "a\x00b"}, "Null characters"),
        ({"coupon_code": "x" * 51}, "at most 50 characters"),
        ({"lines-0-description": "\x00"}, "Null characters"),
        ({"lines-0-quantity": "99999999999999999999"}, "no more than 12 digits"),
        ({"lines-0-quantity": "999999999", "lines-0-unit_price": "999999999999.99"}, "too large"),
        ({"lines-0-unit_price": "-1"}, "greater than or equal to 0"),
        ({"lines-0-quantity": "0"}, "greater than or equal to 0.001"),
        ({"lines-TOTAL_FORMS": "0"}, "Add at least one line."),
        ({"lines-TOTAL_FORMS": "x"}, "Add at least one line."),
        ({"customer": "999999999999999999999"}, "Choose a customer"),
    ],
)
def test_manual_entry_refuses_hostile_input(rep_client, rep, changes, message):
    customer = CustomerFactory(owner=rep)
    data = {**post_data([form_line()], customer=customer), **changes}
    response = rep_client.post(reverse("sales:order-create") + f"?customer={customer.pk}", data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Order.objects.exists()


def test_script_tags_are_rendered_escaped(manager_client):
    customer = CustomerFactory(name="<script>alert('c')</script>")
    order = make_order(customer, line(description="<script>alert('l')</script>"))
    Order.objects.filter(pk=order.pk).update(coupon_code="<img src=x onerror=alert(1)>")
    for url in (
        order.get_absolute_url(),
        reverse("sales:order-list"),
        reverse("sales:customer-orders-panel", args=[customer.pk]),
        reverse("sales:order-list") + "?customer=%3Cscript%3E",
    ):
        content = manager_client.get(url).content.decode()
        assert "<script>alert(" not in content, url
        assert "<img src=x" not in content, url
    assert "&lt;script&gt;alert(" in manager_client.get(order.get_absolute_url()).content.decode()


def test_rep_cannot_enter_orders_for_other_reps_customers(rep_client, rep, rep2):
    mine = CustomerFactory(owner=rep, name="Acme Mine")
    other = CustomerFactory(owner=rep2, name="Acme Other")
    url = reverse("sales:order-create")
    assert rep_client.get(url + f"?customer={other.pk}").status_code == 404
    assert rep_client.post(url + f"?customer={other.pk}").status_code == 404
    response = rep_client.post(
        url + f"?customer={mine.pk}", post_data([form_line()], customer=other)
    )
    assert response.status_code == 422
    assert "Choose a customer you may enter orders for." in response.content.decode()
    assert not Order.objects.exists()
    # without a customer the page asks for one, among the rep's own customers only
    assert rep_client.get(url + "?customer=abc").status_code == 200
    picker = rep_client.get(url, {"q": "acme"}).content.decode()
    assert f"?customer={mine.pk}" in picker and f"?customer={other.pk}" not in picker
    assert rep_client.get(url, {"q": "\x00<script>"}).status_code == 200


# --- list, filters, detail, panel ---------------------------------------------------------


def test_list_filters(manager_client):
    acme = CustomerFactory(name="Acme Trading", email="buyer@acme.example")
    zeta = CustomerFactory(name="Zeta Foods")
    now = timezone.now()
    a = make_order(acme, when=now - timedelta(days=40), channel="web", coupon_code="SPRING")
    b = make_order(acme, when=now - timedelta(days=2), channel="store")
    c = make_order(zeta, when=now - timedelta(days=1), channel="web")
    url = reverse("sales:order-list")

    def numbers(query):
        response = manager_client.get(url, query)
        assert response.status_code == 200
        return {o.number for o in response.context["page"]}

    assert numbers({}) == {a.number, b.number, c.number}
    assert numbers({"channel": "web"}) == {a.number, c.number}
    assert numbers({"customer": "acme"}) == {a.number, b.number}
    assert numbers({"coupon": "spring"}) == {a.number}
    since = (timezone.localdate() - timedelta(days=10)).isoformat()
    assert numbers({"date_from": since}) == {b.number, c.number}
    assert numbers({"date_to": since}) == {a.number}
    # hostile filter values are ignored with a warning, never a server error
    response = manager_client.get(url, {"date_from": "2026-13-45", "channel": "x\x00"})
    assert response.status_code == 200
    assert "were not understood" in response.content.decode()


def test_list_paginates(manager_client):
    customer = CustomerFactory()
    for _ in range(30):
        make_order(customer)
    response = manager_client.get(reverse("sales:order-list"), {"page": "2"})
    assert len(response.context["page"].object_list) == 5
    assert manager_client.get(reverse("sales:order-list"), {"page": "x"}).status_code == 200


def test_customer_panel(rep_client, rep, manager_client):
    customer = CustomerFactory(owner=rep)
    for amount in ("10.00", "20.00", "30.00", "40.00", "50.00", "60.00"):
        make_order(customer, line(unit_price=amount))
    url = reverse("sales:customer-orders-panel", args=[customer.pk])
    content = rep_client.get(url).content.decode()
    assert "6 orders" in content and "210.00" in content
    assert content.count("/sales/orders/") >= 5
    assert f"/sales/orders/new/?customer={customer.pk}" in content
    page = rep_client.get(customer.get_absolute_url()).content.decode()
    deferred = reverse("customers:customer-panels", args=[customer.pk])
    assert deferred in page  # the 360° page loads its deferred panels, the orders among them
    assert 'id="orders-summary">6 orders' in rep_client.get(deferred).content.decode()


# --- access -------------------------------------------------------------------------------


def test_access_by_persona(client, rep, rep2, rep_client, rep2_client, manager_client, agent_client, marketer_client):  # fmt: skip
    mine = make_order(CustomerFactory(owner=rep))
    theirs = make_order(CustomerFactory(owner=rep2))
    detail = mine.get_absolute_url()
    assert rep_client.get(detail).status_code == 200
    assert manager_client.get(detail).status_code == 200
    assert rep2_client.get(detail).status_code == 404
    assert rep_client.get(theirs.get_absolute_url()).status_code == 404
    list_url = reverse("sales:order-list")
    assert {o.pk for o in rep_client.get(list_url).context["page"]} == {mine.pk}
    assert {o.pk for o in manager_client.get(list_url).context["page"]} == {mine.pk, theirs.pk}
    panel = reverse("sales:customer-orders-panel", args=[theirs.customer_id])
    # A rep is not told "no orders" of a customer whose orders they cannot see (issue 13).
    assert "No orders you can see." in rep_client.get(panel).content.decode()
    for url in (list_url, detail, reverse("sales:order-create"), panel):
        assert agent_client.get(url).status_code == 403, url
        assert marketer_client.get(url).status_code == 403, url
        assert client.get(url).status_code == 302, url
    nav = rep_client.get(reverse("customers:customer-list")).content.decode()
    assert list_url in nav
    assert list_url not in agent_client.get(reverse("customers:customer-list")).content.decode()


# --- queries ------------------------------------------------------------------------------


def test_order_list_and_panel_queries_are_constant(manager_client, django_assert_max_num_queries):
    customer = CustomerFactory()
    make_order(customer)
    urls = [
        reverse("sales:order-list"),
        reverse("sales:order-list") + "?customer=a&channel=sales&coupon=x",
        reverse("sales:customer-orders-panel", args=[customer.pk]),
    ]
    for url in urls:  # warm caches
        manager_client.get(url)

    def counts():
        result = []
        for url in urls:
            with django_assert_max_num_queries(12) as captured:
                assert manager_client.get(url).status_code == 200
            result.append(len(captured))
        return result

    few = counts()
    for n in range(40):
        make_order(CustomerFactory(name=f"Customer {n}"), *[line() for _ in range(3)])
        make_order(customer)
    assert counts() == few


def test_order_detail_queries_do_not_grow_with_lines(manager_client, django_assert_max_num_queries):
    customer = CustomerFactory()
    small, big = make_order(customer), make_order(customer, *[line() for _ in range(50)])
    manager_client.get(small.get_absolute_url())
    counts = []
    for order in (small, big):
        with django_assert_max_num_queries(10) as captured:
            assert manager_client.get(order.get_absolute_url()).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("stage", ["lead", "prospect", "churned"])
def test_the_first_order_makes_the_customer_a_customer(stage, db):
    """A won deal's order left the customer a prospect (issue 16)."""
    customer = CustomerFactory(stage=stage)
    version = customer.version
    order_create(
        customer=customer,
        ordered_at=timezone.now(),
        lines=[{"description": "Beans", "quantity": 1, "unit_price": Decimal("9.50")}],
    )
    customer.refresh_from_db()
    assert customer.stage == Customer.Stage.CUSTOMER and customer.version == version + 1
    assert customer.history.latest().stage == Customer.Stage.CUSTOMER
