"""The ticket page's one reply form (issue 17): a typed reply is never lost, "Send and set
<status>" does both in one transaction, and the draft is kept per ticket and agent."""

import pytest
from django.test import Client
from django.urls import reverse

from crm import roles
from service.models import ReplyDraft, Ticket, TicketMessage
from service.services import ticket_create
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def url(ticket, name="service:ticket-detail"):
    return reverse(name, args=[ticket.pk])


@pytest.fixture
def ticket(agent):
    return ticket_create(
        customer=CustomerFactory(name="Acme Printing"),
        subject="Printer jams",
        description="It jams on every page.",
        channel="phone",
        priority="normal",
        created_by=agent,
    )


def side_form(ticket, **changes):
    data = {
        "priority": ticket.priority,
        "assignee": ticket.assignee_id or "",
        "team": ticket.team_id or "",
        "category": ticket.category,
        "root_cause": ticket.root_cause,
        "version": ticket.version,
    }
    return {**data, **changes}


def test_saving_the_side_form_keeps_the_typed_reply(agent_client, ticket):
    """The bug: the agent typed a reply, changed the ticket in the side form and saved: the
    page came back with an empty reply box. The side form now carries the text along."""
    typed = "We are sending a technician tomorrow."
    response = agent_client.post(
        url(ticket, "service:ticket-update"),
        side_form(ticket, priority="high", reply_draft=typed, reply_kind="public"),
    )
    assert response.status_code == 302

    page = agent_client.get(url(ticket))
    assert page.context["reply_form"]["body"].value() == typed
    assert typed in page.content.decode()


def test_the_side_form_has_no_status_the_reply_form_sets_it(agent_client, ticket):
    html = agent_client.get(url(ticket)).content.decode()
    side = html[html.index('id="update-form"') :]
    side = side[: side.index("</form>")]
    assert 'name="status"' not in side
    assert 'name="then_status" value="resolved"' in html


def test_send_and_set_status_does_both_in_one_post(agent_client, ticket):
    response = agent_client.post(
        url(ticket, "service:ticket-reply"),
        {"kind": "public", "body": "Fixed: new roller fitted.", "then_status": "resolved"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "resolved" and ticket.resolved_at is not None
    message = TicketMessage.objects.get(ticket=ticket, body="Fixed: new roller fitted.")
    assert response.url.endswith(f"#message-{message.pk}")


def test_send_and_set_status_is_all_or_nothing(agent_client, ticket):
    """A complaint cannot be resolved without a root cause: then the reply is not sent
    either, and the page shows the typed text again with the reason."""
    Ticket.objects.filter(pk=ticket.pk).update(category="complaint")
    response = agent_client.post(
        url(ticket, "service:ticket-reply"),
        {"kind": "public", "body": "Sorry about that!", "then_status": "resolved"},
    )
    assert response.status_code == 422
    assert not TicketMessage.objects.filter(ticket=ticket).exists()
    ticket.refresh_from_db()
    assert ticket.status == "new"
    html = response.content.decode()
    assert "Sorry about that!" in html and "root cause" in html


def test_a_status_alone_needs_no_text_but_a_send_does(agent_client, ticket):
    response = agent_client.post(
        url(ticket, "service:ticket-reply"),
        {"kind": "public", "body": "", "then_status": "waiting"},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "waiting" and not TicketMessage.objects.filter(ticket=ticket).exists()

    response = agent_client.post(
        url(ticket, "service:ticket-reply"), {"kind": "public", "body": " ", "then_status": ""}
    )
    assert response.status_code == 422
    assert response.context["reply_form"].errors["body"] == ["Write a message first."]


def test_a_status_that_does_not_exist_is_refused(agent_client, ticket):
    response = agent_client.post(
        url(ticket, "service:ticket-reply"), {"kind": "public", "body": "Hi", "then_status": "x"}
    )
    assert response.status_code == 422
    assert not TicketMessage.objects.filter(ticket=ticket).exists()


def test_the_draft_is_saved_restored_and_cleared_on_send(agent, agent_client, ticket):
    response = agent_client.post(
        url(ticket, "service:ticket-draft"), {"body": "Half a thought", "kind": "internal"}
    )
    assert response.status_code == 200 and "Draft saved" in response.content.decode()
    draft = ReplyDraft.objects.get(ticket=ticket, author=agent)
    assert (draft.body, draft.internal) == ("Half a thought", True)

    page = agent_client.get(url(ticket))
    form = page.context["reply_form"]
    assert form["body"].value() == "Half a thought" and form["kind"].value() == "internal"
    assert "Your unsent draft is restored." in page.content.decode()

    agent_client.post(
        url(ticket, "service:ticket-reply"), {"kind": "internal", "body": "A whole thought"}
    )
    assert not ReplyDraft.objects.filter(ticket=ticket).exists()
    assert agent_client.get(url(ticket)).context["reply_form"]["body"].value() in (None, "")


def test_an_emptied_box_removes_the_draft(agent, agent_client, ticket):
    agent_client.post(url(ticket, "service:ticket-draft"), {"body": "x", "kind": "public"})
    agent_client.post(url(ticket, "service:ticket-draft"), {"body": "   ", "kind": "public"})
    assert not ReplyDraft.objects.filter(ticket=ticket).exists()


def test_drafts_are_per_agent(agent_client, ticket):
    agent_client.post(url(ticket, "service:ticket-draft"), {"body": "Mine", "kind": "public"})
    colleague = Client()
    colleague.force_login(UserFactory(username="agent2", role=roles.SERVICE_AGENT))
    assert colleague.get(url(ticket)).context["reply_form"]["body"].value() in (None, "")


@pytest.mark.parametrize(
    "data",
    [
        {"body": "x" * 20_001, "kind": "public"},
        {"body": "ok", "kind": "<script>"},
        {"body": "\x00", "kind": "public"},
    ],
)
def test_a_hostile_draft_is_refused_without_error(agent_client, ticket, data):
    response = agent_client.post(url(ticket, "service:ticket-draft"), data)
    assert response.status_code in (200, 422)


def test_who_cannot_work_the_ticket_cannot_save_a_draft(rep_client, ticket):
    response = rep_client.post(url(ticket, "service:ticket-draft"), {"body": "x", "kind": "public"})
    assert response.status_code in (403, 404)
    assert not ReplyDraft.objects.exists()
