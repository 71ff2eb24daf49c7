"""Creating, editing, concurrency, duplicates, history and hostile input on customer pages."""

import pytest
from django.urls import reverse

from customers.models import Customer
from tests.factories import CustomerFactory, InteractionFactory, TagFactory, TaskFactory

pytestmark = pytest.mark.django_db


def customer_form_data(**overrides):
    data = {
        "kind": "person",
        "name": "王小明",
        "email": "xiaoming@example.com",
        "phone": "+86 138 0000 0000",
        "source": "website",
        "stage": "lead",
    }
    data.update(overrides)
    return data


def test_rep_creates_a_customer_they_own(rep, rep_client):
    response = rep_client.post(
        reverse("customers:customer-create"), customer_form_data(owner=rep.pk)
    )
    customer = Customer.objects.get(email="xiaoming@example.com")
    assert response.status_code == 302
    assert response.url == customer.get_absolute_url()
    assert customer.owner == rep
    assert customer.history.count() == 1


def test_rep_cannot_give_a_new_customer_to_someone_else(rep2, rep_client):
    response = rep_client.post(
        reverse("customers:customer-create"), customer_form_data(owner=rep2.pk)
    )
    assert response.status_code == 200
    assert "owner" in response.context["form"].errors
    assert not Customer.objects.exists()


