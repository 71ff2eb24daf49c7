"""Delivering webhook events: claimed in batches (core.claims), posted signed, retried.

At-least-once, in order per object: a worker killed after the receiver took an event but
before its row was marked sent leaves a claim the sweep releases, and the event goes again
with the same id (X-CRM-Event-Id), which receivers use to ignore the duplicate. A delivery
is not claimed while an earlier event of the same object waits for the same endpoint, so a
receiver never sees a deal's second event before its first.

A failure counts against the delivery (retried after CRM_WEBHOOK_RETRY_SECONDS, doubling up
to CRM_WEBHOOK_RETRY_MAX_SECONDS, given up once the event is CRM_WEBHOOK_RETRY_HOURS old)
and against the endpoint, which pauses for as long and is disabled after
CRM_WEBHOOK_DISABLE_AFTER failures in a row: one dead receiver costs one attempt per pause,
not one per waiting event.
"""

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.claims import claim_due, renew_claims, unclaim
from core.models import DomainEvent
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.webhook_http import Answer, post
from integrations.webhook_services import endpoint_disable

logger = logging.getLogger(__name__)

USER_AGENT = "CRM-Webhooks/1"
MAX_ROUNDS = 20  # a task follows an object's later events this many batches deep
Status = WebhookDelivery.Status


def body_of(event: DomainEvent) -> bytes:
    """The JSON body: {id, type, time, data}, compact, keys sorted."""
    payload = {
        "id": str(event.uuid),
        "type": event.type,
        "time": event.occurred_at.isoformat(),
        "data": event.data,
    }
    return json.dumps(
        payload, cls=DjangoJSONEncoder, separators=(",", ":"), sort_keys=True
    ).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256 of "<timestamp>.<body>" under the endpoint's secret."""
    signed = f"{timestamp}.".encode() + body
    return "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def headers_of(delivery: WebhookDelivery, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-CRM-Event-Id": str(delivery.event.uuid),
        "X-CRM-Event-Type": delivery.event.type,
        "X-CRM-Delivery": str(delivery.pk),
        "X-CRM-Attempt": str(delivery.attempts + 1),
        "X-CRM-Timestamp": str(timestamp),
        "X-CRM-Signature": signature(delivery.endpoint.secret, timestamp, body),
    }


def retry_delay(failures: int) -> timedelta:
    """30 s, 1, 2, 4 ... minutes, at most an hour (the defaults)."""
    seconds = settings.CRM_WEBHOOK_RETRY_SECONDS * 2 ** min(failures - 1, 20)
    return timedelta(seconds=min(seconds, settings.CRM_WEBHOOK_RETRY_MAX_SECONDS))


def _due(now: datetime, ids: list[int] | None):
    earlier = WebhookDelivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        object_key=OuterRef("object_key"),
        event_id__lt=OuterRef("event_id"),
        status__in=[Status.PENDING, Status.SENDING],
    )
    due = WebhookDelivery.objects.filter(
        Q(endpoint__paused_until__isnull=True) | Q(endpoint__paused_until__lte=now),
        next_attempt_at__lte=now,
        endpoint__is_active=True,
    ).exclude(Exists(earlier))
    return due if ids is None else due.filter(pk__in=ids)


def deliveries_deliver_due(*, limit: int = 50, ids: list[int] | None = None) -> Counter:
    """Deliver what is due (only `ids` when given), then the events of the same objects
    that were waiting behind them. Returns counts of sent, retrying, failed, postponed."""
    counts: Counter = Counter()
    for _round in range(MAX_ROUNDS):
        sent_keys = _deliver_batch(now=timezone.now(), limit=limit, ids=ids, counts=counts)
        if not sent_keys:
            break
        if ids is not None:  # the next events of the objects just delivered
            behind = Q()
            for endpoint_id, object_key in sent_keys:
                behind |= Q(endpoint_id=endpoint_id, object_key=object_key)
            pending = WebhookDelivery.objects.filter(behind, status=Status.PENDING)
            ids = list(pending.values_list("pk", flat=True))
            if not ids:
                break
    return counts


