"""The customers API (customers/api.py): the pages' access rules and validation, upsert by
external id, ETag / If-Match, Idempotency-Key, problem+json errors, hostile input."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from customers.models import Consent, Customer, Interaction, Task
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InteractionFactory,
    TagFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/customers/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def detail(customer) -> str:
    return f"{LIST}{customer.pk}/"


def assert_problem(response, status, field=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    if field:
        assert field in body["errors"], body


# Reading.


@pytest.mark.parametrize("persona", ["rep", "agent", "marketer", "manager"])
def test_every_customer_role_reads_every_customer(request, persona, rep2):
    CustomerFactory(owner=rep2, name="Other's")
    response = api(request.getfixturevalue(persona)).get(LIST)
    assert response.status_code == 200
    assert [c["name"] for c in response.json()["results"]] == ["Other's"]


def test_a_user_without_a_role_is_refused(nobody):
    assert_problem(api(nobody).get(LIST), 403)


def test_a_customer_answers_with_contacts_tags_consent_and_an_etag(rep):
    customer = CustomerFactory(owner=rep)
    customer.tags.add(TagFactory(name="vip"))
    ContactFactory(customer=customer, name="Li Lei")
    Consent.objects.create(customer=customer, channel="email", granted=True)
    response = api(rep).get(detail(customer))
    body = response.json()
    assert response["ETag"] == f'"{customer.version}"'
    assert body["owner"] == rep.pk and body["tags"] == ["vip"]
    assert body["consent"]["email"] is True and body["consent"]["sms"] is False
    assert [c["name"] for c in body["contacts"]] == ["Li Lei"]


def test_the_list_filters_like_the_list_page_and_orders(rep):
    CustomerFactory(name="Ann", region="Beijing", owner=rep)
    CustomerFactory(name="Bob", region="Guangdong")
    client = api(rep)
    names = lambda query: [c["name"] for c in client.get(LIST + query).json()["results"]]  # noqa: E731
    assert names("?region=beijing") == ["Ann"]
    assert names("?mine=true") == ["Ann"]
    assert names("?q=bob") == ["Bob"]
    assert names("?ordering=name") == ["Ann", "Bob"]
    assert names("?ordering=-name") == ["Bob", "Ann"]


def test_the_list_reads_a_constant_number_of_queries(rep):
    client = api(rep)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LIST).status_code == 200
        return len(queries)

    for _ in range(2):
        customer = CustomerFactory(owner=rep)
        customer.tags.add(TagFactory())
        ContactFactory(customer=customer)
    few = count()
    for _ in range(10):
        customer = CustomerFactory(owner=rep)
        customer.tags.add(TagFactory())
        ContactFactory(customer=customer)
    assert count() == few


# Creating.


def test_a_rep_creates_a_customer_they_own_with_tags_and_consent(rep):
    TagFactory(name="web")
    response = api(rep).post(
        LIST,
        {"name": " Ann ", "email": "ANN@Example.com", "tags": ["web"], "consent": {"email": True}},
        format="json",
    )
    assert response.status_code == 201, response.json()
    customer = Customer.objects.get()
    assert (customer.name, customer.email, customer.owner) == ("Ann", "ann@example.com", rep)
    assert response.json()["consent"]["email"] is True
    consent = Consent.objects.get(customer=customer)
    assert consent.granted and "API" in consent.source


def test_a_rep_may_not_give_a_new_customer_to_someone_else(rep, rep2):
    response = api(rep).post(LIST, {"name": "Ann", "owner": rep2.pk}, format="json")
    assert_problem(response, 400, "owner")
    assert not Customer.objects.exists()


@pytest.mark.parametrize("persona", ["agent", "marketer"])
def test_roles_that_do_not_create_customers_are_refused(request, persona):
    response = api(request.getfixturevalue(persona)).post(LIST, {"name": "Ann"}, format="json")
    assert_problem(response, 403)
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "Ann", "email": "not-an-email"}, "email"),
        ({"name": "Ann", "phone": "call me"}, "phone"),
        ({"name": "Ann", "stage": "royalty"}, "stage"),
        ({"name": "Ann", "tags": ["no such tag"]}, "tags"),
        ({"name": {"first": "Ann"}}, "name"),
        ({"name": "A\x00nn"}, "name"),
        ({"name": "Ann", "owner": 10**30}, "owner"),
        ({"name": "Ann", "is_key_account": "perhaps"}, "is_key_account"),
        ({"name": "x" * 201}, "name"),
    ],
)
def test_invalid_customers_are_problems_with_field_errors(rep, body, field):
    assert_problem(api(rep).post(LIST, body, format="json"), 400, field)
    assert not Customer.objects.exists()


def test_a_duplicate_email_is_refused_unless_confirmed_like_the_form(rep):
    CustomerFactory(email="ann@example.com")
    client = api(rep)
    response = client.post(LIST, {"name": "Ann", "email": "ann@example.com"}, format="json")
    assert_problem(response, 400, "non_field_errors")
    assert "<a" not in response.json()["errors"]["non_field_errors"][0]
    body = {"name": "Ann", "email": "ann@example.com", "confirm_duplicate": True}
    assert client.post(LIST, body, format="json").status_code == 201


def test_a_json_body_that_is_not_json_is_a_problem(rep):
    response = api(rep).generic("POST", LIST, b"{not json", content_type="application/json")
    assert_problem(response, 400)


def test_the_same_idempotency_key_creates_one_customer(rep):
    client = api(rep)
    first = client.post(LIST, {"name": "Ann"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = client.post(LIST, {"name": "Ann"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert Customer.objects.count() == 1
    other = client.post(LIST, {"name": "Ann"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.status_code == 201
    assert Customer.objects.count() == 2


def test_a_failed_request_does_not_use_up_its_idempotency_key(rep):
    client = api(rep)
    bad = client.post(LIST, {}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert bad.status_code == 400
    good = client.post(LIST, {"name": "Ann"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert good.status_code == 201


# Changing.


def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(rep):
    customer = CustomerFactory(owner=rep, name="Ann")
    client = api(rep)
    etag = client.get(detail(customer))["ETag"]
    first = client.patch(detail(customer), {"city": "Paris"}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200
    assert first["ETag"] != etag
    stale = client.patch(detail(customer), {"name": "Bob"}, format="json", HTTP_IF_MATCH=etag)
    assert_problem(stale, 412)
    customer.refresh_from_db()
    assert (customer.name, customer.city) == ("Ann", "Paris")


def test_patch_sets_only_what_it_sends_and_consent_per_channel(rep):
    customer = CustomerFactory(owner=rep, name="Ann", city="Shenzhen")
    Consent.objects.create(customer=customer, channel="sms", granted=True)
    response = api(rep).patch(detail(customer), {"consent": {"email": True}}, format="json")
    assert response.status_code == 200, response.json()
    consent = response.json()["consent"]
    assert consent["email"] is True and consent["sms"] is True
    customer.refresh_from_db()
    assert customer.city == "Shenzhen" and customer.owner == rep


def test_a_rep_cannot_change_another_reps_customer(rep, rep2):
    customer = CustomerFactory(owner=rep2, name="Ann")
    assert_problem(api(rep).patch(detail(customer), {"name": "Bob"}, format="json"), 403)
    customer.refresh_from_db()
    assert customer.name == "Ann"


def test_a_manager_changes_anyones_customer(manager, rep2):
    customer = CustomerFactory(owner=rep2)
    response = api(manager).patch(detail(customer), {"stage": "churned"}, format="json")
    assert response.status_code == 200
    assert response.json()["stage"] == "churned"


def test_an_agent_corrects_contact_details_but_nothing_else(agent, rep2):
    customer = CustomerFactory(owner=rep2, stage="lead")
    client = api(agent)
    response = client.patch(detail(customer), {"phone": "+86 20 1234 5678"}, format="json")
    assert response.status_code == 200, response.json()
    assert_problem(client.patch(detail(customer), {"stage": "customer"}, format="json"), 403)
    customer.refresh_from_db()
    assert customer.phone == "+86 20 1234 5678" and customer.stage == "lead"


def test_a_marketer_cannot_change_customers(marketer):
    customer = CustomerFactory()
    assert_problem(api(marketer).patch(detail(customer), {"city": "X"}, format="json"), 403)


# Upsert by external id.


def test_upsert_by_external_id_creates_then_updates_one_customer(rep):
    client = api(rep)
    url = f"{LIST}by-external-id/shop-42/"
    created = client.put(url, {"name": "Ann", "email": "ann@example.com"}, format="json")
    assert created.status_code == 201, created.json()
    updated = client.put(url, {"name": "Ann Lee"}, format="json")
    assert updated.status_code == 200
    customer = Customer.objects.get()
    assert (customer.external_id, customer.name, customer.email) == (
        "shop-42",
        "Ann Lee",
        "ann@example.com",
    )


def test_upsert_of_another_reps_customer_is_refused(rep, rep2):
    CustomerFactory(owner=rep2, external_id="shop-1", name="Ann")
    response = api(rep).put(f"{LIST}by-external-id/shop-1/", {"name": "X"}, format="json")
    assert_problem(response, 403)
    assert Customer.objects.get().name == "Ann"


@pytest.mark.parametrize("external_id", ["%00", "x" * 101, "%20"])
def test_upsert_with_a_hostile_external_id_is_not_a_server_error(rep, external_id):
    response = api(rep).put(f"{LIST}by-external-id/{external_id}/", {"name": "A"}, format="json")
    assert response.status_code in (400, 404)
    assert not Customer.objects.exists()


# Contacts, interactions, tasks.


def test_contacts_are_added_by_who_may_edit_contact_details(rep, rep2, agent):
    mine = CustomerFactory(owner=rep, kind="company")
    theirs = CustomerFactory(owner=rep2, kind="company")
    body = {"customer": mine.pk, "name": "Li Lei", "email": "li@example.com"}
    assert api(rep).post("/api/v1/contacts/", body, format="json").status_code == 201
    body["customer"] = theirs.pk
    assert_problem(api(rep).post("/api/v1/contacts/", body, format="json"), 403)
    assert api(agent).post("/api/v1/contacts/", body, format="json").status_code == 201
    listed = api(rep).get(f"/api/v1/contacts/?customer={mine.pk}").json()["results"]
    assert [c["name"] for c in listed] == ["Li Lei"]


def test_interactions_are_logged_on_workable_customers_only(rep, rep2):
    mine = CustomerFactory(owner=rep)
    theirs = CustomerFactory(owner=rep2)
    client = api(rep)
    body = {"customer": mine.pk, "channel": "email", "direction": "in", "summary": "Asked"}
    response = client.post("/api/v1/interactions/", body, format="json")
    assert response.status_code == 201, response.json()
    assert Interaction.objects.get().logged_by == rep
    body["customer"] = theirs.pk
    assert_problem(client.post("/api/v1/interactions/", body, format="json"), 403)
    future = {**body, "customer": mine.pk, "occurred_at": "2999-01-01T00:00:00Z"}
    assert_problem(client.post("/api/v1/interactions/", future, format="json"), 400, "occurred_at")
    missing = {**body, "customer": 999999}
    assert_problem(client.post("/api/v1/interactions/", missing, format="json"), 400, "customer")
    InteractionFactory(customer=theirs)
    listed = client.get(f"/api/v1/interactions/?customer={mine.pk}").json()["results"]
    assert [i["summary"] for i in listed] == ["Asked"]


def test_tasks_are_created_and_completed_by_whom_the_pages_allow(rep, rep2):
    mine = CustomerFactory(owner=rep)
    client = api(rep)
    body = {"customer": mine.pk, "title": "Call back", "due_date": "2030-01-02"}
    response = client.post("/api/v1/tasks/", body, format="json")
    assert response.status_code == 201, response.json()
    task = Task.objects.get()
    assert task.assignee == rep
    done = client.post(f"/api/v1/tasks/{task.pk}/complete/")
    assert done.status_code == 200 and done.json()["done"] is True
    theirs = TaskFactory(assignee=rep2, customer=CustomerFactory(owner=rep2))
    assert_problem(client.post(f"/api/v1/tasks/{theirs.pk}/complete/"), 403)
    theirs.refresh_from_db()
    assert not theirs.done
    assign = {**body, "assignee": rep2.pk}
    assert_problem(client.post("/api/v1/tasks/", assign, format="json"), 400, "assignee")
    late = {**body, "due_date": "2999-01-01"}
    assert_problem(client.post("/api/v1/tasks/", late, format="json"), 400, "due_date")


def test_an_agent_gets_nothing_of_sales_but_works_customers(agent):
    customer = CustomerFactory()
    body = {"customer": customer.pk, "title": "Call", "due_date": "2030-01-02"}
    assert api(agent).post("/api/v1/tasks/", body, format="json").status_code == 201


# Hostile input never answers 500.


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/customers/?owner=99999999999999999999",
        "/api/v1/customers/?owner=%00",
        "/api/v1/customers/?tags=%D9%A1",
        "/api/v1/customers/?stage=<script>",
        "/api/v1/customers/?q=%00",
        "/api/v1/customers/?ordering=password",
        "/api/v1/customers/?cursor=%00garbage",
        "/api/v1/customers/?page_size=99999999999999999999",
        "/api/v1/customers/?is_key_account=maybe",
        "/api/v1/customers/%D9%A1%D9%A2/",
        "/api/v1/customers/99999999999999999999/",
        "/api/v1/interactions/?customer=1e9",
        "/api/v1/tasks/?done=%00&customer=-1",
        "/api/v1/tasks/99999999999999999999/complete/",
        "/api/v1/contacts/?customer=%EF%BC%91",
    ],
)
def test_hostile_queries_are_never_server_errors(manager, path):
    CustomerFactory()
    method = "post" if path.endswith("complete/") else "get"
    response = getattr(api(manager), method)(path)
    assert response.status_code < 500, path


@pytest.mark.parametrize(
    "body",
    [
        [],
        "a string",
        {"name": "Ann", "consent": {"email": "yes please"}},
        {"name": "Ann", "consent": ["email"]},
        {"name": "Ann", "tags": "vip"},
        {"name": "Ann", "tags": ["v\x00ip"]},
        {"name": "Ann", "notes": "<script>alert(1)</script>" * 10},
    ],
)
def test_hostile_bodies_are_never_server_errors(manager, body):
    response = api(manager).post(LIST, body, format="json")
    assert response.status_code < 500


@pytest.mark.parametrize(
    "raw", [b'{"name": "\\ud800"}', b'{"name": NaN}', b'{"name": "A", "owner": 1e400}', b"\xff"]
)
def test_raw_bodies_no_database_holds_are_problems(manager, raw):
    response = api(manager).generic("POST", LIST, raw, content_type="application/json")
    assert_problem(response, 400)
    assert not Customer.objects.exists()


def test_hostile_json_for_interactions_and_tasks(manager):
    customer = CustomerFactory()
    client = api(manager)
    for body in [
        {"customer": customer.pk, "summary": "x", "occurred_at": "2024-02-30T00:00:00Z"},
        {"customer": customer.pk, "summary": "x", "contact": 10**12},
        {"customer": "\u0661", "summary": "x"},
        {"customer": customer.pk, "summary": "x", "occurred_at": "0001-01-01T00:00:00Z"},
    ]:
        assert client.post("/api/v1/interactions/", body, format="json").status_code == 400
    for body in [
        {"customer": customer.pk, "title": "x", "due_date": "2024-13-01"},
        {"customer": customer.pk, "title": "x", "due_date": "9999-12-31", "assignee": -1},
    ]:
        assert client.post("/api/v1/tasks/", body, format="json").status_code == 400
