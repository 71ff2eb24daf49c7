"""The signed link of a campaign's public lead form.

The URL carries the campaign id signed with SECRET_KEY (its own salt), so campaigns
cannot be enumerated by counting. This module imports no models, so Campaign offers the
token as a property; marketing.selectors.campaign_from_token finds the campaign.
"""

from typing import TYPE_CHECKING

from crm.lib.signed_links import SignedLink

if TYPE_CHECKING:
    from marketing.models import Campaign

LEAD_FORM_LINK = SignedLink(salt="marketing.lead-form")


def lead_form_token(campaign: "Campaign") -> str:
    return LEAD_FORM_LINK.make(campaign.pk)


def campaign_id_from_token(token: str) -> int | None:
    """The campaign id a token carries, or None for an altered, truncated or made-up one."""
    pk = LEAD_FORM_LINK.read(token)
    if not isinstance(pk, int) or isinstance(pk, bool):
        return None
    return pk
