"""The list pages' filter sidebars are kept rendered per form state (crm/lib/fragments.py):
served again for the other pages of a list, and never stale, since their key is what
they show (options read from the database, submitted values, errors, language)."""

import re

import pytest
from django.utils import translation

from crm.lib.fragments import fragments
from tests.factories import CustomerFactory, TagFactory, TicketFactory, UserFactory

SIDEBAR = re.compile(
    r'<form method="get" class="card card-body[^"]*" id="filter-form">(.*?)</form>', re.S
)


@pytest.fixture(autouse=True)
def empty_fragments():
    fragments.clear()
    yield
    fragments.clear()


def sidebar(response) -> str:
    assert response.status_code == 200
    match = SIDEBAR.search(response.content.decode())
    assert match, "no filter sidebar"
    return match.group(1)


@pytest.mark.django_db
def test_the_pages_of_a_list_share_one_rendered_sidebar(rep, rep_client):
    CustomerFactory.create_batch(30, owner=rep)
    first = sidebar(rep_client.get("/customers/?page=1&mine=true"))
    kept = len(fragments)  # the sidebar, the bulk form and the column chooser
    second = sidebar(rep_client.get("/customers/?page=2&mine=true"))
    assert len(fragments) == kept  # served from memory
    assert second == first
    assert 'name="mine" value="true"' in first and "checked" in first


@pytest.mark.django_db
def test_a_new_tag_or_owner_shows_at_once(rep, rep_client):
    CustomerFactory(owner=rep)
    before = sidebar(rep_client.get("/customers/"))
    assert 'name="tags"' not in before  # no tag yet: the field is left out
    TagFactory(name="Fresh tag")
    UserFactory(username="newrep", first_name="Nina", role="Sales rep")
    after = sidebar(rep_client.get("/customers/"))
    assert "Fresh tag" in after
    assert "newrep" in after or "Nina" in after


@pytest.mark.django_db
def test_submitted_values_and_errors_are_those_of_the_request(rep_client):
    assert 'value="North"' in sidebar(rep_client.get("/customers/?region=North"))
    south = sidebar(rep_client.get("/customers/?region=South"))
    assert 'value="South"' in south and 'value="North"' not in south
    refused = sidebar(rep_client.get("/customers/?owner=999999"))
    assert "is-invalid" in refused
    assert "is-invalid" not in sidebar(rep_client.get("/customers/"))


@pytest.mark.django_db
def test_each_language_has_its_own_sidebar(rep_client):
    english = sidebar(rep_client.get("/sales/deals/", HTTP_ACCEPT_LANGUAGE="en"))
    chinese = sidebar(rep_client.get("/sales/deals/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    with translation.override("zh-hans"):
        sort_by = translation.gettext("Sort by")
    assert sort_by != "Sort by"
    assert sort_by in chinese and "Sort by" in english and "Sort by" not in chinese


@pytest.mark.django_db
def test_the_ticket_queue_sidebar_follows_its_filters(agent, agent_client):
    customer = CustomerFactory()
    TicketFactory(customer=customer)
    plain = sidebar(agent_client.get("/service/tickets/?view=all"))
    for_customer = sidebar(agent_client.get(f"/service/tickets/?view=all&customer={customer.pk}"))
    hidden = f'name="customer" value="{customer.pk}"'
    assert hidden in for_customer and 'name="customer" value=' not in plain
    assert len(fragments) == 3  # a sidebar per filter state, and one bulk bar for both
