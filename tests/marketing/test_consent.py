"""Consent changes with history, signed unsubscribe links and the preferences page."""

import time
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from customers.models import Consent
from customers.services import consent_set
from marketing.consent import (
    PREFERENCES_MAX_AGE,
    BadToken,
    preferences_token,
    preferences_url,
    read_preferences_token,
    read_unsubscribe_token,
    unsubscribe_token,
    unsubscribe_url,
)
from tests.factories import ConsentFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def granted(customer, channel="email"):
    consent = Consent.objects.filter(customer=customer, channel=channel).first()
    return consent is not None and consent.granted


def test_consent_set_records_when_how_and_who(manager):
    customer = CustomerFactory()
    consent_set(customer=customer, channel="sms", granted=True, source="phone call", by=manager)
    consent_set(customer=customer, channel="sms", granted=True, source="again", by=manager)
    consent_set(customer=customer, channel="sms", granted=False, source="unsubscribe link")
    consent = Consent.objects.get(customer=customer, channel="sms")
    assert not consent.granted and consent.source == "unsubscribe link"
    history = list(consent.history.order_by("history_date", "history_id"))
    # The repeated grant changed nothing, so it left no history.
    assert [(h.granted, h.source, h.history_user) for h in history] == [
        (True, "phone call", manager),
        (False, "unsubscribe link", None),
    ]


def test_consent_set_refuses_an_unknown_channel():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        consent_set(customer=CustomerFactory(), channel="pigeon", granted=True, source="x")


def test_tokens_round_trip_and_refuse_tampering():
    token = unsubscribe_token(customer_id=42, channel="email")
    target = read_unsubscribe_token(token)
    assert (target.customer_id, target.channel) == (42, "email")
    assert read_preferences_token(preferences_token(customer_id=42)) == 42
    forged_payload = signing.dumps([43, "email"], salt="marketing.unsubscribe", key="other-key")
    value, signature = token.rsplit(":", 1)
    for bad in [
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # changed signature
        forged_payload,  # signed with another key
        f"{signing.dumps([43, 'email'], salt='marketing.unsubscribe').rsplit(':', 1)[0]}:{signature}",
        preferences_token(customer_id=42),  # the other purpose's token
        "",
        "x" * 1000,
        "\x00",
    ]:
        with pytest.raises(BadToken):
            read_unsubscribe_token(bad)
    with pytest.raises(BadToken):
        read_preferences_token(token)  # an unsubscribe link does not open the preferences


def test_links_are_absolute(settings):
    settings.CRM_BASE_URL = "https://crm.example.com"
    assert unsubscribe_url(customer_id=1, channel="email").startswith(
        "https://crm.example.com/m/unsubscribe/"
    )
    assert preferences_url(customer_id=1).startswith("https://crm.example.com/m/preferences/")


def test_unsubscribe_page_asks_then_unsubscribes_without_login(client):
    customer = CustomerFactory()
    ConsentFactory(customer=customer, channel="email")
    ConsentFactory(customer=customer, channel="sms")
    url = reverse(
        "public-marketing:unsubscribe",
        args=[unsubscribe_token(customer_id=customer.pk, channel="email")],
    )
    response = client.get(url)
    assert response.status_code == 200
    assert b'<form method="post">' in response.content
    assert granted(customer)  # a GET (a link scanner) changes nothing
    response = client.post(url)
    assert response.status_code == 200
    assert b'id="unsubscribed"' in response.content
    assert not granted(customer)
    assert granted(customer, "sms")  # only the link's channel
    consent = Consent.objects.get(customer=customer, channel="email")
    assert consent.source == "unsubscribe link"
    assert consent.history.latest("history_date").history_user is None


def test_one_click_unsubscribe_needs_no_csrf_token():
    """RFC 8058: the mail client POSTs List-Unsubscribe=One-Click to the header's URL."""
    customer = CustomerFactory()
    ConsentFactory(customer=customer, channel="email")
    client = Client(enforce_csrf_checks=True)
    url = reverse(
        "public-marketing:unsubscribe",
        args=[unsubscribe_token(customer_id=customer.pk, channel="email")],
    )
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not granted(customer)


