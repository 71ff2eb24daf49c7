"""An admin who must use two-factor sign-in enrols and signs in with password and code; wrong
passwords end in the lock-out page (issue 13, point 3), in Chromium."""

import base64
import time

import pytest
from django.conf import settings
from django_otp.oath import TOTP

from crm import roles
from tests.browser.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def admins_must_use_two_factor(settings, fresh_cache, base_url):
    settings.CRM_REQUIRE_2FA_ROLES = [roles.ADMIN, roles.MANAGER]


def code_for(secret_text: str, *, steps_ahead: int = 0) -> str:
    """What the phone's authenticator app would show: the secret read from the page."""
    secret = "".join(secret_text.split())
    counter = TOTP(base64.b32decode(secret + "=" * (-len(secret) % 8)))
    counter.time = time.time() + 30 * steps_ahead
    return f"{counter.token():06d}"


def submit_password(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_an_admin_enrols_then_signs_in_with_a_code(page, base_url):
    UserFactory(username="root", is_staff=True, is_superuser=True, role=roles.ADMIN)

    submit_password(page, "root", PASSWORD)
    # Sent to enrol before anything else, Django admin included.
    page.wait_for_url("**/accounts/two-factor/**")
    page.goto("/admin/")
    page.wait_for_url("**/accounts/two-factor/**")
    assert page.locator("#two-factor-required").is_visible()
    assert page.locator(".two-factor-qr svg").is_visible()
    assert page.locator("nav.navbar").count() == 0
    secret = page.locator("#two-factor-secret").inner_text()
    page.get_by_label("Code from your authenticator app").fill(code_for(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    page.wait_for_url("**/admin/")
    assert page.get_by_role("heading", name="Site administration").is_visible()

    page.goto("/")
    page.get_by_role("button", name="root").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")

    submit_password(page, "root", PASSWORD)
    page.wait_for_url("**/accounts/two-factor/verify/**")
    # The code of the next 30-second step: the enrolment's code cannot be used twice.
    page.get_by_label("Code from your authenticator app").fill(code_for(secret, steps_ahead=1))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(f"{base_url}/")
    page.goto("/admin/")
    assert page.get_by_role("heading", name="Site administration").is_visible()


def test_wrong_passwords_end_in_the_lock_out_page(page):
    UserFactory(username="rita", role=roles.SALES_REP)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        submit_password(page, "rita", "wrong-password")
        assert page.locator(".alert-danger, .invalid-feedback, .errorlist").first.is_visible()
    submit_password(page, "rita", "wrong-password")
    assert page.get_by_role("heading", name="Too many failed sign-ins").is_visible()
    assert page.get_by_text("Try again in 15 minutes.").is_visible()
    # The right password does not help now.
    submit_password(page, "rita", PASSWORD)
    assert page.locator("#locked-out").is_visible()
