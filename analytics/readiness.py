"""What `/readyz` asks analytics: is a segment run stuck (crm/lib/readiness.py)?"""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from analytics.models import SegmentRun
from crm.lib.readiness import register_stuck_check

# A run of a million customers takes about a minute; one queued or running for this long has
# lost its worker. SegmentRun has no heartbeat in this tree, so the run's start (or, while
# queued, its request) is the signal. When `SegmentRun.heartbeat_at` exists (segment-run
# recovery, issue 12 point 1), count a run as stuck when its heartbeat is older than the
# sweep's limit instead: a long healthy run keeps beating, a dead one stops within minutes.
STUCK_AFTER = timedelta(minutes=30)


def count_stuck_runs(*, now=None) -> int:
    cutoff = (now or timezone.now()) - STUCK_AFTER
    return SegmentRun.objects.filter(
        Q(status=SegmentRun.Status.QUEUED, created_at__lt=cutoff)
        | Q(status=SegmentRun.Status.RUNNING, started_at__lt=cutoff)
        | Q(status=SegmentRun.Status.RUNNING, started_at__isnull=True, created_at__lt=cutoff)
    ).count()


def register_readiness_checks() -> None:
    register_stuck_check("segment runs", count_stuck_runs)
