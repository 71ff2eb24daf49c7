"""Every customers page, requested by every role with hostile input, answers without a 500."""

import pytest
from django.urls import reverse

from tests.factories import ContactFactory, CustomerFactory, TaskFactory
from tests.snapshots import changed_tables, database_digest

pytestmark = pytest.mark.django_db

# Roles that may not change the fixture's customer, contact or task (an agent may edit
# contact data, so deletes the contact): their requests must leave every table as it was.
WITHOUT_RIGHTS = {"rep2_client", "marketer_client", "nobody_client"}
PERSONAS = [
    "rep_client",
    "rep2_client",
    "agent_client",
    "marketer_client",
    "manager_client",
    "nobody_client",
]
HOSTILE = {
    "q": "<script>alert(1)</script>\x00' OR 1=1 --" + "字" * 300,
    "page": "99999999999999999999",
    "stage": ["lead", "\x00"],
    "owner": "-1",
    "tags": "1e309",
    "sort": "-password",
    "is_key_account": "\u202e",
    "show": "../../etc/passwd",
    "duplicate": "9" * 40,
}


@pytest.fixture
def urls(rep):
    customer = CustomerFactory(owner=rep, kind="company")
    contact = ContactFactory(customer=customer)
    task = TaskFactory(customer=customer, assignee=rep)
    pk = customer.pk
    return [
        reverse("home"),
        reverse("customers:customer-list"),
        reverse("customers:customer-create"),
        reverse("customers:customer-export"),
        reverse("customers:search"),
        reverse("customers:my-tasks"),
        reverse("customers:task-badge"),
        reverse("customers:home-tasks-panel"),
        reverse("customers:home-customers-panel"),
        reverse("customers:customer-import"),
        reverse("customers:customer-import-template"),
        reverse("customers:customer-detail", args=[pk]),
        reverse("customers:customer-update", args=[pk]),
        reverse("customers:customer-delete", args=[pk]),
        reverse("customers:customer-merge", args=[pk]),
        reverse("customers:contact-create", args=[pk]),
        reverse("customers:contact-update", args=[pk, contact.pk]),
        reverse("customers:contact-delete", args=[pk, contact.pk]),
        reverse("customers:interaction-create", args=[pk]),
        reverse("customers:task-create", args=[pk]),
        reverse("customers:task-toggle", args=[task.pk]),
        reverse("customers:customer-bulk"),
        reverse("customers:saved-view-create"),
        reverse("customers:customer-detail", args=[2**62]),
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_get_and_post_with_hostile_input_never_fail(request, persona, urls):
    client = request.getfixturevalue(persona)
    before = database_digest()
    for url in urls:
        for method in (client.get, client.post):
            response = method(url, HOSTILE)
            assert response.status_code < 500, (persona, method.__name__, url, response.status_code)
            if response.status_code == 200 and response.get("Content-Type", "").startswith(
                "text/html"
            ):
                assert "<script>alert(1)</script>" not in response.content.decode()
    if persona in WITHOUT_RIGHTS:
        assert changed_tables(before, database_digest()) == [], persona
