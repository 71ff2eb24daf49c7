"""Consent has one writer, customers.services.consent_set, with one validation (issue 11):
the customer form, unsubscribe links, the preferences page and lead forms all take it."""

import pytest
from django.test import Client
from django.urls import reverse

from crm import roles
from customers.services import consent_update
from tests.customers.test_customer_pages import customer_form_data
from tests.factories import CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_customer_form_validates_consent_like_every_other_path():
    """The form's "Changed by <user>" with a 150-character user name no longer exceeds the
    100 characters of the source (PostgreSQL refused the save with a 500)."""
    editor = UserFactory(username="m" * 150, role=roles.MANAGER)
    client = Client()
    client.force_login(editor)
    customer = CustomerFactory(owner=editor)
    url = reverse("customers:customer-update", args=[customer.pk])
    data = customer_form_data(name=customer.name, email=customer.email, owner=editor.pk)
    response = client.post(url, {**data, "consent": ["email"], "version": 1})
    assert response.status_code == 302
    consent = customer.consents.get(channel="email")
    assert consent.granted and len(consent.source) == 100
    assert consent.source.startswith("Changed by mmm")
    assert consent.history.get().history_user == editor  # the request's user, as before


def test_consent_update_changes_only_what_changed_and_keeps_dates():
    customer = CustomerFactory()
    consent_update(customer=customer, granted_channels=["email", "sms"], source="form")
    email_before = customer.consents.get(channel="email").changed_at
    consent_update(customer=customer, granted_channels=["email"], source="again")
    consents = {c.channel: c for c in customer.consents.all()}
    assert set(consents) == {"email", "sms"}  # no row for channels never granted
    assert consents["email"].changed_at == email_before and consents["email"].source == "form"
    assert not consents["sms"].granted and consents["sms"].source == "again"
