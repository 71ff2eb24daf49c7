"""Each user's profile (core.UserProfile): created on demand, read by the pages and emails
that speak to the user in their language, and by the printed quote (the rep's phone)."""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse

from core.models import UserProfile

# The request attribute that asks SignInLanguageMiddleware to set the language cookie.
SIGN_IN_LANGUAGE = "_crm_sign_in_language"


def profile_of(user: AbstractBaseUser) -> UserProfile:
    """The user's profile, or a new one not saved yet (saving the form creates it)."""
    return UserProfile.objects.filter(user_id=user.pk).first() or UserProfile(user_id=user.pk)


def chosen_language(user: AbstractBaseUser) -> str:
    """The language the user chose in their profile; empty when they chose none."""
    language = UserProfile.objects.filter(user_id=user.pk).values_list("language", flat=True)
    return language.first() or ""


def email_language(user: AbstractBaseUser) -> str:
    """The language of an email to `user`: their choice, else the site's default."""
    return chosen_language(user) or settings.LANGUAGE_CODE


@transaction.atomic
def profile_language_set(*, user: AbstractBaseUser, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"unknown language {language!r}")
    UserProfile.objects.update_or_create(user_id=user.pk, defaults={"language": language})


def remember_sign_in_language(request: HttpRequest, user: AbstractBaseUser) -> None:
    """At sign-in, the profile's language becomes the browser's (its cookie)."""
    if language := chosen_language(user):
        setattr(request, SIGN_IN_LANGUAGE, language)


def set_language_cookie(response: HttpResponse, language: str) -> None:
    """The cookie Django's set_language view sets, with the same settings."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def forget_language_cookie(response: HttpResponse) -> None:
    """Deletes that cookie: the browser's own languages apply again."""
    response.delete_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class SignInLanguageMiddleware:
    """Sets the language cookie on the response to a sign-in (core.signals)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if language := getattr(request, SIGN_IN_LANGUAGE, ""):
            set_language_cookie(response, language)
        return response
