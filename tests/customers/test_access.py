"""Every role requests other people's objects by URL and is refused."""

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory, TaskFactory

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_login(client):
    customer = CustomerFactory()
    for url in [
        reverse("home"),
        reverse("customers:customer-list"),
        reverse("customers:customer-detail", args=[customer.pk]),
        reverse("customers:customer-export"),
        reverse("customers:search") + "?q=a",
        reverse("customers:my-tasks"),
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("login")), url


def test_rep_reads_every_customer_but_edits_only_own(rep, rep2, rep_client):
    own = CustomerFactory(owner=rep)
    other = CustomerFactory(owner=rep2)
    assert rep_client.get(other.get_absolute_url()).status_code == 200
    assert rep_client.get(reverse("customers:customer-update", args=[own.pk])).status_code == 200
    assert rep_client.get(reverse("customers:customer-update", args=[other.pk])).status_code == 403
    response = rep_client.post(
        reverse("customers:customer-update", args=[other.pk]),
        {"name": "Hijacked", "version": other.version},
    )
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.name != "Hijacked"


def test_rep_cannot_log_activity_on_another_reps_customer(rep2, rep_client):
    other = CustomerFactory(owner=rep2)
    url = reverse("customers:interaction-create", args=[other.pk])
    response = rep_client.post(
        url,
        {"channel": "phone", "direction": "out", "summary": "x", "occurred_at": "2026-01-01T10:00"},
    )
    assert response.status_code == 403
    assert not other.interactions.exists()
    response = rep_client.post(
        reverse("customers:task-create", args=[other.pk]), {"title": "x", "due_date": "2026-12-01"}
    )
    assert response.status_code == 403


def test_rep_cannot_complete_someone_elses_task(rep2, rep_client):
    task = TaskFactory(assignee=rep2)
    response = rep_client.post(reverse("customers:task-toggle", args=[task.pk]), {"done": "1"})
    assert response.status_code == 403
    task.refresh_from_db()
    assert not task.done


@pytest.mark.parametrize("name", ["customers:customer-delete", "customers:customer-merge"])
def test_only_managers_delete_or_merge(name, rep, rep_client, manager_client):
    customer = CustomerFactory(owner=rep)
    assert rep_client.get(reverse(name, args=[customer.pk])).status_code == 403
    assert manager_client.get(reverse(name, args=[customer.pk])).status_code == 200


def test_agent_edits_contact_details_only(rep, agent_client):
    customer = CustomerFactory(owner=rep, stage="customer")
    url = reverse("customers:customer-update", args=[customer.pk])
    response = agent_client.post(
        url,
        {
            "email": "new@example.com",
            "phone": "+86 1234567",
            "stage": "churned",
            "name": "Renamed",
            "version": customer.version,
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.email == "new@example.com"
    assert customer.stage == "customer"
    assert customer.name != "Renamed"


def test_marketer_reads_but_cannot_create_or_edit(marketer_client):
    customer = CustomerFactory()
    assert marketer_client.get(customer.get_absolute_url()).status_code == 200
    assert marketer_client.get(reverse("customers:customer-create")).status_code == 403
    assert (
        marketer_client.get(reverse("customers:customer-update", args=[customer.pk])).status_code
        == 403
    )


def test_user_without_role_sees_nothing(nobody_client):
    customer = CustomerFactory()
    assert nobody_client.get(reverse("customers:customer-list")).status_code == 403
    assert nobody_client.get(customer.get_absolute_url()).status_code == 403
    assert nobody_client.get(reverse("customers:search") + "?q=a").status_code == 403
    assert nobody_client.get(reverse("home")).status_code == 200


def test_saved_views_are_private(rep_client, rep2):
    from customers.models import SavedView

    view = SavedView.objects.create(user=rep2, name="Mine", query="stage=lead")
    response = rep_client.post(reverse("customers:saved-view-delete", args=[view.pk]))
    assert response.status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()


def test_bulk_change_skips_customers_the_rep_may_not_change(rep, rep2, rep_client):
    own = CustomerFactory(owner=rep, stage="lead")
    other = CustomerFactory(owner=rep2, stage="lead")
    response = rep_client.post(
        reverse("customers:customer-bulk"),
        {
            "action": "set_stage",
            "stage": "prospect",
            "scope": "selected",
            "selected": [own.pk, other.pk],
        },
    )
    assert response.status_code == 302
    own.refresh_from_db()
    other.refresh_from_db()
    assert own.stage == "prospect"
    assert other.stage == "lead"
