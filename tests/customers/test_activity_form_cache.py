"""The 360° page's timeline filter and the interaction form's fixed fields are kept
rendered per form state ({% formcache %}, fields="…"; issue 18). The contact field, whose
options are the customer's own, stays out of the kept fragment and out of its key."""

import re
import time

import pytest
from django.template import Context, Template, TemplateSyntaxError

from crm.lib.fragments import fragments
from tests.factories import ContactFactory, CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_fragments")]


def page(client, customer, query: str = "") -> str:
    response = client.get(customer.get_absolute_url() + query)
    assert response.status_code == 200
    return response.content.decode()


def chips(html: str) -> str:
    match = re.search(r'<form [^>]*class="timeline-filter.*?</form>', html, re.S)
    assert match, "no timeline filter"
    return match.group(0)


def contact_options(html: str) -> list[str]:
    select = re.search(r'<select name="contact".*?</select>', html, re.S)
    return (
        re.findall(r"<option value=\"\d+\"[^>]*>([^<]*)</option>", select.group(0))
        if select
        else []
    )


def test_the_filter_and_the_form_are_kept_and_served_again(rep_client, rep):
    customer = CustomerFactory(owner=rep)
    first = page(rep_client, customer)
    kept = len(fragments)
    assert kept >= 3  # the timeline filter and the interaction form's two kept parts
    # A second later: the form's time (now, by default) is not part of any key.
    time.sleep(1.1)
    again = page(rep_client, customer)
    assert chips(again) == chips(first)
    assert len(fragments) == kept


def test_the_chosen_kinds_stay_checked(rep_client, rep):
    customer = CustomerFactory(owner=rep)
    assert 'value="interaction" checked' not in chips(page(rep_client, customer))
    chosen = chips(page(rep_client, customer, "?kind=interaction"))
    assert re.search(r'value="interaction"[^>]*checked', chosen)
    assert not re.search(r'value="task"[^>]*checked', chosen)


def test_each_customer_is_offered_its_own_contacts(rep_client, rep):
    first = CustomerFactory(owner=rep, kind="company")
    second = CustomerFactory(owner=rep, kind="company")
    ContactFactory(customer=first, name="Only at the first")
    ContactFactory(customer=second, name="Only at the second")
    assert contact_options(page(rep_client, first)) == ["Only at the first"]
    assert contact_options(page(rep_client, second)) == ["Only at the second"]
    assert contact_options(page(rep_client, CustomerFactory(owner=rep))) == []


def test_an_invalid_interaction_shows_its_errors_and_values(rep_client, rep):
    customer = CustomerFactory(owner=rep)
    page(rep_client, customer)  # the empty form is kept
    url = f"/customers/{customer.pk}/interactions/"
    data = {"channel": "phone", "direction": "inbound", "occurred_at": "2026-01-01T10:00"}
    # An error inside a kept fragment (the summary) and one outside it (the time).
    response = rep_client.post(url, {**data, "summary": ""}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 422
    assert re.search(r'<textarea name="summary"[^>]*is-invalid', html)
    assert re.search(r'<option value="phone" selected>', html)
    future = {**data, "occurred_at": "2999-01-01T10:00", "summary": "Hello"}
    html = rep_client.post(url, future, HTTP_HX_REQUEST="true").content.decode()
    assert "An interaction cannot be logged in the future." in html
    assert re.search(r"<textarea name=\"summary\"[^>]*>\s*Hello</textarea>", html)
    assert not re.search(r'<textarea name="summary"[^>]*is-invalid', html)


def test_fields_must_name_a_field_and_a_page_without_the_form_renders_plainly():
    with pytest.raises(TemplateSyntaxError):
        Template('{% load form_fragments %}{% formcache form fields="" %}x{% endformcache %}')
    rendered = Template(
        '{% load form_fragments %}{% formcache form fields="name" %}[{{ form.name.value }}]{% endformcache %}'
    ).render(Context({"form": None}))
    assert rendered == "[]"
    assert len(fragments) == 0
