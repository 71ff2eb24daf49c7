"""Contacts at a company: added, edited and removed by those who may edit the customer."""

import pytest
from django.urls import reverse

from customers.models import Contact
from tests.factories import ContactFactory, CustomerFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def test_rep_adds_edits_and_removes_contacts_of_own_customer(rep, rep_client):
    customer = CustomerFactory(owner=rep, kind="company")
    url = reverse("customers:contact-create", args=[customer.pk])
    response = rep_client.post(
        url,
        {"name": "李娜", "job_title": "采购经理", "email": "li@example.com", "is_primary": "on"},
    )
    assert response.status_code == 302
    contact = customer.contacts.get()
    assert contact.is_primary
    edit = reverse("customers:contact-update", args=[customer.pk, contact.pk])
    rep_client.post(
        edit, {"name": "李娜", "job_title": "Head of purchasing", "email": "li@example.com"}
    )
    contact.refresh_from_db()
    assert contact.job_title == "Head of purchasing"
    interaction = InteractionFactory(customer=customer, contact=contact)
    delete = reverse("customers:contact-delete", args=[customer.pk, contact.pk])
    assert (
        "Interactions logged with this contact are kept" in rep_client.get(delete).content.decode()
    )
    assert Contact.objects.filter(pk=contact.pk).exists()
    rep_client.post(delete)
    assert not Contact.objects.filter(pk=contact.pk).exists()
    interaction.refresh_from_db()
    assert interaction.contact is None


def test_only_one_primary_contact(manager_client):
    first = ContactFactory(is_primary=True)
    customer = first.customer
    manager_client.post(
        reverse("customers:contact-create", args=[customer.pk]),
        {"name": "Second", "is_primary": "on"},
    )
    first.refresh_from_db()
    assert not first.is_primary
    assert customer.contacts.get(is_primary=True).name == "Second"


def test_contacts_of_other_reps_customers_are_out_of_reach(rep2, rep_client, marketer_client):
    contact = ContactFactory(customer=CustomerFactory(owner=rep2, kind="company"))
    customer = contact.customer
    for client in (rep_client, marketer_client):
        assert (
            client.get(reverse("customers:contact-create", args=[customer.pk])).status_code == 403
        )
        assert (
            client.post(
                reverse("customers:contact-update", args=[customer.pk, contact.pk]), {"name": "X"}
            ).status_code
            == 403
        )
        assert (
            client.post(
                reverse("customers:contact-delete", args=[customer.pk, contact.pk])
            ).status_code
            == 403
        )
    assert Contact.objects.get(pk=contact.pk).name == contact.name


def test_a_contact_is_reached_only_through_its_own_customer(manager_client):
    contact = ContactFactory()
    other = CustomerFactory()
    url = reverse("customers:contact-update", args=[other.pk, contact.pk])
    assert manager_client.get(url).status_code == 404


def test_agent_corrects_contacts_of_any_customer(rep, agent_client):
    contact = ContactFactory(customer=CustomerFactory(owner=rep, kind="company"), phone="")
    url = reverse("customers:contact-update", args=[contact.customer.pk, contact.pk])
    response = agent_client.post(url, {"name": contact.name, "phone": "+86 755 1234 5678"})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.phone == "+86 755 1234 5678"


def test_invalid_contact_input_is_explained(manager_client):
    customer = CustomerFactory()
    response = manager_client.post(
        reverse("customers:contact-create", args=[customer.pk]),
        {"name": "", "email": "nope", "phone": "x\x00"},
    )
    assert set(response.context["form"].errors) == {"name", "email", "phone"}
    assert not customer.contacts.exists()
