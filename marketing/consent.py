"""Signed links a customer follows from a message: unsubscribe and the preferences page.

Tokens are crm.lib.signed_links values (HMAC with SECRET_KEY and a purpose salt), so a
customer id or channel cannot be changed without the signature failing. The unsubscribe
link does not expire: one in an old email must still work (the law requires it), and it
can only ever withdraw consent. The preferences page is a different salt (an unsubscribe
token does not open it) and its token expires after PREFERENCES_MAX_AGE: it is made
afresh each time the unsubscribe page is shown. That page too only withdraws (issue 13):
a link forwarded or left in a browser history must not opt anyone back in. Giving
consent again takes a fresh, confirmed opt-in (the lead form's emailed link).
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.urls import reverse

from crm.lib.signed_links import SignedLink
from customers.models import Channel

UNSUBSCRIBE_LINK = SignedLink(salt="marketing.unsubscribe")
PREFERENCES_MAX_AGE = timedelta(days=7)
PREFERENCES_LINK = SignedLink(salt="marketing.preferences", max_age=PREFERENCES_MAX_AGE)


class BadToken(Exception):
    """The link was altered, truncated or made up (or, with .expired, is too old)."""

    def __init__(self, *, expired: bool = False):
        super().__init__("expired" if expired else "bad link")
        self.expired = expired


@dataclass(frozen=True)
class UnsubscribeTarget:
    customer_id: int
    channel: str


def unsubscribe_token(*, customer_id: int, channel: str) -> str:
    return UNSUBSCRIBE_LINK.make([customer_id, channel])


def read_unsubscribe_token(token: str) -> UnsubscribeTarget:
    value = UNSUBSCRIBE_LINK.read(token)
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], int)
        or value[1] not in Channel.values
    ):
        raise BadToken
    return UnsubscribeTarget(customer_id=value[0], channel=value[1])


def preferences_token(*, customer_id: int) -> str:
    return PREFERENCES_LINK.make(customer_id)


def read_preferences_token(token: str) -> int:
    value = PREFERENCES_LINK.read(token)
    if value is None and PREFERENCES_LINK.has_expired(token):
        raise BadToken(expired=True)
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadToken
    return value


def unsubscribe_url(*, customer_id: int, channel: str) -> str:
    """The absolute link for messages (CRM_BASE_URL) and the List-Unsubscribe header."""
    token = unsubscribe_token(customer_id=customer_id, channel=channel)
    return settings.CRM_BASE_URL + reverse("public-marketing:unsubscribe", args=[token])


def preferences_url(*, customer_id: int) -> str:
    token = preferences_token(customer_id=customer_id)
    return settings.CRM_BASE_URL + reverse("public-marketing:preferences", args=[token])
