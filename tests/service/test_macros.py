"""Macros (issue 17): personalised text in the sandbox, actions applied with the reply,
personal ones seen by their owner only, shared ones written by managers."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from crm import roles
from service.models import Macro, TicketMessage
from service.services import ticket_create
from tests.factories import CustomerFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(agent):
    return ticket_create(
        customer=CustomerFactory(name="<script>alert('x')</script> Wang Fang"),
        subject="Parcel damaged",
        description="The box arrived crushed.",
        channel="email",
        priority="normal",
        created_by=agent,
    )


@pytest.fixture
def colleague_client():
    client = Client()
    client.force_login(UserFactory(username="agent2", role=roles.SERVICE_AGENT))
    return client


def apply(client, ticket, macro):
    return client.get(reverse("service:ticket-macro-apply", args=[ticket.pk]), {"macro": macro.pk})


def macro_form(**changes):
    data = {"name": "Refund", "body": "Dear {{ customer.first_name }}, refunded. {{ agent.name }}"}
    return {**data, **changes}


def test_a_macro_reads_for_the_ticket_and_lists_its_actions(agent, agent_client, ticket):
    tag = TagFactory(name="refund")
    macro = Macro.objects.create(
        name="Refund",
        body="Dear {{ customer.name }}, ticket {{ ticket.number }}. {{ agent.first_name }}",
        set_status="resolved",
        set_priority="high",
        owner=agent,
    )
    macro.add_tags.add(tag)
    response = apply(agent_client, ticket, macro)
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["text"] == (
        f"Dear <script>alert('x')</script> Wang Fang, ticket {ticket.number}. agent"
    )
    assert data["actions"] == ["Set status: Resolved", "Set priority: High", "Add tags: refund"]


def test_a_customer_name_with_a_script_tag_is_shown_escaped_once_sent(agent_client, ticket):
    macro = Macro.objects.create(name="Hi", body="Hello {{ customer.name }}")
    text = json.loads(apply(agent_client, ticket, macro).content)["text"]
    agent_client.post(
        reverse("service:ticket-reply", args=[ticket.pk]),
        {"kind": "public", "body": text, "macro": macro.pk},
    )
    html = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert "<script>alert('x')</script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_the_macros_actions_are_applied_with_the_reply(agent, agent_client, ticket):
    tag = TagFactory(name="refund")
    colleague = UserFactory(username="agent2", role=roles.SERVICE_AGENT)
    macro = Macro.objects.create(
        name="Escalate", body="Passing this on.", set_status="waiting", set_priority="urgent"
    )
    macro.set_assignee = colleague
    macro.save()
    macro.add_tags.add(tag)
    response = agent_client.post(
        reverse("service:ticket-reply", args=[ticket.pk]),
        {"kind": "internal", "body": "Passing this on.", "macro": macro.pk},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee) == ("waiting", "urgent", colleague)
    assert list(ticket.tags.all()) == [tag]
    assert TicketMessage.objects.get(ticket=ticket).kind == "note"


def test_the_status_button_wins_over_the_macros_status(agent_client, ticket):
    macro = Macro.objects.create(name="Wait", body="Waiting.", set_status="waiting")
    agent_client.post(
        reverse("service:ticket-reply", args=[ticket.pk]),
        {"kind": "public", "body": "Done.", "macro": macro.pk, "then_status": "resolved"},
    )
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


def test_personal_macros_are_invisible_to_other_agents(agent, colleague_client, ticket):
    mine = Macro.objects.create(name="Secret recipe", body="Mine only", owner=agent)
    assert apply(colleague_client, ticket, mine).status_code == 404
    assert colleague_client.get(reverse("service:macro-edit", args=[mine.pk])).status_code == 404
    assert colleague_client.post(reverse("service:macro-delete", args=[mine.pk])).status_code == 404
    listing = colleague_client.get(reverse("service:macro-list")).content.decode()
    assert "Secret recipe" not in listing
    picker = colleague_client.get(
        reverse("service:ticket-macros", args=[ticket.pk]), {"macro_q": "Secret"}
    )
    assert "Secret recipe" not in picker.content.decode()
    response = colleague_client.post(
        reverse("service:ticket-reply", args=[ticket.pk]),
        {"kind": "public", "body": "Hi", "macro": mine.pk},
    )
    assert response.status_code == 422  # not theirs to use
    assert Macro.objects.filter(pk=mine.pk).exists()


def test_the_picker_finds_macros_by_name_and_text(agent, agent_client, ticket):
    Macro.objects.create(name="Refund issued", body="Your money is on its way")
    Macro.objects.create(name="Password reset", body="Click the link", owner=agent)
    picker = reverse("service:ticket-macros", args=[ticket.pk])
    html = agent_client.get(picker, {"macro_q": "money"}).content.decode()
    assert "Refund issued" in html and "Password reset" not in html
    assert "Password reset" in agent_client.get(picker, {"macro_q": "pass"}).content.decode()


def test_an_agent_creates_a_personal_macro_and_cannot_share_it(agent, agent_client):
    response = agent_client.post(
        reverse("service:macro-create"), macro_form(shared="on", set_status="resolved")
    )
    assert response.status_code == 302
    macro = Macro.objects.get(name="Refund")
    assert macro.owner == agent and macro.set_status == "resolved"


def test_a_manager_shares_a_macro_and_agents_may_not_edit_it(manager_client, agent_client):
    manager_client.post(reverse("service:macro-create"), macro_form(shared="on"))
    macro = Macro.objects.get(name="Refund")
    assert macro.shared
    assert agent_client.get(reverse("service:macro-edit", args=[macro.pk])).status_code == 404
    assert "Refund" in agent_client.get(reverse("service:macro-list")).content.decode()


@pytest.mark.parametrize(
    "body, says",
    [
        ("Hi {{ customer.password }}", "There is no field called customer.password"),
        ("{% for x in y %}{% endfor %}", "cannot be used"),
        ("{{ settings.SECRET_KEY }}", "There is no field called settings.SECRET_KEY"),
        ("{% if customer.name %}unclosed", "is never closed"),
        ("{% if x %}" * 50, "nested too deeply"),
    ],
)
def test_mistakes_in_a_macro_are_explained(agent_client, body, says):
    response = agent_client.post(reverse("service:macro-create"), macro_form(body=body))
    assert response.status_code == 422
    assert says in " ".join(response.context["form"].errors["body"])
    if "nested" not in says:  # the fields are listed with every other mistake
        assert "{{ customer.name }}" in " ".join(response.context["form"].errors["body"])
    assert not Macro.objects.exists()


def test_deleting_asks_first(agent, agent_client):
    macro = Macro.objects.create(name="Old", body="x", owner=agent)
    page = agent_client.get(reverse("service:macro-delete", args=[macro.pk]))
    assert page.status_code == 200 and "Delete this macro?" in page.content.decode()
    assert Macro.objects.filter(pk=macro.pk).exists()
    agent_client.post(reverse("service:macro-delete", args=[macro.pk]))
    assert not Macro.objects.filter(pk=macro.pk).exists()


def test_roles_without_macros_get_403(marketer_client, rep_client):
    for client in (marketer_client, rep_client):
        assert client.get(reverse("service:macro-list")).status_code == 403
        assert client.get(reverse("service:macro-create")).status_code == 403
