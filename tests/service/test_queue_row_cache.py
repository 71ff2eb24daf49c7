"""The queue's rows are kept rendered per distinct row ({% valuecache %}, queue_row_shown;
issue 18: the rows were a third of the queue's CPU). Served again unchanged, and never
stale: whatever a row shows is part of its key."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from crm.lib.fragments import value_fragments
from service.models import Ticket
from tests.factories import TicketFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_fragments")]
QUEUE = reverse("service:ticket-list") + "?view=all"


def row(response, ticket) -> str:
    assert response.status_code == 200
    match = re.search(
        rf'<tr data-ticket="{ticket.number}">.*?</tr>', response.content.decode(), re.S
    )
    assert match, "no row"
    return match.group(0)


def test_a_row_is_kept_and_served_again(agent_client):
    ticket = TicketFactory(subject="Kept row")
    first = row(agent_client.get(QUEUE), ticket)
    kept = value_fragments.kept_from("service/partials/ticket_row.html")
    assert kept == 1
    assert row(agent_client.get(QUEUE), ticket) == first
    assert value_fragments.kept_from("service/partials/ticket_row.html") == kept


def test_a_row_shows_a_new_customer_name_assignee_and_status_at_once(agent_client, agent):
    ticket = TicketFactory(status=Ticket.Status.NEW)
    assert "Take it" in row(agent_client.get(QUEUE), ticket)
    ticket.customer.name = "Renamed customer"  # the ticket itself does not change
    ticket.customer.save()
    assert "Renamed customer" in row(agent_client.get(QUEUE), ticket)
    Ticket.objects.filter(pk=ticket.pk).update(assignee=agent, status=Ticket.Status.WAITING)
    shown = row(agent_client.get(QUEUE), ticket)
    assert "Take it" not in shown and agent.username in shown
    assert "status-waiting" in shown


def test_a_row_turns_breached_when_its_due_time_passes(agent_client):
    now = timezone.now()
    ticket = TicketFactory(
        status=Ticket.Status.OPEN,
        first_responded_at=now - timedelta(hours=5),
        resolution_due=now + timedelta(minutes=3),
        resolution_at_risk_at=now + timedelta(minutes=2),
    )
    assert 'data-sla="breached"' not in row(agent_client.get(QUEUE), ticket)
    Ticket.objects.filter(pk=ticket.pk).update(
        resolution_due=now - timedelta(minutes=3), resolution_at_risk_at=now - timedelta(hours=1)
    )
    assert 'data-sla="breached"' in row(agent_client.get(QUEUE), ticket)


def test_a_row_is_kept_per_language_and_per_right_to_work(agent_client, client, django_user_model):
    ticket = TicketFactory(status=Ticket.Status.NEW)
    english = row(agent_client.get(QUEUE), ticket)
    chinese = row(agent_client.get(QUEUE, headers={"accept-language": "zh-hans"}), ticket)
    assert "Take it" in english and "Take it" not in chinese
    watcher = django_user_model.objects.create_user("watcher", password="x")  # noqa: S106
    watcher.user_permissions.set(
        Permission.objects.filter(codename__in=["view_ticket", "view_any_ticket"])
    )
    client.force_login(watcher)
    watched = row(client.get(QUEUE), ticket)
    assert 'name="selected"' in english and 'name="selected"' not in watched
    assert "Take it" not in watched
