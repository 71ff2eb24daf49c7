"""The lead form writes customers' records through customers' services (issue 11): a filled-in
phone is a new version with its history, and the interaction is logged by interaction_log."""

import pytest
from django.urls import reverse

from customers.models import Consent, Interaction
from marketing.lead_form_link import lead_form_token
from marketing.models import Campaign
from tests.factories import CampaignFactory, CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_page_setup")]


def test_a_filled_in_phone_is_a_new_version_with_history(client):
    campaign = CampaignFactory(name="Spring fair", status=Campaign.Status.RUNNING)
    customer = CustomerFactory(email="li.lei@example.com", phone="")
    assert customer.history.count() == 1 and customer.version == 1
    url = reverse("public-marketing:lead-form", args=[lead_form_token(campaign)])
    data = {"name": "Li Lei", "email": "li.lei@example.com", "phone": "+86 21 5555 0101"}
    response = client.post(url, {**data, "consent_sms": "on"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.phone, customer.version) == ("+86 21 5555 0101", 2)
    assert customer.history.count() == 2  # an editor's open form now sees a conflict
    assert customer.history.first().phone == "+86 21 5555 0101"
    interaction = Interaction.objects.get(customer=customer)
    assert (interaction.channel, interaction.direction, interaction.logged_by) == (
        "email",
        "in",
        None,
    )
    assert "Spring fair" in interaction.summary
    consent = Consent.objects.get(customer=customer, channel="sms")
    assert consent.granted and consent.history.get().history_user is None


def test_an_editor_with_the_old_version_is_told_after_the_lead_form(client, manager_client):
    """Without the version bump, the editor's save silently erased the visitor's phone."""
    campaign = CampaignFactory(status=Campaign.Status.RUNNING)
    customer = CustomerFactory(email="li.lei@example.com", phone="", name="Li Lei")
    url = reverse("public-marketing:lead-form", args=[lead_form_token(campaign)])
    client.post(url, {"name": "Li Lei", "email": customer.email, "phone": "+86 21 5555 0101"})
    edit = reverse("customers:customer-update", args=[customer.pk])
    response = manager_client.post(
        edit,
        {
            "kind": "person",
            "name": "Li Lei",
            "email": customer.email,
            "phone": "",
            "source": customer.source,
            "stage": customer.stage,
            "version": 1,
        },
    )
    assert "Someone else saved this customer" in response.content.decode()
    customer.refresh_from_db()
    assert customer.phone == "+86 21 5555 0101"
