"""An agent's day on the ticket page and the queue (issue 17, Service): the tags field, "Take
it", the agent's home, unique element ids and long messages."""

from collections import Counter
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.factories import TagFactory, TicketFactory

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
