"""What `/readyz` asks analytics: is a segment run stuck (crm/lib/readiness.py)?

A live run beats (`heartbeat_at`) at every step and chunk, and the beat sweep fails a run
whose worker went silent for `stale_after()`. A run silent for twice that long means the
sweep itself is not running: that is what readiness reports.
"""

from datetime import datetime

from django.db.models.functions import Coalesce
from django.utils import timezone

from analytics.models import SegmentRun
from analytics.runs import stale_after
from crm.lib.readiness import register_stuck_check


def count_stuck_runs(*, now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - 2 * stale_after()
    return (
        SegmentRun.objects.filter(status__in=[SegmentRun.Status.QUEUED, SegmentRun.Status.RUNNING])
        .annotate(last_sign=Coalesce("heartbeat_at", "started_at", "created_at"))
        .filter(last_sign__lt=cutoff)
        .count()
    )


def register_readiness_checks() -> None:
    register_stuck_check("segment runs", count_stuck_runs)
