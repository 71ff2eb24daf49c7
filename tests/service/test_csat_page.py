"""The CSAT page: rate 1-5 once per resolved ticket, through a signed link."""

import time

import pytest
from django.urls import reverse
from django.utils import timezone

from service import links
from service.models import SatisfactionResponse
from tests.factories import TicketFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_page_setup")]


@pytest.fixture
def resolved():
    return TicketFactory(subject="Login fails", status="resolved", resolved_at=timezone.now())


def _rate_url(ticket) -> str:
    return reverse("help:csat", args=[links.csat_token(ticket)])


def test_rate_once_with_a_comment(client, resolved):
    url = _rate_url(resolved)
    page = client.get(url).content.decode()
    assert "Login fails" in page and 'type="radio"' in page and page.count('name="score"') == 5
    response = client.post(url, {"score": "4", "comment": "Quick <b>answer</b>"})
    assert response.status_code == 302
    rating = SatisfactionResponse.objects.get()
    assert (rating.ticket, rating.score, rating.comment) == (resolved, 4, "Quick <b>answer</b>")
    page = client.get(url).content.decode()
    assert "Thank you for your rating!" in page
    assert "Thank you, you already rated this." in page and "4 out of 5" in page
    assert "Quick &lt;b&gt;answer&lt;/b&gt;" in page
    # A second rating (another browser, a replayed POST) changes nothing.
    from django.test import Client

    again = Client().post(url, {"score": "1", "comment": "changed my mind"})
    assert again.status_code == 200 and "you already rated this" in again.content.decode()
    assert SatisfactionResponse.objects.get().score == 4


def test_closed_tickets_can_be_rated(client):
    closed = TicketFactory(status="closed", resolved_at=timezone.now(), closed_at=timezone.now())
    assert client.post(_rate_url(closed), {"score": "5"}).status_code == 302
    assert SatisfactionResponse.objects.get().score == 5


@pytest.mark.parametrize("status", ["new", "open", "waiting"])
def test_open_tickets_cannot_be_rated_yet(client, status):
    ticket = TicketFactory(status=status)
    url = _rate_url(ticket)
    assert "once it is resolved" in client.get(url).content.decode()
    client.post(url, {"score": "5"})
    assert not SatisfactionResponse.objects.exists()


@pytest.mark.parametrize(
    "data",
    [{}, {"score": "0"}, {"score": "6"}, {"score": "1e30"}, {"score": "<script>"},
     {"score": "4\x00"}, {"score": "4", "comment": "x" * 5001},
     {"score": "4", "comment": "a\x00b"}],
)  # fmt: skip
def test_hostile_ratings_give_form_errors(client, resolved, data):
    response = client.post(_rate_url(resolved), data)
    assert response.status_code == 422
    assert not SatisfactionResponse.objects.exists()


def test_bad_and_expired_rating_links(client, resolved, monkeypatch):
    follow = reverse("help:csat", args=[links.follow_token(resolved)])  # the wrong purpose
    response = client.get(follow)
    assert response.status_code == 404 and "This link is not valid" in response.content.decode()
    token = links.csat_token(resolved)
    assert client.get(reverse("help:csat", args=[token + "x"])).status_code == 404
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 31 * 86400)
    old = links.csat_token(resolved)
    monkeypatch.setattr(time, "time", real_time)
    response = client.get(reverse("help:csat", args=[old]))
    assert response.status_code == 410 and "This link has expired" in response.content.decode()
    assert client.post(reverse("help:csat", args=[old]), {"score": "5"}).status_code == 410
    assert not SatisfactionResponse.objects.exists()
