"""The customer list: filters, search, sorting, bulk actions, saved views, export and merge."""

import csv
import io

import pytest
from django.urls import reverse

from customers.models import Customer, SavedView
from customers.signals import customers_merged
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InteractionFactory,
    TagFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db


def names(response):
    return [c.name for c in response.context["page"]]


def test_filters_combine(rep, manager_client):
    vip = TagFactory(name="VIP")
    match = CustomerFactory(name="Match", stage="lead", region="Guangdong", owner=rep)
    match.tags.add(vip)
    CustomerFactory(name="Wrong stage", stage="customer", region="Guangdong", owner=rep).tags.add(
        vip
    )
    CustomerFactory(name="No tag", stage="lead", region="Guangdong", owner=rep)
    response = manager_client.get(
        reverse("customers:customer-list"), {"stage": "lead", "region": "guangdong", "tags": vip.pk}
    )
    assert names(response) == ["Match"]


def test_mine_filter_and_sorting(rep, rep_client):
    CustomerFactory(name="B mine", owner=rep)
    CustomerFactory(name="A mine", owner=rep)
    CustomerFactory(name="C other")
    url = reverse("customers:customer-list")
    assert names(rep_client.get(url, {"mine": "true"})) == ["A mine", "B mine"]
    assert names(rep_client.get(url, {"mine": "true", "sort": "-name"})) == ["B mine", "A mine"]


@pytest.mark.parametrize("text", ["小明", "XIAOMING@", "138 0013", "Widgets"])
def test_search_matches_name_email_phone_company(manager_client, text):
    CustomerFactory(
        name="王小明",
        email="xiaoming@example.com",
        phone="+86 138 0013 8000",
        organization="Widgets Ltd",
    )
    CustomerFactory(name="Someone else", email="other@example.com", phone="+1 555 0100")
    assert names(manager_client.get(reverse("customers:customer-list"), {"q": text})) == ["王小明"]
    response = manager_client.get(reverse("customers:search"), {"q": text})
    assert customer_hits(response) == ["王小明"]


@pytest.mark.parametrize(
    "params",
    [
        {"q": "a\x00b"},
        {"stage": "bogus"},
        {"owner": "999999999999999999999"},
        {"tags": "abc"},
        {"sort": "password"},
        {"page": "99999"},
        {"page": "-1"},
        {"is_key_account": "maybe"},
    ],
)
def test_hostile_filters_never_fail(manager_client, params):
    CustomerFactory()
    response = manager_client.get(reverse("customers:customer-list"), params)
    assert response.status_code == 200


def test_global_search_with_nul_bytes_and_huge_input(manager_client):
    assert manager_client.get(reverse("customers:search"), {"q": "x\x00" * 5000}).status_code == 200


def test_empty_list_says_so(manager_client):
    assert (
        "No customers yet."
        in manager_client.get(reverse("customers:customer-list")).content.decode()
    )
    CustomerFactory()
    response = manager_client.get(reverse("customers:customer-list"), {"q": "zzz-nothing"})
    assert "No customer matches these filters." in response.content.decode()


def test_bulk_on_every_filtered_row(manager, rep, manager_client):
    leads = CustomerFactory.create_batch(3, stage="lead")
    other = CustomerFactory(stage="customer")
    response = manager_client.post(
        reverse("customers:customer-bulk"),
        {"action": "assign_owner", "owner": rep.pk, "scope": "all", "filter_query": "stage=lead"},
    )
    assert response.status_code == 302
    assert set(Customer.objects.filter(owner=rep).values_list("pk", flat=True)) == {
        c.pk for c in leads
    }
    other.refresh_from_db()
    assert other.owner is None


def test_bulk_tag_add_and_remove(manager_client):
    customers = CustomerFactory.create_batch(2)
    url = reverse("customers:customer-bulk")
    selected = [c.pk for c in customers]
    manager_client.post(
        url, {"action": "add_tag", "tag": "Trade show", "scope": "selected", "selected": selected}
    )
    assert Customer.objects.filter(tags__name="Trade show").count() == 2
    manager_client.post(
        url,
        {"action": "remove_tag", "tag": "Trade show", "scope": "selected", "selected": selected},
    )
    assert not Customer.objects.filter(tags__name="Trade show").exists()


def test_bulk_without_a_selection_or_value_explains(manager_client):
    response = manager_client.post(
        reverse("customers:customer-bulk"),
        {"action": "set_stage", "scope": "selected"},
        follow=True,
    )
    text = response.content.decode()
    assert "Select at least one customer first." in text
    response = manager_client.post(
        reverse("customers:customer-bulk"),
        {"action": "set_stage", "scope": "selected", "selected": ["1", "x"]},
        follow=True,
    )
    assert "invalid row" in response.content.decode()


