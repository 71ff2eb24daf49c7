"""Demo service data and the Django admin of every service model."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from service import selectors
from service.models import Holiday, SatisfactionResponse, Ticket, TicketMessage
from tests.helpers import seed_demo_twice

pytestmark = pytest.mark.django_db

SERVICE_MODELS = [
    "team",
    "slapolicy",
    "holiday",
    "ticket",
    "ticketmessage",
    "escalation",
    "articlecategory",
    "knowledgearticle",
    "suggestionopen",
    "satisfactionresponse",
]


def _snapshot():
    return list(
        Ticket.objects.order_by("pk").values_list(
            "customer__email", "subject", "status", "priority", "category", "assignee__username"
        )
    )


def test_demo_tickets_are_reproducible_and_varied():
    first, second = seed_demo_twice(_snapshot, customers=160, seed=11)
    assert second == first
    assert 10 <= len(first) <= 40  # about one per eight customers, plus three at risk
    statuses = {row[2] for row in first}
    assert statuses == set(Ticket.Status.values)
    assert {row[5] for row in first} == {"agent", None}
    flags = selectors.with_sla_flags(Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES))
    assert flags.filter(at_risk=True).exists()
    assert (
        flags.filter(resolution_breached=True).exists()
        or flags.filter(first_response_breached=True).exists()
    )
    assert TicketMessage.objects.filter(kind="note").exists()
    assert TicketMessage.objects.filter(from_customer=True).count() >= len(first)
    assert SatisfactionResponse.objects.exists()
    assert not Ticket.objects.filter(
        category="complaint", status="resolved", root_cause=""
    ).exists()
    assert Holiday.objects.count() >= 3
    # The help form's marks: a requester (no customer) and an unconfirmed sender.
    assert Ticket.objects.filter(customer=None, requester_email__contains="@").exists()
    assert Ticket.objects.filter(customer__isnull=False, sender_unverified=True).exists()


def test_admin_pages_load_for_every_service_model(admin_client):
    call_command("seed_demo", customers=24, seed=2, verbosity=0)
    for model in SERVICE_MODELS:
        changelist = reverse(f"admin:service_{model}_changelist")
        assert admin_client.get(changelist, {"q": "a"}).status_code == 200, model
        assert admin_client.get(reverse(f"admin:service_{model}_add")).status_code == 200, model
    ticket = Ticket.objects.first()
    assert (
        admin_client.get(reverse("admin:service_ticket_change", args=[ticket.pk])).status_code
        == 200
    )
