"""The rate limiter (crm/lib/ratelimit.py) and the submission form's limit per IP."""

import pytest
from django.test import Client
from django.urls import reverse

from crm.lib.ratelimit import client_ip, rate_limit_hit
from service.models import Ticket
from service.views.public import SUBMIT_LIMIT

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_page_setup")]


VALID = {
    "name": "Zhang San",
    "email": "zhang@example.com",
    "subject": "发票问题",
    "description": "我需要一张新的发票。",
    "category": "request",
}


def test_fixed_window_counts_per_purpose_and_client():
    hits = [
        rate_limit_hit("p", "1.2.3.4", limit=3, window=60, fail_open=True, now=1000)
        for _ in range(4)
    ]
    assert hits == [True, True, True, False]
    assert rate_limit_hit(
        "p", "5.6.7.8", limit=3, window=60, fail_open=True, now=1000
    )  # another client
    assert rate_limit_hit(
        "other", "1.2.3.4", limit=3, window=60, fail_open=True, now=1000
    )  # another purpose
    assert rate_limit_hit(
        "p", "1.2.3.4", limit=3, window=60, fail_open=True, now=1060
    )  # the next window


def test_client_ip_is_the_peer_address_not_a_forwarded_header(rf):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1")
    assert client_ip(request) == "10.0.0.1"


def test_submissions_over_the_limit_get_429_with_the_form_kept():
    limit, _window = SUBMIT_LIMIT
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(limit):
        assert client.post(reverse("help:submit"), VALID).status_code == 302
    response = client.post(reverse("help:submit"), {**VALID, "subject": "第六个请求"})
    assert response.status_code == 429
    page = response.content.decode()
    assert "several requests from your network" in page
    assert 'value="第六个请求"' in page and "我需要一张新的发票。" in page
    assert Ticket.objects.count() == limit
    # Another address is not affected.
    other = Client(REMOTE_ADDR="203.0.113.10")
    assert (
        other.post(reverse("help:submit"), {**VALID, "email": "li@example.com"}).status_code == 302
    )


def test_invalid_submissions_do_not_use_up_the_limit():
    limit, _window = SUBMIT_LIMIT
    client = Client(REMOTE_ADDR="203.0.113.11")
    for _ in range(limit + 2):
        assert client.post(reverse("help:submit"), {**VALID, "email": "bad"}).status_code == 422
    assert client.post(reverse("help:submit"), VALID).status_code == 302


def test_the_limit_uses_the_real_cache(redis_url):
    """With REDIS_URL set, counts live in Redis, shared by every server process."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    assert isinstance(caches["default"], RedisCache)  # crm.lib.cache's fail-soft subclass
    assert [
        rate_limit_hit("r", "ip", limit=1, window=60, fail_open=True, now=5) for _ in range(2)
    ] == [True, False]
