"""Personal API tokens (core.api_tokens, core.api_auth): stored hashed, refused when
expired, revoked or their user inactive, read-only ones cannot write, use recorded at most
once a minute, and the account page where a user makes and revokes their own."""

import hashlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.api import ApiUserRateThrottle
from core.api_tokens import api_token_create, api_token_revoke
from core.models import ApiToken, AuditEvent
from core.token_views import NEW_TOKEN_SESSION_KEY
from customers.models import Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMERS = "/api/v1/customers/"


def make_token(user, scope=ApiToken.Scope.READ_WRITE, days=30):
    return api_token_create(user=user, name="shop", scope=scope, expires_in_days=days)


def bearer(text: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {text}")
    return client


def test_only_the_hash_is_stored_and_the_token_finds_its_user(rep):
    token, text = make_token(rep)
    assert text.startswith(f"crm_{token.prefix}_")
    assert token.secret_hash == hashlib.sha256(text.encode()).hexdigest()
    stored = ApiToken.objects.values_list(*[f.attname for f in ApiToken._meta.fields])
    assert not any(text in str(value) for row in stored for value in row)
    response = bearer(text).get(CUSTOMERS)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "spoil",
    [
        lambda token: ApiToken.objects.filter(pk=token.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        ),
        lambda token: api_token_revoke(token=token, by=token.user),
        lambda token: type(token.user).objects.filter(pk=token.user_id).update(is_active=False),
    ],
    ids=["expired", "revoked", "inactive user"],
)
def test_expired_revoked_and_inactive_users_tokens_are_refused_401(rep, spoil):
    token, text = make_token(rep)
    spoil(token)
    response = bearer(text).get(CUSTOMERS)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer a b", "Bearer crm_nope", "Bearer \u00e9t\u00e9"]
)
def test_malformed_or_unknown_tokens_are_401_not_500(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header.encode("utf-8").decode("latin-1"))
    assert client.get(CUSTOMERS).status_code == 401


def test_a_stranger_gets_401_with_a_challenge_and_a_role_without_rights_403(nobody):
    response = APIClient().get(CUSTOMERS)
    assert response.status_code == 401
    assert 'Bearer realm="api"' in response["WWW-Authenticate"]
    _token, text = make_token(nobody)
    assert bearer(text).get(CUSTOMERS).status_code == 403


def test_a_read_only_token_reads_but_cannot_write(rep):
    _token, text = make_token(rep, scope=ApiToken.Scope.READ)
    client = bearer(text)
    assert client.get(CUSTOMERS).status_code == 200
    response = client.post(CUSTOMERS, {"name": "Ann"}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == "This API token may only read."
    assert not Customer.objects.exists()


def test_a_read_write_token_writes_as_its_user_without_csrf(rep):
    _token, text = make_token(rep)
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {text}")
    response = client.post(CUSTOMERS, {"name": "Ann"}, format="json")
    assert response.status_code == 201, response.json()
    assert Customer.objects.get().owner == rep


def test_last_used_is_written_at_most_once_a_minute(rep, django_assert_num_queries):
    token, text = make_token(rep)
    client = bearer(text)
    client.get("/api/v1/tags/")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    client.get("/api/v1/tags/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=2))
    client.get("/api/v1/tags/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first


def test_the_throttle_counts_per_token(rep, rf):
    one, _ = make_token(rep)
    two, _ = make_token(rep)
    throttle = ApiUserRateThrottle()

    def key(token):
        request = rf.get("/")
        request.user, request.auth = rep, token
        return throttle.get_cache_key(request, None)

    assert key(one) != key(two)
    assert str(one.pk) in key(one)


def test_a_token_over_its_rate_gets_429_and_another_token_goes_on(rep, monkeypatch):
    from django.core.cache import cache

    cache.clear()  # the counts of earlier tests' tokens, which may have had these ids
    monkeypatch.setattr(ApiUserRateThrottle, "THROTTLE_RATES", {"api": "3/min"})
    busy, busy_text = make_token(rep)
    _other, other_text = make_token(rep)
    client = bearer(busy_text)
    assert [client.get("/api/v1/customers/").status_code for _ in range(3)] == [200] * 3
    refused = client.get("/api/v1/customers/")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert int(refused["Retry-After"]) > 0
    assert bearer(other_text).get("/api/v1/customers/").status_code == 200


def test_creating_and_revoking_are_audited(rep):
    token, _ = make_token(rep)
    api_token_revoke(token=token, by=rep)
    events = AuditEvent.objects.filter(action=AuditEvent.Action.API_TOKEN).order_by("pk")
    assert [e.detail["event"] for e in events] == ["created", "revoked"]
    assert all(e.target_id == str(token.pk) for e in events)


# The account page.


def test_the_tokens_page_needs_a_sign_in(client):
    response = client.get(reverse("api-tokens"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_a_new_token_is_shown_once_and_works(rep_client, rep):
    response = rep_client.post(
        reverse("api-tokens"), {"name": "Web shop", "scope": "read_write", "expires": "90"}
    )
    assert response.status_code == 302
    page = rep_client.get(reverse("api-tokens"))
    text = page.context["new_token"]["text"]
    assert text.encode() in page.content
    token = ApiToken.objects.get(user=rep)
    assert token.name == "Web shop" and not token.read_only
    assert token.expires_at.date() == (timezone.now() + timedelta(days=90)).date()
    again = rep_client.get(reverse("api-tokens"))
    assert text.encode() not in again.content
    assert NEW_TOKEN_SESSION_KEY not in rep_client.session
    assert bearer(text).get(CUSTOMERS).status_code == 200


def test_a_token_that_never_expires(rep_client, rep):
    rep_client.post(reverse("api-tokens"), {"name": "ETL", "scope": "read", "expires": "never"})
    token = ApiToken.objects.get(user=rep)
    assert token.expires_at is None and token.read_only


def test_invalid_input_is_422_and_makes_nothing(rep_client):
    response = rep_client.post(
        reverse("api-tokens"), {"name": "", "scope": "root", "expires": "9999"}
    )
    assert response.status_code == 422
    assert not ApiToken.objects.exists()


def test_the_list_shows_only_my_tokens(rep_client, rep, rep2):
    make_token(rep2)
    mine, _ = make_token(rep)
    page = rep_client.get(reverse("api-tokens"))
    assert list(page.context["tokens"]) == [mine]


def test_i_revoke_my_token_but_not_someone_elses_by_url(rep_client, rep, rep2):
    mine, _ = make_token(rep)
    theirs, _ = make_token(rep2)
    response = rep_client.post(reverse("api-token-revoke", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    response = rep_client.post(reverse("api-token-revoke", args=[mine.pk]))
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.revoked_at is not None


def test_revoking_asks_for_confirmation(rep_client, rep):
    make_token(rep)
    page = rep_client.get(reverse("api-tokens")).content.decode()
    assert "data-confirm=" in page and "onclick" not in page


def test_admins_see_and_revoke_every_token_without_a_secret(admin_client, rep):
    token, text = make_token(rep)
    page = admin_client.get(reverse("admin:core_apitoken_changelist"))
    assert page.status_code == 200
    assert token.prefix.encode() in page.content
    assert token.secret_hash.encode() not in page.content
    response = admin_client.post(
        reverse("admin:core_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert bearer(text).get(CUSTOMERS).status_code == 401


def test_the_user_menu_links_the_tokens_and_the_docs(rep_client):
    CustomerFactory()
    page = rep_client.get("/").content.decode()
    assert reverse("api-tokens") in page
    assert reverse("api:docs") in page
