"""Two-factor sign-in (TOTP): enrolment with a QR code and the secret, the second step, the
roles that must use it (CRM_REQUIRE_2FA_ROLES, the product default Admin and Manager), and
an admin's reset of a lost device. Fails on the code before: there was no second factor."""

import base64
import time

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AuditEvent
from crm import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-1"


@pytest.fixture(autouse=True)
def product_default_roles(settings, fresh_cache):
    settings.CRM_REQUIRE_2FA_ROLES = [roles.ADMIN, roles.MANAGER]


def code_for(secret_text: str, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or `steps_ahead` 30-second steps later)."""
    secret = secret_text.replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = TOTP(key)
    counter.time = time.time() + 30 * steps_ahead
    return f"{counter.token():06d}"


def secret_on(page: str) -> str:
    start = page.index('id="two-factor-secret">') + len('id="two-factor-secret">')
    return page[start : page.index("</code>", start)]


def signed_in(username: str) -> Client:
    client = Client(REMOTE_ADDR="192.0.2.10")
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def enrol(client: Client) -> str:
    page = client.get(reverse("two-factor")).content.decode()
    secret = secret_on(page)
    response = client.post(reverse("two-factor"), {"code": code_for(secret), "next": "/"})
    assert response.status_code == 302, response.content.decode()[:2000]
    return secret


def test_a_manager_is_sent_to_enrol_before_anything_else():
    UserFactory(username="boss", role=roles.MANAGER)
    client = signed_in("boss")
    response = client.get(reverse("customers:customer-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two-factor") + "?next=")
    page = client.get(response["Location"]).content.decode()
    assert 'id="two-factor-required"' in page
    assert "<svg" in page and "otpauth" not in page  # the QR code is drawn, not linked
    assert len(secret_on(page).replace(" ", "")) == 32


def test_django_admin_is_behind_enrolment_too():
    UserFactory(username="root", is_staff=True, is_superuser=True)
    client = signed_in("root")
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two-factor"))


def test_a_rep_is_not_required_but_may_enrol():
    UserFactory(username="seller", role=roles.SALES_REP)
    client = signed_in("seller")
    assert client.get(reverse("customers:customer-list")).status_code == 200
    page = client.get(reverse("two-factor")).content.decode()
    assert 'id="two-factor-required"' not in page
    enrol(client)
    assert TOTPDevice.objects.filter(user__username="seller", confirmed=True).exists()


def test_enrolment_then_sign_in_with_password_and_code():
    UserFactory(username="boss", role=roles.MANAGER)
    client = signed_in("boss")
    secret = enrol(client)
    assert client.get(reverse("customers:customer-list")).status_code == 200

    again = signed_in("boss")
    response = again.get(reverse("customers:customer-list"))
    assert response["Location"].startswith(reverse("two-factor-verify"))
    assert again.get(reverse("two-factor-verify")).status_code == 200
    # The next step's code: the one just used for enrolment cannot be used twice.
    accepted = again.post(
        reverse("two-factor-verify"),
        {"code": code_for(secret, steps_ahead=1), "next": "/customers/"},
    )
    assert accepted.status_code == 302 and accepted["Location"] == "/customers/"
    assert again.get(reverse("customers:customer-list")).status_code == 200


def test_a_wrong_first_code_does_not_enrol():
    UserFactory(username="boss", role=roles.MANAGER)
    client = signed_in("boss")
    wrong = client.post(reverse("two-factor"), {"code": "000000"})
    assert wrong.status_code == 422
    assert "That code is not right" in wrong.content.decode()
    assert not TOTPDevice.objects.filter(confirmed=True).exists()
    assert client.get(reverse("customers:customer-list")).status_code == 302


def test_a_code_is_refused_for_another_site_next_url():
    UserFactory(username="boss", role=roles.MANAGER)
    client = signed_in("boss")
    secret = secret_on(client.get(reverse("two-factor")).content.decode())
    response = client.post(
        reverse("two-factor"), {"code": code_for(secret), "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_wrong_codes_are_throttled():
    UserFactory(username="boss", role=roles.MANAGER)
    client = signed_in("boss")
    secret = enrol(client)
    again = signed_in("boss")
    again.post(reverse("two-factor-verify"), {"code": "000000"})
    again.post(reverse("two-factor-verify"), {"code": "000001"})
    # Even the right code waits out the throttle (django-otp doubles the wait per failure).
    response = again.post(reverse("two-factor-verify"), {"code": code_for(secret, steps_ahead=1)})
    assert response.status_code == 422
    assert "Too many wrong codes" in response.content.decode()


def test_an_admin_resets_a_lost_device_and_the_user_enrols_again():
    UserFactory(username="boss", role=roles.MANAGER)
    enrol(signed_in("boss"))
    UserFactory(username="root", is_staff=True, is_superuser=True)
    admin = signed_in("root")
    enrol(admin)
    device = TOTPDevice.objects.get(user__username="boss")
    changelist = admin.get(reverse("admin:otp_totp_totpdevice_changelist"))
    assert changelist.status_code == 200 and "boss" in changelist.content.decode()
    delete_url = reverse("admin:otp_totp_totpdevice_delete", args=[device.pk])
    assert admin.post(delete_url, {"post": "yes"}).status_code == 302
    assert not TOTPDevice.objects.filter(user__username="boss").exists()
    boss = User.objects.get(username="boss")
    audited = AuditEvent.objects.filter(target_type="auth.user", target_id=str(boss.pk))
    assert set(audited.values_list("action", flat=True)) >= {"two_factor_on", "two_factor_reset"}
    client = signed_in("boss")
    response = client.get(reverse("customers:customer-list"))
    assert response["Location"].startswith(reverse("two-factor") + "?")


def test_an_htmx_request_is_told_to_redirect():
    UserFactory(username="boss", role=roles.MANAGER)
    client = signed_in("boss")
    response = client.get(reverse("customers:task-badge"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("two-factor"))


def test_no_role_required_when_the_setting_is_empty(settings):
    settings.CRM_REQUIRE_2FA_ROLES = []
    UserFactory(username="boss", role=roles.MANAGER)
    client = signed_in("boss")
    assert client.get(reverse("customers:customer-list")).status_code == 200
