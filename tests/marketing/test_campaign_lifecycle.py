"""A campaign is sent, then runs to its end date (issue 17): its lead form lives as long as
the schedule says, "sent" is not "completed", and the page's panels agree."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from marketing.lead_form_link import lead_form_token
from marketing.models import Campaign, CampaignRecipient, LeadSubmission
from marketing.services import sending
from marketing.tasks import sweep_sending
from tests.factories import (
    CampaignFactory,
    CampaignRecipientFactory,
    ConsentFactory,
    CustomerFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_page_setup")]
LEAD = {"name": "Li Lei", "email": "li.lei@example.com"}


def form_url(campaign):
    return reverse("public-marketing:lead-form", args=[lead_form_token(campaign)])


@pytest.fixture
def running_to_next_month(marketer):
    for i in range(2):
        ConsentFactory(customer=CustomerFactory(name=f"Customer {i}"))
    today = timezone.localdate()
    return CampaignFactory(
        owner=marketer, starts_on=today, ends_on=today + timedelta(days=30), channel="email"
    )


def test_sending_leaves_the_campaign_sent_and_its_form_open(
    running_to_next_month, django_capture_on_commit_callbacks, client
):
    campaign = running_to_next_month
    with django_capture_on_commit_callbacks(execute=True):
        sending.campaign_send(campaign=campaign, by=campaign.owner)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert campaign.send_finished_at is not None
    assert client.get(form_url(campaign)).status_code == 200
    response = client.post(form_url(campaign), LEAD)
    assert response.status_code == 302
    assert LeadSubmission.objects.filter(campaign=campaign).count() == 1


def test_a_hand_delivered_channel_is_sent_not_completed(marketer, client):
    ConsentFactory(customer=CustomerFactory(), channel="mail")
    campaign = CampaignFactory(owner=marketer, channel="mail", subject="", body="")
    sending.campaign_send(campaign=campaign, by=marketer)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert client.get(form_url(campaign)).status_code == 200


def test_the_form_closes_after_the_end_date_and_the_sweep_completes_the_campaign(client):
    today = timezone.localdate()
    ended = CampaignFactory(status="sent", ends_on=today - timedelta(days=1))
    last_day = CampaignFactory(status="sent", ends_on=today)
    assert client.get(form_url(ended)).status_code == 410  # before the sweep too
    assert client.post(form_url(ended), LEAD).status_code == 410
    assert client.get(form_url(last_day)).status_code == 200
    assert sweep_sending()["ended"] == 1
    ended.refresh_from_db()
    last_day.refresh_from_db()
    assert (ended.status, last_day.status) == ("completed", "sent")
    assert client.get(form_url(ended)).status_code == 410
    assert not LeadSubmission.objects.exists()


def test_a_marketer_may_end_a_sent_campaign_early_but_not_reopen_a_completed_one():
    from marketing.services.campaigns import MANUAL_TRANSITIONS

    assert Campaign.Status.COMPLETED in MANUAL_TRANSITIONS[Campaign.Status.SENT]
    assert MANUAL_TRANSITIONS[Campaign.Status.COMPLETED] == set()


def test_the_embed_card_says_until_when_the_form_takes_leads(marketer_client, marketer):
    today = timezone.localdate()
    campaign = CampaignFactory(owner=marketer, status="sent", ends_on=today + timedelta(days=3))
    page = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert "The form takes leads until the campaign ends on" in page
    Campaign.objects.filter(pk=campaign.pk).update(status="completed")
    page = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert "The form is closed" in page


def test_a_campaign_with_recipients_never_says_not_sent_yet(marketer_client, marketer):
    """Rows written without the sender's timestamps (an import, the old demo data)."""
    campaign = CampaignFactory(owner=marketer, status="completed")
    CampaignRecipientFactory.create_batch(
        3, campaign=campaign, status="sent", sent_at=timezone.now()
    )
    page = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert "Not sent yet" not in page
    assert reverse("marketing:campaign-send-progress", args=[campaign.pk]) in page


def test_the_panels_name_the_same_number_the_same(marketer_client, marketer):
    """26 delivered and 1 bounced: the report's "Sent" is 27, and the recipients' panel
    calls the 26 "Delivered", as the report does, not "Sent"."""
    campaign = CampaignFactory(owner=marketer, status="sent")
    now = timezone.now()
    CampaignRecipientFactory.create_batch(26, campaign=campaign, status="sent", sent_at=now)
    CampaignRecipientFactory(campaign=campaign, status="bounced", sent_at=now)
    page = marketer_client.get(campaign.get_absolute_url())
    counts = dict(page.context["recipient_counts"])
    assert counts["Delivered"] == 26 and counts["Bounced"] == 1 and "Sent" not in counts
    report = marketer_client.get(reverse("marketing:campaign-report", args=[campaign.pk]))
    cells = report.context["cells"]
    assert (cells["sent"]["text"], cells["delivered"]["text"]) == ("27", "26")
    assert CampaignRecipient.Status.SENT.label == "Delivered"
