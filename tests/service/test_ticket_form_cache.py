"""The ticket page's side form is kept rendered per form state ({% formcache %}; issue 18):
served again for the same state, and a ticket changed elsewhere shows its new values."""

import re

import pytest

from crm.lib.fragments import fragments
from service.models import Priority, Ticket
from tests.factories import TicketFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_fragments")]


def side_form(client, ticket) -> str:
    response = client.get(ticket.get_absolute_url())
    assert response.status_code == 200
    match = re.search(r'<form [^>]*id="update-form".*?</form>', response.content.decode(), re.S)
    assert match, "no side form"
    # Without the per-request tokens, which are outside the kept fragment.
    return re.sub(
        r'<input type="hidden" name="(csrfmiddlewaretoken|submit_token)"[^>]*>', "", match.group(0)
    )


def selected_priority(form_html: str) -> str:
    select = re.search(r'<select name="priority".*?</select>', form_html, re.S)
    assert select
    chosen = re.search(r'<option value="(\w+)" selected>', select.group(0))
    assert chosen
    return chosen.group(1)


def test_the_side_form_is_kept_and_shows_a_change_made_elsewhere(agent_client):
    ticket = TicketFactory(priority=Priority.NORMAL)
    first = side_form(agent_client, ticket)
    assert selected_priority(first) == "normal"
    kept = len(fragments)
    assert kept >= 1
    assert side_form(agent_client, ticket) == first
    assert len(fragments) == kept
    Ticket.objects.filter(pk=ticket.pk).update(priority=Priority.URGENT)
    assert selected_priority(side_form(agent_client, ticket)) == "urgent"
