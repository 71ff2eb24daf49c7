"""Signed links: a value in a URL that only we can have made, for one purpose.

A token is django.core.signing's timestamped HMAC (SECRET_KEY, with SECRET_KEY_FALLBACKS
while keys rotate) under a salt per purpose, so a token made for one purpose (unsubscribe)
does not work for another (preferences), and no value in it can be changed. Reading a
token has one failure mode: None, whatever was wrong (altered, cut short, another
purpose, another key, NUL bytes, too long, expired); the page then answers 404 "This link
is not valid". A purpose with a maximum age may say "expired" instead (`has_expired`).

Links already sent in emails must keep working, so the two formats in use stay as they
are: JSON values (`signing.dumps`'s format, the default) and plain text carried readably
in the URL (`plain_text=True`, the ticket links: "<pk>.<created>:<time>:<signature>").
"""

from dataclasses import dataclass
from datetime import timedelta

from django.core import signing

MAX_TOKEN_LENGTH = 300  # a real token is under 100 characters

# What a token carries: a string in plain-text mode, otherwise any JSON value but null.
LinkValue = str | int | float | bool | list | dict


@dataclass(frozen=True)
class SignedLink:
    """The codec of one purpose; `salt` names the purpose and must be unique to it."""

    salt: str
    max_age: timedelta | None = None  # None: the link never expires
    plain_text: bool = False
    max_length: int = MAX_TOKEN_LENGTH  # longer for a purpose that signs a whole URL

    def make(self, value: LinkValue) -> str:
        signer = signing.TimestampSigner(salt=self.salt)
        if self.plain_text:
            return signer.sign(str(value))
        return signer.sign_object(value)  # byte for byte what signing.dumps makes

    def read(self, token: object) -> LinkValue | None:
        """The value the token was made for, or None if it is not a valid token of ours."""
        try:
            return self._unsign(token, max_age=self.max_age)
        except (signing.BadSignature, ValueError):  # ValueError: bad base64, JSON or UTF-8
            return None

    def has_expired(self, token: object) -> bool:
        """True if the token is ours and unaltered but older than `max_age`."""
        if self.max_age is None:
            return False
        try:
            self._unsign(token, max_age=self.max_age)
        except signing.SignatureExpired:
            return True
        except (signing.BadSignature, ValueError):
            return False
        return False

    def _unsign(self, token: object, *, max_age: timedelta | None) -> LinkValue:
        if not isinstance(token, str) or not token or len(token) > self.max_length:
            raise signing.BadSignature("not a token")
        signer = signing.TimestampSigner(salt=self.salt)
        if self.plain_text:
            return signer.unsign(token, max_age=max_age)
        value = signer.unsign_object(token, max_age=max_age)
        if value is None:  # never made: null is not a value of any link
            raise signing.BadSignature("no value")
        return value
