"""Marketing's part of an erasure and of an access download (customers.erasure,
crm.lib.personal_data).

Recipients keep their status, outcome and conversion (the campaign report and ROI count
them), the loyalty ledger keeps its points; free texts about the customer go."""

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from crm.lib.personal_data import rows_of, scrub_rows
from marketing.models import CampaignRecipient, LeadSubmission, LoyaltyAccount, LoyaltyEntry


@transaction.atomic
def marketing_erase(*, customer: Any, values: frozenset[str]) -> int:
    recipients = CampaignRecipient.objects.filter(customer=customer)
    # A bounce's reason quotes the address; a note is whatever the marketer typed.
    rows = recipients.exclude(failure_reason="", outcome_note="").update(
        failure_reason="", outcome_note=""
    )
    rows += _lead_submissions(customer, values).delete()[0]
    return rows + scrub_rows(LoyaltyEntry.objects.filter(customer=customer), "reason", values)


def _lead_submissions(customer: Any, values: frozenset[str]) -> QuerySet[LeadSubmission]:
    """Lead form submissions by the customer: confirmed into it, or typed with its address."""
    mine = Q(customer=customer)
    for value in values:
        if "@" in value:
            mine |= Q(email__iexact=value)
    return LeadSubmission.objects.filter(mine)


def marketing_data_of(customer: Any) -> dict[str, Any]:
    return {
        "campaign_messages": rows_of(
            CampaignRecipient.objects.filter(customer=customer),
            *["campaign__name", "campaign__channel", "status", "sent_at", "coupon_code"],
            *["outcome", "outcome_note", "responded_at", "failure_reason"],
        ),
        "loyalty_account": rows_of(
            LoyaltyAccount.objects.filter(customer=customer),
            *["balance", "earned", "spend_12m", "tier__name"],
        ),
        "lead_form_submissions": rows_of(
            LeadSubmission.objects.filter(customer=customer),
            *["campaign__name", "name", "email", "phone", "channels", "submitted_at"],
            "confirmed_at",
        ),
        "loyalty_entries": rows_of(
            LoyaltyEntry.objects.filter(customer=customer),
            *["kind", "points", "reason", "order__number", "created_at"],
        ),
    }
