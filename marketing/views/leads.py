"""The public lead form of a campaign, made to be embedded in other sites' pages.

No login (login_not_required). It is the only view allowed inside a frame on another
site (xframe_options_exempt). It is csrf_exempt: inside another site's frame the browser
does not send our SameSite cookies, so a CSRF token could never match; an anonymous form
that only adds a lead has nothing for a forged request to steal. Abuse is limited by a
honeypot field and a per-IP rate limit.
"""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from crm.lib.ratelimit import FormLimits, form_submission_allowed
from marketing.selectors import campaign_from_token
from marketing.services.leads import CLOSED_STATUSES, LeadForm, lead_capture

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
    if campaign.status in CLOSED_STATUSES:
        return render(request, "marketing/leads/closed.html", {"campaign": campaign}, status=410)
    form = LeadForm(request.POST or None)
    context = {"campaign": campaign, "form": form}
    if request.method == "GET":
        return render(request, TEMPLATE, context)
    if form.is_bot:
        return render(request, TEMPLATE, {**context, "thanks": True})  # a bot learns nothing
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
        lead_capture(
            campaign=campaign,
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            channels=form.channels(),
        )
    except ValidationError as error:
        form.add_error(None, error)
        return render(request, TEMPLATE, context, status=422)
    return render(request, TEMPLATE, {**context, "thanks": True})
