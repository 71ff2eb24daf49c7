"""The tickets API (/api/v1/tickets/): the same people see and work the same tickets as on
the ticket pages (tests/service/test_ticket_access.py), through the same services."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.selectors import outbox_about
from service.models import SLAPolicy, Ticket, TicketMessage
from service.services import ticket_create
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    TagFactory,
    TicketFactory,
    TicketMessageFactory,
)

pytestmark = pytest.mark.django_db

LIST = reverse("api:ticket-list")


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def detail(ticket, name="detail"):
    return reverse(f"api:ticket-{name}", args=[ticket.pk])


@pytest.fixture
def own_ticket(rep):
    """A ticket of a customer the rep owns, with a public reply and an internal note."""
    ticket = TicketFactory(customer=CustomerFactory(owner=rep), subject="Rep's customer ticket")
    TicketMessageFactory(ticket=ticket, kind="reply", body="Public answer")
    TicketMessageFactory(ticket=ticket, kind="note", body="Staff-only remark")
    return ticket


@pytest.fixture
def other_ticket(rep2):
    return TicketFactory(customer=CustomerFactory(owner=rep2))


def test_login_is_required(client, own_ticket):
    for url in (LIST, detail(own_ticket), detail(own_ticket, "notes")):
        response = APIClient().get(url)
        assert response.status_code in (401, 403), url
        assert response["Content-Type"] == "application/problem+json"


def test_rep_lists_and_reads_only_their_customers_tickets(rep, own_ticket, other_ticket):
    client = api(rep)
    ids = [row["id"] for row in client.get(LIST).json()["results"]]
    assert ids == [own_ticket.pk]
    assert client.get(detail(other_ticket)).status_code == 404
    assert client.get(detail(other_ticket, "notes")).status_code == 404


@pytest.mark.parametrize("persona", ["agent", "manager"])
def test_agents_and_managers_list_every_ticket(request, persona, own_ticket, other_ticket):
    client = api(request.getfixturevalue(persona))
    ids = {row["id"] for row in client.get(LIST).json()["results"]}
    assert ids == {own_ticket.pk, other_ticket.pk}


@pytest.mark.parametrize("persona", ["marketer", "nobody"])
def test_roles_without_tickets_are_refused(request, persona, own_ticket):
    client = api(request.getfixturevalue(persona))
    assert client.get(LIST).status_code == 403
    assert client.get(detail(own_ticket)).status_code == 403
    response = client.get(detail(own_ticket, "notes"))
    assert response.status_code == 403 and "Staff-only" not in response.content.decode()


@pytest.mark.parametrize("persona", ["rep", "agent", "manager"])
def test_ticket_messages_are_public_only(request, persona, own_ticket):
    response = api(request.getfixturevalue(persona)).get(detail(own_ticket))
    assert response.status_code == 200
    assert response["ETag"] == f'"{own_ticket.version}"'
    body = response.json()
    assert [m["body"] for m in body["messages"]] == ["Public answer"]
    assert "Staff-only remark" not in response.content.decode()
    assert body["number"] == own_ticket.number and body["customer"] == own_ticket.customer_id


def test_notes_are_for_staff_who_see_them_on_the_page(rep, own_ticket):
    # The ticket page shows notes to every staff member who sees the ticket (reps too).
    response = api(rep).get(detail(own_ticket, "notes"))
    assert response.status_code == 200
    assert [m["body"] for m in response.json()] == ["Staff-only remark"]


def test_queue_filters_apply(agent, own_ticket, other_ticket):
    other_ticket.priority = "urgent"
    other_ticket.save()
    client = api(agent)
    rows = client.get(LIST, {"priority": "urgent"}).json()["results"]
    assert [row["id"] for row in rows] == [other_ticket.pk]
    rows = client.get(LIST, {"customer": own_ticket.customer_id}).json()["results"]
    assert [row["id"] for row in rows] == [own_ticket.pk]
    rows = client.get(LIST, {"q": own_ticket.number}).json()["results"]
    assert [row["id"] for row in rows] == [own_ticket.pk]
    # The "mine" tab: the agent's own open tickets.
    assert client.get(LIST, {"view": "mine"}).json()["results"] == []


def test_agent_creates_a_ticket_with_the_sla_clock(agent, rep):
    SLAPolicy.objects.update_or_create(
        priority="high", defaults={"first_response_minutes": 60, "resolution_minutes": 480}
    )
    customer = CustomerFactory(owner=rep)
    contact = ContactFactory(customer=customer)
    tag = TagFactory()
    body = {
        "customer": customer.pk,
        "subject": "  Cannot log in ",
        "description": "Since this morning",
        "channel": "phone",
        "priority": "high",
        "contact": contact.pk,
        "tags": [tag.pk],
    }
    response = api(agent).post(LIST, body, format="json")
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(pk=response.json()["id"])
    assert ticket.subject == "Cannot log in"  # the page's form trims it
    assert ticket.first_response_due is not None and ticket.resolution_due is not None
    assert list(ticket.tags.all()) == [tag]
    assert response["ETag"] == '"1"'


def test_create_is_idempotent_with_a_key(agent):
    customer = CustomerFactory()
    body = {"customer": customer.pk, "subject": "Once", "description": "Only once"}
    client = api(agent)
    first = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert Ticket.objects.filter(subject="Once").count() == 1


def test_create_validation_errors_are_problem_json(agent, rep2):
    customer = CustomerFactory()
    other_contact = ContactFactory()
    cases = [
        ({"customer": customer.pk, "subject": "  ", "description": "x"}, "subject"),
        ({"customer": customer.pk, "subject": "s", "description": "x", "channel": "pigeon"}, "channel"),
        ({"customer": 10**30, "subject": "s", "description": "x"}, "customer"),
        ({"customer": "١٢", "subject": "s", "description": "x"}, "customer"),
        ({"customer": customer.pk, "subject": "s", "description": "x", "contact": other_contact.pk}, "contact"),
        ({"customer": customer.pk, "subject": "s", "description": "x", "assignee": rep2.pk}, "assignee"),
        ({"customer": customer.pk, "subject": {"a": 1}, "description": "x"}, "subject"),
        ({"customer": customer.pk, "subject": "s\x00", "description": "x", "tags": [10**30]}, "tags"),
        ({"customer": customer.pk, "subject": "a\x00b", "description": "x"}, "subject"),
        ({"customer": customer.pk, "subject": "s", "description": "x", "priority": ["high"]}, "priority"),
        (["not", "an", "object"], "non_field_errors"),
    ]  # fmt: skip
    client = api(agent)
    for body, field in cases:
        response = client.post(LIST, body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert response["Content-Type"] == "application/problem+json"
        assert field in response.json()["errors"], (body, response.json())
    assert not Ticket.objects.exists()


def test_rep_cannot_create_or_work_tickets(rep, own_ticket):
    client = api(rep)
    body = {"customer": own_ticket.customer_id, "subject": "s", "description": "d"}
    assert client.post(LIST, body, format="json").status_code == 403
    for name in ("replies", "customer-replies", "notes", "resolve"):
        response = client.post(detail(own_ticket, name), {"body": "hi"}, format="json")
        assert response.status_code == 403, name
    own_ticket.refresh_from_db()
    assert own_ticket.status == "new" and own_ticket.messages.count() == 2


def test_agent_gets_404_for_a_ticket_that_does_not_exist(agent):
    for path in ("/api/v1/tickets/999999/", "/api/v1/tickets/99999999999999999999999/"):
        assert api(agent).get(path).status_code == 404


def test_public_reply_answers_the_customer_like_the_page(agent):
    customer = CustomerFactory(email="buyer@example.com")
    ticket = ticket_create(customer=customer, subject="Help", description="d", channel="email")
    response = api(agent).post(detail(ticket, "replies"), {"body": " Fixed "}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "reply" and response.json()["body"] == "Fixed"
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.first_responded_at is not None
    message = TicketMessage.objects.get(pk=response.json()["id"])
    assert outbox_about(message).exists()  # emailed through the outbox, as from the page


def test_note_is_added_and_never_in_the_public_messages(agent, own_ticket):
    client = api(agent)
    response = client.post(detail(own_ticket, "notes"), {"body": "Secret"}, format="json")
    assert response.status_code == 201 and response.json()["kind"] == "note"
    public = client.get(detail(own_ticket)).json()["messages"]
    assert "Secret" not in [m["body"] for m in public]
    own_ticket.refresh_from_db()
    assert own_ticket.first_responded_at is None  # a note is not a response


def test_customer_reply_reopens_a_waiting_ticket(agent):
    ticket = TicketFactory(status="waiting")
    response = api(agent).post(
        detail(ticket, "customer-replies"), {"body": "Still broken"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["from_customer"] is True
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_blank_reply_and_closed_ticket_are_400(agent):
    client = api(agent)
    ticket = TicketFactory(status="closed")
    for body in ({"body": ["a list"]}, {"body": None}, "just text", {"body": "a" * 20_001}):
        response = client.post(detail(ticket, "replies"), body, format="json")
        assert response.status_code == 400, body
    response = client.post(detail(ticket, "replies"), {"body": "   "}, format="json")
    assert response.status_code == 400 and "body" in response.json()["errors"]
    response = client.post(detail(ticket, "replies"), {"body": "hello"}, format="json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert not TicketMessage.objects.filter(ticket=ticket).exists()


def test_resolve_checks_if_match_and_the_root_cause(agent):
    client = api(agent)
    ticket = TicketFactory(category="complaint", status="open")
    stale = client.post(detail(ticket, "resolve"), {}, format="json", HTTP_IF_MATCH='"99"')
    assert stale.status_code == 412
    response = client.post(detail(ticket, "resolve"), {}, format="json")
    assert response.status_code == 400 and "root_cause" in response.json()["errors"]
    response = client.post(
        detail(ticket, "resolve"),
        {"root_cause": "product"},
        format="json",
        HTTP_IF_MATCH=f'"{ticket.version}"',
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "resolved"
    assert response["ETag"] == f'"{ticket.version + 1}"'
    ticket.refresh_from_db()
    assert ticket.status == "resolved" and ticket.resolved_at is not None


HOSTILE = [
    {"status": "\x00"},
    {"q": "a\x00b"},
    {"customer": "9" * 40},
    {"customer": "١٢"},
    {"team": "99999999999999999999999"},
    {"assignee": "²"},
    {"page_size": "9" * 30},
    {"page_size": "١٢"},
    {"cursor": "\x00garbage"},
    {"ordering": "-nope,\x00"},
    {"view": "<script>"},
    {"breach": "2024-02-30"},
]


@pytest.mark.parametrize("params", HOSTILE)
def test_hostile_query_strings_never_500(agent, params):
    response = api(agent).get(LIST, params)
    assert response.status_code in (200, 400, 404), (params, response.status_code)
    if response.status_code != 200:
        assert response["Content-Type"] == "application/problem+json"


def test_list_queries_do_not_grow(agent, django_assert_max_num_queries):
    client = api(agent)

    def grow(n):
        for _ in range(n):
            ticket = TicketFactory(tags=[TagFactory()])
            TicketMessageFactory(ticket=ticket)

    grow(2)
    with django_assert_max_num_queries(12) as few:
        assert client.get(LIST).status_code == 200
    grow(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(LIST).json()["results"]) == 32
