"""The escalation job: at risk and breached tickets, once, with the priority raised.

The digests are queued in the outbox and leave when the job's transaction commits: the
tests run the job through `escalate` (in the test's transaction, the commit callbacks run
when it returns, as they would on the worker).
"""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import TestCase

from service import escalation, services
from service.models import Escalation, SLAPolicy, Team, Ticket
from service.tasks import escalate_tickets as escalate_task
from tests.factories import CustomerFactory, UserFactory
from tests.helpers import run_in_threads

T0 = datetime(2025, 6, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def team_manager(db):
    manager = UserFactory(username="boss", email="boss@example.com")
    Team.objects.filter(name="Support").update(manager=manager)
    return manager


def escalate(**kwargs) -> dict:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return escalation.escalate_tickets(**kwargs)


def make(priority="urgent", assignee=None, now=T0) -> Ticket:
    return services.ticket_create(
        customer=CustomerFactory.create(),
        subject="Down",
        description="All down",
        channel=Ticket.Channel.EMAIL,
        priority=priority,
        assignee=assignee,
        now=now,
    )


@pytest.mark.django_db
def test_nothing_to_do_before_the_at_risk_threshold(team_manager):
    make()
    assert escalate(now=T0 + timedelta(minutes=5)) == {
        "at_risk": 0,
        "breached": 0,
        "notified": 0,
        "raised": 0,
        "emails": 0,
    }
    assert mail.outbox == []


@pytest.mark.django_db
def test_at_risk_notifies_assignee_and_manager_once(team_manager):
    agent = UserFactory(username="ag", email="ag@example.com")
    ticket = make(assignee=agent)
    at = T0 + timedelta(minutes=25)  # 75 % of the 30 minute first response target
    first = escalate(now=at)
    second = escalate(now=at + timedelta(minutes=1))
    assert first == {"at_risk": 1, "breached": 0, "notified": 1, "raised": 0, "emails": 2}
    assert second == {"at_risk": 0, "breached": 0, "notified": 0, "raised": 0, "emails": 0}
    assert sorted(m.to[0] for m in mail.outbox) == ["ag@example.com", "boss@example.com"]
    assert "1 at risk" in mail.outbox[0].subject
    assert ticket.number in mail.outbox[0].body and "Down" in mail.outbox[0].body
    row = Escalation.objects.get()
    assert (row.target, row.level, row.due_at) == (
        "first_response",
        "at_risk",
        ticket.first_response_due,
    )


@pytest.mark.django_db
def test_run_twice_notifies_once(team_manager):
    make()
    at = T0 + timedelta(minutes=25)
    escalate(now=at)
    escalate(now=at)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["boss@example.com"]


@pytest.mark.django_db
def test_one_digest_per_recipient_lists_breaches_first(team_manager):
    at_risk = make(now=T0 + timedelta(minutes=20))  # at risk at T0+45
    breached = make(now=T0)  # first response breached at T0+30
    escalate(now=T0 + timedelta(minutes=45))
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    assert body.index(breached.number) < body.index(at_risk.number)
    assert "1 breached, 1 at risk" in mail.outbox[0].subject
    html = mail.outbox[0].alternatives[0][0]
    assert f"/service/tickets/{breached.pk}/" in html


@pytest.mark.django_db
def test_breach_raises_priority_when_the_policy_says_so(team_manager):
    SLAPolicy.objects.filter(priority="high").update(raise_priority_on_breach=True)
    ticket = make("normal")  # normal raises on breach (migration default); 4 business hours
    result = escalate(now=T0 + timedelta(hours=5))
    assert result["breached"] == 1 and result["raised"] == 1
    ticket.refresh_from_db()
    assert ticket.priority == "high"
    assert ticket.version == 2
    # Due times recomputed from creation with the high policy (2 h / 24 h, around the clock).
    assert ticket.first_response_due == T0 + timedelta(hours=2)
    assert ticket.resolution_due == T0 + timedelta(hours=24)
    # Running again: the recomputed due time is past too, but each target escalates once,
    # so nothing is raised or notified again.
    again = escalate(now=T0 + timedelta(hours=5))
    assert again == {**again, "breached": 0, "raised": 0, "notified": 0}
    ticket.refresh_from_db()
    assert ticket.priority == "high"
    assert Escalation.objects.filter(ticket=ticket, level="breached").count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_no_raise_without_the_policy_flag(team_manager):
    SLAPolicy.objects.update(raise_priority_on_breach=False)
    ticket = make("normal")
    assert escalate(now=T0 + timedelta(hours=5))["raised"] == 0
    ticket.refresh_from_db()
    assert ticket.priority == "normal"


@pytest.mark.django_db
def test_answered_paused_and_closed_tickets_are_left_alone(team_manager, agent):
    answered = make()
    services.ticket_reply(ticket=answered, author=agent, body="Hi", internal=False, now=T0)
    waiting = make()
    services.ticket_update(ticket=waiting, user=agent, expected_version=1, status="waiting", now=T0)
    closed = make()
    services.ticket_update(ticket=closed, user=agent, expected_version=1, status="closed", now=T0)
    escalate(now=T0 + timedelta(minutes=40))
    assert not Escalation.objects.exists()  # only the answered one's resolution runs, not due


@pytest.mark.django_db
def test_breach_without_recipients_is_recorded_but_mails_nobody():
    make("high")
    result = escalate(now=T0 + timedelta(hours=3))
    assert result["breached"] == 1 and result["notified"] == 0 and result["emails"] == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_celery_task_runs_the_job_inline(team_manager):
    make()  # created in 2025: both targets are long breached now
    result = escalate_task.delay().get()
    assert (result["breached"], result["notified"], result["emails"]) == (2, 2, 1)


# serialized_rollback: an earlier transactional test may have flushed the migrations' policies.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_runs_notify_once(postgres, team_manager):
    """Both runs see the same due tickets; the unique constraint lets only one insert."""
    for _ in range(20):
        make()
    at = T0 + timedelta(minutes=40)
    results, barrier = [], threading.Barrier(2)

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(escalation.escalate_tickets(now=at))
        finally:
            connection.close()

    run_in_threads(run, run, timeout=60)
    assert sorted(r["breached"] for r in results) == [0, 20]
    assert sorted(r["emails"] for r in results) == [0, 1]
    assert len(mail.outbox) == 1 and mail.outbox[0].body.count("T-0") == 20
    assert Escalation.objects.count() == 20
