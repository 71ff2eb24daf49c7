"""The user's own profile page (language, phone, job title) and the language switcher,
which also stores the choice in the profile of a signed-in user."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django.views.i18n import set_language

from core.forms import UserProfileForm
from core.profiles import (
    forget_language_cookie,
    profile_language_set,
    profile_of,
    set_language_cookie,
)
from crm.lib.http import AuthenticatedHttpRequest


@require_http_methods(["GET", "POST"])
def profile_edit(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = UserProfileForm(request.POST or None, instance=profile_of(request.user))
    if request.method == "POST" and form.is_valid():
        profile = form.save()
        if profile.language:  # the new language from this answer on, in this browser too
            translation.activate(profile.language)
        messages.success(request, _("Your profile was saved."))
        response = redirect("profile")
        if profile.language:
            set_language_cookie(response, profile.language)
        else:  # "As my browser asks": forget the language a sign-in or the switcher set
            forget_language_cookie(response)
        return response
    return render(request, "core/profile.html", {"form": form})


def language_switch(request: HttpRequest) -> HttpResponse:
    """Django's set_language; a signed-in user's choice is kept in their profile, so it
    follows them to the next sign-in and to the emails the CRM sends them."""
    response = set_language(request)
    language = request.POST.get("language", "") if request.method == "POST" else ""
    chosen = response.cookies.get(settings.LANGUAGE_COOKIE_NAME)
    if (
        request.user.is_authenticated
        and language in dict(settings.LANGUAGES)
        and chosen is not None
        and chosen.value == language
    ):
        profile_language_set(user=request.user, language=language)
    return response
