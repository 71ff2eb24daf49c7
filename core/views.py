"""Account pages: two-factor enrolment and sign-in step (core/two_factor.py), and the password
reset request with its rate limits."""

import math

from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core import two_factor
from core.forms import OneTimeCodeForm, OutboxPasswordResetForm
from crm.lib.ratelimit import client_ip, rate_limit_hit


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return settings.LOGIN_REDIRECT_URL


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_account(request: HttpRequest) -> HttpResponse:
    """The account's two-factor page: the status, or enrolment (QR code, secret, first code)."""
    user = request.user
    device = two_factor.confirmed_device(user)  # type: ignore[arg-type]
    required = two_factor.two_factor_required(user)
    context: dict = {
        "required": required,
        "next": _next_url(request),
        "device": device,
        # Until a required enrolment is done, no link leads anywhere else.
        "hide_navigation": required and device is None,
    }
    if device is not None:
        return render(request, "registration/two_factor_account.html", context)
    pending = two_factor.device_for_enrolment(user=user)  # type: ignore[arg-type]
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.device_confirm(
            request=request, device=pending, token=form.cleaned_data["code"]
        ):
            messages.success(request, _("Two-factor sign-in is on for your account."))
            return redirect(context["next"])
        form.add_error(
            "code",
            _("That code is not right. Check the time on your phone and try the current code."),
        )
    context.update(
        form=form,
        qr_svg=two_factor.qr_svg(pending),
        secret=two_factor.secret_text(pending),
    )
    status = 422 if form.errors else 200
    return render(request, "registration/two_factor_account.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: the code from the authenticator app."""
    next_url = _next_url(request)
    if request.user.is_verified():  # type: ignore[union-attr]
        return redirect(next_url)
    if two_factor.confirmed_device(request.user) is None:  # type: ignore[arg-type]
        # The device was reset by an admin: enrol again if the role requires it.
        request.session.pop(two_factor.SESSION_KEY, None)
        return redirect(next_url)
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.device_verify(request=request, token=form.cleaned_data["code"]):
            return redirect(next_url)
        wait = two_factor.verify_wait_seconds(request.user)  # type: ignore[arg-type]
        if wait:
            form.add_error(
                "code",
                _("Too many wrong codes. Wait %(seconds)d seconds, then enter the current code.")
                % {"seconds": wait},
            )
        else:
            form.add_error(
                "code", _("That code is not right. Enter the current code from your app.")
            )
    status = 422 if form.errors else 200
    context = {"form": form, "next": next_url, "hide_navigation": True}
    return render(request, "registration/two_factor_verify.html", context, status=status)


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's password reset request, its email through the outbox, counted per client
    address and per email address (CRM_PASSWORD_RESET_LIMITS): a flood of reset emails to
    one person, or a sweep of addresses from one client, is refused. The answer does not
    tell whether the address belongs to a user."""

    form_class = OutboxPasswordResetForm

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        limits = settings.CRM_PASSWORD_RESET_LIMITS
        email = form.cleaned_data["email"].strip().lower()
        counts = [
            ("password-reset:address", client_ip(self.request), limits["address"]),
            ("password-reset:email", email, limits["email"]),
        ]
        allowed = [
            # Fails open like the public forms: a cache outage must not stop a locked-out
            # user from resetting their password.
            rate_limit_hit(purpose, client, limit=limit, window=window, fail_open=True)
            for purpose, client, (limit, window) in counts
        ]
        if not all(allowed):
            form.add_error(
                "email",  # the admin's reset template shows only this field's errors
                _(
                    "Too many password reset requests. Wait an hour, or ask an administrator "
                    "to reset your password."
                ),
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in (the site's and the admin's): a page in the
    user's language saying why and for how long, with status 429."""
    cool_off = get_cool_off(request)
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "cooloff_minutes": max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else 15,
    }
    return render(request, "registration/locked_out.html", context, status=429)
