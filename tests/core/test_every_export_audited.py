"""Issue 13, point 6: every CSV download in the app is written to the audit log (before the
fix none was): the deal list, a mail campaign's address file, the report tables."""

from django.urls import reverse

from core.models import AuditEvent
from marketing.services import sending
from tests.factories import (
    CampaignFactory,
    ConsentFactory,
    CustomerFactory,
    DealFactory,
    SegmentRunFactory,
)


def _export_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT))


def test_the_deal_export_is_audited_and_keeps_the_rep_to_their_deals(rep, rep2, rep_client):
    DealFactory(owner=rep, title="Mine")
    DealFactory(owner=rep2, title="Theirs")
    response = rep_client.get(reverse("sales:deal-export"), {"status": "open"})
    text = b"".join(response.streaming_content).decode()
    assert "Mine" in text and "Theirs" not in text
    [event] = _export_events()
    assert event.actor == rep and event.rows == 1 and event.target_type == "sales.deal"
    assert event.detail["source"] == "deals" and event.detail["filter"] == "status=open"


def test_the_mail_address_file_is_audited(marketer, marketer_client):
    customer = CustomerFactory(address="1 Main St")
    ConsentFactory(customer=customer, channel="mail")
    campaign = CampaignFactory(channel="mail", owner=marketer, subject="", body="")
    sending.campaign_send(campaign=campaign, by=marketer)
    response = marketer_client.get(reverse("marketing:campaign-mail-export", args=[campaign.pk]))
    assert "1 Main St" in b"".join(response.streaming_content).decode()
    [event] = _export_events()
    assert event.rows == 1 and event.detail["campaign"] == campaign.pk
    assert event.target_type == "marketing.campaignrecipient"


def test_a_report_table_download_is_audited(manager, manager_client):
    SegmentRunFactory()
    response = manager_client.get(reverse("analytics:segments"), {"export": "segments"})
    assert response.status_code == 200
    [event] = _export_events()
    assert event.actor == manager and event.detail["source"] == "segments-segments"
    assert event.detail["filter"] == "export=segments"


def test_a_refused_export_is_not_audited(agent_client, rep_client):
    assert agent_client.get(reverse("sales:deal-export")).status_code == 403
    assert rep_client.get(reverse("analytics:value"), {"export": "deciles"}).status_code == 403
    assert _export_events() == []
