"""The public lead form: creates or updates a lead with consent, honeypot, rate limit, embedding."""

import pytest
from django.test import Client
from django.urls import reverse

from customers.models import Consent, Customer, Interaction
from marketing.lead_form_link import lead_form_token
from marketing.models import Campaign, CampaignRecipient
from marketing.views.leads import LEAD_LIMIT
from tests.factories import CampaignFactory, CampaignRecipientFactory, CustomerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_page_setup")]

VALID = {"name": "  Li   Lei ", "email": "li.lei@example.com", "phone": "+86 21 5555 0101"}


@pytest.fixture
def campaign():
    return CampaignFactory(name="Spring fair", status=Campaign.Status.RUNNING)


def url(campaign):
    return reverse("public-marketing:lead-form", args=[lead_form_token(campaign)])


def test_anyone_sees_the_form_and_it_may_be_framed(client, campaign):
    response = client.get(url(campaign))
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert b'id="lead-form"' in response.content
    assert b"Spring fair" in response.content


def test_other_pages_still_refuse_frames(client, campaign):
    token = lead_form_token(campaign)
    response = client.get(reverse("public-marketing:preferences", args=[token]))
    assert response["X-Frame-Options"] == "DENY"


def test_a_new_lead(client, campaign):
    link = url(campaign)  # signed with the time: made once
    response = client.post(link, {**VALID, "consent_email": "on", "consent_sms": "on"}, follow=True)
    assert response.redirect_chain == [(f"{link}?sent=1", 302)]
    assert b'id="lead-thanks"' in response.content
    customer = Customer.objects.get()
    assert (customer.name, customer.email, customer.phone) == (
        "Li Lei",
        "li.lei@example.com",
        "+86 21 5555 0101",
    )
    assert (customer.stage, customer.source, customer.owner) == ("lead", "campaign", None)
    consents = dict(Consent.objects.filter(customer=customer).values_list("channel", "granted"))
    assert consents == {"email": True, "sms": True}
    assert (
        Consent.objects.get(customer=customer, channel="email").source == "lead form: Spring fair"
    )
    assert "Spring fair" in Interaction.objects.get(customer=customer).summary
    # Not a recipient: a queued recipient would be sent the campaign.
    assert not CampaignRecipient.objects.exists()


def test_the_form_is_csrf_exempt_so_it_works_inside_another_sites_frame(campaign):
    client = Client(enforce_csrf_checks=True)
    assert client.post(url(campaign), VALID).status_code == 302
    assert Customer.objects.count() == 1


def test_an_existing_customer_is_matched_by_email_whatever_the_case(client, campaign, rep):
    existing = CustomerFactory(
        email="Li.Lei@Example.com", phone="", stage="customer", source="referral", owner=rep
    )
    Consent.objects.create(customer=existing, channel="sms", granted=True)
    recipient = CampaignRecipientFactory(campaign=campaign, customer=existing)
    client.post(url(campaign), {**VALID, "consent_email": "on"})
    assert Customer.objects.count() == 1
    existing.refresh_from_db()
    assert (existing.stage, existing.source, existing.owner) == ("customer", "referral", rep)
    assert existing.phone == "+86 21 5555 0101"  # a blank field is filled in
    assert Consent.objects.get(customer=existing, channel="email").granted
    assert Consent.objects.get(customer=existing, channel="sms").granted  # no tick is no opt-out
    recipient.refresh_from_db()
    assert recipient.outcome == "responded" and recipient.responded_at is not None


def test_the_honeypot_pretends_and_writes_nothing(client, campaign):
    link = url(campaign)
    response = client.post(link, {**VALID, "website": "http://spam.example"}, follow=True)
    assert response.redirect_chain == [(f"{link}?sent=1", 302)]
    assert b'id="lead-thanks"' in response.content
    assert not Customer.objects.exists()


def test_the_rate_limit(client, campaign):
    limit, _window = LEAD_LIMIT
    for i in range(limit):
        assert (
            client.post(url(campaign), {**VALID, "email": f"p{i}@example.com"}).status_code == 302
        )
    response = client.post(url(campaign), {**VALID, "email": "one-more@example.com"})
    assert response.status_code == 429
    assert b'id="lead-rate-limited"' in response.content
    assert Customer.objects.count() == limit
    other = Client(REMOTE_ADDR="10.9.8.7")
    assert other.post(url(campaign), {**VALID, "email": "x@example.com"}).status_code == 302


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Li\x00Lei"),
        ("name", "   "),
        ("name", "x" * 201),
        ("email", "not an email"),
        ("email", "<script>alert(1)</script>@example.com"),
        ("phone", "<script>"),
        ("phone", "1" * 31),
    ],
)
def test_hostile_input_is_a_form_error_next_to_the_field(client, campaign, field, value):
    response = client.post(url(campaign), {**VALID, field: value})
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert b"<script>alert" not in response.content
    assert not Customer.objects.exists()


def test_binary_input_is_refused_not_a_500(client, campaign):
    response = client.post(
        url(campaign), b"\xff\xfe\x00garbage", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 422
    assert not Customer.objects.exists()


@pytest.mark.parametrize("token", ["nope", "1", "x" * 500, "MQ:1abc:bad"])
def test_a_made_up_link_is_404(client, token):
    assert client.get(reverse("public-marketing:lead-form", args=[token])).status_code == 404


def test_a_link_to_another_salt_is_refused(client, campaign):
    from django.core import signing

    token = signing.dumps(campaign.pk, salt="marketing.preferences")
    assert client.get(reverse("public-marketing:lead-form", args=[token])).status_code == 404


@pytest.mark.parametrize("status", [Campaign.Status.CANCELLED, Campaign.Status.COMPLETED])
def test_a_closed_campaign_takes_no_leads(client, status):
    campaign = CampaignFactory(status=status)
    assert client.get(url(campaign)).status_code == 410
    assert client.post(url(campaign), VALID).status_code == 410
    assert not Customer.objects.exists()
