"""The escalation job runs on a real Celery worker on Redis (a separate process: its effect
is checked in the database, since its mail outbox is its own)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import OutboxMessage
from crm.celery import app
from service import services
from service.models import Escalation, Team, Ticket
from service.tasks import escalate_tickets
from tests.factories import CustomerFactory, UserFactory


@pytest.fixture
def worker_mail_in_memory(monkeypatch):
    """The worker inherits the environment: keep its emails off the console."""
    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_escalates_and_raises_priority(worker_mail_in_memory, celery_worker):
    manager = UserFactory(username="queue-boss", email="boss@example.com")
    Team.objects.filter(name="Support").update(manager=manager)
    long_ago = timezone.now() - timedelta(days=10)
    breached = [
        services.ticket_create(
            customer=CustomerFactory(),
            subject=f"Broken {i}",
            description="Still broken",
            channel=Ticket.Channel.EMAIL,
            priority="normal",  # the default normal policy raises on breach
            now=long_ago,
        )
        for i in range(3)
    ]
    fresh = services.ticket_create(
        customer=CustomerFactory(),
        subject="Just in",
        description="New",
        channel=Ticket.Channel.PHONE,
        priority="urgent",
    )

    result = escalate_tickets.delay().get(timeout=60)

    assert result["breached"] == 6  # first response and resolution of each
    assert result["raised"] == 3 and result["notified"] == 6 and result["emails"] == 1
    assert Escalation.objects.filter(level="breached").count() == 6
    assert set(
        Ticket.objects.filter(pk__in=[t.pk for t in breached]).values_list("priority", flat=True)
    ) == {"high"}
    fresh.refresh_from_db()
    assert fresh.priority == "urgent" and not fresh.escalations.exists()
    deadline = time.monotonic() + 30  # the digest leaves through the outbox, its own task
    while not OutboxMessage.objects.filter(status="sent", to=["boss@example.com"]).exists():
        assert time.monotonic() < deadline, "the worker did not deliver the digest"
        time.sleep(0.2)
    stats = app.control.inspect(timeout=5).stats() or {}
    totals = [w["total"] for name, w in stats.items() if name.startswith(celery_worker)]
    assert totals == [{"service.tasks.escalate_tickets": 1, "core.tasks.deliver_outbox_message": 1}]
