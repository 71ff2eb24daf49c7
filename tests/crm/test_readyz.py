"""`/readyz` turns red when the deployment cannot do its work, green when it can (issue 12,
point 6): the database, Redis, a worker answering a ping, beat's last tick, no stuck job.

The worker and beat tests run a real Celery worker on Redis (PostgreSQL + Redis in CI).
"""

import json
import socket
import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analytics.models import SegmentRun
from crm.celery import app
from crm.lib.readiness import BEAT_TICK_KEY, BEAT_TICK_MAX_AGE_SECONDS, record_beat_tick
from marketing.models import CampaignRecipient
from tests.factories import CampaignRecipientFactory


def readyz() -> tuple[int, dict]:
    response = Client().get(reverse("readyz"))
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def background_jobs(redis_url, settings):
    """As in production: a broker, and tasks published to it rather than run inline."""
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


@pytest.mark.django_db
def test_green_when_nothing_is_stuck(settings):
    status, body = readyz()

    assert status == 200
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "worker", "beat", "stuck", "outbox"}
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["stuck"] == "ok"
    if not settings.REDIS_URL:  # tasks run inline: there is no worker or beat to ask
        assert body["checks"]["redis"] == "skipped"
        assert body["checks"]["worker"] == "skipped"


@pytest.mark.django_db
def test_readyz_is_public_and_shows_no_detail(settings):
    settings.REDIS_URL = f"redis://:s3cret@127.0.0.1:{closed_port()}/14"

    response = Client().get(reverse("readyz"))

    assert response.status_code == 503
    assert b"s3cret" not in response.content
    assert b"127.0.0.1" not in response.content
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_red_when_redis_does_not_answer(settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/14"

    status, body = readyz()

    assert status == 503
    assert body["status"] == "fail"
    assert body["checks"]["redis"] == "fail"
    assert body["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_red_with_a_segment_run_stuck_running():
    now = timezone.now()
    SegmentRun.objects.create(
        as_of=now.date(),
        status=SegmentRun.Status.RUNNING,
        created_at=now - timedelta(hours=1),
        started_at=now - timedelta(hours=1),
    )

    status, body = readyz()

    assert status == 503
    assert body["checks"]["stuck"] == "fail"


@pytest.mark.django_db
def test_a_run_that_just_started_is_not_stuck():
    SegmentRun.objects.create(
        as_of=timezone.localdate(), status=SegmentRun.Status.RUNNING, started_at=timezone.now()
    )

    status, body = readyz()

    assert body["checks"]["stuck"] == "ok"


@pytest.mark.django_db
def test_red_with_campaign_recipients_claimed_for_too_long():
    CampaignRecipientFactory(
        status=CampaignRecipient.Status.SENDING,
        claimed_by="dead-worker",
        claimed_at=timezone.now() - timedelta(minutes=20),
    )

    status, body = readyz()

    assert status == 503
    assert body["checks"]["stuck"] == "fail"


@pytest.mark.django_db
def test_red_without_a_worker(background_jobs):
    record_beat_tick()

    status, body = readyz()

    assert status == 503
    assert body["checks"]["redis"] == "ok"
    assert body["checks"]["worker"] == "fail"


@pytest.mark.django_db
def test_red_when_beat_has_not_ticked_for_minutes(background_jobs):
    record_beat_tick(now=time.time() - BEAT_TICK_MAX_AGE_SECONDS - 60)

    status, body = readyz()

    assert status == 503
    assert body["checks"]["beat"] == "fail"


def test_green_with_a_real_worker_and_beat_tick(celery_worker, settings):
    from django.core.cache import cache

    cache.delete(BEAT_TICK_KEY)
    # What beat sends every minute, by name, run by the worker.
    app.send_task(settings.CELERY_BEAT_SCHEDULE["beat-tick"]["task"])
    deadline = time.monotonic() + 20
    while cache.get(BEAT_TICK_KEY) is None and time.monotonic() < deadline:
        time.sleep(0.2)

    status, body = readyz()

    assert body == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "redis": "ok",
            "worker": "ok",
            "beat": "ok",
            "stuck": "ok",
            "outbox": "ok",
        },
    }
    assert status == 200


@pytest.mark.django_db
def test_red_with_an_outbox_claim_no_worker_renewed(settings):
    from core.models import OutboxMessage

    claim = timedelta(seconds=settings.CRM_OUTBOX_CLAIM_SECONDS)
    message = OutboxMessage.objects.create(
        to=["a@example.com"], message_id="<stuck@test>", status="sending"
    )
    OutboxMessage.objects.filter(pk=message.pk).update(claimed_at=timezone.now() - claim)
    assert readyz()[1]["checks"]["stuck"] == "ok"  # the sweep releases it now: not stuck yet

    OutboxMessage.objects.filter(pk=message.pk).update(claimed_at=timezone.now() - 3 * claim)
    status, body = readyz()

    assert status == 503
    assert body["checks"]["stuck"] == "fail"


@pytest.mark.django_db
def test_red_with_a_due_outbox_message_nobody_tried(settings):
    from core.models import OutboxMessage

    overdue = timezone.now() - 3 * timedelta(seconds=settings.CRM_OUTBOX_CLAIM_SECONDS)
    OutboxMessage.objects.create(
        to=["a@example.com"], message_id="<due@test>", next_attempt_at=overdue
    )

    status, body = readyz()

    assert status == 503
    assert body["checks"]["stuck"] == "fail"


@pytest.mark.django_db
def test_a_mail_server_in_trouble_is_a_warning_not_a_failure():
    """Messages waiting for a retry: the site works, mail waits; a monitor alerts on warn."""
    from core.models import OutboxMessage

    OutboxMessage.objects.create(
        to=["a@example.com"],
        message_id="<retrying@test>",
        attempts=1,
        last_error="SMTPDataError: 554",
        next_attempt_at=timezone.now() + timedelta(minutes=1),
    )

    status, body = readyz()

    assert body["checks"]["outbox"] == "warn"
    assert body["checks"]["stuck"] == "ok"
    assert (status, body["status"]) == (200, "ok")
