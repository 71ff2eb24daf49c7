"""The public lead form of a campaign, made to be embedded in other sites' pages.

No login (login_not_required). It is the only view allowed inside a frame on another
site (xframe_options_exempt). It is csrf_exempt: inside another site's frame the browser
does not send our SameSite cookies, so a CSRF token could never match; an anonymous form
that only stores a pending submission has nothing for a forged request to steal. Abuse is
limited by a honeypot field and a per-IP rate limit.

Double opt-in (marketing.services.leads): the form answers "check your email" whether or
not the address is known, and the confirmation page reached from that email (lead_confirm)
asks for a press of "Confirm" (a POST): mail scanners open links, they do not submit forms.
That page is an ordinary one of ours (CSRF checked, never framed).

A sent form answers a redirect to the thank-you page (`?sent=1`), so its one-time token
(core/middleware.py) makes a double click send one email, and a reload sends nothing.
"""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from crm.lib.ratelimit import FormLimits, form_submission_allowed
from marketing.lead_form_link import LEAD_CONFIRM_LINK
from marketing.selectors import campaign_from_token, lead_from_token
from marketing.services.leads import (
    LeadForm,
    channel_labels,
    lead_confirm,
    lead_submit,
)

LEAD_LIMIT = (5, 10 * 60)  # submissions per IP per window (seconds)
# Per email address and per form (campaign) too (crm/lib/ratelimit.py).
LEAD_LIMITS = FormLimits(per_address=LEAD_LIMIT, per_email=(3, 60 * 60), per_form=(300, 60 * 60))
TEMPLATE = "marketing/leads/form.html"


@login_not_required
@xframe_options_exempt
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def lead_form(request, token):
    campaign = campaign_from_token(token)
    if campaign is None:
        return render(request, "marketing/leads/closed.html", {"missing": True}, status=404)
    if not campaign.lead_form_open(timezone.localdate()):
        return render(request, "marketing/leads/closed.html", {"campaign": campaign}, status=410)
    form = LeadForm(request.POST or None, questions=campaign.form_questions)
    context = {"campaign": campaign, "form": form}
    if request.method == "GET":
        return render(request, TEMPLATE, {**context, "thanks": request.GET.get("sent") == "1"})
    if form.is_bot:
        return _thanks(request)  # a bot learns nothing
    if not form.is_valid():
        return render(request, TEMPLATE, context, status=422)
    if not form_submission_allowed(
        request,
        f"lead-form:{campaign.pk}",
        email=form.cleaned_data["email"],
        limits=LEAD_LIMITS,
        fail_open=True,
    ):
        return render(request, TEMPLATE, {**context, "rate_limited": True}, status=429)
    data = form.cleaned_data
    try:
        lead_submit(
            campaign=campaign,
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            channels=form.channels(),
            answers=form.answers(),
        )
    except ValidationError as error:
        form.add_error(None, error)
        return render(request, TEMPLATE, context, status=422)
    return _thanks(request)


def _thanks(request: HttpRequest) -> HttpResponse:
    return redirect(f"{request.path}?sent=1")


CONFIRM_TEMPLATE = "marketing/leads/confirm.html"


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def lead_confirm_view(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the confirmation email: GET shows what will be recorded, POST does it."""
    submission = lead_from_token(token)
    if submission is None or submission.is_expired:
        expired = submission is not None or LEAD_CONFIRM_LINK.has_expired(token)
        return render(
            request, CONFIRM_TEMPLATE, {"expired": expired}, status=410 if expired else 404
        )
    context = {
        "submission": submission,
        "campaign": submission.campaign,
        "channels": channel_labels(submission.channels),
        "done": submission.confirmed_at is not None,
    }
    if request.method == "POST" and not context["done"]:
        lead_confirm(submission=submission)
        context["done"] = True
    return render(request, CONFIRM_TEMPLATE, context)
