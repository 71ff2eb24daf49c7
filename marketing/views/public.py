"""Public pages reached from a message's signed link: unsubscribe and preferences.

No login (login_not_required): the signed token is the credential, and it names one
customer (and, for unsubscribing, one channel). The unsubscribe URL also takes the
one-click POST that mail clients send for `List-Unsubscribe-Post` (RFC 8058): such a
POST carries no CSRF token, and needs none, since it can only withdraw consent.
"""

from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from customers.models import Channel, Consent, Customer
from customers.services import consent_set
from marketing.consent import (
    BadToken,
    preferences_token,
    read_preferences_token,
    read_unsubscribe_token,
)
from marketing.forms import PreferencesForm

UNSUBSCRIBE_SOURCE = "unsubscribe link"
PREFERENCES_SOURCE = "preferences page"


def _bad_link(request):
    return render(request, "marketing/public/bad_link.html", status=404)


@login_not_required
@never_cache
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    try:
        target = read_unsubscribe_token(token)
    except BadToken:
        return _bad_link(request)
    customer = Customer.objects.filter(pk=target.customer_id).first()
    if customer is None:
        return _bad_link(request)
    done = request.method == "POST"
    if done:
        consent_set(
            customer=customer,
            channel=target.channel,
            granted=False,
            source=UNSUBSCRIBE_SOURCE,
            by=None,  # the customer, from a link
        )
    context = {
        "done": done,
        "channel": Channel(target.channel).label,
        "preferences_token": preferences_token(customer_id=customer.pk),
    }
    return render(request, "marketing/public/unsubscribe.html", context)


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def preferences(request, token):
    """Withdraw consent channel by channel; this page never grants (marketing.consent)."""
    try:
        customer_id = read_preferences_token(token)
    except BadToken as error:
        if error.expired:
            return render(request, "marketing/public/link_expired.html", status=410)
        return _bad_link(request)
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return _bad_link(request)
    granted = set(
        Consent.objects.filter(customer=customer, granted=True).values_list("channel", flat=True)
    )
    form = PreferencesForm(request.POST or None, granted=granted)
    saved = False
    if request.method == "POST" and form.is_valid():
        for channel in form.withdrawn():
            consent_set(
                customer=customer,
                channel=channel,
                granted=False,
                source=PREFERENCES_SOURCE,
                by=None,  # the customer, from a link
            )
        saved = True
        granted -= set(form.withdrawn())
        form = PreferencesForm(granted=granted)
    not_granted = [c.label for c in PreferencesForm.CHANNELS if c.value not in granted]
    context = {"form": form, "saved": saved, "not_granted": not_granted}
    return render(request, "marketing/public/preferences.html", context)
