"""The agents' queue: tabs, order by SLA due time, filters, sorting, badges and bulk actions."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from service.models import Ticket
from tests.factories import CustomerFactory, TeamFactory, TicketFactory

pytestmark = pytest.mark.django_db

URL = reverse("service:ticket-list")
BULK = reverse("service:ticket-bulk")


def running(*, hours, at_risk_hours=None, **kwargs):
    """An open ticket already answered, due in `hours` (negative: late)."""
    now = timezone.now()
    due = now + timedelta(hours=hours)
    risk = due - timedelta(hours=at_risk_hours if at_risk_hours is not None else 1)
    defaults = {
        "subject": "Paper jam",  # no digits: a number search must not match it by subject
        "status": Ticket.Status.OPEN,
        "first_responded_at": now - timedelta(hours=50),
        "first_response_due": now - timedelta(hours=40),
        "resolution_due": due,
        "resolution_at_risk_at": risk,
    }
    return TicketFactory(**{**defaults, **kwargs})


def numbers(response) -> list[str]:
    return [ticket.number for ticket in response.context["page"].object_list]


def test_my_open_tickets_come_by_due_time_breached_first(agent_client, agent, rep):
    later = running(hours=30, assignee=agent, subject="later")
    soon = running(hours=2, assignee=agent, subject="soon")
    late = running(hours=-3, assignee=agent, subject="late")
    unanswered = running(
        hours=40,
        assignee=agent,
        first_responded_at=None,
        first_response_due=timezone.now() + timedelta(hours=1),
        first_response_at_risk_at=timezone.now() + timedelta(minutes=30),
    )
    paused = running(hours=-10, assignee=agent, status="waiting", sla_paused_at=timezone.now())
    running(hours=1, assignee=rep)  # someone else's
    running(hours=1, assignee=agent, status="resolved", resolved_at=timezone.now())

    response = agent_client.get(URL)

    assert response.status_code == 200
    assert response.context["view"] == "mine"
    assert numbers(response) == [
        late.number,
        unanswered.number,  # its first response is due before `soon` is
        soon.number,
        later.number,
        paused.number,  # the clock is stopped while waiting on the customer
    ]
    html = response.content.decode()
    assert "Breached" in html and "3 h late" in html
    assert "in 2 h" in html
    assert "Paused" in html


def test_badges_flag_breached_and_at_risk_rows(agent_client, agent):
    running(hours=-3, assignee=agent, subject="Late one")
    running(hours=2, at_risk_hours=3, assignee=agent, subject="Risky one")
    running(hours=48, assignee=agent, subject="Calm one")

    rows = {t.subject: t.sla.state for t in agent_client.get(URL).context["page"].object_list}

    assert rows == {"Late one": "breached", "Risky one": "at_risk", "Calm one": "on_track"}


def test_tabs_unassigned_all_open_and_all(agent_client, agent, rep):
    mine = running(hours=5, assignee=agent)
    free = running(hours=5)
    other = running(hours=5, assignee=rep)
    done = running(hours=5, status="closed", closed_at=timezone.now(), assignee=agent)

    assert numbers(agent_client.get(URL, {"view": "unassigned"})) == [free.number]
    assert set(numbers(agent_client.get(URL, {"view": "open"}))) == {
        mine.number,
        free.number,
        other.number,
    }
    assert set(numbers(agent_client.get(URL, {"view": "all"}))) == {
        mine.number,
        free.number,
        other.number,
        done.number,
    }
    assert numbers(agent_client.get(URL, {"view": "bogus"})) == [mine.number]


def test_filters(agent_client, agent):
    team = TeamFactory(name="Billing desk")
    urgent = running(hours=5, priority="urgent", channel="phone", category="incident")
    complaint = running(hours=6, category="complaint", team=team, subject="Refund never came")
    late = running(hours=-1, channel="chat")
    risky = running(hours=1, at_risk_hours=2, status="new", assignee=agent)

    def only(**params):
        return set(numbers(agent_client.get(URL, {"view": "all", **params})))

    assert only(priority="urgent") == {urgent.number}
    assert only(channel="chat") == {late.number}
    assert only(category="complaint") == {complaint.number}
    assert only(team=team.pk) == {complaint.number}
    assert only(status="new") == {risky.number}
    assert only(assignee=agent.pk) == {risky.number}
    assert only(breach="breached") == {late.number}
    assert only(breach="at_risk") == {risky.number}
    assert only(breach="on_track") == {urgent.number, complaint.number}
    assert only(q="refund") == {complaint.number}
    assert only(q=urgent.number) == {urgent.number}
    assert only(q=str(late.pk)) == {late.number}
    assert only(customer=late.customer_id) == {late.number}


def test_customer_filter_names_the_customer(agent_client):
    customer = CustomerFactory(name="王小明")
    running(hours=3, customer=customer)
    response = agent_client.get(URL, {"view": "all", "customer": customer.pk})
    assert response.context["customer_filter"] == customer
    assert "王小明" in response.content.decode()


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("priority", ["urgent", "high", "normal", "low"]),
        ("-priority", ["low", "normal", "high", "urgent"]),
    ],
)
def test_sort_by_priority(agent_client, sort, expected):
    for priority in ["normal", "urgent", "low", "high"]:
        running(hours=5, priority=priority)
    page = agent_client.get(URL, {"view": "open", "sort": sort}).context["page"]
    assert [t.priority for t in page.object_list] == expected


def test_sort_by_created_is_stable_across_pages(agent_client):
    created = timezone.now() - timedelta(days=1)
    tickets = [running(hours=5, created_at=created) for _ in range(30)]  # all tie
    seen = []
    for page in (1, 2):
        response = agent_client.get(URL, {"view": "open", "sort": "-created", "page": page})
        seen += numbers(response)
    assert len(response.context["page"].object_list) == 5
    assert seen == [t.number for t in sorted(tickets, key=lambda t: -t.pk)]


def test_updated_sort_and_pagination_of_25(agent_client, agent):
    for _ in range(27):
        running(hours=5, assignee=agent)
    first = agent_client.get(URL, {"sort": "updated"})
    assert len(first.context["page"].object_list) == 25
    assert first.context["page"].paginator.num_pages == 2
    assert "sort=updated" in first.context["query"]


def test_empty_states(agent_client):
    assert "No open tickets assigned to you." in agent_client.get(URL).content.decode()
    html = agent_client.get(URL, {"view": "all", "priority": "urgent"}).content.decode()
    assert "No ticket matches these filters." in html


def bulk(client, tickets, **data):
    return client.post(
        BULK, {"selected": [t.pk for t in tickets], "next": f"{URL}?view=open", **data}
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_bulk_assign_to_me_then_to_another_agent(agent_client, agent, manager):
    tickets = [running(hours=5), running(hours=6)]

    response = bulk(agent_client, tickets, action="assign_me")

    assert response.status_code == 302 and response.url == f"{URL}?view=open"
    assert messages_of(response) == ["2 tickets assigned to agent."]
    assert [t.number for t in tickets] == numbers(agent_client.get(URL))
    bulk(agent_client, tickets[:1], action="assign", assignee=manager.pk)
    tickets[0].refresh_from_db()
    assert tickets[0].assignee == manager
    response = bulk(agent_client, tickets[:1], action="assign", assignee="")
    assert "Choose who gets the tickets." in messages_of(response)
    tickets[0].refresh_from_db()
    assert tickets[0].assignee == manager


def test_bulk_resolve_skips_complaints_without_root_cause(agent_client):
    question = running(hours=5)
    complaint = running(hours=5, category="complaint")
    explained = running(hours=5, category="complaint", root_cause="billing")

    response = bulk(
        agent_client, [question, complaint, explained], action="status", status="resolved"
    )

    assert messages_of(response) == [
        "2 tickets set to “Resolved”.",
        f"1 complaint needs a root cause first: {complaint.number}. Open it to record one.",
    ]
    statuses = dict(Ticket.objects.values_list("pk", "status"))
    assert statuses == {question.pk: "resolved", complaint.pk: "open", explained.pk: "resolved"}


def test_bulk_without_selection_or_status_says_so(agent_client):
    ticket = running(hours=5)
    response = agent_client.post(BULK, {"action": "assign_me"})
    assert messages_of(response) == ["Select at least one ticket first."]
    response = bulk(agent_client, [ticket], action="status", status="")
    assert "Choose the new status." in messages_of(response)
    ticket.refresh_from_db()
    assert ticket.assignee is None and ticket.status == "open"


def test_bulk_refuses_users_who_do_not_work_tickets(rep_client, rep):
    ticket = running(hours=5, customer=CustomerFactory(owner=rep))
    assert bulk(rep_client, [ticket], action="assign_me").status_code == 403
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_bulk_next_url_stays_on_this_site(agent_client):
    ticket = running(hours=5)
    response = agent_client.post(
        BULK, {"selected": [ticket.pk], "action": "assign_me", "next": "https://evil.example/"}
    )
    assert response.url == URL
