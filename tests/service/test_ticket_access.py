"""Who may reach the service desk: requested as every role, expecting 403/404 where refused."""

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory, DealFactory, TicketFactory, TicketMessageFactory

pytestmark = pytest.mark.django_db

QUEUE = reverse("service:ticket-list")


@pytest.fixture
def own_ticket(rep):
    """A ticket of a customer the rep owns, with an internal note."""
    ticket = TicketFactory(customer=CustomerFactory(owner=rep), subject="Rep's customer ticket")
    TicketMessageFactory(ticket=ticket, kind="note", body="Staff-only remark")
    return ticket


@pytest.fixture
def other_ticket(rep2):
    return TicketFactory(customer=CustomerFactory(owner=rep2))


def test_anonymous_is_sent_to_log_in(client, own_ticket):
    for url in [
        QUEUE,
        reverse("service:ticket-create"),
        reverse("service:ticket-detail", args=[own_ticket.pk]),
        reverse("service:customer-tickets-panel", args=[own_ticket.customer_id]),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/"), url


@pytest.mark.parametrize("persona", ["rep_client", "marketer_client", "nobody_client"])
def test_queue_is_for_agents_and_managers_only(request, persona):
    client = request.getfixturevalue(persona)
    assert client.get(QUEUE).status_code == 403
    assert client.post(reverse("service:ticket-bulk"), {"action": "assign_me"}).status_code == 403


@pytest.mark.parametrize("persona", ["agent_client", "manager_client"])
def test_agents_and_managers_reach_the_queue(request, persona):
    assert request.getfixturevalue(persona).get(QUEUE).status_code == 200


def test_rep_reads_own_customers_ticket_with_notes_but_no_forms(rep_client, own_ticket):
    response = rep_client.get(reverse("service:ticket-detail", args=[own_ticket.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    # Notes are internal to the company, and reps are staff; only the customer never sees them.
    assert "Staff-only remark" in html
    assert response.context["reply_form"] is None and response.context["update_form"] is None
    assert 'id="reply-form"' not in html and 'id="update-form"' not in html


def test_rep_cannot_change_own_customers_ticket(rep_client, own_ticket):
    update = reverse("service:ticket-update", args=[own_ticket.pk])
    reply = reverse("service:ticket-reply", args=[own_ticket.pk])
    assert rep_client.post(update, {"status": "resolved", "version": 1}).status_code == 403
    assert rep_client.post(reply, {"kind": "public", "body": "hi"}).status_code == 403
    own_ticket.refresh_from_db()
    assert own_ticket.status == "new" and own_ticket.messages.count() == 1


def test_rep_gets_404_for_another_reps_customer(rep_client, other_ticket):
    for name in ("service:ticket-detail", "service:ticket-update", "service:ticket-reply"):
        url = reverse(name, args=[other_ticket.pk])
        response = rep_client.post(url) if name != "service:ticket-detail" else rep_client.get(url)
        assert response.status_code == 404, name


def test_rep_panel_lists_only_visible_tickets_and_no_queue_link(rep_client, own_ticket):
    response = rep_client.get(
        reverse("service:customer-tickets-panel", args=[own_ticket.customer_id])
    )
    assert response.status_code == 200
    assert response.context["tickets"] == [own_ticket]
    assert response.context["queue_url"] is None and not response.context["can_add"]
    other = CustomerFactory()
    TicketFactory(customer=other)
    response = rep_client.get(reverse("service:customer-tickets-panel", args=[other.pk]))
    assert response.context["tickets"] == []


@pytest.mark.parametrize("persona", ["marketer_client", "nobody_client"])
def test_users_without_ticket_permission_get_403(request, persona, own_ticket):
    client = request.getfixturevalue(persona)
    assert client.get(reverse("service:ticket-detail", args=[own_ticket.pk])).status_code == 403
    panel = reverse("service:customer-tickets-panel", args=[own_ticket.customer_id])
    assert client.get(panel).status_code == 403
    assert client.get(reverse("service:ticket-create")).status_code == 403


def test_rep_may_not_create_tickets(rep_client, own_ticket):
    url = f"{reverse('service:ticket-create')}?customer={own_ticket.customer_id}"
    assert rep_client.get(url).status_code == 403


def test_agent_cannot_reach_sales_deals(agent_client, rep):
    deal = DealFactory(owner=rep)
    assert agent_client.get(reverse("sales:deal-list")).status_code == 403
    assert agent_client.get(reverse("sales:deal-detail", args=[deal.pk])).status_code == 403
    assert agent_client.get(reverse("sales:board")).status_code == 403


def test_unknown_and_huge_ids_are_404(agent_client):
    for pk in (999_999, 2**63, 10**30):
        assert agent_client.get(f"/service/tickets/{pk}/").status_code == 404
        assert agent_client.get(f"/service/customers/{pk}/tickets/").status_code == 404
