"""Queries per page stay constant as tickets and messages grow (3 then 30).

Each page is requested with a little data, the data grows, and both counts must be equal
and within the budget (the measured count: a page that starts to query per row fails).
Speed itself is measured by `manage.py bench_service`.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    CustomerFactory,
    KnowledgeArticleFactory,
    SatisfactionResponseFactory,
    TagFactory,
    TeamFactory,
    TicketFactory,
    TicketMessageFactory,
)

pytestmark = pytest.mark.django_db

# Every page spends 5 on the session, the user, the permissions (2) and the tasks badge.
QUEUE_QUERIES = 10  # + count, page, the team and assignee filter choices, bulk assignees
TICKET_QUERIES = 22  # + ticket, tags, conversation, summary (2), revenue, open deals (for
# users who see deals), past tickets, related articles, side form (assignees, teams, tags),
# emails waiting for a retry (the outbox), the ticket's files, the messages' files, the
# agent's saved draft (issue 17); the related articles' translations come with the articles
PANEL_QUERIES = 8  # session, user, permissions (2), customer, summary (2), tickets


def _grow(count, *, agent, customer, tags, team):
    now = timezone.now()
    for n in range(count):
        ticket = TicketFactory(
            customer=customer,
            assignee=agent,
            team=team,
            status="open",
            subject=f"Printer {n}",
            resolution_due=now + timedelta(hours=n - 2),
            resolution_at_risk_at=now + timedelta(hours=n - 3),
            tags=tags,
        )
        if n % 3 == 0:
            ticket.status = "resolved"
            ticket.save()
            SatisfactionResponseFactory(ticket=ticket, score=4)


def _count(client, url, budget, assert_max_queries) -> int:
    client.get(url)  # the first request fills caches (content types, translations)
    with assert_max_queries(budget) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize(
    "params", [{}, {"view": "all", "breach": "breached", "sort": "priority", "q": "printer"}]
)
def test_queue_queries_do_not_grow(
    agent_client, agent, manager, django_assert_max_num_queries, params
):
    customer = CustomerFactory(name="客户 一")
    tags, team = [TagFactory(), TagFactory()], TeamFactory(name="Support")
    url = reverse("service:ticket-list") + "?" + "&".join(f"{k}={v}" for k, v in params.items())
    _grow(3, agent=agent, customer=customer, tags=tags, team=team)
    few = _count(agent_client, url, QUEUE_QUERIES, django_assert_max_num_queries)
    _grow(30, agent=manager, customer=CustomerFactory(), tags=tags, team=team)
    _grow(30, agent=agent, customer=CustomerFactory(), tags=tags, team=team)
    many = _count(agent_client, url, QUEUE_QUERIES, django_assert_max_num_queries)
    assert few == many


@pytest.mark.parametrize("persona", ["agent_client", "manager_client"])
def test_ticket_page_queries_do_not_grow(request, agent, persona, django_assert_max_num_queries):
    client = request.getfixturevalue(persona)
    customer = CustomerFactory()
    ticket = TicketFactory(customer=customer, subject="Printer jams", tags=[TagFactory()])
    KnowledgeArticleFactory.create_batch(3, title="Printer jams guide", body="printer jams")
    url = ticket.get_absolute_url()

    def grow(count):
        for n in range(count):
            TicketMessageFactory(ticket=ticket, author=agent, kind="note" if n % 2 else "reply")
            TicketMessageFactory(ticket=ticket, author=None, from_customer=True)
            past = TicketFactory(customer=customer, status="closed")
            SatisfactionResponseFactory(ticket=past, score=5)
            customer.orders.create(
                number=f"O-{ticket.pk}-{customer.orders.count()}",
                ordered_at=timezone.now(),
                total=10,
            )

    grow(3)
    few = _count(client, url, TICKET_QUERIES, django_assert_max_num_queries)
    grow(30)
    TagFactory.create_batch(5)
    many = _count(client, url, TICKET_QUERIES, django_assert_max_num_queries)
    assert few == many


def test_panel_queries_do_not_grow(agent_client, agent, django_assert_max_num_queries):
    customer = CustomerFactory()
    url = reverse("service:customer-tickets-panel", args=[customer.pk])
    _grow(3, agent=agent, customer=customer, tags=[], team=None)
    few = _count(agent_client, url, PANEL_QUERIES, django_assert_max_num_queries)
    _grow(30, agent=agent, customer=customer, tags=[], team=None)
    many = _count(agent_client, url, PANEL_QUERIES, django_assert_max_num_queries)
    assert few == many
