"""The ticket page: header, conversation, reply and note, the side form, the 360° summary,
related articles, CSAT, creating a ticket and the tickets panel of the customer page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from service.models import Ticket, TicketMessage
from service.services import ticket_create
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    DealFactory,
    KnowledgeArticleFactory,
    SatisfactionResponseFactory,
    TagFactory,
    TicketFactory,
    TicketMessageFactory,
)

pytestmark = pytest.mark.django_db


def url(ticket, name="service:ticket-detail"):
    return reverse(name, args=[ticket.pk])


@pytest.fixture
def ticket(agent):
    customer = CustomerFactory(name="深圳市腾达贸易有限公司", email="buyer@example.com")
    ticket = ticket_create(
        customer=customer,
        subject="Printer jams on every second page",
        description="Our office printer jams constantly.",
        channel="phone",
        priority="urgent",
        created_by=agent,
    )
    TicketMessageFactory(ticket=ticket, from_customer=True, author=None, body="Any news?")
    TicketMessageFactory(ticket=ticket, kind="note", author=agent, body="Checked the logs")
    return ticket


def test_agent_sees_header_conversation_notes_and_forms(agent_client, ticket):
    response = agent_client.get(url(ticket))

    assert response.status_code == 200
    html = response.content.decode()
    assert ticket.number in html and "Printer jams on every second page" in html
    assert "Internal note" in html and "Checked the logs" in html
    assert 'class="message message-note"' in html
    assert 'class="message message-customer"' in html
    assert response.context["reply_form"] is not None
    assert response.context["update_form"] is not None
    assert response.context["first_response"]["due"] == ticket.first_response_due
    assert "in 30 min" in html or "in 29 min" in html  # urgent: first response in 30 minutes


def test_public_reply_is_emailed_and_note_is_not(
    agent_client, ticket, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            url(ticket, "service:ticket-reply"), {"kind": "public", "body": "On our way"}
        )
    assert response.status_code == 302
    reply = TicketMessage.objects.get(body="On our way")
    assert response.url.endswith(f"#message-{reply.pk}")
    assert reply.kind == "reply" and len(mail.outbox) == 1

    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(
            url(ticket, "service:ticket-reply"), {"kind": "internal", "body": "Secret"}
        )
    assert TicketMessage.objects.get(body="Secret").kind == "note"
    assert len(mail.outbox) == 1
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.first_responded_at is not None


def test_empty_reply_shows_the_error_beside_the_field(agent_client, ticket):
    response = agent_client.post(
        url(ticket, "service:ticket-reply"), {"kind": "public", "body": "  "}
    )
    assert response.status_code == 422
    assert response.context["reply_form"].errors == {"body": ["Write a message first."]}


def form_data(ticket, **changes):
    data = {
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee": ticket.assignee_id or "",
        "team": ticket.team_id or "",
        "category": ticket.category,
        "root_cause": ticket.root_cause,
        "version": ticket.version,
    }
    return {**data, **changes}


def test_side_form_saves_status_priority_assignee_and_tags(agent_client, agent, ticket):
    tag = TagFactory(name="printer")
    response = agent_client.post(
        url(ticket, "service:ticket-update"),
        form_data(ticket, status="waiting", priority="high", assignee=agent.pk, tags=[tag.pk]),
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == ("waiting", "high", agent)
    assert list(ticket.tags.all()) == [tag]
    assert ticket.sla_paused_at is not None
    assert "Paused" in agent_client.get(url(ticket)).content.decode()


def test_complaint_needs_a_root_cause_to_resolve(agent_client, ticket):
    response = agent_client.post(
        url(ticket, "service:ticket-update"),
        form_data(ticket, category="complaint", status="resolved"),
    )
    assert response.status_code == 422
    assert "root_cause" in response.context["update_form"].errors
    ticket.refresh_from_db()
    assert ticket.status == "new"

    response = agent_client.post(
        url(ticket, "service:ticket-update"),
        form_data(ticket, category="complaint", status="resolved", root_cause="product"),
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.root_cause) == ("resolved", "product")


def test_concurrent_edit_keeps_the_input_and_says_so(agent_client, manager_client, ticket):
    opened = form_data(ticket)
    manager_client.post(url(ticket, "service:ticket-update"), {**opened, "priority": "low"})

    response = agent_client.post(
        url(ticket, "service:ticket-update"), {**opened, "priority": "high"}
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else saved this ticket" in html
    assert "Your input is kept below" in html
    form = response.context["update_form"]
    assert form.data["priority"] == "high"
    ticket.refresh_from_db()
    assert ticket.priority == "low"
    assert form.data["version"] == str(ticket.version)
    # Saving again is deliberate and wins.
    assert agent_client.post(url(ticket, "service:ticket-update"), form.data).status_code == 302
    ticket.refresh_from_db()
    assert ticket.priority == "high"


def test_customer_summary_beside_the_conversation(manager_client, ticket):
    customer = ticket.customer
    customer.is_key_account = True
    customer.save()
    DealFactory(customer=customer)
    DealFactory(customer=customer, status="lost")
    customer.orders.create(number="O-1", ordered_at=timezone.now(), total=Decimal("120.50"))
    customer.orders.create(number="O-2", ordered_at=timezone.now(), total=Decimal("79.50"))
    past = TicketFactory(customer=customer, status="resolved", subject="Old toner question")
    SatisfactionResponseFactory(ticket=past, score=4)

    response = manager_client.get(url(ticket))

    summary = response.context["summary"]
    assert summary["open_deals"] == 1
    assert summary["lifetime"] == Decimal("200.00")
    assert summary["recent_tickets"] == [past]
    assert summary["csat_average"] == 4
    html = response.content.decode()
    assert "Key account" in html and "Old toner question" in html and "4.0/5" in html


def test_agent_does_not_see_the_deal_count(agent_client, ticket):
    DealFactory(customer=ticket.customer)
    response = agent_client.get(url(ticket))
    assert "open_deals" not in response.context["summary"]
    assert "Open deals" not in response.content.decode()


def test_related_articles_with_their_public_link(agent_client, ticket, settings):
    settings.CRM_BASE_URL = "https://crm.example.com"
    article = KnowledgeArticleFactory(
        title="Printer jams: clear the paper path", body="printer jams"
    )
    KnowledgeArticleFactory(title="Printer jams draft", body="printer", is_published=False)

    response = agent_client.get(url(ticket))

    related = response.context["related"]
    assert [item["article"] for item in related] == [article]
    assert related[0]["link"] == f"https://crm.example.com/help/articles/{article.pk}/"
    assert (
        f'data-link="https://crm.example.com/help/articles/{article.pk}/"'
        in response.content.decode()
    )


def test_csat_shows_once_rated(agent_client, ticket):
    ticket.status = "resolved"
    ticket.save()
    SatisfactionResponseFactory(ticket=ticket, score=3, comment="Slow but fixed")
    html = agent_client.get(url(ticket)).content.decode()
    assert 'id="ticket-csat"' in html and "3/5" in html and "Slow but fixed" in html


def test_new_ticket_picks_the_customer_then_creates(agent_client, agent):
    customer = CustomerFactory(name="Initech")
    contact = ContactFactory(customer=customer)
    create = reverse("service:ticket-create")
    picked = agent_client.get(create, {"q": "Initech"})
    assert list(picked.context["results"]) == [customer]

    response = agent_client.post(
        f"{create}?customer={customer.pk}",
        {
            "subject": "Login broken",
            "description": "Cannot log in since Monday",
            "contact": contact.pk,
            "channel": "email",
            "category": "incident",
            "priority": "high",
            "assignee": agent.pk,
        },
    )

    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response.url == ticket.get_absolute_url()
    assert (ticket.customer, ticket.contact, ticket.assignee) == (customer, contact, agent)
    assert ticket.resolution_due is not None


def test_new_ticket_form_errors_and_a_foreign_contact(agent_client):
    customer = CustomerFactory()
    foreign = ContactFactory()
    response = agent_client.post(
        f"{reverse('service:ticket-create')}?customer={customer.pk}",
        {"subject": " ", "description": "x", "contact": foreign.pk, "channel": "fax"},
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert {"subject", "contact", "channel", "category", "priority"} <= set(errors)
    assert not Ticket.objects.exists()


def test_customer_panel_lists_latest_tickets_with_badges(agent_client):
    customer = CustomerFactory()
    now = timezone.now()
    late = TicketFactory(
        customer=customer,
        status="open",
        resolution_due=now - timedelta(hours=1),
        first_responded_at=now,
        created_at=now,
    )
    rated = TicketFactory(customer=customer, status="resolved", created_at=now - timedelta(days=1))
    SatisfactionResponseFactory(ticket=rated, score=5)
    for days in range(2, 8):
        TicketFactory(customer=customer, created_at=now - timedelta(days=days))

    response = agent_client.get(reverse("service:customer-tickets-panel", args=[customer.pk]))

    tickets = response.context["tickets"]
    assert len(tickets) == 5 and tickets[:2] == [late, rated]
    html = response.content.decode()
    assert "Breached" in html and "5/5" in html and "8 tickets in all" in html
    assert f"?view=all&amp;customer={customer.pk}" in html
    assert f"{reverse('service:ticket-create')}?customer={customer.pk}" in html


def test_customer_page_registers_the_tickets_panel(agent_client):
    customer = CustomerFactory()
    html = agent_client.get(customer.get_absolute_url()).content.decode()
    deferred = reverse("customers:customer-panels", args=[customer.pk])
    assert deferred in html  # the page loads its deferred panels, the tickets among them
    assert 'id="customer-tickets"' in agent_client.get(deferred).content.decode()


def test_public_reply_on_a_closed_ticket_is_refused_with_the_reason(agent_client, ticket):
    ticket.status = "closed"
    ticket.save()
    response = agent_client.post(
        url(ticket, "service:ticket-reply"), {"kind": "public", "body": "Hello again"}
    )
    assert response.status_code == 422
    assert "add an internal note instead" in response.content.decode()
    assert not TicketMessage.objects.filter(body="Hello again").exists()
