"""Signed links for the customer: follow a ticket, rate it.

A token signs the ticket's pk together with its creation time (microseconds), which
cannot be derived from the pk, under a salt per purpose: a follow token does not work as a
CSAT token, and a token for one ticket cannot be turned into another's.
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from crm.lib.params import parse_id
from service.models import Ticket

FOLLOW_SALT = "service.links.follow"
CSAT_SALT = "service.links.csat"
FOLLOW_MAX_AGE = timedelta(days=90)
CSAT_MAX_AGE = timedelta(days=30)


class BadLink(Exception):
    """The link was altered, belongs to something else, or has expired (then .expired)."""

    def __init__(self, message: str = "bad link", *, expired: bool = False):
        super().__init__(message)
        self.expired = expired


def _fingerprint(ticket: Ticket) -> str:
    return f"{ticket.pk}.{int(ticket.created_at.timestamp() * 1_000_000)}"


def _sign(ticket: Ticket, salt: str) -> str:
    return signing.TimestampSigner(salt=salt).sign(_fingerprint(ticket))


def _unsign(token: str, salt: str, max_age: timedelta) -> Ticket:
    try:
        value = signing.TimestampSigner(salt=salt).unsign(str(token), max_age=max_age)
    except signing.SignatureExpired as error:
        raise BadLink("expired", expired=True) from error
    except signing.BadSignature as error:
        raise BadLink("bad signature") from error
    pk = parse_id(value.partition(".")[0])
    if pk is None:
        raise BadLink("bad value")
    ticket = Ticket.objects.select_related("customer", "contact").filter(pk=pk).first()
    if ticket is None or _fingerprint(ticket) != value:
        raise BadLink("no such ticket")
    return ticket


def follow_token(ticket: Ticket) -> str:
    return _sign(ticket, FOLLOW_SALT)


def ticket_from_follow_token(token: str) -> Ticket:
    return _unsign(token, FOLLOW_SALT, FOLLOW_MAX_AGE)


def csat_token(ticket: Ticket) -> str:
    return _sign(ticket, CSAT_SALT)


def ticket_from_csat_token(token: str) -> Ticket:
    return _unsign(token, CSAT_SALT, CSAT_MAX_AGE)


def follow_url(ticket: Ticket) -> str:
    return settings.CRM_BASE_URL + reverse("help:ticket", args=[follow_token(ticket)])


def csat_url(ticket: Ticket) -> str:
    return settings.CRM_BASE_URL + reverse("help:csat", args=[csat_token(ticket)])
