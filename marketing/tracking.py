"""Open and click tracking in campaign emails: signed links (crm.lib.signed_links).

- The open pixel, /m/o/<token>/, is a 1x1 GIF whose token signs the recipient's id.
- Each http(s) link of the HTML part becomes /m/c/<token>/, whose token signs the
  recipient's id AND the destination URL: the redirect goes to the URL in the token and
  nowhere else, so the link cannot be turned into an open redirect (changing the URL
  breaks the signature, and a token of another purpose has another salt).

Only the HTML part is rewritten: the plain-text part keeps readable links, and the
unsubscribe link is never tracked (it works with images and tracking off, and a click on
it is not interest). With settings.CRM_EMAIL_TRACKING off, nothing is added or rewritten.
"""

import html
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse

from crm.lib.signed_links import SignedLink

OPEN_LINK = SignedLink(salt="marketing.track.open")
MAX_TRACKED_URL = 2000  # longer links are left as they are (browsers cope, tokens would not)
# The token carries the URL base64-encoded (4 characters per 3 bytes) with the recipient and
# the signature: room for the longest tracked URL (a shorter limit refused long links).
CLICK_LINK = SignedLink(salt="marketing.track.click", max_length=4 * MAX_TRACKED_URL // 3 + 300)

# An href in the HTML that html_body builds (urlize's output: double-quoted, escaped).
_HREF = re.compile(r'href="([^"]*)"')


def tracking_enabled() -> bool:
    return bool(settings.CRM_EMAIL_TRACKING)


def is_trackable_url(url: str) -> bool:
    if len(url) > MAX_TRACKED_URL or any(c in url for c in "\x00\r\n\t "):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def open_url(recipient_id: int) -> str:
    token = OPEN_LINK.make(recipient_id)
    return settings.CRM_BASE_URL + reverse("public-marketing:track-open", args=[token])


def click_url(recipient_id: int, url: str) -> str:
    token = CLICK_LINK.make([recipient_id, url])
    return settings.CRM_BASE_URL + reverse("public-marketing:track-click", args=[token])


def read_open_token(token: str) -> int | None:
    value = OPEN_LINK.read(token)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class Click:
    recipient_id: int
    url: str


def read_click_token(token: str) -> Click | None:
    """The recipient and destination signed into the token; None for anything else,
    including a signed URL that is not http(s) (never made, but never followed either)."""
    value = CLICK_LINK.read(token)
    if not isinstance(value, list) or len(value) != 2:
        return None
    recipient_id, url = value
    if not isinstance(recipient_id, int) or isinstance(recipient_id, bool):
        return None
    if not isinstance(url, str) or not is_trackable_url(url):
        return None
    return Click(recipient_id=recipient_id, url=url)


def track_links(body_html: str, recipient_id: int, *, keep: str = "") -> str:
    """Rewrite each http(s) href of `body_html` (escaped HTML) to its signed redirect,
    except `keep` (the unsubscribe link)."""

    def rewrite(match: re.Match) -> str:
        url = html.unescape(match[1])
        if url == keep or not is_trackable_url(url):
            return match[0]
        return f'href="{html.escape(click_url(recipient_id, url))}"'

    return _HREF.sub(rewrite, body_html)


def pixel_html(recipient_id: int) -> str:
    """The open pixel's tag, for the end of the message (escaped: the token is safe anyway)."""
    src = html.escape(open_url(recipient_id))
    return f'<img src="{src}" width="1" height="1" alt="" style="display:block;border:0;">'
