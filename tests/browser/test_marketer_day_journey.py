"""Issue 17's marketing journeys in Chromium: the lead form of a sent campaign still takes a
lead, a hand-recorded conversion shows in the report, and a campaign scheduled a minute
ahead is sent then by a real Celery worker (the test plays the beat: it publishes the
beat's task, marketing.tasks.send_scheduled, to the worker every few seconds)."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from marketing.models import Campaign, CampaignRecipient, LeadSubmission
from marketing.tasks import send_scheduled
from tests.factories import CampaignFactory, ConsentFactory, CustomerFactory

pytestmark = pytest.mark.browser


def _audience(n=2):
    for i in range(n):
        ConsentFactory(customer=CustomerFactory(name=f"Reader {i}", email=f"r{i}@example.com"))


def test_after_sending_the_form_takes_leads_and_a_hand_conversion_counts(
    page, new_page, login, base_url, marketer
):
    _audience()
    today = timezone.localdate()
    campaign = CampaignFactory(
        owner=marketer,
        name="Internal: spring push",
        form_title="Spring offers",
        subject="Hi {{ first_name }}",
        body="Hello",
        starts_on=today,
        ends_on=today + timedelta(days=20),
    )
    login(page, marketer)
    page.goto(base_url + campaign.get_absolute_url())
    page.locator("#send-now").click()
    page.locator("#confirm-send").click()
    expect(page.locator("#campaign-status")).to_have_text("Sent")
    expect(page.locator("#send-counts")).to_contain_text("Delivered 2")

    # A visitor fills in the embedded form after the send: it is still open.
    page.locator("#lead-form-embed summary").click()
    expect(page.locator("#lead-form-state")).to_contain_text("takes leads until")
    form_url = page.locator("#lead-form-embed a[target=_blank]").get_attribute("href")
    visitor = new_page()
    visitor.goto(base_url + form_url)
    expect(visitor.locator("h1")).to_have_text("Spring offers")
    visitor.get_by_label("Your name").fill("Li Lei")
    visitor.get_by_label("Your email").fill("li.lei@example.com")
    visitor.get_by_role("button", name="Send").click()
    expect(visitor.locator("#lead-thanks")).to_be_visible()
    assert LeadSubmission.objects.filter(campaign=campaign).count() == 1

    # A rep hears on the phone that Reader 1 bought: the marketer records it by hand.
    row = page.locator("tr", has_text="Reader 1")
    row.locator("select[name=outcome]").select_option("converted")
    row.get_by_role("button", name="Save").click()
    expect(row.locator("select[name=outcome]")).to_have_value("converted")
    page.reload()
    expect(page.locator("#figure-conversions")).to_contain_text("1")
    expect(page.locator("#figure-manual")).to_contain_text("1 by hand")
    expect(page.locator("#conversion-list")).to_contain_text("Reader 1")
    expect(page.locator("#conversion-list")).to_contain_text("recorded by hand")


def test_a_campaign_scheduled_a_minute_ahead_is_sent_then_by_a_worker(
    celery_worker, page, login, base_url, marketer
):
    _audience(3)
    campaign = CampaignFactory(owner=marketer, subject="Hi {{ first_name }}", body="Hello")
    login(page, marketer)
    page.goto(base_url + campaign.get_absolute_url())
    page.locator("#send-now").click()
    # The next whole minute at least 60 seconds away (the field has minutes only).
    when = timezone.localtime(timezone.now() + timedelta(seconds=60)).replace(
        second=0, microsecond=0
    )
    when += timedelta(minutes=1)
    page.locator("#id_send_at").fill(when.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#confirm-schedule").click()
    expect(page.locator("#scheduled-for")).to_be_visible()
    expect(page.locator("#campaign-status")).to_have_text("Scheduled")

    deadline = time.monotonic() + (when - timezone.now()).total_seconds() + 90
    sent_at = None
    while time.monotonic() < deadline:
        send_scheduled.delay()  # what the beat does every CRM_SWEEP_SECONDS
        time.sleep(3)
        if CampaignRecipient.objects.filter(campaign=campaign, status="sent").count() == 3:
            sent_at = timezone.now()
            break
        assert (
            timezone.now() < when
            or not CampaignRecipient.objects.filter(campaign=campaign, sent_at__lt=when).exists()
        )
    assert sent_at is not None, "the worker did not send the scheduled campaign"
    assert sent_at >= when
    assert not CampaignRecipient.objects.filter(campaign=campaign, sent_at__lt=when).exists()
    page.reload()
    expect(page.locator("#campaign-status")).to_have_text("Sent")
    assert Campaign.objects.get(pk=campaign.pk).send_at == when
