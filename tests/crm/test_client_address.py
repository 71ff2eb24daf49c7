"""Rate limits key on the real client (issue 13, point 4): the address from a configured
number of trusted proxies, IPv6 by /64, plus per-email and per-form limits on the public
forms. The tests of the proxy, the /64 and the per-email and per-form limits fail on the
code before, which keyed on REMOTE_ADDR alone."""

import pytest
from django.test import Client
from django.urls import reverse

from crm.lib.ratelimit import address_bucket, client_ip, rate_limit_hit
from service.views.public import SUBMIT_LIMITS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_page_setup")]

HELP = {
    "name": "Zhang San",
    "subject": "Invoice",
    "description": "I need a new invoice.",
    "category": "request",
}


def test_without_trusted_proxies_the_forwarded_header_is_ignored(rf, settings):
    settings.CRM_TRUSTED_PROXIES = 0
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1")
    assert client_ip(request) == "10.0.0.1"


def test_one_trusted_proxy_gives_the_address_it_appended(rf, settings):
    settings.CRM_TRUSTED_PROXIES = 1
    # The client sent a fake entry; the proxy appended the address it really saw.
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5")
    assert client_ip(request) == "203.0.113.5"


def test_two_trusted_proxies_count_from_the_right(rf, settings):
    settings.CRM_TRUSTED_PROXIES = 2
    request = rf.get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5, 10.0.0.1"
    )
    assert client_ip(request) == "203.0.113.5"


@pytest.mark.parametrize("header", ["", "203.0.113.5", "not-an-address, \x00"])
def test_a_short_or_bad_header_falls_back_to_the_peer(rf, settings, header):
    settings.CRM_TRUSTED_PROXIES = 2
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=header)
    assert client_ip(request) == "10.0.0.2"


def test_ipv6_addresses_share_a_bucket_per_64():
    assert address_bucket("2001:db8:1:2:aaaa::1") == address_bucket("2001:db8:1:2:ffff::9")
    assert address_bucket("2001:db8:1:2::1") != address_bucket("2001:db8:1:3::1")
    assert address_bucket("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_bucket("192.0.2.1") != address_bucket("192.0.2.2")
    hits = [
        rate_limit_hit("p6", f"2001:db8:9:9::{n}", limit=3, window=60, fail_open=True, now=10)
        for n in range(1, 5)
    ]
    assert hits == [True, True, True, False]


def test_the_help_form_behind_a_proxy_limits_each_visitor_not_everyone(settings):
    settings.CRM_TRUSTED_PROXIES = 1
    limit, _window = SUBMIT_LIMITS.per_address
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    abuser = Client(HTTP_X_FORWARDED_FOR="203.0.113.66", **proxy)
    for n in range(limit + 1):
        abuser.post(reverse("help:submit"), {**HELP, "email": f"a{n}@example.com"})
    visitor = Client(HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy)
    response = visitor.post(reverse("help:submit"), {**HELP, "email": "real@example.com"})
    assert response.status_code == 302


def test_the_help_form_limits_each_email_across_addresses():
    limit, _window = SUBMIT_LIMITS.per_email
    for n in range(limit):
        client = Client(REMOTE_ADDR=f"198.51.100.{n + 1}")
        assert (
            client.post(reverse("help:submit"), {**HELP, "email": "t@example.com"}).status_code
            == 302
        )
    other = Client(REMOTE_ADDR="198.51.100.200")
    assert other.post(reverse("help:submit"), {**HELP, "email": "T@Example.com"}).status_code == 429


def test_the_help_form_has_a_limit_for_everyone_together(monkeypatch):
    from crm.lib.ratelimit import FormLimits
    from service.views import public

    monkeypatch.setattr(
        public,
        "SUBMIT_LIMITS",
        FormLimits(per_address=(100, 600), per_email=(100, 600), per_form=(3, 600)),
    )
    for n in range(3):
        client = Client(REMOTE_ADDR=f"198.51.100.{n + 1}")
        assert (
            client.post(reverse("help:submit"), {**HELP, "email": f"s{n}@example.com"}).status_code
            == 302
        )
    last = Client(REMOTE_ADDR="198.51.100.99")
    assert last.post(reverse("help:submit"), {**HELP, "email": "z@example.com"}).status_code == 429


def test_a_lead_form_limits_each_email_across_addresses():
    from marketing.lead_form_link import lead_form_token
    from marketing.models import Campaign
    from marketing.views.leads import LEAD_LIMITS
    from tests.factories import CampaignFactory

    campaign = CampaignFactory(name="Fair", status=Campaign.Status.RUNNING)
    url = reverse("public-marketing:lead-form", args=[lead_form_token(campaign)])
    lead = {"name": "Li Lei", "email": "li@example.com", "phone": ""}
    limit, _window = LEAD_LIMITS.per_email
    for n in range(limit):
        assert Client(REMOTE_ADDR=f"192.0.2.{n + 1}").post(url, lead).status_code == 302
    refused = Client(REMOTE_ADDR="192.0.2.200").post(url, lead)
    assert refused.status_code == 429
    assert b'id="lead-rate-limited"' in refused.content
