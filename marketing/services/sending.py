"""Sending a campaign: freeze the audience, then deliver in paced batches on Celery.

`campaign_send` freezes the audience into CampaignRecipient rows (with coupon codes) in
one transaction and queues the Celery task after commit. The task (marketing.tasks)
calls `send_batches`, which repeats: claim a batch, deliver it, until nothing is left.

Never twice to one recipient, however many workers run the same campaign: a worker
CLAIMS rows before sending (`queued` -> `sending` with its own claim token, in one
UPDATE whose WHERE re-checks `status = 'queued'`, so two workers cannot both win a row;
the ids come from SELECT ... FOR UPDATE SKIP LOCKED so they do not even wait for each
other), and only sends the rows its token holds. A row is marked `sent` right after the
mail server accepted it.

A worker that dies leaves its claimed rows `sending`. While it delivers, the worker
beats: it moves `claimed_at` of the rows its token still holds forward at least every
third of settings.CRM_CLAIM_STALE_SECONDS (90 s), before each message once due, so a
live worker's rows are never taken from it, even behind a hung SMTP call (EMAIL_TIMEOUT).
`requeue_stale` (the beat's sweep, every minute) puts rows whose heartbeat is older than
that back to `queued`, and the sweep restarts the campaign's task: a dead worker's
recipients are sent again within about two minutes. Before each message the worker
checks its claim still holds when it beats, so a worker that was only paused past the
timeout stops instead of sending rows now claimed by another.

The one window left is a worker dying after the server accepted a message and before
the UPDATE: that row stays `sending` and is re-queued by the sweep. We chose at-least-once
for that crash window (the customer may get the email twice) rather than at-most-once
(silently losing it): a crash there is rare, and a marketer can see and explain a
duplicate, not a message that was never sent. Everywhere else delivery is exactly once.

Pace: `Campaign.send_rate` messages per minute across all workers. Claiming locks the
campaign row and moves `send_not_before` forward by n * 60 / rate seconds for a batch of
n, so two workers share the rate instead of doubling it.
"""

import os
import smtplib
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Exists, F, Min, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from analytics.models import CustomerValue
from analytics.selectors import current_run
from crm.lib.bulk import bulk_insert
from crm.lib.tasks import queue_on_commit
from customers.models import Consent
from marketing import channels
from marketing.audience import CONSENT_CHANNEL, audience_queryset
from marketing.audience_rule import AudienceRule
from marketing.channels import Composer, transport_for
from marketing.models import Campaign, CampaignChannel, CampaignRecipient
from marketing.services.campaigns import coupon_codes
from marketing.services.subject_tests import subject_test_split
from marketing.sms import SmsRefused
from marketing.tasks import send_campaign

R = CampaignRecipient.Status
# Channels whose messages the workers deliver; the others are done when the audience freezes.
DELIVERED = (CampaignChannel.EMAIL, CampaignChannel.SMS)
MAX_BATCH = 200  # rows per claim: one batch's messages go out on one SMTP connection
MAX_SLEEP = 5.0  # a worker waits this long in-process for its next slot, else reschedules


def claim_timeout() -> timedelta:
    """Claimed rows whose heartbeat is older than this belong to a dead worker."""
    return timedelta(seconds=settings.CRM_CLAIM_STALE_SECONDS)


def heartbeat_every() -> float:
    """Seconds between a delivering worker's heartbeats: a third of the timeout, at most 10."""
    return min(10.0, settings.CRM_CLAIM_STALE_SECONDS / 3)


