"""The signed links of a campaign's public lead form and of its confirmation email.

The form's URL carries the campaign id signed with SECRET_KEY (its own salt), so campaigns
cannot be enumerated by counting. The confirmation link carries a pending submission's id
and email under another salt and expires after LEAD_CONFIRM_MAX_AGE: following it is the
visitor's proof that the address is theirs (double opt-in). This module imports no
models, so Campaign offers the form token as a property; marketing.selectors finds the
campaign and the submission.
"""

from datetime import timedelta
from typing import TYPE_CHECKING

from crm.lib.signed_links import SignedLink

if TYPE_CHECKING:
    from marketing.models import Campaign, LeadSubmission

LEAD_FORM_LINK = SignedLink(salt="marketing.lead-form")
LEAD_CONFIRM_MAX_AGE = timedelta(days=7)
LEAD_CONFIRM_LINK = SignedLink(salt="marketing.lead-confirm", max_age=LEAD_CONFIRM_MAX_AGE)


def lead_form_token(campaign: "Campaign") -> str:
    return LEAD_FORM_LINK.make(campaign.pk)


def campaign_id_from_token(token: str) -> int | None:
    """The campaign id a token carries, or None for an altered, truncated or made-up one."""
    pk = LEAD_FORM_LINK.read(token)
    if not isinstance(pk, int) or isinstance(pk, bool):
        return None
    return pk


def lead_confirm_token(submission: "LeadSubmission") -> str:
    return LEAD_CONFIRM_LINK.make([submission.pk, submission.email.lower()])


def lead_from_confirm_token(token: str) -> tuple[int, str] | None:
    """(submission id, email) of a valid unexpired token, else None."""
    value = LEAD_CONFIRM_LINK.read(token)
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], int)
        or isinstance(value[0], bool)
        or not isinstance(value[1], str)
    ):
        return None
    return value[0], value[1]