def _deliver_batch(
    *, now: datetime, limit: int, ids: list[int] | None, counts: Counter
) -> set[tuple[int, str]]:
    token, claimed = claim_due(_due(now, ids), now=now, limit=limit, order_by=("event_id",))
    rows = list(
        WebhookDelivery.objects.filter(pk__in=claimed)
        .select_related("endpoint", "event")
        .order_by("event_id")
    )
    sent: set[tuple[int, str]] = set()
    paused: set[int] = set()
    renewed = time.monotonic()
    for index, row in enumerate(rows):
        if row.endpoint_id in paused:  # it failed just now: the rest wait for its pause
            unclaim(WebhookDelivery, [row.pk], token)
            counts["postponed"] += 1
            continue
        body = body_of(row.event)
        answer = post(row.endpoint.url, body, headers_of(row, body, int(time.time())))
        if answer.ok:
            _mark_sent(row, token, answer)
            sent.add((row.endpoint_id, row.object_key))
            counts["sent"] += 1
        else:
            logger.info("webhook delivery %s failed: %s", row.pk, answer.error)
            counts["failed" if _mark_failed(row, token, answer) else "retrying"] += 1
            paused.add(row.endpoint_id)
        if time.monotonic() - renewed > _renew_every():
            renew_claims(WebhookDelivery, [later.pk for later in rows[index + 1 :]], token)
            renewed = time.monotonic()
    return sent


def _renew_every() -> float:
    """Seconds between the batch's signs of life: well inside the claim's lifetime (a
    renewal after every delivery rewrote the rest of the batch each time: 4x slower)."""
    return min(10.0, settings.CRM_WEBHOOK_CLAIM_SECONDS / 4)


def _result(answer: Answer) -> dict:
    return {
        "last_attempt_at": timezone.now(),
        "response_code": answer.status,
        "duration_ms": answer.duration_ms,
        "error": answer.error[:2000],
        "claimed_at": None,
        "claim_token": None,
    }


@transaction.atomic
def _mark_sent(row: WebhookDelivery, token: uuid.UUID, answer: Answer) -> None:
    if connection.vendor == "postgresql":
        # Without waiting for the disk: the flush per delivery was 2/3 of a worker's time.
        # A mark lost in a database crash leaves the claim, whose release sends the event
        # again, same id: the at-least-once promise holds.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
    WebhookDelivery.objects.filter(pk=row.pk, claim_token=token).update(
        status=Status.SENT,
        attempts=F("attempts") + 1,
        delivered_at=timezone.now(),
        **_result(answer),
    )
    if row.endpoint.consecutive_failures or row.endpoint.paused_until:
        WebhookEndpoint.objects.filter(pk=row.endpoint_id).update(
            consecutive_failures=0, paused_until=None
        )


def _mark_failed(row: WebhookDelivery, token: uuid.UUID, answer: Answer) -> bool:
    """Count the attempt against the delivery and its endpoint; True when given up."""
    now = timezone.now()
    attempts = row.attempts + 1
    retry_at = now + retry_delay(attempts)
    deadline = row.event.occurred_at + timedelta(hours=settings.CRM_WEBHOOK_RETRY_HOURS)
    gave_up = retry_at > deadline
    WebhookDelivery.objects.filter(pk=row.pk, claim_token=token).update(
        status=Status.FAILED if gave_up else Status.PENDING,
        attempts=attempts,
        next_attempt_at=retry_at,
        **_result(answer),
    )
    _count_endpoint_failure(row.endpoint, answer.error, now)
    return gave_up


def _count_endpoint_failure(endpoint: WebhookEndpoint, error: str, now: datetime) -> None:
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.consecutive_failures += 1
        locked.paused_until = now + retry_delay(locked.consecutive_failures)
        locked.save(update_fields=["consecutive_failures", "paused_until"])
        if locked.is_active and locked.consecutive_failures >= settings.CRM_WEBHOOK_DISABLE_AFTER:
            reason = _("%(count)s failed deliveries in a row; the last: %(error)s") % {
                "count": locked.consecutive_failures,
                "error": error,
            }
            endpoint_disable(endpoint=locked, reason=reason)


def deliveries_release_stale(*, now: datetime | None = None) -> int:
    """Deliveries left "sending" by a worker that died: the attempt counts and they are due
    at once. The receiver may have taken the event already: it gets it again, same id."""
    now = now or timezone.now()
    stale = WebhookDelivery.objects.filter(
        status=Status.SENDING,
        claimed_at__lt=now - timedelta(seconds=settings.CRM_WEBHOOK_CLAIM_SECONDS),
    )
    common = {
        "attempts": F("attempts") + 1,
        "error": "the worker stopped during delivery",
        "claimed_at": None,
        "claim_token": None,
    }
    # One that keeps killing its worker still ends, once its event is too old to retry.
    too_old = now - timedelta(hours=settings.CRM_WEBHOOK_RETRY_HOURS)
    with transaction.atomic():
        failed = stale.filter(event__occurred_at__lt=too_old).update(status=Status.FAILED, **common)
        released = stale.update(status=Status.PENDING, next_attempt_at=now, **common)
    return failed + released


def deliveries_sweep() -> dict:
    """The beat job: release stale claims, then deliver what is due."""
    released = deliveries_release_stale()
    return {"released": released, **deliveries_deliver_due()}
