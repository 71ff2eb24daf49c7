"""Ticket replies against a real SMTP server (tests/core/smtp_sink): the reply is saved and
the email arrives; a server that refuses or is down leaves the reply saved, the page a
redirect (not a 500) and the email pending with its error, sent once when the server is
back; a hanging server does not hold the request, which only queues.

The requests commit for real (transactional tests), as in production: with tasks inline
the delivery runs when the reply's transaction commits, before the view answers.
"""

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import OutboxMessage
from core.services import outbox_deliver_due
from service.models import TicketMessage
from service.services import ticket_create
from tests.core.smtp_sink import HANG, REFUSE
from tests.factories import CustomerFactory

# serialized_rollback: the role groups the migrations created come back after each test.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def ticket(agent):
    return ticket_create(
        customer=CustomerFactory(email="buyer@example.com"),
        subject="Printer jams",
        description="It jams.",
        channel="phone",
        created_by=agent,
    )


def reply(client, ticket, body: str):
    return client.post(
        reverse("service:ticket-reply", args=[ticket.pk]), {"kind": "public", "body": body}
    )


def test_a_reply_is_saved_and_its_email_arrives(agent_client, ticket, smtp_sink):
    response = reply(agent_client, ticket, "On our way")
    assert response.status_code == 302
    (received,) = smtp_sink.messages
    row = OutboxMessage.objects.get(status="sent")
    assert received["To"] == "buyer@example.com" and received["Subject"].endswith("Printer jams")
    assert received["Message-ID"] == row.message_id
    assert row.about == TicketMessage.objects.get(body="On our way")
    page = agent_client.get(response.url)
    assert "Reply sent to the customer." in page.text and 'id="email-problems"' not in page.text


@pytest.mark.parametrize("server", ["refusing", "down"])
def test_a_refused_reply_is_saved_shown_and_sent_once_when_the_server_is_back(
    server, agent_client, ticket, smtp_sink, closed_port, settings
):
    if server == "refusing":
        smtp_sink.mode = REFUSE
    else:
        settings.EMAIL_PORT = closed_port
    response = reply(agent_client, ticket, "On our way")

    assert response.status_code == 302
    assert TicketMessage.objects.filter(body="On our way").exists()
    row = OutboxMessage.objects.get()
    assert (row.status, row.attempts) == ("pending", 1)
    assert ("554" if server == "refusing" else "ConnectionRefusedError") in row.last_error
    page = agent_client.get(response.url)
    assert "queued and will be retried" in page.text
    problems = page.text.split('id="email-problems"')[1].split("</ul>")[0]
    assert "Email to buyer@example.com failed:" in problems and "retrying at" in problems

    smtp_sink.mode, settings.EMAIL_PORT = "accept", smtp_sink.port  # the server is back
    later = timezone.now() + timedelta(minutes=2)
    assert outbox_deliver_due(now=later)["sent"] == 1
    assert outbox_deliver_due(now=later + timedelta(days=1))["sent"] == 0
    (received,) = smtp_sink.messages
    row.refresh_from_db()
    assert (row.status, row.attempts, received["Message-ID"]) == ("sent", 2, row.message_id)
    assert 'id="email-problems"' not in agent_client.get(response.url).text


@pytest.fixture
def tasks_on_a_broker():
    """Tasks are published, as in production, not run inline: to a queue nobody reads."""
    from django.conf import settings

    from crm.celery import app

    app.conf.task_always_eager = False
    app.conf.task_default_queue = "test-outbox-unread"
    yield
    app.conf.task_always_eager = True
    app.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with app.connection_for_write() as connection:
        connection.default_channel.queue_delete("test-outbox-unread")


def test_a_hanging_server_does_not_hold_the_request_and_times_out_on_the_worker(
    agent_client, ticket, smtp_sink, settings, tasks_on_a_broker
):
    # A request that talked to the server would take at least EMAIL_TIMEOUT; the bound is
    # that, not a speed target, so a busy machine does not fail it.
    smtp_sink.mode, settings.EMAIL_TIMEOUT = HANG, 4
    started = time.monotonic()
    response = reply(agent_client, ticket, "On our way")
    assert response.status_code == 302 and time.monotonic() - started < settings.EMAIL_TIMEOUT
    assert OutboxMessage.objects.get().status == "pending"

    started = time.monotonic()  # the worker's delivery: bounded by EMAIL_TIMEOUT
    assert outbox_deliver_due()["retrying"] == 1
    assert time.monotonic() - started < 3 * settings.EMAIL_TIMEOUT  # gave up, did not hang
    row = OutboxMessage.objects.get()
    assert row.status == "pending" and "timed out" in row.last_error


def test_the_password_reset_email_is_queued_and_a_refusing_server_is_no_error(
    client, agent, smtp_sink
):
    agent.email = "agent@example.com"
    agent.save()
    smtp_sink.mode = REFUSE
    response = client.post(reverse("password_reset"), {"email": "agent@example.com"})
    assert response.status_code == 302
    row = OutboxMessage.objects.get()
    assert (row.to, row.status, row.about) == (["agent@example.com"], "pending", agent)
    assert "/accounts/reset/" in row.text

    smtp_sink.mode = "accept"
    assert outbox_deliver_due(now=timezone.now() + timedelta(minutes=2))["sent"] == 1
    (received,) = smtp_sink.messages
    assert received["To"] == "agent@example.com"


def test_a_campaign_test_send_to_a_refusing_server_says_queued(
    marketer, marketer_client, smtp_sink
):
    from tests.factories import CampaignFactory, ConsentFactory

    ConsentFactory(customer=CustomerFactory(name="Ada"))
    campaign = CampaignFactory(owner=marketer, subject="Hi", body="Hello")
    smtp_sink.mode = REFUSE
    test_send = reverse("marketing:campaign-test-send", args=[campaign.pk])
    response = marketer_client.post(test_send, follow=True)
    assert response.status_code == 200
    assert f"Test to {marketer.email} queued; it will be retried" in response.text
    assert OutboxMessage.objects.get().status == "pending"

    smtp_sink.mode = "accept"
    response = marketer_client.post(test_send, follow=True)
    assert f"Test sent to {marketer.email}." in response.text
    assert len(smtp_sink.messages) == 1
