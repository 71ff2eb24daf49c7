"""A form's one-time token makes a double submission take effect once (core/middleware.py)."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.idempotency import idempotency_keys_purge
from core.middleware import TOKEN_FIELD
from core.models import IdempotencyKey, OutboxMessage
from customers.models import Interaction
from service.models import Ticket, TicketMessage
from tests.factories import CustomerFactory, TicketFactory
from tests.helpers import run_in_threads

INTERACTION = {
    "channel": "phone",
    "direction": "out",
    "summary": "Called",
    "occurred_at": "2026-01-01T10:00",
}
HELP_REQUEST = {
    "name": "Li Wei",
    "email": "li@example.com",
    "subject": "Broken hinge",
    "description": "The hinge broke on day two.",
    "category": "question",
}


def reply_url(ticket: Ticket) -> str:
    return reverse("service:ticket-reply", args=[ticket.pk])


def reply(body: str = "On our way", token: str | None = None) -> dict:
    data = {"kind": "public", "body": body}
    if token is not None:
        data[TOKEN_FIELD] = token
    return data


@pytest.fixture
def ticket(agent):
    return TicketFactory(assignee=agent, customer=CustomerFactory(email="buyer@example.com"))


def replies(ticket: Ticket) -> int:
    return TicketMessage.objects.filter(ticket=ticket, kind=TicketMessage.Kind.REPLY).count()


def emails() -> int:
    return OutboxMessage.objects.count()


def test_the_second_submission_of_a_token_shows_the_first_result(agent_client, ticket):
    token = str(uuid.uuid4())
    first = agent_client.post(reply_url(ticket), reply(token=token))
    second = agent_client.post(reply_url(ticket), reply(token=token))
    assert first.status_code == second.status_code == 302
    assert second.url == first.url
    assert replies(ticket) == 1 and emails() == 1
    notes = [str(m) for m in get_messages(second.wsgi_request)]
    assert "This was already submitted." in notes
    page = agent_client.get(second.url)
    assert "This was already submitted." in page.content.decode()


def test_a_new_token_submits_again(agent_client, ticket):
    agent_client.post(reply_url(ticket), reply(token=str(uuid.uuid4())))
    agent_client.post(reply_url(ticket), reply(token=str(uuid.uuid4())))
    assert replies(ticket) == 2 and emails() == 2


def test_without_a_token_or_with_a_malformed_one_every_post_runs(agent_client, ticket):
    for token in (None, "", "not-a-token", "\x00" * 10, "9" * 5000, "<script>"):
        response = agent_client.post(reply_url(ticket), reply(token=token))
        assert response.status_code == 302
    assert replies(ticket) == 6
    assert not IdempotencyKey.objects.exists()


def test_a_form_refused_with_errors_may_be_submitted_again_with_its_token(agent_client, ticket):
    token = str(uuid.uuid4())
    refused = agent_client.post(reply_url(ticket), reply(body="", token=token))
    assert refused.status_code == 422
    assert not IdempotencyKey.objects.exists()  # a failure is not stored
    accepted = agent_client.post(reply_url(ticket), reply(token=token))
    assert accepted.status_code == 302 and replies(ticket) == 1
    assert IdempotencyKey.objects.get().state == IdempotencyKey.State.DONE


def test_a_token_is_one_users(agent_client, manager_client, ticket):
    token = str(uuid.uuid4())
    agent_client.post(reply_url(ticket), reply(token=token))
    response = manager_client.post(reply_url(ticket), reply(body="Me too", token=token))
    assert response.status_code == 409
    assert replies(ticket) == 1


def test_the_same_token_on_another_form_is_another_submission(agent_client, ticket, agent):
    """The scope is the view: a token reused on another form does not replay the first."""
    token = str(uuid.uuid4())
    agent_client.post(reply_url(ticket), reply(token=token))
    response = agent_client.post(
        reverse("customers:interaction-create", args=[ticket.customer.pk]),
        {**INTERACTION, TOKEN_FIELD: token},
    )
    assert response.status_code == 302
    assert Interaction.objects.filter(customer=ticket.customer).count() == 1


def test_an_htmx_form_submitted_twice_creates_once_and_the_replay_changes_nothing(
    agent_client, ticket
):
    url = reverse("customers:interaction-create", args=[ticket.customer.pk])
    data = {**INTERACTION, TOKEN_FIELD: str(uuid.uuid4())}
    first = agent_client.post(url, data, headers={"HX-Request": "true"})
    second = agent_client.post(url, data, headers={"HX-Request": "true"})
    assert first.status_code == 200 and second.status_code == 204
    assert Interaction.objects.filter(customer=ticket.customer).count() == 1
    # The refreshed block carries a new token for the next interaction.
    assert data[TOKEN_FIELD] not in first.content.decode()
    assert f'name="{TOKEN_FIELD}"' in first.content.decode()


def test_a_public_form_is_deduplicated_for_the_anonymous_visitor(client, db):
    token = str(uuid.uuid4())
    data = {**HELP_REQUEST, TOKEN_FIELD: token}
    first = client.post(reverse("help:submit"), data)
    second = client.post(reverse("help:submit"), data)
    assert first.status_code == second.status_code == 302
    assert second.url == first.url
    assert Ticket.objects.count() == 1


def test_a_key_left_pending_by_a_dead_request_is_taken_over(agent_client, ticket, agent):
    token = str(uuid.uuid4())
    IdempotencyKey.objects.create(
        scope="form:service:ticket-reply",
        key=token,
        user=agent,
        created_at=timezone.now() - timedelta(hours=1),
    )
    response = agent_client.post(reply_url(ticket), reply(token=token))
    assert response.status_code == 302 and replies(ticket) == 1


def test_old_keys_are_purged(agent):
    now = timezone.now()
    old = IdempotencyKey.objects.create(
        scope="form:x", key="old", user=agent, created_at=now - timedelta(hours=25)
    )
    IdempotencyKey.objects.create(scope="form:x", key="new", user=agent, created_at=now)
    assert idempotency_keys_purge(now=now) == 1
    assert not IdempotencyKey.objects.filter(pk=old.pk).exists()


# serialized_rollback: an earlier transactional test may have flushed the migrations' rows.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_double_click_in_flight_creates_one_reply_and_one_email(postgres, agent, ticket):
    """Two requests with the same token at once (two connections): the second insert of the
    key fails, the second request waits for the first and answers its redirect."""
    token = str(uuid.uuid4())
    clients = [Client(), Client()]
    for client in clients:
        client.force_login(agent)
    responses, barrier = [], threading.Barrier(2)

    def submit(client: Client) -> None:
        try:
            barrier.wait(timeout=10)
            responses.append(client.post(reply_url(ticket), reply(token=token)))
        finally:
            connection.close()

    run_in_threads(lambda: submit(clients[0]), lambda: submit(clients[1]), timeout=60)
    assert [r.status_code for r in responses] == [302, 302]
    assert responses[0].url == responses[1].url
    assert replies(ticket) == 1
    assert emails() == 1


def test_a_lead_form_sent_twice_records_one_lead(client, db):
    from marketing.lead_form_link import lead_form_token
    from marketing.models import Campaign, LeadSubmission
    from tests.factories import CampaignFactory

    campaign = CampaignFactory(status=Campaign.Status.RUNNING)
    url = reverse("public-marketing:lead-form", args=[lead_form_token(campaign)])
    data = {"name": "Li Lei", "email": "li.lei@example.com", TOKEN_FIELD: str(uuid.uuid4())}
    first, second = client.post(url, data), client.post(url, data)
    assert first.status_code == second.status_code == 302 and second.url == first.url
    assert LeadSubmission.objects.count() == 1
