"""The admins' jobs page (issue 12.6) and the record of each beat task's last run."""

import uuid
from datetime import timedelta

import pytest
from celery import shared_task
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analytics.models import SegmentRun
from core.models import OutboxMessage, PeriodicTaskRun
from core.tasks import purge_idempotency_keys
from customers.models import CustomerImport
from marketing.models import CampaignRecipient
from tests.factories import (
    CampaignFactory,
    CampaignRecipientFactory,
    SegmentRunFactory,
    UserFactory,
)

URL = reverse("ops:jobs")


@pytest.fixture
def staff_client(db):
    client = Client()
    client.force_login(UserFactory(username="ops", is_staff=True))
    return client


@pytest.mark.parametrize(
    "persona", ["rep_client", "agent_client", "marketer_client", "manager_client", "nobody_client"]
)
def test_only_staff_see_the_page(db, request, persona):
    assert request.getfixturevalue(persona).get(URL).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("login") in response.url


def test_a_superuser_sees_it_and_the_admin_links_to_it(db):
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert client.get(URL).status_code == 200
    assert URL in client.get(reverse("admin:index")).content.decode()


def test_empty_states(staff_client):
    page = staff_client.get(URL).content.decode()
    empties = ["no-segment-runs", "no-campaign-sends", "no-customer-imports", "no-outbox-problems"]
    for empty in empties:
        assert f'id="{empty}"' in page
    assert "Not run yet" in page  # no beat task has run in this database
    assert 'id="ready-status"' in page


def make_troubles(n: int, owner) -> None:
    """A silent running run, and n of each: failed run, campaign with a stale claim and a
    failed recipient, queued import, failed and retrying emails; a failing beat task."""
    now = timezone.now()
    stale = now - timedelta(hours=2)
    if not SegmentRun.objects.filter(status=SegmentRun.Status.RUNNING).exists():
        SegmentRunFactory(
            status=SegmentRun.Status.RUNNING, heartbeat_at=stale, started_at=stale, is_current=False
        )
    for _ in range(n):
        SegmentRunFactory(status=SegmentRun.Status.FAILED, error="worker lost", is_current=False)
        campaign = CampaignFactory()
        CampaignRecipientFactory(
            campaign=campaign, status=CampaignRecipient.Status.SENDING, claimed_at=stale
        )
        CampaignRecipientFactory(campaign=campaign, status=CampaignRecipient.Status.FAILED)
        CustomerImport.objects.create(
            user=owner,
            file_name="leads.csv",
            text="x",
            row_count=3,
            status=CustomerImport.Status.QUEUED,
            queued_at=stale,
        )
        for status, attempts in (("failed", 8), ("pending", 2)):
            OutboxMessage.objects.create(
                to=["a@example.com"],
                subject="Re: help",
                status=status,
                attempts=attempts,
                last_error="SMTPServerDisconnected",
                message_id=f"<{uuid.uuid4()}@example.com>",
            )
    PeriodicTaskRun.objects.update_or_create(
        task="core.tasks.sweep_outbox",
        defaults={
            "outcome": "failed",
            "started_at": now - timedelta(minutes=30),
            "error": "boom",
            "failures_in_a_row": 3,
        },
    )


def test_stuck_and_failed_jobs_are_listed(staff_client, manager):
    make_troubles(1, manager)
    page = staff_client.get(URL).content.decode()
    assert page.count("data-stuck") == 3  # the silent run, the old claim, the queued import
    assert "worker lost" in page and "leads.csv" in page
    assert "SMTPServerDisconnected" in page and "Retry now" in page
    assert reverse("admin:core_outboxmessage_changelist") in page
    assert 'id="beat-core-sweep-outbox" class="table-warning"' in page
    assert "data-overdue" in page and "boom" in page


def test_the_query_count_does_not_grow_with_the_rows(
    staff_client, manager, django_assert_max_num_queries
):
    make_troubles(1, manager)
    with django_assert_max_num_queries(17) as one:  # with the readiness checks and mailboxes
        staff_client.get(URL)
    make_troubles(6, manager)
    with django_assert_max_num_queries(len(one.captured_queries)):
        staff_client.get(URL)


def test_overdue_follows_the_schedule(staff_client):
    now = timezone.now()
    # The nightly task started a minute ago: a start hours ago is overdue when the
    # test runs just after the nightly hour (the CI run at 02:10 UTC found that).
    for task, ago in (("core.tasks.sweep_outbox", 30), ("analytics.tasks.nightly_segments", 60)):
        PeriodicTaskRun.objects.create(
            task=task, outcome="succeeded", started_at=now - timedelta(seconds=ago)
        )
    assert "data-overdue" not in staff_client.get(URL).content.decode()
    PeriodicTaskRun.objects.filter(task="core.tasks.sweep_outbox").update(
        started_at=now - timedelta(minutes=10)
    )
    assert staff_client.get(URL).content.decode().count("data-overdue") == 1


@shared_task(name="tests.integrations.failing_beat_task")
def failing_beat_task() -> None:
    raise RuntimeError("the mail server said no")


def test_a_beat_task_run_is_recorded_with_its_outcome(db, settings):
    purge_idempotency_keys.delay()
    run = PeriodicTaskRun.objects.get(task="core.tasks.purge_idempotency_keys")
    assert run.outcome == "succeeded" and run.finished_at >= run.started_at
    assert run.duration_seconds is not None and run.last_success_at == run.finished_at

    settings.CELERY_BEAT_SCHEDULE = {
        **settings.CELERY_BEAT_SCHEDULE,
        "failing": {"task": failing_beat_task.name, "schedule": timedelta(minutes=1)},
    }
    for _ in range(2):
        with pytest.raises(RuntimeError):
            failing_beat_task.delay()
    failed = PeriodicTaskRun.objects.get(task=failing_beat_task.name)
    assert failed.outcome == "failed" and failed.failures_in_a_row == 2
    assert failed.error == "RuntimeError: the mail server said no"


def test_tasks_outside_the_schedule_are_not_recorded(db):
    from core.tasks import deliver_outbox_message

    deliver_outbox_message.delay(0)
    assert not PeriodicTaskRun.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_records_the_run_of_a_task_beat_sent(celery_worker):
    """On a real worker, as beat sends it: by name, to the queue."""
    from django.conf import settings

    from crm.celery import app
    from tests.helpers import wait_for

    entry = settings.CELERY_BEAT_SCHEDULE["core-purge-idempotency-keys"]
    app.send_task(entry["task"], queue=app.conf.task_default_queue)

    def recorded() -> bool:
        run = PeriodicTaskRun.objects.filter(task=entry["task"]).first()
        return run is not None and run.outcome == PeriodicTaskRun.Outcome.SUCCEEDED

    assert wait_for(recorded, seconds=60)
    run = PeriodicTaskRun.objects.get(task=entry["task"])
    assert run.finished_at >= run.started_at and run.last_success_at == run.finished_at