def max_attempts() -> int:
    return settings.CRM_SEND_MAX_ATTEMPTS


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the `attempts`-th failed try: base, 2×base, 4×base…"""
    return timedelta(seconds=settings.CRM_SEND_RETRY_SECONDS * 2 ** max(0, attempts - 1))


def batch_size(rate_per_minute: int) -> int:
    """About one second's worth of messages, at least one, at most MAX_BATCH."""
    return max(1, min(MAX_BATCH, rate_per_minute // 60))


def next_slot(not_before: datetime | None, now: datetime, sent: int, rate: int) -> datetime:
    """When the batch after one of `sent` messages may start, at `rate` per minute."""
    start = now if not_before is None or not_before < now else not_before
    return start + timedelta(seconds=sent * 60 / rate)


class NotSendable(ValidationError):
    pass


# --- freezing the audience -------------------------------------------------------------


@transaction.atomic
def campaign_send(*, campaign: Campaign, by: User, rate: int | None = None) -> int:
    """Freeze the audience and start delivery; returns the number of new recipients."""
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    check_sendable(locked)
    if rate is not None:
        locked.send_rate = rate
    now = timezone.now()
    added = _freeze_audience(locked, now=now)
    subject_test_split(locked)
    locked.send_started_at = now
    locked.send_not_before = None
    if locked.channel in DELIVERED:
        locked.status = Campaign.Status.RUNNING
        queue_on_commit(send_campaign, locked.pk)
    else:
        if locked.channel == CampaignChannel.PHONE:
            channels.call_tasks_create(campaign=locked, by=by)
        # Call lists, letters and social posts go out by hand: the list is the delivery.
        locked.recipients.filter(status=R.QUEUED).update(status=R.SENT, sent_at=now)
        locked.status = Campaign.Status.SENT  # sent, not over: it runs to its end date
        locked.send_finished_at = now
    locked.version += 1
    locked.full_clean()
    locked.save()
    return added


def dispatch(campaign_id: int, copies: int = 1) -> None:
    """Queue `copies` delivery tasks now (the sweep's restarts, benchmarks and tests)."""
    for _i in range(copies):
        send_campaign.delay(campaign_id)


def check_sendable(campaign: Campaign) -> None:
    if campaign.status not in Campaign.EDITABLE_STATUSES:
        raise NotSendable(_("Only a draft or scheduled campaign can be sent."))
    if campaign.channel == CampaignChannel.EMAIL and not (campaign.subject and campaign.body):
        raise NotSendable(_("Write the email's subject and message before sending."))
    if campaign.channel == CampaignChannel.SMS and not campaign.body:
        raise NotSendable(_("Write the message before sending."))


def _freeze_audience(campaign: Campaign, *, now: datetime) -> int:
    """Insert a queued recipient per audience member not already in the campaign (a
    cancelled and re-sent campaign keeps its earlier rows), with a coupon when it has one."""
    # NOT EXISTS (an anti-join), not NOT IN: PostgreSQL cannot hash a NOT IN subquery
    # larger than work_mem and would rescan it per customer.
    already = CampaignRecipient.objects.filter(campaign=campaign, customer_id=OuterRef("pk"))
    audience = audience_queryset(
        AudienceRule.from_dict(campaign.audience), channel=campaign.channel
    ).exclude(Exists(already))
    ids = list(audience.order_by("pk").values_list("pk", flat=True))
    if not ids:
        return 0
    codes = coupon_codes(len(ids), prefix=campaign.coupon_prefix) if campaign.coupon_prefix else []
    segments = _segments(audience)
    fields = ["campaign_id", "customer_id", "coupon_code", "segment", *_DEFAULTS, "created_at"]
    defaults = list(_DEFAULTS.values())
    rows = (
        (campaign.pk, cid, codes[i] if codes else "", segments.get(cid, ""), *defaults, now)
        for i, cid in enumerate(ids)
    )
    return bulk_insert(CampaignRecipient, fields, rows)


# Every other column COPY must be given (it does not apply model defaults).
_DEFAULTS = {
    "status": R.QUEUED.value,
    "failure_reason": "",
    "attempts": 0,
    "sent_at": None,
    "outcome": "",
    "outcome_note": "",
    "responded_at": None,
    "converted_at": None,
    "conversion_order_id": None,
    "revenue": 0,
    "claimed_by": "",
    "claimed_at": None,
    "next_attempt_at": None,
}


def _segments(audience) -> dict[int, str]:
    run = current_run()
    if run is None:
        return {}
    values = CustomerValue.objects.filter(run=run, customer_id__in=audience.values("pk"))
    return dict(values.values_list("customer_id", "segment"))


# --- claiming and delivering ---------------------------------------------------------


@dataclass
class Claim:
    token: str = ""
    count: int = 0
    wait: float | None = None  # seconds until work may be claimed; None: nothing left


@transaction.atomic
def claim_batch(
    *, campaign_id: int, worker: str, now: datetime | None = None, paced: bool = True
) -> Claim:
    now = now or timezone.now()
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
    if campaign is None or campaign.status != Campaign.Status.RUNNING:
        return Claim()
    if paced and campaign.send_not_before and campaign.send_not_before > now:
        return Claim(wait=(campaign.send_not_before - now).total_seconds())
    queued = CampaignRecipient.objects.filter(campaign_id=campaign_id, status=R.QUEUED)
    due = queued.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    ids = list(
        due.select_for_update(skip_locked=True)
        .order_by("id")
        .values_list("id", flat=True)[: batch_size(campaign.send_rate)]
    )
    token = f"{worker}:{uuid.uuid4().hex[:12]}"
    count = CampaignRecipient.objects.filter(pk__in=ids, status=R.QUEUED).update(
        status=R.SENDING, claimed_by=token, claimed_at=now, attempts=F("attempts") + 1
    )
    if count:
        campaign.send_not_before = next_slot(
            campaign.send_not_before, now, count, campaign.send_rate
        )
        campaign.save(update_fields=["send_not_before"])
        return Claim(token=token, count=count, wait=0)
    retry_at = queued.aggregate(at=Min("next_attempt_at"))["at"]
    return Claim(wait=None if retry_at is None else max(0.0, (retry_at - now).total_seconds()))


@dataclass
class BatchResult:
    sent: int = 0
    bounced: int = 0
    failed: int = 0
    retrying: int = 0

    def add(self, other: "BatchResult") -> None:
        for key in ("sent", "bounced", "failed", "retrying"):
            setattr(self, key, getattr(self, key) + getattr(other, key))


class Permanent(Exception):
    """Retrying will not help; `bounced` when the receiving side refused the address."""

    def __init__(self, reason: str, *, bounced: bool):
        super().__init__(reason)
        self.bounced = bounced


def deliver_claimed(
    *, campaign_id: int, token: str, connection: BaseEmailBackend | None = None
) -> BatchResult:
    """Send the rows `token` claimed; each is marked as soon as its fate is known."""
    campaign = Campaign.objects.get(pk=campaign_id)
    rows = list(
        CampaignRecipient.objects.filter(claimed_by=token, status=R.SENDING)
        .select_related("customer__owner")
        .order_by("id")
    )
    rows, result = _skip_opted_out(campaign, rows)
    composer = Composer(campaign, [row.customer_id for row in rows])
    transport = transport_for(campaign, connection)
    beat = ClaimHeartbeat(token)
    try:
        with _quick_commits():
            for row in rows:
                if not beat.still_holds(row.pk):
                    continue  # re-queued by the sweep meanwhile: another worker sends it
                result.add(_deliver_one(row, composer, transport))
    finally:
        transport.close()
    return result


class ClaimHeartbeat:
    """A delivering worker's sign of life: moves `claimed_at` of the rows its token still
    holds forward every heartbeat_every() seconds (one short UPDATE, autocommitted)."""

    def __init__(self, token: str):
        self.token = token
        self.last = time.monotonic()
        self.held: set[int] | None = None  # None: not re-checked since the claim

    def still_holds(self, row_id: int) -> bool:
        if time.monotonic() - self.last >= heartbeat_every():
            self.beat()
        return self.held is None or row_id in self.held

    def beat(self) -> None:
        mine = CampaignRecipient.objects.filter(claimed_by=self.token, status=R.SENDING)
        mine.update(claimed_at=timezone.now())
        self.held = set(mine.values_list("pk", flat=True))
        self.last = time.monotonic()


def _skip_opted_out(campaign: Campaign, rows: list[CampaignRecipient]):
    """Recipients who withdrew consent since the audience was frozen (an unsubscribe link
    of an earlier message, the preferences page, a rep), and email recipients whose
    address hard-bounced since, get nothing: marked failed with the reason. Returns the
    rows still to send and the tally so far."""
    rows, skipped = _skip_undeliverable(campaign, rows)
    consented = set(
        Consent.objects.filter(
            customer_id__in=[row.customer_id for row in rows],
            channel=CONSENT_CHANNEL[campaign.channel],
            granted=True,
        ).values_list("customer_id", flat=True)
    )
    withdrawn = [row.pk for row in rows if row.customer_id not in consented]
    if withdrawn:
        CampaignRecipient.objects.filter(pk__in=withdrawn).update(
            status=R.FAILED, failure_reason=_("Opted out before sending."), claimed_by=""
        )
    kept = [row for row in rows if row.customer_id in consented]
    return kept, BatchResult(failed=len(withdrawn) + skipped)


def _skip_undeliverable(campaign: Campaign, rows: list[CampaignRecipient]):
    if campaign.channel != CampaignChannel.EMAIL:
        return rows, 0
    bounced = [row.pk for row in rows if row.customer.email_undeliverable]
    if bounced:
        CampaignRecipient.objects.filter(pk__in=bounced).update(
            status=R.FAILED, failure_reason=_("The email address bounced."), claimed_by=""
        )
    return [row for row in rows if row.pk not in bounced], len(bounced)


@contextmanager
def _quick_commits():
    """Each recipient's mark commits without waiting for the disk (PostgreSQL).

    A worker crash loses nothing (the server has the commit); only a crash of the
    database server itself may lose the last fraction of a second of marks, whose rows
    then stay `sending` and are re-queued by the sweep: the same at-least-once window as
    a worker dying mid-send. Waiting for the disk per message costs more than the send.
    """
    if db_connection.vendor != "postgresql" or db_connection.in_atomic_block:
        yield
        return
    with db_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with db_connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO DEFAULT")


def _deliver_one(row: CampaignRecipient, composer: Composer, transport) -> BatchResult:
    try:
        transport.send(composer.message(row, transport.connection))
    except Exception as error:  # noqa: BLE001 - classified below, every failure is recorded
        return _record_failure(row, error, transport)
    CampaignRecipient.objects.filter(pk=row.pk).update(
        status=R.SENT, sent_at=timezone.now(), failure_reason="", next_attempt_at=None
    )
    return BatchResult(sent=1)


def _record_failure(row: CampaignRecipient, error: Exception, transport) -> BatchResult:
    try:
        permanent = classify(error)
    except Exception:  # noqa: BLE001 - an unknown error is retried like a network one
        permanent = None
    reason = f"{type(error).__name__}: {error}"[:500]
    update = {"failure_reason": reason, "claimed_by": ""}
    if permanent is not None:
        status = R.BOUNCED if permanent.bounced else R.FAILED
        CampaignRecipient.objects.filter(pk=row.pk).update(status=status, **update)
        return BatchResult(bounced=1) if permanent.bounced else BatchResult(failed=1)
    transport.reset()  # the connection may be broken: the next message opens a new one
    if row.attempts >= max_attempts():
        CampaignRecipient.objects.filter(pk=row.pk).update(status=R.FAILED, **update)
        return BatchResult(failed=1)
    retry_at = timezone.now() + retry_delay(row.attempts)
    CampaignRecipient.objects.filter(pk=row.pk).update(
        status=R.QUEUED, next_attempt_at=retry_at, **update
    )
    return BatchResult(retrying=1)


def classify(error: Exception) -> Permanent | None:
    """A Permanent for refusals retrying cannot fix; None for temporary failures."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        if codes and all(code >= 500 for code in codes):
            return Permanent(str(error), bounced=True)
        return None
    if isinstance(error, smtplib.SMTPSenderRefused):
        return None  # our sender address, not the recipient's: fix and retry
    if isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500:
        return Permanent(str(error), bounced=True)
    if isinstance(error, SmsRefused):
        return Permanent(str(error), bounced=True)
    if isinstance(error, BadHeaderError | ValueError | UnicodeError):
        return Permanent(str(error), bounced=False)  # the message itself cannot be sent
    return None  # network errors, 4xx answers, SmsError: temporary


def send_batches(
    *, campaign_id: int, worker: str, paced: bool = True, budget_seconds: float = 30.0
) -> float | None:
    """Claim and deliver until done or out of time; returns seconds until more work may be
    claimed (the caller schedules itself again), or None when nothing is left for it."""
    worker = f"{worker}/{os.getpid()}"
    deadline = time.monotonic() + budget_seconds
    while True:
        claim = claim_batch(campaign_id=campaign_id, worker=worker, paced=paced)
        if claim.count:
            deliver_claimed(campaign_id=campaign_id, token=claim.token)
            continue
        if claim.wait is None:
            finish_if_done(campaign_id)
            return None
        left = deadline - time.monotonic()
        if not paced or claim.wait > min(MAX_SLEEP, left):
            return claim.wait
        time.sleep(claim.wait)


def finish_if_done(campaign_id: int) -> bool:
    """Mark a running campaign sent once no recipient is queued, held or being sent (it
    stays live, lead form included, until its end date: complete_ended)."""
    pending = CampaignRecipient.objects.filter(
        campaign_id=campaign_id, status__in=[R.QUEUED, R.SENDING, R.HELD]
    )
    if pending.exists():
        return False
    return bool(
        Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.RUNNING).update(
            status=Campaign.Status.SENT, send_finished_at=timezone.now()
        )
    )


def requeue_stale(*, now: datetime | None = None, timeout: timedelta | None = None) -> int:
    """Put rows whose claiming worker stopped beating back in the queue (see the module)."""
    now = now or timezone.now()
    timeout = timeout or claim_timeout()
    return CampaignRecipient.objects.filter(status=R.SENDING, claimed_at__lt=now - timeout).update(
        status=R.QUEUED, claimed_by="", next_attempt_at=None
    )


def sending_sweep() -> dict[str, int]:
    """The beat's minute sweep: re-queue rows of dead workers, restart lost campaigns, mark
    sent those with nothing left to send, complete those past their end date."""
    requeued = requeue_stale()
    stalled = stalled_campaigns()
    for campaign_id in stalled:
        dispatch(campaign_id)
    completed = complete_finished()
    ended = complete_ended()
    return {"requeued": requeued, "restarted": len(stalled), "completed": completed, "ended": ended}


def stalled_campaigns(*, now: datetime | None = None, idle: timedelta | None = None) -> list[int]:
    """Running campaigns with queued work and no claim for `idle` (the claim timeout):
    their task was lost. Restarting a live one costs nothing: rows are claimed."""
    now = now or timezone.now()
    idle = idle or claim_timeout()
    waiting = CampaignRecipient.objects.filter(status=R.QUEUED).filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    campaigns = Campaign.objects.filter(status=Campaign.Status.RUNNING).filter(
        Q(send_not_before__isnull=True) | Q(send_not_before__lt=now - idle)
    )
    return list(campaigns.filter(pk__in=waiting.values("campaign_id")).values_list("pk", flat=True))


def complete_ended(*, today: date | None = None) -> int:
    """Complete sent campaigns whose end date has passed: their lead form closes then."""
    today = today or timezone.localdate()
    return Campaign.objects.filter(status=Campaign.Status.SENT, ends_on__lt=today).update(
        status=Campaign.Status.COMPLETED
    )


def complete_finished() -> int:
    """Mark sent the running campaigns whose recipients are all delivered or given up."""
    running = Campaign.objects.filter(status=Campaign.Status.RUNNING).values_list("pk", flat=True)
    return sum(finish_if_done(pk) for pk in running)
