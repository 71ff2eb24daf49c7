"""The customer list reads the possible owners once, for the owner filter and the bulk form."""

import re

import pytest
from django.urls import reverse

from customers.filters import CustomerFilter
from customers.models import Customer
from customers.views.bulk import BulkActionForm
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _options(html: str, select_id: str) -> list[str]:
    select = re.search(rf'<select name="owner"[^>]*id="{select_id}".*?</select>', html, re.S)
    assert select is not None, f"no owner select #{select_id}"
    return re.findall(r"<option.*?</option>", select.group(0))


def test_owner_choices_are_read_once_and_offered_as_before(
    rep, rep2, manager, manager_client, django_assert_max_num_queries
):
    CustomerFactory(owner=rep)
    url = reverse("customers:customer-list")
    manager_client.get(url)
    with django_assert_max_num_queries(30) as captured:
        response = manager_client.get(url)
    owner_reads = [
        q for q in captured if 'FROM "auth_user"' in q["sql"] and "auth_group" in q["sql"]
    ]
    assert len(owner_reads) == 1

    html = response.content.decode()
    in_filter = _options(html, "id_owner")
    # What each form renders reading the owners itself.
    alone = CustomerFilter({}, queryset=Customer.objects.all(), request=response.wsgi_request)
    assert in_filter == re.findall(r"<option.*?</option>", str(alone.form["owner"]))
    bulk = re.findall(r"<option.*?</option>", str(BulkActionForm(user=manager)["owner"]))
    assert bulk == re.findall(r"<option.*?</option>", str(response.context["bulk_form"]["owner"]))
    assert {"rep", "rep2", "manager"} <= {re.sub(r"<[^>]+>", "", o) for o in in_filter}
