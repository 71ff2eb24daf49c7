"""What `/readyz` asks marketing: are campaign recipients stuck in a claim (crm/lib/readiness.py)?"""

from django.utils import timezone

from crm.lib.readiness import register_stuck_check
from marketing.models import CampaignRecipient
from marketing.services.sending import CLAIM_TIMEOUT


def count_stuck_claims(*, now=None) -> int:
    """Recipients claimed longer than the sweep's limit: their worker died and no sweep ran."""
    cutoff = (now or timezone.now()) - CLAIM_TIMEOUT
    return CampaignRecipient.objects.filter(
        status=CampaignRecipient.Status.SENDING, claimed_at__lt=cutoff
    ).count()


def register_readiness_checks() -> None:
    register_stuck_check("campaign recipients", count_stuck_claims)
