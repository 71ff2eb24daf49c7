"""Claimed recipients of a dead worker are released within a minute or two, never a live
worker's: a delivering worker beats on its claim, the sweep releases silent claims."""

import time
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from marketing.models import CampaignRecipient
from marketing.services import sending
from marketing.tasks import sweep_sending
from tests.factories import CampaignFactory, ConsentFactory, CustomerFactory

pytestmark = pytest.mark.django_db
R = CampaignRecipient.Status


def campaign_with(n: int, rate: int = 240):
    for customer in CustomerFactory.create_batch(n):
        ConsentFactory(customer=customer)
    campaign = CampaignFactory.create()
    sending.campaign_send(campaign=campaign, by=campaign.owner, rate=rate)
    return campaign


def test_a_dead_workers_claim_is_released_after_ninety_seconds_not_fifteen_minutes():
    assert django_settings.CRM_CLAIM_STALE_SECONDS == 90
    campaign = campaign_with(2, rate=60)  # one row per claim
    now = timezone.now()
    dead = sending.claim_batch(
        campaign_id=campaign.pk, worker="dead", now=now - timedelta(seconds=91)
    )
    quiet = sending.claim_batch(
        campaign_id=campaign.pk, worker="quiet", now=now - timedelta(seconds=60), paced=False
    )
    assert dead.count == quiet.count == 1
    assert sending.requeue_stale(now=now) == 1
    assert CampaignRecipient.objects.get(claimed_by=quiet.token).status == R.SENDING
    released = CampaignRecipient.objects.get(status=R.QUEUED)
    assert released.claimed_by == "" and released.next_attempt_at is None


def test_the_minute_sweep_releases_and_restarts_a_campaign_whose_worker_died(settings):
    """The beat's task: released rows are sent again with no one's help (inline here)."""
    campaign = campaign_with(3)
    claim = sending.claim_batch(campaign_id=campaign.pk, worker="dead", paced=False)
    assert claim.count == 3  # then the worker died before sending any
    long_ago = timezone.now() - timedelta(seconds=120)
    CampaignRecipient.objects.filter(claimed_by=claim.token).update(claimed_at=long_ago)
    campaign.__class__.objects.filter(pk=campaign.pk).update(send_not_before=long_ago)
    result = sweep_sending()
    assert result["requeued"] == 3 and result["restarted"] == 1
    rows = CampaignRecipient.objects.filter(campaign=campaign)
    assert set(rows.values_list("status", flat=True)) == {R.SENT}
    assert set(rows.values_list("attempts", flat=True)) == {2}


def test_a_live_workers_heartbeat_keeps_its_claim():
    campaign = campaign_with(2)
    claim = sending.claim_batch(
        campaign_id=campaign.pk, worker="slow", now=timezone.now() - timedelta(seconds=80)
    )
    sending.ClaimHeartbeat(claim.token).beat()
    assert sending.requeue_stale(now=timezone.now() + timedelta(seconds=60)) == 0
    assert sending.requeue_stale(now=timezone.now() + timedelta(seconds=91)) == 2


class PausedBackend(BaseEmailBackend):
    """The SMTP boundary. On the first message the worker "pauses" past the claim timeout:
    meanwhile the sweep releases its rows and another worker claims them."""

    campaign_id: int = 0
    accepted: list = []
    other: sending.Claim | None = None

    def send_messages(self, messages):
        for message in messages:
            if not PausedBackend.accepted:
                time.sleep(sending.heartbeat_every() + 0.05)
                later = timezone.now() + timedelta(seconds=django_settings.CRM_CLAIM_STALE_SECONDS)
                sending.requeue_stale(now=later + timedelta(seconds=1))
                PausedBackend.other = sending.claim_batch(
                    campaign_id=PausedBackend.campaign_id, worker="other", paced=False
                )
            PausedBackend.accepted.append(message.to[0])
        return len(messages)


def test_a_worker_that_lost_its_claim_stops_sending_those_rows(settings):
    settings.CRM_CLAIM_STALE_SECONDS = 2  # a beat every 0.67 s
    settings.EMAIL_BACKEND = "tests.marketing.test_claim_heartbeat.PausedBackend"
    campaign = campaign_with(4)
    PausedBackend.campaign_id, PausedBackend.accepted = campaign.pk, []
    claim = sending.claim_batch(campaign_id=campaign.pk, worker="paused", paced=False)
    assert claim.count == 4
    result = sending.deliver_claimed(campaign_id=campaign.pk, token=claim.token)
    # It sent the message it was on, then its heartbeat found the other rows taken.
    assert result.sent == 1 and len(PausedBackend.accepted) == 1
    assert PausedBackend.other.count == 4  # the row in flight too, released with the rest
    taken = CampaignRecipient.objects.filter(claimed_by=PausedBackend.other.token)
    # The row in flight was marked sent after the server took it; the other worker sends
    # only the rows still `sending` under its token: the three this one skipped.
    assert taken.filter(status=R.SENT).count() == 1
    assert taken.filter(status=R.SENDING).count() == 3
    first_worker = list(PausedBackend.accepted)
    PausedBackend.accepted = ["(no more pauses)"]
    sending.deliver_claimed(campaign_id=campaign.pk, token=PausedBackend.other.token)
    every_message = first_worker + PausedBackend.accepted[1:]
    emails = CampaignRecipient.objects.filter(campaign=campaign).values_list(
        "customer__email", flat=True
    )
    assert sorted(every_message) == sorted(emails)  # each recipient once
    assert CampaignRecipient.objects.filter(status=R.SENT).count() == 4
