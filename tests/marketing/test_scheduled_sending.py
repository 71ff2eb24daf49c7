"""Scheduled sending (issue 17): a marketer picks a time, the beat sends the campaign then,
once, however many beats or workers run at the same moment."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from marketing.models import Campaign, CampaignRecipient
from marketing.services.campaigns import campaign_update
from marketing.services.scheduling import campaign_schedule, send_due_campaigns
from marketing.tasks import send_scheduled
from tests.factories import CampaignFactory, ConsentFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(marketer):
    for i in range(3):
        ConsentFactory(customer=CustomerFactory(name=f"Customer {i}"))
    return CampaignFactory(owner=marketer, subject="Hi {{ first_name }}", body="For {{ name }}")


def local_input(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def send_url(campaign):
    return reverse("marketing:campaign-send", args=[campaign.pk])


def test_scheduling_from_the_send_page_sends_nothing_until_the_time(marketer_client, campaign):
    when = timezone.now() + timedelta(hours=2)
    response = marketer_client.post(
        send_url(campaign), {"send_rate": "600", "send_at": local_input(when), "schedule": "1"}
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED
    assert abs(campaign.send_at - when) < timedelta(minutes=1)
    assert campaign.starts_on == timezone.localdate(campaign.send_at)
    assert not CampaignRecipient.objects.exists() and mail.outbox == []
    page = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert 'id="scheduled-for"' in page
    assert send_due_campaigns() == {"sent": 0, "refused": 0, "skipped": 0}


def test_scheduling_a_campaign_that_cannot_be_sent_says_why(marketer_client, campaign):
    """A refusal of the whole campaign (NotSendable) answered 500 (security review)."""
    Campaign.objects.filter(pk=campaign.pk).update(subject="")
    when = timezone.now() + timedelta(hours=2)
    response = marketer_client.post(
        send_url(campaign), {"send_rate": "600", "send_at": local_input(when), "schedule": "1"}
    )
    assert response.status_code in (200, 422)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_the_beat_sends_a_due_campaign_once(campaign, django_capture_on_commit_callbacks):
    campaign_schedule(
        campaign=campaign, by=campaign.owner, send_at=timezone.now() + timedelta(minutes=1)
    )
    later = timezone.now() + timedelta(minutes=2)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_campaigns(now=later) == {"sent": 1, "refused": 0, "skipped": 0}
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert len(mail.outbox) == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_campaigns(now=later) == {"sent": 0, "refused": 0, "skipped": 0}
    assert len(mail.outbox) == 3


def test_the_beat_task_is_the_service(campaign):
    Campaign.objects.filter(pk=campaign.pk).update(
        status="scheduled", send_at=timezone.now() - timedelta(seconds=1)
    )
    assert send_scheduled() == {"sent": 1, "refused": 0, "skipped": 0}


@pytest.mark.django_db(transaction=True)
def test_a_campaign_another_worker_holds_is_skipped_not_sent_twice(
    django_db_serialized_rollback, campaign
):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    Campaign.objects.filter(pk=campaign.pk).update(
        status="scheduled", send_at=timezone.now() - timedelta(seconds=1)
    )
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        with transaction.atomic():
            Campaign.objects.select_for_update().get(pk=campaign.pk)
            locked.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    assert locked.wait(10)
    try:
        assert send_due_campaigns() == {"sent": 0, "refused": 0, "skipped": 1}
        assert not CampaignRecipient.objects.exists()
    finally:
        release.set()
        thread.join()
    assert send_due_campaigns()["sent"] == 1
    assert CampaignRecipient.objects.count() == 3


def test_a_campaign_that_can_no_longer_be_sent_goes_back_to_draft(campaign):
    Campaign.objects.filter(pk=campaign.pk).update(
        status="scheduled", send_at=timezone.now() - timedelta(seconds=1), body=""
    )
    assert send_due_campaigns() == {"sent": 0, "refused": 1, "skipped": 0}
    campaign.refresh_from_db()
    assert (campaign.status, campaign.send_at) == ("draft", None)
    assert not CampaignRecipient.objects.exists()


def test_back_to_draft_forgets_the_time(campaign):
    scheduled = campaign_schedule(
        campaign=campaign, by=campaign.owner, send_at=timezone.now() + timedelta(days=1)
    )
    campaign_update(campaign=scheduled, expected_version=scheduled.version, data={}, status="draft")
    campaign.refresh_from_db()
    assert campaign.send_at is None
    assert send_due_campaigns(now=timezone.now() + timedelta(days=2))["sent"] == 0


@pytest.mark.parametrize(
    "send_at",
    ["", "2020-01-01T10:00", "9999-12-31T23:59", "yesterday", "2030-02-30T10:00",
     "<script>", "1" * 300, "-1", "2030-13-01T10:00"],
)  # fmt: skip
def test_a_bad_or_past_time_is_a_form_error(marketer_client, campaign, send_at):
    response = marketer_client.post(
        send_url(campaign), {"send_rate": "600", "send_at": send_at, "schedule": "1"}
    )
    assert response.status_code == 422
    campaign.refresh_from_db()
    assert campaign.status == "draft" and campaign.send_at is None


@pytest.mark.parametrize("send_at", ["２０９９-01-01T10:00", "2099-01-01T10:00\x00"])
def test_odd_but_readable_times_never_break_the_page(marketer_client, campaign, send_at):
    response = marketer_client.post(
        send_url(campaign), {"send_rate": "600", "send_at": send_at, "schedule": "1"}
    )
    assert response.status_code in (302, 422)


def test_only_who_may_send_may_schedule(rep_client, agent_client, campaign):
    data = {"send_rate": "600", "send_at": "2099-01-01T10:00", "schedule": "1"}
    assert rep_client.post(send_url(campaign), data).status_code == 403
    assert agent_client.post(send_url(campaign), data).status_code == 403
    campaign.refresh_from_db()
    assert campaign.send_at is None
