"""The customer list's rows are kept rendered per distinct row ({% valuecache %},
customer_row_shown; issue 18). Served again unchanged, and never stale: whatever a row
shows, the columns the user chose included, is part of its key."""

import re

import pytest
from django.urls import reverse

from crm.lib.fragments import value_fragments
from customers.models import Tag
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_fragments")]
LIST = reverse("customers:customer-list")
COLUMNS = reverse("customers:list-columns")


def row(response, customer) -> str:
    assert response.status_code == 200
    match = re.search(
        rf'<tr>\s*<td><input [^>]*value="{customer.pk}".*?</tr>', response.content.decode(), re.S
    )
    assert match, "no row"
    return match.group(0)


def test_a_row_is_kept_and_served_again(manager_client):
    customer = CustomerFactory(name="Kept row")
    first = row(manager_client.get(LIST), customer)
    kept = value_fragments.kept_from("customers/partials/customer_row.html")
    assert kept == 1
    assert row(manager_client.get(LIST), customer) == first
    assert value_fragments.kept_from("customers/partials/customer_row.html") == kept


def test_a_row_shows_a_new_name_tag_and_owner_at_once(manager_client, rep):
    customer = CustomerFactory(name="Before")
    row(manager_client.get(LIST), customer)
    customer.name = "After the rename"
    customer.save()
    assert "After the rename" in row(manager_client.get(LIST), customer)
    customer.tags.add(Tag.objects.create(name="vip-tag"))  # the customer row is not saved
    assert "vip-tag" in row(manager_client.get(LIST), customer)
    customer.owner = rep
    customer.save()
    assert rep.username in row(manager_client.get(LIST), customer)


def test_a_row_follows_the_columns_the_user_chose(manager_client):
    customer = CustomerFactory(phone="+86 138 0000 1111")
    assert customer.phone not in row(manager_client.get(LIST), customer)
    manager_client.post(COLUMNS, {"columns": ["phone", "updated"], "next_query": ""})
    assert customer.phone in row(manager_client.get(LIST), customer)


def test_a_row_is_kept_per_language(manager_client):
    customer = CustomerFactory(is_key_account=True)
    english = row(manager_client.get(LIST), customer)
    chinese = row(manager_client.get(LIST, headers={"accept-language": "zh-hans"}), customer)
    assert "Key account" in english and "Key account" not in chinese
