"""The SLA 'running' condition is written once: the escalation SQL selects what the Q selects."""

import pytest
from django.db import connection
from django.utils import timezone

from service.escalation import _ticket_condition_sql
from service.models import SLA_RUNNING, Ticket
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def test_the_compiled_condition_selects_the_running_tickets():
    for status in Ticket.Status.values:
        TicketFactory(status=status)
        TicketFactory(status=status, sla_paused_at=timezone.now())
    sql, params = _ticket_condition_sql(SLA_RUNNING)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {Ticket._meta.db_table} WHERE {sql}", params)  # noqa: S608
        by_sql = {row[0] for row in cursor.fetchall()}
    running = set(Ticket.objects.filter(SLA_RUNNING).values_list("pk", flat=True))
    assert by_sql == running
    assert {t.status for t in Ticket.objects.filter(pk__in=running)} == {"new", "open"}
    assert not Ticket.objects.filter(pk__in=running, sla_paused_at__isnull=False).exists()
