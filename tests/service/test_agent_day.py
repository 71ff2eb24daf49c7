"""An agent's day on the ticket page and the queue (issue 17, Service): the tags field, "Take
it", the agent's home, unique element ids and long messages."""

from collections import Counter
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from crm import roles
from service.models import Ticket, TicketMessage
from tests.factories import (
    CustomerFactory,
    TagFactory,
    TeamFactory,
    TicketFactory,
    TicketMessageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


class _Elements(HTMLParser):
    """Every start tag with its attributes, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {name: value or "" for name, value in attrs}))


def elements(response) -> list[tuple[str, dict[str, str]]]:
    parser = _Elements()
    parser.feed(response.content.decode())
    return parser.elements


def duplicate_ids(response) -> list[str]:
    ids = Counter(attrs["id"] for _tag, attrs in elements(response) if attrs.get("id"))
    return sorted(name for name, count in ids.items() if count > 1)


def test_ticket_tags_are_bootstrap_checks_like_the_customer_form(agent_client, agent):
    TagFactory(name="VIP")
    TagFactory(name="Wholesale")
    ticket = TicketFactory(assignee=agent)

    response = agent_client.get(reverse("service:ticket-detail", args=[ticket.pk]))

    boxes = [a for tag, a in elements(response) if tag == "input" and a.get("name") == "tags"]
    assert len(boxes) == 2
    assert all("form-check-input" in box.get("class", "").split() for box in boxes)
    labels = [
        a
        for tag, a in elements(response)
        if tag == "label" and a.get("for", "").startswith("id_tags_")
    ]
    assert all("form-check-label" in label.get("class", "").split() for label in labels)


def detail(ticket):
    return reverse("service:ticket-detail", args=[ticket.pk])


# "Take it"


def test_take_it_on_the_ticket_page_assigns_the_ticket_to_me(agent_client, agent):
    ticket = TicketFactory(assignee=None)
    page = agent_client.get(detail(ticket)).content.decode()
    assert 'id="take-it"' in page

    response = agent_client.post(
        reverse("service:ticket-take", args=[ticket.pk]), {"version": ticket.version}
    )

    assert response.status_code == 302 and response["Location"] == detail(ticket)
    ticket.refresh_from_db()
    assert ticket.assignee == agent
    assert 'id="take-it"' not in agent_client.get(detail(ticket)).content.decode()


def test_take_it_with_a_stale_version_changes_nothing(agent_client, agent, manager):
    ticket = TicketFactory(assignee=manager)
    stale = ticket.version
    Ticket.objects.filter(pk=ticket.pk).update(version=stale + 1)

    response = agent_client.post(
        reverse("service:ticket-take", args=[ticket.pk]), {"version": stale}, follow=True
    )

    assert "Someone else saved this ticket" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.assignee == manager


def test_take_it_from_the_queue_refuses_a_ticket_a_colleague_took(agent_client, agent):
    colleague = UserFactory(username="colleague", role=roles.SERVICE_AGENT)
    free = TicketFactory(assignee=None)
    taken = TicketFactory(assignee=colleague)
    queue = agent_client.get(reverse("service:ticket-list"), {"view": "open"}).content.decode()
    assert queue.count("data-take") == 2  # one button for the free ticket, wide and narrow
    back = reverse("service:ticket-list") + "?view=unassigned"

    agent_client.post(reverse("service:ticket-take", args=[free.pk]), {"next": back})
    response = agent_client.post(
        reverse("service:ticket-take", args=[taken.pk]), {"next": back}, follow=True
    )

    assert response.redirect_chain[-1][0] == back
    assert "was taken by colleague" in response.content.decode()
    assert Ticket.objects.get(pk=free.pk).assignee == agent
    assert Ticket.objects.get(pk=taken.pk).assignee == colleague


def test_take_it_needs_the_right_to_work_tickets(rep_client, rep, marketer_client):
    ticket = TicketFactory(customer=CustomerFactory(owner=rep), assignee=None)
    url = reverse("service:ticket-take", args=[ticket.pk])

    assert rep_client.post(url).status_code == 403
    assert marketer_client.post(url).status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).assignee is None


def test_take_it_refuses_closed_merged_and_other_queues_tickets(agent_client, agent):
    """Take it set the assignee on a closed ticket, and on another team's (security review)."""
    closed = TicketFactory(assignee=None, status=Ticket.Status.CLOSED)
    other_team = TicketFactory(assignee=None, team=TeamFactory())
    for ticket in (closed, other_team):
        response = agent_client.post(
            reverse("service:ticket-take", args=[ticket.pk]), {"version": ticket.version}
        )
        assert response.status_code in (302, 403, 404)
        assert Ticket.objects.get(pk=ticket.pk).assignee is None


# The agent's home


def test_agent_home_shows_the_queue_not_my_customers(agent_client, rep_client):
    agent_home = agent_client.get(reverse("home")).content.decode()
    rep_home = rep_client.get(reverse("home")).content.decode()

    # The home page renders its panels in its own request (issue 16): found by their ids.
    queue, customers = 'id="home-panel-service-home-queue-panel"', 'id="home-panel-customers-home'
    assert queue in agent_home
    assert customers + '-customers-panel"' not in agent_home
    assert customers + '-customers-panel"' in rep_home
    assert queue not in rep_home
    assert rep_client.get(reverse("service:home-queue-panel")).status_code == 403


def test_home_queue_panel_counts_mine_unassigned_and_breaching_within_an_hour(
    agent_client, agent, manager
):
    now = timezone.now()
    TicketFactory(assignee=agent, status="new")
    TicketFactory(assignee=agent, status="waiting")
    TicketFactory(assignee=agent, status="closed")
    soon = TicketFactory(
        assignee=None, subject="Breaches soon", first_response_due=now + timedelta(minutes=40)
    )
    TicketFactory(assignee=None, first_response_due=now + timedelta(hours=3))
    TicketFactory(assignee=None, first_response_due=now - timedelta(minutes=5))  # already late
    TicketFactory(assignee=manager, resolution_due=now + timedelta(minutes=10))  # not mine

    response = agent_client.get(reverse("service:home-queue-panel"))

    summary = response.context["summary"]
    assert (summary["mine"], summary["new"], summary["waiting"]) == (2, 1, 1)
    assert summary["unassigned"] == 3
    assert summary["breaching"] == 1
    assert summary["breaching_tickets"] == [soon]
    assert "Breaches soon" in response.content.decode()


# The queue's element ids and long messages


def test_the_queue_has_no_duplicate_element_ids(agent_client, agent):
    TicketFactory.create_batch(3, assignee=None)
    TicketFactory(assignee=agent)

    for view in ("mine", "unassigned", "open", "all"):
        response = agent_client.get(reverse("service:ticket-list"), {"view": view})
        assert duplicate_ids(response) == [], view


def test_the_ticket_page_has_no_duplicate_element_ids(agent_client, agent):
    TagFactory(name="VIP")
    ticket = TicketFactory(assignee=None)
    TicketMessageFactory(ticket=ticket, body="short")

    assert duplicate_ids(agent_client.get(detail(ticket))) == []


def test_long_messages_fold_behind_show_more(agent_client):
    ticket = TicketFactory(description="Short request.")
    long = TicketMessageFactory(ticket=ticket, body="A line of the log\n" * 40)
    short = TicketMessageFactory(ticket=ticket, body="Thanks!")

    page = agent_client.get(detail(ticket)).content.decode()

    long_item = page.split(f'id="message-{long.pk}"')[1].split("</li>")[0]
    short_item = page.split(f'id="message-{short.pk}"')[1].split("</li>")[0]
    assert "message-long" in long_item and "data-show-more" in long_item
    assert "Show more" in long_item
    assert "data-show-more" not in short_item


# Merging two tickets about one problem


@pytest.fixture
def two_requests(agent):
    customer = CustomerFactory(name="Acme")
    first = TicketFactory(customer=customer, subject="Parcel damaged", description="Box crushed.")
    second = TicketFactory(customer=customer, subject="Refund?", description="I want a refund.")
    TicketMessageFactory(ticket=second, from_customer=True, author=None, body="Photos attached")
    second.tags.add(TagFactory(name="VIP"))
    return first, second


def test_merge_moves_the_conversation_and_closes_the_duplicate_with_a_link(
    agent_client, agent, two_requests
):
    first, second = two_requests
    url = reverse("service:ticket-merge", args=[second.pk])
    page = agent_client.get(url)
    assert page.status_code == 200 and "data-confirm" in page.content.decode()
    assert first.number in page.content.decode()

    response = agent_client.post(url, {"target": first.pk})

    assert response.status_code == 302 and response["Location"] == detail(first)
    bodies = list(first.messages.values_list("body", flat=True))
    assert "I want a refund." in bodies and "Photos attached" in bodies
    assert any(second.number in body for body in bodies)  # the note saying what was merged
    assert [tag.name for tag in first.tags.all()] == ["VIP"]
    second.refresh_from_db()
    assert second.status == Ticket.Status.CLOSED and second.merged_into == first
    closed_page = agent_client.get(detail(second)).content.decode()
    assert 'id="merged-into"' in closed_page and detail(first) in closed_page
    event = AuditEvent.objects.get(action=AuditEvent.Action.MERGE)
    assert event.actor == agent and event.detail == {"merged": second.number, "into": first.number}
    shown = agent_client.get(detail(first)).content.decode()
    assert "I want a refund." in shown and "Photos attached" in shown


def test_merge_refuses_another_customers_ticket_and_itself(agent_client, two_requests):
    first, second = two_requests
    other = TicketFactory(customer=CustomerFactory(name="Other"))
    url = reverse("service:ticket-merge", args=[second.pk])

    for target in (other.pk, second.pk, "x", "99999999999999999999"):
        response = agent_client.post(url, {"target": target})
        assert response.status_code == 422, target
    assert TicketMessage.objects.filter(ticket=first).count() == 0
    assert Ticket.objects.get(pk=second.pk).merged_into is None


def test_merge_permissions_agents_on_their_queue_and_managers(
    agent_client, rep_client, manager_client, two_requests
):
    first, second = two_requests
    team = TeamFactory(name="Billing")
    team.members.add(UserFactory(username="billing-agent", role=roles.SERVICE_AGENT))
    Ticket.objects.filter(pk__in=[first.pk, second.pk]).update(team=team)
    url = reverse("service:ticket-merge", args=[second.pk])

    assert rep_client.get(url).status_code in (403, 404)
    assert agent_client.get(url).status_code == 403  # not a member of Billing
    assert agent_client.post(url, {"target": first.pk}).status_code == 403
    assert Ticket.objects.get(pk=second.pk).merged_into is None
    assert manager_client.post(url, {"target": first.pk}).status_code == 302
    assert Ticket.objects.get(pk=second.pk).merged_into_id == first.pk


# Knowledge-base articles in a reply, and links that work from outside


@pytest.fixture
def article_ticket(agent):
    from tests.factories import KnowledgeArticleFactory

    article = KnowledgeArticleFactory(
        title="Clear a paper jam",
        body="# Paper jam\n\nOpen the **front** door.\n\n- Pull the sheet\n- Close the door",
        is_published=True,
    )
    ticket = TicketFactory(subject="Printer paper jam", description="The paper jams")
    return article, ticket


def related(response):
    return response.context["related"][0]


def test_insert_text_carries_the_articles_plain_text(agent_client, article_ticket):
    article, ticket = article_ticket

    item = related(agent_client.get(detail(ticket)))

    assert item["article"] == article
    assert item["text"] == "Paper jam\n\nOpen the front door.\n\nPull the sheet\nClose the door"
    assert 'data-insert-article="text"' in agent_client.get(detail(ticket)).content.decode()


def test_article_link_uses_the_agents_host_when_the_base_url_is_this_machine(
    agent_client, article_ticket, settings
):
    article, ticket = article_ticket
    settings.CRM_BASE_URL = "http://127.0.0.1:8000"
    settings.ALLOWED_HOSTS = ["crm.example.com", "testserver"]

    response = agent_client.get(detail(ticket), HTTP_HOST="crm.example.com")

    assert related(response)["link"] == f"http://crm.example.com/help/articles/{article.pk}/"
    secure = agent_client.get(
        detail(ticket), HTTP_HOST="crm.example.com", HTTP_X_FORWARDED_PROTO="https"
    )
    assert related(secure)["link"] == f"https://crm.example.com/help/articles/{article.pk}/"


def test_article_link_uses_a_real_base_url_whatever_the_agents_host(
    agent_client, article_ticket, settings
):
    article, ticket = article_ticket
    settings.CRM_BASE_URL = "https://help.example.com"

    response = agent_client.get(detail(ticket))

    assert related(response)["link"] == f"https://help.example.com/help/articles/{article.pk}/"


def test_deploy_check_warns_when_emailed_links_point_at_this_machine(settings):
    from crm.checks import base_url_reachable

    for local in (
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://[::1]",
        "http://0.0.0.0",
    ):
        settings.CRM_BASE_URL = local
        assert [w.id for w in base_url_reachable(None)] == ["crm.W001"], local
    settings.CRM_BASE_URL = "https://crm.example.com"
    assert base_url_reachable(None) == []
