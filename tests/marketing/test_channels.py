"""Phone call lists, direct mail and the social channel: what sending them does."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Task
from marketing.channels import recipient_outcome_set
from marketing.models import Campaign, CampaignRecipient
from marketing.services import sending
from tests.factories import CampaignFactory, ConsentFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_phone_campaign_creates_call_tasks_for_the_owners(marketer):
    rep = UserFactory(username="rep-a")
    owned = CustomerFactory(owner=rep)
    orphan = CustomerFactory(owner=None)
    no_phone = CustomerFactory(owner=rep, phone="")
    for customer in (owned, orphan, no_phone):
        ConsentFactory(customer=customer, channel="phone")
    campaign = CampaignFactory(
        channel="phone", owner=marketer, name="Spring calls", subject="", body=""
    )

    assert sending.campaign_send(campaign=campaign, by=marketer) == 2

    tasks = Task.objects.order_by("customer_id")
    assert {(t.customer_id, t.assignee_id) for t in tasks} == {
        (owned.pk, rep.pk),
        (orphan.pk, marketer.pk),
    }
    assert all(t.title == "Call for campaign “Spring calls”" for t in tasks)
    assert all(t.due_date == timezone.localdate() and t.created_by == marketer for t in tasks)
    assert set(CampaignRecipient.objects.values_list("status", flat=True)) == {"sent"}
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_direct_mail_exports_names_and_addresses_safely(marketer, marketer_client, rep_client):
    formula = CustomerFactory(
        name='=HYPERLINK("http://evil")', address="1 Main St", organization=""
    )
    plain = CustomerFactory(name="Bo Chen", address="2 Side Rd", city="Shenzhen")
    nowhere = CustomerFactory(name="No Address", address="")
    for customer in (formula, plain, nowhere):
        ConsentFactory(customer=customer, channel="mail")
    campaign = CampaignFactory(
        channel="mail", owner=marketer, subject="", body="", coupon_prefix="MAIL"
    )
    sending.campaign_send(campaign=campaign, by=marketer)
    export = reverse("marketing:campaign-mail-export", args=[campaign.pk])

    response = marketer_client.get(export)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "name",
        "organization",
        "address",
        "city",
        "region",
        "country",
        "coupon_code",
    ]
    assert [r[0] for r in rows[1:]] == ['\'=HYPERLINK("http://evil")', "Bo Chen"]
    assert rows[2][2:4] == ["2 Side Rd", "Shenzhen"] and rows[2][6].startswith("MAIL-")
    assert rep_client.get(export).status_code == 403
    email_campaign = CampaignFactory(owner=marketer)
    other = reverse("marketing:campaign-mail-export", args=[email_campaign.pk])
    assert marketer_client.get(other).status_code == 404


def test_a_social_campaign_freezes_its_list_and_completes(marketer):
    ConsentFactory(customer=CustomerFactory(), channel="social")
    campaign = CampaignFactory(channel="social", owner=marketer)
    assert sending.campaign_send(campaign=campaign, by=marketer) == 1
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert CampaignRecipient.objects.get().status == "sent"


def test_recording_outcomes_keeps_the_first_response_time():
    row = CampaignFactory().recipients.create(customer=CustomerFactory(), status="sent")
    recipient_outcome_set(recipient=row, outcome="responded", note="Asked for a brochure")
    row.refresh_from_db()
    first = row.responded_at
    assert first is not None and row.converted_at is None
    recipient_outcome_set(recipient=row, outcome="converted")
    row.refresh_from_db()
    assert row.responded_at == first and row.converted_at is not None
    assert row.outcome == "converted" and row.outcome_note == ""
    with pytest.raises(Exception, match="Unknown outcome"):
        recipient_outcome_set(recipient=row, outcome="nonsense")