def test_tampered_or_stale_links_are_refused(client):
    customer = CustomerFactory()
    ConsentFactory(customer=customer, channel="email")
    other = CustomerFactory()
    ConsentFactory(customer=other, channel="email")
    token = unsubscribe_token(customer_id=customer.pk, channel="email")
    # Pointing the signed value at another customer breaks the signature.
    forged = signing.dumps([other.pk, "email"], salt="marketing.unsubscribe").rsplit(":", 1)[0]
    forged += ":" + token.rsplit(":", 1)[1]
    for bad in [token[:-2], forged, "nonsense", preferences_token(customer_id=other.pk)]:
        response = client.post(reverse("public-marketing:unsubscribe", args=[bad]))
        assert response.status_code == 404
        assert b"This link is not valid" in response.content
    assert granted(customer) and granted(other)
    gone = unsubscribe_token(customer_id=customer.pk + other.pk + 1000, channel="email")
    assert client.get(reverse("public-marketing:unsubscribe", args=[gone])).status_code == 404


def test_preferences_page_withdraws_each_channel(client):
    customer = CustomerFactory()
    ConsentFactory(customer=customer, channel="email")
    ConsentFactory(customer=customer, channel="sms")
    url = reverse("public-marketing:preferences", args=[preferences_token(customer_id=customer.pk)])
    response = client.get(url)
    assert response.status_code == 200
    assert set(response.context["form"].fields) == {"email", "sms"}
    response = client.post(url, {"sms": "on"})
    assert response.status_code == 200
    assert response.context["saved"]
    assert not granted(customer, "email") and granted(customer, "sms")
    assert Consent.objects.get(customer=customer, channel="email").source == "preferences page"
    bad = reverse(
        "public-marketing:preferences", args=["x" + preferences_token(customer_id=customer.pk)]
    )
    assert client.post(bad, {"email": "on"}).status_code == 404


def test_the_preferences_page_cannot_grant_consent(client):
    """Fails before: the never-expiring link's page granted any channel ticked."""
    customer = CustomerFactory()
    ConsentFactory(customer=customer, channel="email")
    consent_set(customer=customer, channel="mail", granted=False, source="unsubscribe link")
    url = reverse("public-marketing:preferences", args=[preferences_token(customer_id=customer.pk)])
    response = client.post(url, {"email": "on", "sms": "on", "mail": "on", "phone": "on"})
    assert response.status_code == 200
    assert granted(customer, "email")
    assert not granted(customer, "mail")
    assert not Consent.objects.filter(customer=customer, channel__in=["sms", "phone"]).exists()
    assert "Not subscribed" in response.content.decode()


class _SignedEarlier(signing.TimestampSigner):
    """Django's signer, dated just past the preferences link's lifetime."""

    def timestamp(self):
        age = PREFERENCES_MAX_AGE + timedelta(minutes=1)
        return signing.b62_encode(int(time.time() - age.total_seconds()))


def test_the_preferences_link_expires(client):
    """Fails before: the token never expired."""
    customer = CustomerFactory()
    ConsentFactory(customer=customer, channel="email")
    token = _SignedEarlier(salt="marketing.preferences").sign_object(customer.pk)
    response = client.post(reverse("public-marketing:preferences", args=[token]), {})
    assert response.status_code == 410 and b'id="preferences-expired"' in response.content
    assert granted(customer, "email")


def test_unsubscribe_page_links_to_the_preferences(client):
    customer = CustomerFactory()
    url = reverse(
        "public-marketing:unsubscribe",
        args=[unsubscribe_token(customer_id=customer.pk, channel="sms")],
    )

    # The link is signed with the second the page is made in: signed before and after it,
    # one of the two is that second (the test failed when the page crossed a second).
    def preferences_link() -> str:
        token = preferences_token(customer_id=customer.pk)
        return reverse("public-marketing:preferences", args=[token])

    before = preferences_link()
    response = client.get(url)
    after = preferences_link()
    pref = before if before.encode() in response.content else after
    assert pref.encode() in response.content
    assert client.get(pref).status_code == 200
