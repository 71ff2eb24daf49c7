"""What `/readyz` asks marketing: are campaign recipients stuck in a claim (crm/lib/readiness.py)?

A sending worker moves its claims' `claimed_at` forward as it goes, and the beat sweep
releases claims older than `claim_timeout()`. Claims twice that old mean the sweep itself
is not running: that is what readiness reports.
"""

from datetime import datetime

from django.utils import timezone

from crm.lib.readiness import register_stuck_check
from marketing.models import CampaignRecipient
from marketing.services.sending import claim_timeout


def count_stuck_claims(*, now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - 2 * claim_timeout()
    return CampaignRecipient.objects.filter(
        status=CampaignRecipient.Status.SENDING, claimed_at__lt=cutoff
    ).count()


def register_readiness_checks() -> None:
    register_stuck_check("campaign recipients", count_stuck_claims)
