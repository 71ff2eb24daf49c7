"""Who is notified of what, each app through core.notifications.notify(): a customer or
deal assigned by someone else, a deal of yours won or lost by someone else, a mention in
an interaction or a ticket's internal note, a customer's reply on your ticket, an SLA at
risk. Nobody is told of their own action."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import TestCase

from core.models import Notification
from customers.models import Customer
from customers.services import customer_update, customers_bulk_update, interaction_log
from sales.services import deal_lose, deal_update, deal_win
from service import escalation, services
from service.models import Ticket
from tests.factories import CustomerFactory, DealFactory, UserFactory

pytestmark = pytest.mark.django_db


def kinds(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_customer_assigned_by_someone_else(rep, rep2, manager):
    customer = CustomerFactory(owner=rep)
    customer_update(
        customer=customer, expected_version=customer.version, data={}, owner=rep2, by=manager
    )
    note = Notification.objects.get(recipient=rep2)
    assert note.kind == "assigned" and customer.name in note.text and note.actor == manager
    customer.refresh_from_db()
    customer_update(
        customer=customer, expected_version=customer.version, data={}, owner=rep, by=rep
    )
    assert kinds(rep) == []  # took it themselves


def test_bulk_assignment_is_one_notification(rep, manager):
    for _ in range(3):
        CustomerFactory(owner=manager)
    changed = customers_bulk_update(
        customers=Customer.objects.all(), action="assign_owner", value=rep, by=manager
    )
    assert changed == 3
    assert Notification.objects.get(recipient=rep).text.endswith("3 customers")


def test_deal_assigned_and_won_and_lost_by_someone_else(rep, rep2, manager):
    deal = DealFactory(owner=rep)
    deal_update(
        deal=deal,
        expected_version=deal.version,
        updated_by=manager,
        title=deal.title,
        amount=deal.amount,
        stage=deal.stage,
        expected_close_date=deal.expected_close_date,
        owner=rep2,
    )
    assert kinds(rep2) == ["assigned"]
    deal.refresh_from_db()
    deal_win(deal=deal, won_by=manager, expected_version=deal.version)
    assert sorted(kinds(rep2)) == ["assigned", "deal_closed"]
    lost = DealFactory(owner=rep)
    deal_lose(deal=lost, reason="Price", lost_by=manager, expected_version=lost.version)
    assert "lost" in Notification.objects.get(recipient=rep, kind="deal_closed").text


def test_winning_your_own_deal_tells_nobody(rep):
    deal = DealFactory(owner=rep)
    deal_win(deal=deal, won_by=rep, expected_version=deal.version)
    assert not Notification.objects.exists()


def test_mention_in_an_interaction_note(rep, rep2):
    customer = CustomerFactory(owner=rep)
    interaction_log(
        customer=customer,
        logged_by=rep,
        channel="phone",
        direction="out",
        summary="@rep2 please send the quote; cc @nobody_here and @rep",
        mentions=True,
    )
    assert kinds(rep2) == ["mention"] and kinds(rep) == []


def test_an_email_logged_without_mentions_tells_nobody(rep, rep2):
    interaction_log(
        customer=CustomerFactory(owner=rep),
        logged_by=None,
        channel="email",
        direction="in",
        summary="Hi @rep2",
    )
    assert not Notification.objects.exists()


def a_ticket(assignee, now=None):
    kwargs = {"now": now} if now else {}
    return services.ticket_create(
        customer=CustomerFactory(),
        subject="Printer down",
        description="It is down",
        channel=Ticket.Channel.EMAIL,
        priority="urgent",
        assignee=assignee,
        **kwargs,
    )


def test_customer_reply_on_your_ticket(agent):
    ticket = a_ticket(agent)
    services.ticket_customer_reply(ticket=ticket, body="Still broken")
    note = Notification.objects.get(recipient=agent)
    assert note.kind == "reply" and ticket.number in note.text


def test_mention_in_a_ticket_internal_note_only(agent, manager):
    ticket = a_ticket(agent)
    services.ticket_reply(ticket=ticket, author=agent, body="@manager refund?", internal=True)
    assert kinds(manager) == ["mention"]
    services.ticket_reply(ticket=ticket, author=agent, body="@manager hello", internal=False)
    assert kinds(manager) == ["mention"]  # a public reply is not a note


def test_sla_at_risk_tells_the_assignee_once(agent):
    t0 = datetime(2025, 6, 4, 10, 0, tzinfo=UTC)
    a_ticket(agent, now=t0)
    at = t0 + timedelta(minutes=25)  # 75 % of the urgent first response target
    with TestCase.captureOnCommitCallbacks(execute=True):
        escalation.escalate_tickets(now=at)
        escalation.escalate_tickets(now=at + timedelta(minutes=1))
    assert kinds(agent) == ["sla_breach"]


def test_unknown_user_is_not_created_by_mentions(rep):
    interaction_log(
        customer=CustomerFactory(owner=rep),
        logged_by=rep,
        channel="phone",
        direction="out",
        summary="@" + "x" * 200,
        mentions=True,
    )
    assert not Notification.objects.exists()
    assert UserFactory._meta.model.objects.filter(username__startswith="x").count() == 0
