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
from marketing.consent import (
    BadToken,
    preferences_token,
    read_preferences_token,
    read_unsubscribe_token,
)
from marketing.forms import PreferencesForm
from marketing.services.campaigns import consent_set

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
            customer=customer, channel=target.channel, granted=False, source=UNSUBSCRIBE_SOURCE
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
    try:
        customer_id = read_preferences_token(token)
    except BadToken:
        return _bad_link(request)
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is None:
        return _bad_link(request)
    current = dict(Consent.objects.filter(customer=customer).values_list("channel", "granted"))
    form = PreferencesForm(request.POST or None, initial=current)
    saved = False
    if request.method == "POST" and form.is_valid():
        for channel in PreferencesForm.CHANNELS:
            wanted = form.cleaned_data[channel.value]
            if wanted != current.get(channel.value, False):
                consent_set(
                    customer=customer,
                    channel=channel.value,
                    granted=wanted,
                    source=PREFERENCES_SOURCE,
                )
        saved = True
    context = {"form": form, "saved": saved}
    return render(request, "marketing/public/preferences.html", context)