def test_errors_are_shown_next_to_the_field(rep_client):
    response = rep_client.post(
        reverse("customers:customer-create"),
        customer_form_data(name="", email="not-an-email", phone="abc"),
    )
    form = response.context["form"]
    assert set(form.errors) >= {"name", "email", "phone"}
    assert 'id="error_1_id_email"' in response.content.decode()


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", "x" * 10_000),
        ("name", "nul\x00byte"),
        ("email", "a@" + "b" * 300 + ".com"),
        ("phone", "9" * 200),
        ("stage", "not-a-stage"),
        ("owner", "99999999999999999999999"),
        ("tags", "-1"),
    ],
)
def test_hostile_input_is_refused_with_a_message(rep_client, field, value):
    response = rep_client.post(
        reverse("customers:customer-create"), customer_form_data(**{field: value})
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Customer.objects.exists()


def test_script_tags_are_stored_as_text_and_escaped(rep, rep_client):
    name = "<script>alert(1)</script>"
    rep_client.post(
        reverse("customers:customer-create"), customer_form_data(name=name, owner=rep.pk)
    )
    customer = Customer.objects.get(name=name)
    page = rep_client.get(customer.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_duplicate_email_or_phone_warns_until_confirmed(rep, rep_client):
    existing = CustomerFactory(email="dup@example.com", phone="+86 1111111")
    url = reverse("customers:customer-create")
    response = rep_client.post(url, customer_form_data(email="DUP@example.com", owner=rep.pk))
    assert response.status_code == 200
    assert existing.get_absolute_url() in response.content.decode()
    assert Customer.objects.count() == 1
    response = rep_client.post(
        url, customer_form_data(email="dup@example.com", owner=rep.pk, confirm_duplicate="on")
    )
    assert response.status_code == 302
    assert Customer.objects.count() == 2


def test_second_concurrent_save_is_refused(manager, manager_client):
    customer = CustomerFactory(owner=manager, name="Original")
    url = reverse("customers:customer-update", args=[customer.pk])
    seen_version = customer.version
    first = customer_form_data(
        name="First edit", email=customer.email, owner=manager.pk, version=seen_version
    )
    second = customer_form_data(
        name="Second edit", email=customer.email, owner=manager.pk, version=seen_version
    )
    assert manager_client.post(url, first).status_code == 302
    response = manager_client.post(url, second)
    assert response.status_code == 200
    assert "Someone else saved this customer" in response.content.decode()
    customer.refresh_from_db()
    assert customer.name == "First edit"
    assert customer.version == seen_version + 1


def test_history_shows_who_changed_what(manager, manager_client):
    customer = CustomerFactory(owner=manager, stage="lead")
    url = reverse("customers:customer-update", args=[customer.pk])
    data = customer_form_data(
        name=customer.name, email=customer.email, stage="customer", owner=manager.pk
    )
    manager_client.post(url, {**data, "version": customer.version})
    history = manager_client.get(customer.get_absolute_url()).context["history"]
    assert history[0]["user"] == manager
    assert {"field": "lifecycle stage", "old": "Lead", "new": "Customer"} in history[0]["changes"]


def test_history_names_the_owners_not_their_ids(manager, manager_client, rep, rep2):
    """'owner: 5 → 6' in the history (issue 16): people by name."""
    customer = CustomerFactory(owner=rep, stage="lead")
    url = reverse("customers:customer-update", args=[customer.pk])
    data = customer_form_data(name=customer.name, email=customer.email, stage="lead", owner=rep2.pk)
    manager_client.post(url, {**data, "version": customer.version})
    history = manager_client.get(customer.get_absolute_url()).context["history"]
    assert {"field": "owner", "old": rep.username, "new": rep2.username} in history[0]["changes"]


def test_consent_changes_record_when_and_how(manager, manager_client):
    customer = CustomerFactory(owner=manager)
    url = reverse("customers:customer-update", args=[customer.pk])
    base = customer_form_data(name=customer.name, email=customer.email, owner=manager.pk)
    manager_client.post(url, {**base, "consent": ["email", "sms"], "version": 1})
    assert set(customer.consents.filter(granted=True).values_list("channel", flat=True)) == {
        "email",
        "sms",
    }
    manager_client.post(url, {**base, "consent": ["email"], "version": 2})
    sms = customer.consents.get(channel="sms")
    assert not sms.granted
    assert "manager" in sms.source
    assert sms.history.count() == 2


def test_360_page_shows_profile_contacts_and_timeline(rep, rep_client):
    customer = CustomerFactory(owner=rep, name="Acme 有限公司", kind="company")
    customer.tags.add(TagFactory(name="VIP"))
    InteractionFactory(customer=customer, summary="Called about renewal")
    TaskFactory(customer=customer, assignee=rep, title="Send the contract")
    page = rep_client.get(customer.get_absolute_url()).content.decode()
    for text in [
        "Acme 有限公司",
        "VIP",
        "Called about renewal",
        "Send the contract",
        "Log interaction",
    ]:
        assert text in page


def log_a_call(client, customer, *, occurred_at, summary):
    """Post an outgoing phone call to the customer's timeline, as htmx does."""
    return client.post(
        reverse("customers:interaction-create", args=[customer.pk]),
        {"channel": "phone", "direction": "out", "occurred_at": occurred_at, "summary": summary},
        headers={"HX-Request": "true"},
    )


def test_logging_a_call_with_htmx_returns_the_refreshed_timeline(rep, rep_client):
    customer = CustomerFactory(owner=rep)
    response = log_a_call(
        rep_client, customer, occurred_at="2026-01-05T09:30", summary="Discussed prices"
    )
    assert response.status_code == 200
    assert "Discussed prices" in response.content.decode()
    assert customer.interactions.get().logged_by == rep


def test_an_invalid_interaction_keeps_the_input_and_says_why(rep, rep_client):
    customer = CustomerFactory(owner=rep)
    response = log_a_call(rep_client, customer, occurred_at="2999-01-01T00:00", summary="Kept text")
    assert response.status_code == 422
    body = response.content.decode()
    assert "cannot be logged in the future" in body
    assert "Kept text" in body
    assert not customer.interactions.exists()


@pytest.mark.parametrize("due_date", ["2026-02-30", "99999-01-01", "0001-01-01", "yesterday"])
def test_impossible_task_dates_are_refused(rep, rep_client, due_date):
    customer = CustomerFactory(owner=rep)
    response = rep_client.post(
        reverse("customers:task-create", args=[customer.pk]),
        {"title": "Call", "due_date": due_date, "assignee": rep.pk},
    )
    assert response.status_code == 422
    assert not customer.tasks.exists()


def test_my_tasks_lists_overdue_first_and_counts_in_the_nav(rep, rep_client):
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    later = TaskFactory(assignee=rep, title="Later", due_date=today + timedelta(days=3))
    overdue = TaskFactory(assignee=rep, title="Overdue", due_date=today - timedelta(days=2))
    TaskFactory(title="Someone else's")
    response = rep_client.get(reverse("customers:my-tasks"))
    assert [t.pk for t in response.context["page"]] == [overdue.pk, later.pk]
    assert 'title="Open tasks">2</span>' in response.content.decode()


def test_manager_deletes_after_confirmation(manager_client):
    customer = CustomerFactory()
    url = reverse("customers:customer-delete", args=[customer.pk])
    assert "cannot be undone" in manager_client.get(url).content.decode()
    assert Customer.objects.filter(pk=customer.pk).exists()
    manager_client.post(url)
    assert not Customer.objects.filter(pk=customer.pk).exists()


def test_after_a_conflict_the_user_sees_their_values_and_may_save_again(manager, manager_client):
    customer = CustomerFactory(owner=manager, name="Original", city="Shenzhen")
    url = reverse("customers:customer-update", args=[customer.pk])
    base = customer_form_data(email=customer.email, owner=manager.pk, version=customer.version)
    manager_client.post(url, {**base, "name": "Theirs", "city": "Beijing"})
    response = manager_client.post(url, {**base, "name": "Mine", "city": "Shenzhen"})
    conflicts = {c["label"]: c["theirs"] for c in response.context["conflicts"]}
    assert conflicts == {"Name": "Theirs", "City": "Beijing"}
    assert response.context["form"]["name"].value() == "Mine"  # the user's input is kept
    assert response.context["saved_name"] == "Theirs"
    resave = dict(response.context["form"].data.items())
    assert manager_client.post(url, resave).status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.city) == ("Mine", "Shenzhen")


def test_a_message_after_a_redirect_shows_once_on_the_customer_page(rep_client, rep):
    customer = CustomerFactory(owner=rep)
    response = rep_client.post(
        reverse("customers:contact-create", args=[customer.pk]),
        {"name": "Wang Fang", "email": "wang.fang@example.com", "phone": ""},
        follow=True,
    )
    html = response.content.decode()
    assert html.count("Contact added.") == 1
    assert html.count('id="messages"') == 1
