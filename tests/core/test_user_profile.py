"""My profile (language, phone, job title): the page under the user menu, its validation,
the language applied at sign-in and stored by the language switcher (issue 16)."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from core.models import UserProfile
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PROFILE = reverse("profile")


def test_the_user_menu_links_to_the_profile(rep_client):
    assert f'href="{PROFILE}"' in rep_client.get(reverse("notifications:list")).text


def test_the_profile_is_created_on_demand_and_saved(rep, rep_client):
    assert not UserProfile.objects.filter(user=rep).exists()
    assert rep_client.get(PROFILE).status_code == 200
    assert not UserProfile.objects.filter(user=rep).exists()  # reading writes nothing
    posted = {"language": "zh-hans", "phone": " +1  555 0100 ", "job_title": " Account  rep"}
    response = rep_client.post(PROFILE, posted)
    assert response.status_code == 302
    profile = UserProfile.objects.get(user=rep)
    assert (profile.language, profile.phone, profile.job_title) == (
        "zh-hans",
        "+1 555 0100",
        "Account rep",
    )
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"


@pytest.mark.parametrize(
    "field, value",
    [
        ("phone", "call me"),
        ("phone", "1" * 40),
        ("phone", "+1 555\x00"),
        ("phone", "١٢٣٤٥٦٧"),  # Arabic-Indic digits
        ("language", "fr"),
        ("language", "<script>"),
        ("job_title", "x" * 101),
        ("job_title", "Rep\x00"),
    ],
)
def test_bad_values_are_refused_with_a_message(rep, rep_client, field, value):
    posted = {"language": "", "phone": "", "job_title": ""} | {field: value}
    response = rep_client.post(PROFILE, posted)
    assert response.status_code == 200 and "invalid-feedback" in response.text
    assert not UserProfile.objects.filter(user=rep).exclude(**{field: ""}).exists()


def test_a_user_edits_only_their_own_profile(rep, rep2, rep2_client):
    UserProfile.objects.create(user=rep, phone="+1 555 0100")
    rep2_client.post(PROFILE, {"language": "", "phone": "+1 555 0199", "job_title": ""})
    assert UserProfile.objects.get(user=rep).phone == "+1 555 0100"
    assert UserProfile.objects.get(user=rep2).phone == "+1 555 0199"


def test_the_profile_needs_a_sign_in(client):
    response = client.get(PROFILE)
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_sign_in_sets_the_profiles_language(db):
    user = UserFactory(username="lin")
    UserProfile.objects.create(user=user, language="zh-hans")
    client = Client(REMOTE_ADDR="192.0.2.11")
    response = client.post(reverse("login"), {"username": "lin", "password": "pw-for-tests-1"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert '<html lang="zh-hans"' in client.get(reverse("notifications:list")).text


def test_sign_in_without_a_chosen_language_leaves_the_browsers(db):
    UserFactory(username="sam")
    client = Client(REMOTE_ADDR="192.0.2.12")
    response = client.post(reverse("login"), {"username": "sam", "password": "pw-for-tests-1"})
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_the_language_switcher_stores_the_choice(rep, rep_client):
    url = reverse("set_language")
    response = rep_client.post(url, {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    assert UserProfile.objects.get(user=rep).language == "zh-hans"
    rep_client.post(url, {"language": "fr", "next": "/"})  # not offered: not stored
    rep_client.post(url, {"language": "\x00", "next": "/"})
    assert UserProfile.objects.get(user=rep).language == "zh-hans"


def test_the_switcher_still_works_signed_out(client):
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/help/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert not UserProfile.objects.exists()


def test_as_my_browser_asks_forgets_the_language_cookie(rep, rep_client):
    """Clearing the language must undo the cookie a sign-in or the switcher set, or the
    pages stay in the old language for the cookie's year."""
    rep_client.post(PROFILE, {"language": "zh-hans", "phone": "", "job_title": ""})
    response = rep_client.post(PROFILE, {"language": "", "phone": "", "job_title": ""})
    assert response.status_code == 302
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "" and cookie["max-age"] == 0
    assert UserProfile.objects.get(user=rep).language == ""
