"""The outbox on the real services: concurrent deliverers on PostgreSQL (SELECT ... FOR
UPDATE SKIP LOCKED) send each message once; a real Celery worker delivers a ticket reply
to a real SMTP server after the request has answered."""

import threading
import time

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from core.models import OutboxMessage
from core.services import outbox_deliver_due, outbox_email_enqueue
from service.services import ticket_create
from tests.core.test_outbox import an_email
from tests.factories import CustomerFactory


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_deliverers_send_each_message_once(postgres):
    for n in range(40):
        outbox_email_enqueue(message=an_email(f"c{n}@example.com"))  # inline: sent on commit
    mail.outbox.clear()
    OutboxMessage.objects.update(status="pending", attempts=0, sent_at=None)
    barrier, results = threading.Barrier(3), []

    def deliver() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(outbox_deliver_due(limit=15))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    sent = sorted(message.to[0] for message in mail.outbox)
    assert sum(r["sent"] for r in results) == len(sent) == len(set(sent))
    assert OutboxMessage.objects.filter(status="sent").count() == len(sent)
    assert OutboxMessage.objects.filter(status="sending").count() == 0


@pytest.fixture
def worker_mails_to_the_sink(smtp_sink, monkeypatch):
    """The worker process reads its email settings from the environment."""
    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
    monkeypatch.setenv("EMAIL_HOST", "127.0.0.1")
    monkeypatch.setenv("EMAIL_PORT", str(smtp_sink.port))
    return smtp_sink


def test_a_worker_delivers_the_reply_after_the_request_answered(
    worker_mails_to_the_sink, celery_worker, agent, agent_client
):
    ticket = ticket_create(
        customer=CustomerFactory(email="buyer@example.com"),
        subject="Printer jams",
        description="It jams.",
        channel="phone",
        created_by=agent,
    )
    response = agent_client.post(
        reverse("service:ticket-reply", args=[ticket.pk]), {"kind": "public", "body": "Soon"}
    )
    assert response.status_code == 302
    deadline = time.monotonic() + 30
    while not OutboxMessage.objects.filter(status="sent").exists():
        assert time.monotonic() < deadline, "the worker did not deliver the reply"
        time.sleep(0.2)
    (received,) = worker_mails_to_the_sink.messages
    assert received["Message-ID"] == OutboxMessage.objects.get().message_id
