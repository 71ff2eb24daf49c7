"""Wrong passwords are throttled per account and per address (django-axes), on the site's and
the admin's sign-in, and password reset requests per address and per email (issue 13, point
3). Each test fails on the code before: there was no limit at all."""

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from core.models import OutboxMessage
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_page_setup")]
PASSWORD = "pw-for-tests-1"


def sign_in(client: Client, username: str, password: str, url: str = "/accounts/login/"):
    return client.post(url, {"username": username, "password": password})


def test_an_account_is_locked_after_the_limit_of_wrong_passwords_with_a_clear_page():
    UserFactory(username="victim")
    limit = settings.AXES_FAILURE_LIMIT
    attacker = Client(REMOTE_ADDR="198.51.100.1")
    for _ in range(limit - 1):
        assert sign_in(attacker, "victim", "guess").status_code == 200  # the form again
    locked = sign_in(attacker, "victim", "guess")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert 'id="locked-out"' in page and "Too many failed sign-ins" in page
    assert "Try again in 15 minutes" in page
    # Now even the right password, from another address, is refused for this account.
    owner = Client(REMOTE_ADDR="198.51.100.2")
    assert sign_in(owner, "victim", PASSWORD).status_code == 429
    assert "_auth_user_id" not in owner.session


def test_an_address_trying_many_accounts_is_locked_out_but_others_are_not():
    for name in ("a1", "a2", "a3", "a4", "a5", "a6"):
        UserFactory(username=name)
    sprayer = Client(REMOTE_ADDR="2001:db8:7:7::1")
    for name in ("a1", "a2", "a3", "a4", "a5"):
        sign_in(sprayer, name, "Winter2026!")
    # The same /64 counts as one address: another host in it is locked out too.
    neighbour = Client(REMOTE_ADDR="2001:db8:7:7::99")
    assert sign_in(neighbour, "a6", PASSWORD).status_code == 429
    # A user elsewhere signs in as usual.
    elsewhere = Client(REMOTE_ADDR="2001:db8:8::1")
    assert sign_in(elsewhere, "a6", PASSWORD).status_code == 302


def test_the_lockout_page_is_translated():
    UserFactory(username="zh-user")
    client = Client(REMOTE_ADDR="198.51.100.7", HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.cookies["django_language"] = "zh-hans"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = sign_in(client, "zh-user", "nope")
    assert response.status_code == 429
    assert '<html lang="zh-hans">' in response.content.decode()


def test_the_admin_sign_in_is_throttled_too():
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    client = Client(REMOTE_ADDR="198.51.100.3")
    admin_login = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "boss", "guess", admin_login).status_code == 200
    assert sign_in(client, "boss", "guess", admin_login).status_code == 429
    assert sign_in(client, "boss", PASSWORD, admin_login).status_code == 429


def test_a_successful_sign_in_resets_the_count():
    UserFactory(username="typo")
    client = Client(REMOTE_ADDR="198.51.100.4")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "typo", "tpyo")
    assert sign_in(client, "typo", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "typo", "tpyo")
    assert sign_in(client, "typo", PASSWORD).status_code == 302


def test_password_reset_requests_are_limited_per_email():
    UserFactory(username="forgetful", email="forgetful@example.com")
    limit, _window = settings.CRM_PASSWORD_RESET_LIMITS["email"]
    url = reverse("password_reset")
    for n in range(limit):
        client = Client(REMOTE_ADDR=f"198.51.100.{20 + n}")
        assert client.post(url, {"email": "forgetful@example.com"}).status_code == 302
    flood = Client(REMOTE_ADDR="198.51.100.99")
    refused = flood.post(url, {"email": "Forgetful@example.com"})
    assert refused.status_code == 429
    assert "Too many password reset requests" in refused.content.decode()
    assert OutboxMessage.objects.count() == limit
    assert len(mail.outbox) <= limit


def test_password_reset_requests_are_limited_per_address():
    limit, _window = settings.CRM_PASSWORD_RESET_LIMITS["address"]
    client = Client(REMOTE_ADDR="198.51.100.50")
    url = reverse("password_reset")
    for n in range(limit):
        assert client.post(url, {"email": f"sweep{n}@example.com"}).status_code == 302
    assert client.post(url, {"email": "sweep-last@example.com"}).status_code == 429
