"""The customer list's column chooser: stored per user, the same query whichever columns."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import SavedView
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

LIST = reverse("customers:customer-list")
COLUMNS = reverse("customers:list-columns")


def _headers(client) -> str:
    page = client.get(LIST).content.decode()
    return page[page.index("<thead") : page.index("</thead>")]


def test_default_columns_leave_out_phone_and_industry_but_keep_ltv_and_updated(manager_client):
    CustomerFactory(phone="+86 138 0000 1111")
    head = _headers(manager_client)
    assert "Updated" in head and "LTV" in head and "Email" in head
    assert "Phone" not in head and "Industry" not in head


def test_chosen_columns_are_kept_per_user(manager_client, rep_client, manager):
    customer = CustomerFactory(phone="+86 138 0000 1111", industry="Mining")
    response = manager_client.post(
        COLUMNS, {"columns": ["phone", "industry", "updated"], "next_query": "stage=customer"}
    )
    assert response.status_code == 302 and response.url.endswith("?stage=customer")
    stored = SavedView.objects.get(user=manager, name=SavedView.COLUMNS)
    assert stored.query == "columns=industry%2Cphone%2Cupdated"
    page = manager_client.get(LIST).content.decode()
    head = page[page.index("<thead") : page.index("</thead>")]
    assert "Phone" in head and "Industry" in head and "Email" not in head
    assert customer.phone in page and "Mining" in page
    assert "Phone" not in _headers(rep_client)  # another user still has the default
    sidebar = page[page.index("Saved views") :]
    assert "columns=" not in sidebar  # the choice is not listed as a saved filter
    manager_client.post(COLUMNS, {"reset": "1"})
    assert not SavedView.objects.filter(user=manager).exists()
    assert "Email" in _headers(manager_client)


def test_unknown_or_hostile_columns_are_refused(manager_client, manager):
    for value in ["password", "a\x00b", "²"]:
        response = manager_client.post(COLUMNS, {"columns": [value]})
        assert response.status_code == 302
    response = manager_client.post(COLUMNS, {"columns": ["email"], "next_query": "x" * 3000})
    assert response.status_code == 302 and response.url == LIST
    assert not SavedView.objects.filter(user=manager).exists()


def test_anonymous_and_roleless_users_cannot_choose(client, nobody_client):
    assert client.post(COLUMNS, {"columns": ["email"]}).status_code == 302  # to the login
    assert nobody_client.post(COLUMNS, {"columns": ["email"]}).status_code == 403
    assert not SavedView.objects.exists()


def test_query_count_is_the_same_whichever_columns(manager_client):
    """The choice is read with the saved views: no query of its own."""
    CustomerFactory.create_batch(5)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(LIST).status_code == 200
        return len(captured)

    few = queries()  # the default columns
    manager_client.post(COLUMNS, {"columns": ["email", "updated"]})
    assert queries() == few
    manager_client.post(COLUMNS, {"columns": ["phone", "industry", "analytics-value:0"]})
    assert queries() == few
    CustomerFactory.create_batch(20)
    assert queries() == few
