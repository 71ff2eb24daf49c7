"""Two-factor sign-in with an authenticator app (TOTP, django-otp).

After the password, a user with a confirmed device is signed in but not verified: every page
sends them to the code page (`TwoFactorMiddleware`). A user of a role in
CRM_REQUIRE_2FA_ROLES without a device is sent to enrol: the account page shows a QR code
(rendered here as SVG, no outside service) and the secret, and a first code confirms it.
Wrong codes are throttled by django-otp (each failure doubles the wait). An admin who loses
their phone asks another admin to delete the device in Django admin (TOTP devices); they
enrol again at their next sign-in.
"""

import base64
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.audit import audit_record
from core.models import AuditEvent
from crm.roles import ADMIN

SESSION_USER_KEY = "_auth_user_id"  # django.contrib.auth's: the session's signed-in user
SESSION_KEY = "crm_two_factor"  # {"user": pk, "state": "verify" | "enrol" | "none"}
# Pages an unverified user may still open: the two-factor pages themselves, signing out,
# the language switch and the health checks.
OPEN_URL_NAMES = {"two-factor", "two-factor-verify", "logout", "set_language", "healthz", "readyz"}


def two_factor_required(user: AbstractBaseUser | AnonymousUser) -> bool:
    """True when the user's role (CRM_REQUIRE_2FA_ROLES) obliges them to use a second factor;
    superusers count as admins."""
    roles = set(settings.CRM_REQUIRE_2FA_ROLES)
    if not roles or not user.is_authenticated:
        return False
    if ADMIN in roles and getattr(user, "is_superuser", False):
        return True
    return user.groups.filter(name__in=roles).exists()  # type: ignore[attr-defined]


def confirmed_device(user: AbstractBaseUser) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


@transaction.atomic
def device_for_enrolment(*, user: AbstractBaseUser) -> TOTPDevice:
    """The user's unconfirmed device (a new secret the first time), shown until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


@transaction.atomic
def device_confirm(*, request: HttpRequest, device: TOTPDevice, token: str) -> bool:
    """Confirm the device with a first code; the session counts as verified from now on."""
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    otp_login(request, device)
    request.session[SESSION_KEY] = {"user": device.user_id, "state": "none"}
    audit_record(AuditEvent.Action.TWO_FACTOR_ON, request=request, target=device.user)
    return True


def device_verify(*, request: HttpRequest, token: str) -> bool:
    """The second step of a sign-in: True (and the session verified) when the code matches."""
    device = confirmed_device(request.user)  # type: ignore[arg-type]
    if device is None or not device.verify_token(token):
        return False
    otp_login(request, device)
    request.session[SESSION_KEY] = {"user": device.user_id, "state": "none"}
    return True


def verify_wait_seconds(user: AbstractBaseUser) -> int:
    """Seconds before another code may be tried (django-otp's throttle), 0 when allowed."""
    device = confirmed_device(user)
    if device is None:
        return 0
    allowed, details = device.verify_is_allowed()
    if allowed or not details:
        return 0
    locked_until = details.get("locked_until")
    if locked_until is None:
        return 0
    return max(1, int((locked_until - timezone.now()).total_seconds()) + 1)


def secret_text(device: TOTPDevice) -> str:
    """The secret as an authenticator app asks for it: base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG QR code (no image request, no outside service)."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=4, dark="#000", light="#fff", border=2
    )


def remember_state(request: HttpRequest, user: Any) -> str:
    """Store what the user still has to do in the session: called at sign-in (core/signals.py),
    so later requests need no query for it."""
    if confirmed_device(user) is not None:
        state = "verify"
    elif two_factor_required(user):
        state = "enrol"
    else:
        state = "none"
    request.session[SESSION_KEY] = {"user": user.pk, "state": state}
    return state


def _state(request: HttpRequest) -> str:
    """What the signed-in user still has to do (a session from before this feature: now)."""
    stored = request.session.get(SESSION_KEY)
    if isinstance(stored, dict) and stored.get("user") == request.user.pk:
        return str(stored.get("state"))
    return remember_state(request, request.user)


class TwoFactorMiddleware:
    """Until the second step is done, every other page sends the user to it (Django admin
    included); a user who must enrol is sent to the account page's enrolment."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: list, view_kwargs: dict
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        # Only a session's sign-in has a second step; a request authenticated otherwise (an
        # API token) has no django-otp state and is left to its own checks.
        is_verified = getattr(user, "is_verified", None)
        if is_verified is None or is_verified() or SESSION_USER_KEY not in request.session:
            return None
        match = request.resolver_match
        if match is not None and match.url_name in OPEN_URL_NAMES and not match.namespace:
            return None
        state = _state(request)
        if state == "none":
            return None
        target = reverse("two-factor-verify" if state == "verify" else "two-factor")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)
