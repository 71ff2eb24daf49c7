"""Signed links: they work as sent and refuse anything tampered, swapped or expired."""

import time
from datetime import timedelta

import pytest
from django.core import signing
from django.urls import resolve

from service import links
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


class OldSigner(signing.TimestampSigner):
    """Signs as if it were `age` ago (the expiry is checked against the signed time)."""

    def __init__(self, *args, age: timedelta, **kwargs):
        super().__init__(*args, **kwargs)
        self.age = age

    def timestamp(self):
        return signing.b62_encode(int(time.time() - self.age.total_seconds()))


def test_follow_and_csat_tokens_round_trip():
    ticket = TicketFactory()
    assert links.ticket_from_follow_token(links.follow_token(ticket)) == ticket
    assert links.ticket_from_csat_token(links.csat_token(ticket)) == ticket


def test_urls_are_absolute_and_resolve(settings):
    settings.CRM_BASE_URL = "https://crm.example.com"
    ticket = TicketFactory()
    follow, rate = links.follow_url(ticket), links.csat_url(ticket)
    assert follow.startswith("https://crm.example.com/help/tickets/")
    match = resolve(follow.removeprefix("https://crm.example.com"))
    assert match.view_name == "help:ticket"
    assert links.ticket_from_follow_token(match.kwargs["token"]) == ticket
    assert resolve(rate.removeprefix("https://crm.example.com")).view_name == "help:csat"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature
        lambda t: "9" + t,  # value
        lambda t: t.replace(":", "", 1),
        lambda t: "",
        lambda t: "not-a-token",
        lambda t: "\x00" * 40,
        lambda t: t + "<script>",
    ],
)
def test_tampered_tokens_are_refused(tamper):
    token = links.follow_token(TicketFactory())
    with pytest.raises(links.BadLink) as error:
        links.ticket_from_follow_token(tamper(token))
    assert not error.value.expired


def test_another_tickets_pk_cannot_be_forged():
    """Swapping the pk in a valid token breaks the signature; the token carries more than
    the pk, so knowing a ticket number is not enough to build one."""
    five, six = TicketFactory(), TicketFactory()
    token = links.follow_token(five)
    assert token.startswith(f"{five.pk}.")
    forged = f"{six.pk}" + token[len(str(five.pk)) :]
    with pytest.raises(links.BadLink):
        links.ticket_from_follow_token(forged)
    assert links.follow_token(six) != links.follow_token(five).replace(str(five.pk), str(six.pk), 1)


def test_a_recreated_ticket_with_the_same_pk_refuses_old_tokens():
    ticket = TicketFactory()
    token = links.follow_token(ticket)
    ticket.created_at -= timedelta(seconds=1)
    ticket.save()
    with pytest.raises(links.BadLink):
        links.ticket_from_follow_token(token)


def test_tokens_are_bound_to_their_purpose():
    ticket = TicketFactory()
    with pytest.raises(links.BadLink):
        links.ticket_from_csat_token(links.follow_token(ticket))
    with pytest.raises(links.BadLink):
        links.ticket_from_follow_token(links.csat_token(ticket))


def test_deleted_ticket_is_refused():
    ticket = TicketFactory()
    token = links.follow_token(ticket)
    ticket.delete()
    with pytest.raises(links.BadLink):
        links.ticket_from_follow_token(token)


@pytest.mark.parametrize(
    ("salt", "reader", "fresh", "stale"),
    [
        (links.FOLLOW_SALT, links.ticket_from_follow_token, 89, 91),
        (links.CSAT_SALT, links.ticket_from_csat_token, 29, 31),
    ],
)
def test_expired_tokens_are_refused_with_the_expired_flag(salt, reader, fresh, stale):
    ticket = TicketFactory()
    value = links._fingerprint(ticket)
    assert reader(OldSigner(salt=salt, age=timedelta(days=fresh)).sign(value)) == ticket
    with pytest.raises(links.BadLink) as error:
        reader(OldSigner(salt=salt, age=timedelta(days=stale)).sign(value))
    assert error.value.expired
