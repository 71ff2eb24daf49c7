"""The 360° page's panels: inline in the page, or deferred to one follow-up request."""

import re

import pytest
from django.urls import reverse

from customers.forms import InteractionForm
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    DealFactory,
    OrderFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db

PANEL_BODY = re.compile(r'<div class="card-body" id="(panel-[^"]+)"')
SWAPPED = re.compile(r'<div class="card-body" id="(panel-[^"]+)" hx-swap-oob="true">')


def test_inline_panels_are_in_the_page_and_deferred_ones_replace_their_placeholders(
    rep, rep_client
):
    customer = CustomerFactory(owner=rep)
    DealFactory(customer=customer, owner=rep, title="Tea for the office")
    OrderFactory(customer=customer, number="ORD-4242")
    TicketFactory(customer=customer, subject="Kettle leaks")
    # The timeline shows interactions only here: it tells of orders and tickets too.
    page = rep_client.get(customer.get_absolute_url() + "?kind=interaction").content.decode()
    assert "Tea for the office" in page  # deals: inline
    assert 'id="customer-value"' in page and f'id="loyalty-panel-{customer.pk}"' in page
    assert "ORD-4242" not in page and "Kettle leaks" not in page  # deferred

    deferred = reverse("customers:customer-panels", args=[customer.pk])
    assert f'hx-get="{deferred}"' in page
    response = rep_client.get(deferred)
    assert "ORD-4242" in response.text and "Kettle leaks" in response.text
    swapped = SWAPPED.findall(response.text)
    assert swapped == ["panel-sales-customer-orders-panel", "panel-service-customer-tickets-panel"]
    assert set(swapped) < set(PANEL_BODY.findall(page))  # each replaces its placeholder


def test_deferred_panels_follow_the_users_permissions(agent_client, nobody_client, rep, rep_client):
    customer = CustomerFactory(owner=rep)
    OrderFactory(customer=customer, number="ORD-4242")
    deferred = reverse("customers:customer-panels", args=[customer.pk])
    agents = agent_client.get(deferred).text  # tickets, but not orders
    assert SWAPPED.findall(agents) == ["panel-service-customer-tickets-panel"]
    assert "ORD-4242" not in agents
    assert nobody_client.get(deferred).status_code == 403
    missing = reverse("customers:customer-panels", args=[customer.pk + 1000])
    assert rep_client.get(missing).status_code == 404


def test_the_page_reads_the_contacts_once(rep, rep_client, django_assert_max_num_queries):
    """The contact list and the interaction form's contact choices share one read."""
    customer = CustomerFactory(owner=rep)
    ContactFactory.create_batch(2, customer=customer)
    rep_client.get(customer.get_absolute_url())
    with django_assert_max_num_queries(50) as captured:
        page = rep_client.get(customer.get_absolute_url()).content.decode()
    contact_reads = [q for q in captured if 'FROM "customers_contact"' in q["sql"]]
    assert len(contact_reads) == 1
    # The form offers the contacts as a form reading them itself does.
    offered = re.findall(
        r"<option.*?</option>",
        re.search(r'<select name="contact".*?</select>', page, re.S).group(0),
    )
    by_itself = re.findall(
        r"<option.*?</option>", str(InteractionForm(customer=customer)["contact"])
    )
    assert offered == by_itself
    assert len(offered) == 3  # no particular contact, and the two
