"""Signed links for the customer: follow a ticket, rate it (crm.lib.signed_links).

A token signs the ticket's pk together with its creation time (microseconds), which
cannot be derived from the pk, under a salt per purpose: a follow token does not work as a
CSAT token, and a token for one ticket cannot be turned into another's. The value is
plain text ("<pk>.<microseconds>"), as in the links already sent.
"""

from datetime import timedelta

from django.conf import settings
from django.urls import reverse

from crm.lib.params import parse_id
from crm.lib.signed_links import SignedLink
from service.models import Ticket

FOLLOW_SALT = "service.links.follow"
CSAT_SALT = "service.links.csat"
FOLLOW_MAX_AGE = timedelta(days=90)
CSAT_MAX_AGE = timedelta(days=30)
FOLLOW_LINK = SignedLink(salt=FOLLOW_SALT, max_age=FOLLOW_MAX_AGE, plain_text=True)
CSAT_LINK = SignedLink(salt=CSAT_SALT, max_age=CSAT_MAX_AGE, plain_text=True)


class BadLink(Exception):
    """The link was altered, belongs to something else, or has expired (then .expired)."""

    def __init__(self, message: str = "bad link", *, expired: bool = False):
        super().__init__(message)
        self.expired = expired


def _fingerprint(ticket: Ticket) -> str:
    return f"{ticket.pk}.{int(ticket.created_at.timestamp() * 1_000_000)}"


def _ticket(token: str, link: SignedLink) -> Ticket:
    value = link.read(token)
    if value is None:
        expired = link.has_expired(token)
        raise BadLink("expired" if expired else "bad link", expired=expired)
    pk = parse_id(str(value).partition(".")[0])
    if pk is None:
        raise BadLink("bad value")
    ticket = Ticket.objects.select_related("customer", "contact").filter(pk=pk).first()
    if ticket is None or _fingerprint(ticket) != value:
        raise BadLink("no such ticket")
    return ticket


def follow_token(ticket: Ticket) -> str:
    return FOLLOW_LINK.make(_fingerprint(ticket))


def ticket_from_follow_token(token: str) -> Ticket:
    return _ticket(token, FOLLOW_LINK)


def csat_token(ticket: Ticket) -> str:
    return CSAT_LINK.make(_fingerprint(ticket))


def ticket_from_csat_token(token: str) -> Ticket:
    return _ticket(token, CSAT_LINK)


def follow_url(ticket: Ticket) -> str:
    return settings.CRM_BASE_URL + reverse("help:ticket", args=[follow_token(ticket)])


def csat_url(ticket: Ticket) -> str:
    return settings.CRM_BASE_URL + reverse("help:csat", args=[csat_token(ticket)])
