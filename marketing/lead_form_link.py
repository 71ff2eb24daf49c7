"""The signed link of a campaign's public lead form.

The URL carries the campaign id signed with SECRET_KEY (its own salt), so campaigns
cannot be enumerated by counting. This module imports no models, so Campaign offers the
token as a property; marketing.selectors.campaign_from_token finds the campaign.
"""

from typing import TYPE_CHECKING

from django.core import signing

if TYPE_CHECKING:
    from marketing.models import Campaign

LEAD_FORM_SALT = "marketing.lead-form"
MAX_TOKEN_LENGTH = 100


def lead_form_token(campaign: "Campaign") -> str:
    return signing.dumps(campaign.pk, salt=LEAD_FORM_SALT)


def campaign_id_from_token(token: str) -> int | None:
    """The campaign id a token carries, or None for an altered, truncated or made-up one."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        pk = signing.loads(token, salt=LEAD_FORM_SALT)
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(pk, int) or isinstance(pk, bool):
        return None
    return pk
