"""Double opt-in on the public lead form (issue 13, point 1).

Before: a submission matched a customer by email, granted the ticked consents at once (even
after they had unsubscribed) and filled a blank phone with whatever was typed. Now it stores
a pending submission and emails a signed link that expires; only pressing "Confirm" on that
link's page writes to the customer. The tests marked "fails before" failed on the old code.
"""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.models import Consent, Customer, Interaction
from customers.services import consent_set
from marketing.lead_form_link import LEAD_CONFIRM_MAX_AGE, lead_confirm_token
from marketing.models import Campaign, CampaignRecipient, LeadSubmission
from marketing.services.leads import lead_submissions_purge
from tests.factories import CampaignFactory, CampaignRecipientFactory, CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_page_setup")]

FORM = {"name": "Li Lei", "email": "li.lei@example.com", "phone": "+86 21 5555 0101"}


@pytest.fixture
def campaign():
    return CampaignFactory(name="Spring fair", status=Campaign.Status.RUNNING)


def _submit(client, campaign, capture, **extra):
    with capture(execute=True):
        response = client.post(
            reverse("public-marketing:lead-form", args=[campaign.lead_form_token]),
            {**FORM, **extra},
            follow=True,
        )
    assert response.status_code == 200 and response.redirect_chain[-1][1] == 302
    return response


def _link_from_email() -> str:
    body = str(mail.outbox[-1].body)
    match = re.search(r"http://\S+/m/lead/confirm/\S+/", body)
    assert match, body
    return match[0].removeprefix("http://testserver").split("8000", 1)[-1]


def test_submitting_emails_a_link_and_only_the_confirm_press_writes(
    client, campaign, django_capture_on_commit_callbacks
):
    _submit(client, campaign, django_capture_on_commit_callbacks, consent_email="on")
    assert not Customer.objects.exists()  # fails before: the customer was created at once
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["li.lei@example.com"]
    assert "Spring fair" in mail.outbox[0].subject
    link = _link_from_email()
    page = Client().get(link)  # a mail scanner opening the link confirms nothing
    assert page.status_code == 200 and b'id="lead-confirm-form"' in page.content
    assert not Customer.objects.exists()
    confirmed = Client().post(link)
    assert b'id="lead-confirmed"' in confirmed.content
    customer = Customer.objects.get()
    assert (customer.name, customer.email, customer.phone, customer.stage) == (
        "Li Lei",
        "li.lei@example.com",
        "+86 21 5555 0101",
        "lead",
    )
    consent = Consent.objects.get(customer=customer)
    assert (consent.channel, consent.granted) == ("email", True)
    assert consent.source == "lead form, confirmed by email: Spring fair"
    assert "Spring fair" in Interaction.objects.get(customer=customer).summary
    assert not CampaignRecipient.objects.exists()
    lead = LeadSubmission.objects.get()
    assert lead.customer == customer and lead.confirmed_at is not None
    Client().post(link)  # a second press changes nothing
    assert Customer.objects.count() == 1 and Interaction.objects.count() == 1


def test_an_unsubscribed_customer_is_not_opted_back_in_by_a_stranger(
    client, campaign, django_capture_on_commit_callbacks
):
    """Fails before: anyone knowing the address re-granted the withdrawn channel."""
    customer = CustomerFactory(email="Li.Lei@Example.com", phone="")
    consent_set(customer=customer, channel="email", granted=False, source="unsubscribe", by=None)
    _submit(client, campaign, django_capture_on_commit_callbacks, consent_email="on")
    assert not Consent.objects.get(customer=customer, channel="email").granted
    customer.refresh_from_db()
    assert customer.phone == ""  # fails before: the blank phone was filled with the typed one


