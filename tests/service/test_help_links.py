"""The customer's follow page behind a signed link: the public conversation only (never an
internal note), replies, and tampered, re-purposed or expired links refused."""

import time

import pytest
from django.core import mail, signing
from django.urls import reverse

from service import links
from service.models import Ticket, TicketMessage
from service.services import ticket_create, ticket_reply
from tests.factories import CustomerFactory, TicketFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_page_setup")]


@pytest.fixture
def ticket(agent, django_capture_on_commit_callbacks):
    customer = CustomerFactory(name="王小明", email="wang@example.com")
    ticket = ticket_create(
        customer=customer, subject="打印机坏了", description="It jams.", channel="web"
    )
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, author=agent, body="INTERNAL: refund them", internal=True)
        ticket_reply(ticket=ticket, author=agent, body="Please restart it.", internal=False)
    ticket.refresh_from_db()
    return ticket


def _follow(ticket) -> str:
    return reverse("help:ticket", args=[links.follow_token(ticket)])


def test_follow_page_shows_the_public_conversation_only(client, ticket):
    response = client.get(_follow(ticket))
    page = response.content.decode()
    assert response.status_code == 200
    assert "打印机坏了" in page and ticket.get_status_display() in page
    assert "Please restart it." in page
    assert "INTERNAL" not in page and "refund them" not in page
    assert all("refund them" not in message.body for message in mail.outbox)
    assert response["Cache-Control"].startswith("max-age=0")
    assert 'name="robots" content="noindex"' in page


def test_customer_replies_from_the_follow_page(client, ticket):
    url = _follow(ticket)
    response = client.post(url, {"body": "Restarted, <b>still</b> jams."})
    assert response.status_code == 302 and response.url == url
    message = TicketMessage.objects.filter(from_customer=True).latest("id")
    assert (message.body, message.kind, message.author) == (
        "Restarted, <b>still</b> jams.",
        "reply",
        None,
    )
    page = client.get(url).content.decode()
    assert "Your reply was sent." in page
    assert "Restarted, &lt;b&gt;still&lt;/b&gt; jams." in page


@pytest.mark.parametrize(
    ("body", "message"),
    [("", "This field is required."), ("  ", "This field is required."), ("a\x00b", "Null characters"),
     ("x" * 100_000, "Keep it under 20000 characters")],
)  # fmt: skip
def test_hostile_replies_give_form_errors(client, ticket, body, message):
    count = ticket.messages.count()
    response = client.post(_follow(ticket), {"body": body})
    assert response.status_code == 422 and message in response.content.decode()
    assert ticket.messages.count() == count


def test_a_closed_ticket_takes_no_reply(client, ticket):
    Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.CLOSED)
    url = _follow(ticket)
    assert "This request is closed." in client.get(url).content.decode()
    response = client.post(url, {"body": "Hello?"})
    assert response.status_code == 422
    assert not ticket.messages.filter(body="Hello?").exists()


def _assert_invalid(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()


def test_tampered_links_are_refused(client, ticket):
    token = links.follow_token(ticket)
    other = TicketFactory()
    swapped = token.replace(f"{ticket.pk}.", f"{other.pk}.", 1)
    for bad in [token[:-1] + ("A" if token[-1] != "A" else "B"), swapped, "x", "a:b:c",
                links.csat_token(ticket), "%00", "<script>", "9" * 400]:  # fmt: skip
        _assert_invalid(client, reverse("help:ticket", args=[bad]))
    assert client.post(reverse("help:ticket", args=[swapped]), {"body": "x"}).status_code == 404


def test_a_token_made_without_the_secret_is_refused(client, ticket):
    forged = signing.TimestampSigner(key="guess", salt=links.FOLLOW_SALT).sign(str(ticket.pk))
    _assert_invalid(client, reverse("help:ticket", args=[forged]))


def test_expired_links_say_so(client, ticket, monkeypatch):
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 91 * 86400)
    old_token = links.follow_token(ticket)
    monkeypatch.setattr(time, "time", real_time)
    response = client.get(reverse("help:ticket", args=[old_token]))
    assert response.status_code == 410
    page = response.content.decode()
    assert "This link has expired" in page and reverse("help:submit") in page
    assert "打印机坏了" not in page


def test_too_many_replies_are_refused(client, ticket):
    from service.views.public import REPLY_LIMIT

    url = _follow(ticket)
    for n in range(REPLY_LIMIT[0]):
        assert client.post(url, {"body": f"reply {n}"}).status_code == 302
    response = client.post(url, {"body": "one more"})
    assert response.status_code == 429 and "one more" in response.content.decode()