def test_rep_cannot_bulk_assign_owners(rep, rep_client):
    own = CustomerFactory(owner=rep)
    response = rep_client.post(
        reverse("customers:customer-bulk"),
        {"action": "assign_owner", "owner": rep.pk, "scope": "selected", "selected": [own.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "assign_owner is not one of the available choices" in response.content.decode()


def export_rows(response):
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(content)))


def test_export_respects_filters_and_defuses_formulas(manager_client):
    CustomerFactory(name='=HYPERLINK("http://evil")', stage="lead").tags.add(TagFactory(name="VIP"))
    CustomerFactory(name="Not exported", stage="customer")
    response = manager_client.get(reverse("customers:customer-export"), {"stage": "lead"})
    rows = export_rows(response)
    assert [r["name"] for r in rows] == ['\'=HYPERLINK("http://evil")']
    assert rows[0]["tags"] == "VIP"


def test_export_of_the_selection(manager_client):
    chosen, _other = CustomerFactory.create_batch(2)
    response = manager_client.post(
        reverse("customers:customer-bulk"),
        {"action": "export", "scope": "selected", "selected": [chosen.pk]},
    )
    assert [r["email"] for r in export_rows(response)] == [chosen.email]


def test_agent_may_not_export(agent_client):
    assert agent_client.get(reverse("customers:customer-export")).status_code == 403


def test_saved_views_round_trip(rep, rep_client):
    response = rep_client.post(
        reverse("customers:saved-view-create"),
        {"name": "My leads", "query": "stage=lead&mine=true"},
    )
    assert response.status_code == 302
    assert response.url.endswith("?stage=lead&mine=true")
    page = rep_client.get(reverse("customers:customer-list")).content.decode()
    assert "My leads" in page
    assert SavedView.objects.get(user=rep).query == "stage=lead&mine=true"


def test_merge_keeps_every_interaction_task_and_contact(manager, manager_client):
    kept = CustomerFactory(name="Acme", phone="")
    duplicate = CustomerFactory(name="ACME Ltd", phone="+86 1234567")
    duplicate_pk = duplicate.pk
    duplicate.tags.add(TagFactory(name="VIP"))
    InteractionFactory.create_batch(2, customer=duplicate)
    TaskFactory(customer=duplicate)
    ContactFactory(customer=duplicate)
    received = []
    customers_merged.connect(
        lambda **kw: received.append((kw["kept"].pk, kw["duplicate"].pk)),
        weak=False,
        dispatch_uid="test-merge",
    )
    try:
        url = reverse("customers:customer-merge", args=[kept.pk])
        review = manager_client.get(url, {"duplicate": duplicate.pk})
        assert review.context["moves"] == {"interactions": 2, "tasks": 1, "contacts": 1}
        assert Customer.objects.filter(pk=duplicate.pk).exists()
        response = manager_client.post(url, {"duplicate": duplicate.pk, "confirm": "1"})
    finally:
        customers_merged.disconnect(dispatch_uid="test-merge")
    assert response.status_code == 302
    kept.refresh_from_db()
    assert not Customer.objects.filter(pk=duplicate.pk).exists()
    assert kept.interactions.count() == 2  # the two moved; the merge is recorded as one
    assert kept.tasks.count() == 1
    # the moved contact, and one keeping the duplicate's email (the kept record has its own)
    assert kept.contacts.count() == 2
    assert kept.contacts.filter(email=duplicate.email, name="ACME Ltd").exists()
    assert kept.phone == "+86 1234567"
    assert list(kept.tags.values_list("name", flat=True)) == ["VIP"]
    assert received == [(kept.pk, duplicate_pk)]


def test_merge_with_itself_or_unknown_is_refused(manager_client):
    kept = CustomerFactory()
    url = reverse("customers:customer-merge", args=[kept.pk])
    assert (
        "cannot be merged with itself"
        in manager_client.post(url, {"duplicate": kept.pk, "confirm": "1"}).content.decode()
    )
    assert (
        "No customer has that number"
        in manager_client.get(url, {"duplicate": 987654}).content.decode()
    )
    assert Customer.objects.filter(pk=kept.pk).exists()


def customer_hits(response) -> list[str]:
    groups = {group["key"]: group["hits"] for group in response.context["groups"]}
    return [hit.title for hit in groups.get("customers", [])]


@pytest.mark.parametrize("typed", ["13800138000", "138-0013-8000", "(138) 0013 8000", "0013 80"])
def test_phone_search_ignores_how_the_number_is_written(manager_client, typed):
    CustomerFactory(name="Phone match", phone="+86 138 0013 8000")
    CustomerFactory(name="Other", phone="+86 139 1111 2222")
    assert names(manager_client.get(reverse("customers:customer-list"), {"q": typed})) == [
        "Phone match"
    ]
    response = manager_client.get(reverse("customers:search"), {"q": typed})
    assert customer_hits(response) == ["Phone match"]
