"""The loyalty panel on the customer's 360° page, with adjustments and redemptions."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from marketing.models import LoyaltyEntry
from marketing.services.loyalty import loyalty_adjust
from marketing.services.order_rewards import loyalty_earn_orders
from sales.models import Order
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db


def panel_url(customer):
    return reverse("marketing:customer-loyalty-panel", args=[customer.pk])


def change_url(customer):
    return reverse("marketing:loyalty-change", args=[customer.pk])


def test_the_360_page_shows_the_panel_to_readers_only(rep_client, agent_client):
    customer = CustomerFactory()
    panel = f'id="loyalty-panel-{customer.pk}"'  # rendered inline, in the page's request
    assert panel in rep_client.get(customer.get_absolute_url()).content.decode()
    assert panel not in agent_client.get(customer.get_absolute_url()).content.decode()


def test_panel_shows_balance_tier_and_latest_entries(rep_client, manager):
    customer = CustomerFactory()
    for n in range(7):
        loyalty_adjust(customer=customer, points=200, reason=f"Gift {n}", by=manager)
    response = rep_client.get(panel_url(customer))
    content = response.content.decode()
    assert "1400 points" in content
    assert 'id="loyalty-tier">Silver<' in content
    assert "Gift 6" in content and "Gift 1" not in content  # the five latest
    assert response.context["form"] is None  # reps only read
    assert (
        rep_client.post(
            change_url(customer), {"action": "adjust", "points": "5", "reason": "x"}
        ).status_code
        == 403
    )


def test_default_tier_names_are_shown_in_the_users_language(rep_client, manager):
    """Tier names stayed English in Chinese (issue 16)."""
    customer = CustomerFactory()
    loyalty_adjust(customer=customer, points=1400, reason="Gift", by=manager)
    content = rep_client.get(panel_url(customer), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="loyalty-tier">银卡<' in content and "Gold" not in content


def test_an_orders_points_are_told_in_the_readers_language(rep_client, manager):
    """The follow-up of an import stored "Order …" in English, which Chinese readers saw
    as it was; a person's own reason stays as they typed it."""
    customer = CustomerFactory()
    kept, deleted = (OrderFactory(customer=customer, total=Decimal("300")) for _ in range(2))
    with translation.override("en"):
        assert loyalty_earn_orders(Order.objects.filter(customer=customer)) == 2
    loyalty_adjust(customer=customer, points=5, reason="Gift from the shop", by=manager)
    deleted_number = deleted.number
    deleted.delete()  # its entry keeps the text it was stored with
    for language, word in (("zh-hans", "订单"), ("zh-hant", "訂單")):
        content = rep_client.get(panel_url(customer), HTTP_ACCEPT_LANGUAGE=language)
        content = content.content.decode()
        assert f"{word} {kept.number}<" in content and f"Order {kept.number}" not in content
        assert f"Order {deleted_number}<" in content
        assert "Gift from the shop" in content


def test_marketer_adjusts_and_redeems_from_the_panel(marketer, marketer_client):
    customer = CustomerFactory()
    htmx = {"HTTP_HX_REQUEST": "true"}
    response = marketer_client.post(
        change_url(customer), {"action": "adjust", "points": "120", "reason": "Welcome"}, **htmx
    )
    assert response.status_code == 200
    assert "120 points" in response.content.decode()
    response = marketer_client.post(
        change_url(customer), {"action": "redeem", "points": "500", "reason": "Trip"}, **htmx
    )
    assert response.status_code == 422
    assert "cannot go below zero" in response.content.decode()
    response = marketer_client.post(
        change_url(customer), {"action": "redeem", "points": "20", "reason": "Mug"}
    )
    assert response.status_code == 302  # without htmx: back to the customer
    entries = LoyaltyEntry.objects.filter(customer=customer).order_by("id")
    assert [(e.kind, e.points, e.created_by) for e in entries] == [
        ("adjusted", 120, marketer),
        ("redeemed", -20, marketer),
    ]


@pytest.mark.parametrize(
    "data",
    [
        {"action": "redeem", "points": "-5", "reason": "x"},
        {"action": "adjust", "points": "0", "reason": "x"},
        {"action": "adjust", "points": "99999999999999", "reason": "x"},
        {"action": "adjust", "points": "abc", "reason": "x"},
        {"action": "adjust", "points": "5", "reason": "\x00"},
        {"action": "adjust", "points": "5", "reason": "   "},
        {"action": "steal", "points": "5", "reason": "x"},
    ],
)
def test_bad_changes_are_refused_next_to_the_field(marketer_client, data):
    customer = CustomerFactory()
    response = marketer_client.post(change_url(customer), data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert response.context["form"].errors
    assert not LoyaltyEntry.objects.exists()


def test_unknown_customer_is_404(marketer_client):
    assert (
        marketer_client.get(reverse("marketing:customer-loyalty-panel", args=[10**12])).status_code
        == 404
    )


def test_panel_groups_the_digits_of_its_figures(rep_client, manager):
    """ "+50000" and "50000 points earned" beside "54,540.00 USD" in the orders panel."""
    customer = CustomerFactory()
    loyalty_adjust(customer=customer, points=12000, reason="Gift", by=manager)
    content = rep_client.get(panel_url(customer)).content.decode()
    assert "12,000 points earned" in content and "+12,000<" in content
    zh = rep_client.get(panel_url(customer), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "累计获得 12,000 积分" in zh