def test_the_owners_click_is_a_fresh_opt_in_and_changes_no_contact_data(
    client, campaign, rep, django_capture_on_commit_callbacks
):
    """The address owner may opt in again (GDPR Art. 7): the withdrawal stays in the history."""
    customer = CustomerFactory(
        email="Li.Lei@Example.com", phone="", name="Lei Li", stage="customer", owner=rep
    )
    consent_set(customer=customer, channel="email", granted=False, source="unsubscribe", by=None)
    recipient = CampaignRecipientFactory(campaign=campaign, customer=customer)
    _submit(client, campaign, django_capture_on_commit_callbacks, consent_email="on")
    Client().post(_link_from_email())
    assert Customer.objects.count() == 1
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.stage, customer.owner) == (
        "Lei Li",
        "",
        "customer",
        rep,
    )
    consent = Consent.objects.get(customer=customer, channel="email")
    assert consent.granted
    assert [h.granted for h in consent.history.order_by("history_date")] == [False, True]
    recipient.refresh_from_db()
    assert recipient.outcome == "responded"


def test_the_link_expires_and_expired_submissions_are_purged(
    client, campaign, django_capture_on_commit_callbacks
):
    _submit(client, campaign, django_capture_on_commit_callbacks, consent_sms="on")
    lead = LeadSubmission.objects.get()
    link = _link_from_email()
    LeadSubmission.objects.filter(pk=lead.pk).update(
        submitted_at=timezone.now() - LEAD_CONFIRM_MAX_AGE - timedelta(minutes=1)
    )
    response = Client().post(link)
    assert response.status_code == 410 and b'id="lead-confirm-expired"' in response.content
    assert not Customer.objects.exists()
    assert lead_submissions_purge() == 1
    assert not LeadSubmission.objects.exists()


def test_a_second_submission_replaces_the_pending_one(
    client, campaign, django_capture_on_commit_callbacks
):
    _submit(client, campaign, django_capture_on_commit_callbacks, consent_email="on")
    first = _link_from_email()
    _submit(client, campaign, django_capture_on_commit_callbacks, name="Lei Li")
    lead = LeadSubmission.objects.get()
    assert (lead.name, lead.channels) == ("Lei Li", [])
    Client().post(first)  # either link confirms the one pending row
    assert Customer.objects.get().name == "Lei Li"
    assert not Consent.objects.exists()


def test_the_answer_is_the_same_for_a_known_and_an_unknown_address(client, campaign):
    CustomerFactory(email="known@example.com")
    url = reverse("public-marketing:lead-form", args=[campaign.lead_form_token])
    known = client.post(url, {**FORM, "email": "known@example.com"})
    unknown = client.post(url, {**FORM, "email": "new@example.com"})
    assert known.content == unknown.content


@pytest.mark.parametrize("token", ["x", "1:abc:def", "x" * 400, "\x00"])
def test_made_up_confirmation_links_are_404(client, token):
    response = client.get(reverse("public-marketing:lead-confirm", args=[token]))
    assert response.status_code == 404 and b'id="lead-confirm-bad"' in response.content


def test_a_link_whose_submission_changed_address_is_refused(client, campaign):
    lead = LeadSubmission.objects.create(campaign=campaign, name="A", email="a@example.com")
    token = lead_confirm_token(lead)
    LeadSubmission.objects.filter(pk=lead.pk).update(email="b@example.com")
    assert client.post(reverse("public-marketing:lead-confirm", args=[token])).status_code == 404
    assert not Customer.objects.exists()


def test_the_campaign_page_lists_pending_and_confirmed_leads(marketer_client, marketer):
    campaign = CampaignFactory(owner=marketer, status=Campaign.Status.RUNNING)
    LeadSubmission.objects.create(campaign=campaign, name="Pending Pat", email="p@example.com")
    customer = CustomerFactory()
    LeadSubmission.objects.create(
        campaign=campaign,
        name="Confirmed Cy",
        email="c@example.com",
        confirmed_at=timezone.now(),
        customer=customer,
    )
    page = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert 'id="campaign-leads"' in page
    assert "Pending Pat" in page and "Confirmed Cy" in page
    assert customer.get_absolute_url() in page
    assert "1 awaiting confirmation" in page and "1 confirmed" in page
