"""The customer list's bulk and column forms are kept rendered per form state
(crm/lib/fragments.py) like the filter sidebars (issue 18: Django's widget templates, an
include per option, on every page of the list). Served again for the next page, never
another user's columns or a stale option."""

import re

import pytest

from crm.lib.fragments import fragments
from customers.list_columns import list_columns_save
from tests.factories import CustomerFactory, UserFactory

BULK = re.compile(r'<div class="bulk-bar[^"]*">(.*?)<datalist', re.S)
COLUMNS = re.compile(r'<form method="post" action="/customers/columns/[^>]*>(.*?)</form>', re.S)


@pytest.fixture(autouse=True)
def empty_fragments():
    fragments.clear()
    yield
    fragments.clear()


def part(pattern: re.Pattern, response) -> str:
    assert response.status_code == 200
    match = pattern.search(response.content.decode())
    assert match, f"no {pattern.pattern[:30]}"
    return re.sub(r'name="(csrfmiddlewaretoken|submit_token)" value="[^"]*"', "", match.group(1))


@pytest.mark.django_db
def test_the_list_bulk_form_is_kept_and_shows_a_new_owner_at_once(rep, rep_client):
    CustomerFactory.create_batch(30, owner=rep)
    first = part(BULK, rep_client.get("/customers/?page=1"))
    kept = len(fragments)
    assert part(BULK, rep_client.get("/customers/?page=1")) == first
    assert len(fragments) == kept
    UserFactory(username="brandnewrep", role="Sales rep")
    assert "brandnewrep" in part(BULK, rep_client.get("/customers/?page=1"))


@pytest.mark.django_db
def test_the_column_chooser_shows_each_users_own_columns(rep, rep2, rep_client, rep2_client):
    list_columns_save(user=rep, columns=["stage"])
    mine = part(COLUMNS, rep_client.get("/customers/"))
    theirs = part(COLUMNS, rep2_client.get("/customers/"))
    assert re.search(r'value="email"[^>]*checked', theirs)
    assert not re.search(r'value="email"[^>]*checked', mine)
    assert re.search(r'value="stage"[^>]*checked', mine)
