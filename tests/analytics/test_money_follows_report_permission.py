"""Issue 13, point 5: money follows the value report permission; summaries count only what
the viewer may see. Every test here failed before the fix (a rep saw every customer's
revenue and LTV, could filter by it, and read ticket counts and CSAT of others' customers)."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import (
    CustomerFactory,
    CustomerValueFactory,
    OrderFactory,
    SatisfactionResponseFactory,
    SegmentRunFactory,
    TicketFactory,
)

LIST = reverse("customers:customer-list")
MONEY = ("12,345.60", "1,763.66", "2,500.00")


@pytest.fixture
def valued(rep2):
    """A customer of rep2 with a value row in the current run."""
    customer = CustomerFactory(name="Valued Ltd", owner=rep2)
    CustomerValueFactory(run=SegmentRunFactory(), customer=customer, segment="champions",
                         revenue=Decimal("12345.60"), average_order_value=Decimal("1763.66"),
                         predicted_ltv=Decimal("2500.00"), probability_alive=0.876)  # fmt: skip
    return customer


def _value_panel(client, customer) -> str:
    return client.get(reverse("analytics:customer-value-panel", args=[customer.pk])).text


def test_a_rep_sees_the_segment_but_no_money_of_another_reps_customer(rep_client, valued):
    for text in (_value_panel(rep_client, valued), rep_client.get(valued.get_absolute_url()).text):
        assert "Champions" in text and "87.6%" in text
        assert not any(amount in text for amount in MONEY)
        assert 'id="value-money-hidden"' in text


def test_the_owner_and_the_value_report_roles_see_the_money(
    rep2_client, marketer_client, manager_client, valued
):
    for client in (rep2_client, marketer_client, manager_client):
        text = _value_panel(client, valued)
        assert all(amount in text for amount in MONEY)
        assert 'id="value-money-hidden"' not in text


@pytest.fixture
def ranked(rep2):
    """Ann (LTV 900) and Bob (LTV 50) in the current run, owned by rep2."""
    run = SegmentRunFactory()
    for name, ltv in (("Ann", "900.00"), ("Bob", "50.00")):
        CustomerValueFactory(run=run, customer=CustomerFactory(name=name, owner=rep2),
                             segment="loyal", predicted_ltv=Decimal(ltv))  # fmt: skip


def _names(response) -> list[str]:
    return [customer.name for customer in response.context["page"].object_list]


def test_a_rep_gets_no_ltv_column_and_ltv_filters_and_sorts_tell_nothing(rep_client, ranked):
    plain = rep_client.get(LIST)
    assert "900.00" not in plain.text and ">LTV<" not in plain.text
    assert "Segment" in plain.text and "P(alive)" in plain.text  # segments stay
    assert 'name="ltv_min"' not in plain.text
    for params in ({"ltv_min": "100"}, {"ltv_max": "100"}, {"ordering": "-ltv"},
                   {"sort": "-ltv"}, {"sort": "ltv"}):  # fmt: skip
        response = rep_client.get(LIST, params)
        assert response.status_code == 200
        assert _names(response) == _names(plain) == ["Ann", "Bob"], params
        assert "900.00" not in response.text


def test_a_manager_and_a_marketer_keep_the_ltv_column_and_filters(
    manager_client, marketer_client, ranked
):
    for client in (manager_client, marketer_client):
        response = client.get(LIST)
        assert "900.00" in response.text and 'name="ltv_min"' in response.text
        assert _names(client.get(LIST, {"ltv_min": "100"})) == ["Ann"]


def test_the_list_costs_the_same_queries_with_or_without_the_money(
    rep_client, manager_client, ranked
):
    counts = []
    for client in (rep_client, manager_client):
        client.get(LIST)  # sessions and permissions warm
        with CaptureQueriesContext(connection) as queries:
            client.get(LIST)
        counts.append(len(queries.captured_queries))
    assert counts[0] <= counts[1]


@pytest.fixture
def ticketed(rep2):
    customer = CustomerFactory(name="Ticketed", owner=rep2)
    TicketFactory(customer=customer)
    rated = TicketFactory(customer=customer, status="resolved")
    SatisfactionResponseFactory(ticket=rated, score=2)
    return customer


def _tickets_panel(client, customer) -> str:
    return client.get(reverse("service:customer-tickets-panel", args=[customer.pk])).text


def test_the_tickets_panel_counts_only_tickets_the_rep_may_see(rep_client, ticketed):
    text = _tickets_panel(rep_client, ticketed)
    assert "0 tickets in all" in text
    assert "open" not in text.split("tickets in all")[1].split("</div>")[0]
    assert "CSAT" not in text


def test_the_owner_and_agents_see_the_counts_and_csat(rep2_client, agent_client, ticketed):
    for client in (rep2_client, agent_client):
        text = _tickets_panel(client, ticketed)
        assert "2 tickets in all" in text and "1 open" in text
        assert "average CSAT 2.0/5" in text


def test_the_ticket_page_shows_revenue_only_with_the_value_report(
    agent_client, manager_client, ticketed
):
    OrderFactory(customer=ticketed, total=Decimal("777.00"))
    ticket = ticketed.tickets.first()
    assert 'id="summary-revenue"' not in agent_client.get(ticket.get_absolute_url()).text
    assert "777.00" in manager_client.get(ticket.get_absolute_url()).text


@pytest.mark.parametrize("persona", ["rep_client", "manager_client"])
def test_the_360_page_query_count_does_not_grow_with_history(
    request, persona, valued, django_assert_max_num_queries
):
    client = request.getfixturevalue(persona)
    client.get(valued.get_absolute_url())
    with CaptureQueriesContext(connection) as few:
        client.get(valued.get_absolute_url())
        client.get(reverse("customers:customer-panels", args=[valued.pk]))
    for _ in range(5):
        TicketFactory(customer=valued)
        OrderFactory(customer=valued)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(valued.get_absolute_url())
        client.get(reverse("customers:customer-panels", args=[valued.pk]))


def test_the_loyalty_panel_shows_the_12_month_spend_only_with_the_money(
    rep_client, rep2_client, manager_client, valued
):
    from marketing.models import LoyaltyAccount

    LoyaltyAccount.objects.create(customer=valued, balance=50, earned=50,
                                  spend_12m=Decimal("4321.09"))  # fmt: skip
    url = reverse("marketing:customer-loyalty-panel", args=[valued.pk])
    hidden = rep_client.get(url).text
    assert "50 points earned in all." in hidden and "4,321.09" not in hidden
    for client in (rep2_client, manager_client):
        shown = client.get(url).text
        assert f"4,321.09\u00a0{settings.CRM_CURRENCY} spent in the last 12 months" in shown
