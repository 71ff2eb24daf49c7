"""The sending pages: who may preview, test, send, follow and record outcomes."""

import pytest
from django.core import mail
from django.urls import reverse

from marketing.models import Campaign, CampaignRecipient
from tests.factories import (
    CampaignFactory,
    CampaignRecipientFactory,
    ConsentFactory,
    CustomerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def url(name, obj):
    return reverse(f"marketing:{name}", args=[obj.pk])


@pytest.fixture
def campaign(marketer):
    for i in range(3):
        ConsentFactory(customer=CustomerFactory(name=f"Customer {i}"))
    return CampaignFactory(owner=marketer, subject="Hi {{ first_name }}", body="For {{ name }}")


def test_the_detail_page_shows_the_panel_with_preview_and_send(marketer_client, campaign):
    page = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert url("campaign-send", campaign) in page
    assert url("campaign-preview", campaign) in page


def test_reps_see_the_page_without_sending_controls(rep_client, campaign):
    page = rep_client.get(campaign.get_absolute_url()).content.decode()
    assert url("campaign-send", campaign) not in page
    assert url("campaign-preview", campaign) not in page


def test_preview_per_recipient(marketer_client, campaign):
    customer = CustomerFactory(name="Ada Lovelace")
    ConsentFactory(customer=customer)
    response = marketer_client.get(url("campaign-preview", campaign), {"customer": customer.pk})
    assert response.status_code == 200
    assert response.context["preview"].subject == "Hi Ada"
    assert "For Ada Lovelace" in response.content.decode()
    outsider = CustomerFactory()  # no consent: not in the audience
    assert (
        marketer_client.get(
            url("campaign-preview", campaign), {"customer": outsider.pk}
        ).status_code
        == 404
    )
    for bad in ("abc", "-1", "9" * 30, "1\x00"):
        assert (
            marketer_client.get(url("campaign-preview", campaign), {"customer": bad}).status_code
            == 404
        )


def test_the_preview_picks_someone_when_not_told(marketer_client, campaign):
    response = marketer_client.get(url("campaign-preview", campaign))
    assert response.context["customer"].name.startswith("Customer ")


def test_test_send_goes_to_the_marketer_only(
    marketer, marketer_client, campaign, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the outbox delivers on commit
        response = marketer_client.post(url("campaign-test-send", campaign))
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == [marketer.email]
    assert message.subject.startswith("[Test] Hi Customer")
    assert "List-Unsubscribe" in message.extra_headers
    assert not CampaignRecipient.objects.exists()


def test_a_test_send_without_an_address_says_so(marketer, marketer_client, campaign):
    marketer.email = ""
    marketer.save()
    response = marketer_client.post(url("campaign-test-send", campaign), follow=True)
    assert "no email address" in response.content.decode()
    assert mail.outbox == []


def test_send_confirms_with_the_count_then_sends(
    marketer_client, campaign, django_capture_on_commit_callbacks
):
    page = marketer_client.get(url("campaign-send", campaign))
    assert page.status_code == 200 and page.context["count"] == 3
    assert "to 3 customers" in page.content.decode()
    assert not CampaignRecipient.objects.exists()  # nothing happens before confirming
    with django_capture_on_commit_callbacks(execute=True):
        response = marketer_client.post(url("campaign-send", campaign), {"send_rate": "600"})
    assert response.status_code == 302
    assert len(mail.outbox) == 3
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT and campaign.send_rate == 600
    # Sending again is refused.
    again = marketer_client.post(url("campaign-send", campaign), {"send_rate": "600"})
    assert again.status_code == 422 and len(mail.outbox) == 3


@pytest.mark.parametrize("rate", ["", "0", "-5", "1e20", "99999999999", "\x00", "<script>"])
def test_a_bad_rate_is_a_form_error(marketer_client, campaign, rate):
    response = marketer_client.post(url("campaign-send", campaign), {"send_rate": rate})
    assert response.status_code == 422
    assert "send_rate" in response.context["form"].errors
    assert not CampaignRecipient.objects.exists()


@pytest.mark.parametrize("name", ["campaign-send", "campaign-preview", "campaign-test-send"])
def test_who_may_send(name, campaign, rep_client, agent_client, client, manager_client):
    post = name != "campaign-preview"
    other_marketer = UserFactory(role="Marketer")
    from django.test import Client

    other = Client()
    other.force_login(other_marketer)
    for forbidden in (rep_client, agent_client, other):
        response = (forbidden.post if post else forbidden.get)(url(name, campaign))
        assert response.status_code == 403
    anonymous = (client.post if post else client.get)(url(name, campaign))
    assert anonymous.status_code == 302 and "/login" in anonymous.url
    allowed = manager_client.get(url(name, campaign)) if not post else None
    if allowed is not None:
        assert allowed.status_code == 200
    assert mail.outbox == [] and not CampaignRecipient.objects.exists()


def test_managers_send_anyones_campaign(
    manager_client, campaign, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(url("campaign-send", campaign), {"send_rate": "60"})
    assert response.status_code == 302 and len(mail.outbox) == 3


def test_progress_counts_and_stops_polling_when_done(rep_client, agent_client, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(status="running")
    CampaignRecipientFactory.create_batch(2, campaign=campaign, status="sent")
    CampaignRecipientFactory(campaign=campaign, status="queued")
    CampaignRecipientFactory(campaign=campaign, status="failed", failure_reason="x")
    response = rep_client.get(url("campaign-send-progress", campaign))
    assert response.status_code == 200
    counts = {value: n for value, _label, n in response.context["rows"]}
    assert counts == {"queued": 1, "sending": 0, "sent": 2, "failed": 1, "bounced": 0, "held": 0}
    assert response.context["percent"] == 75
    assert 'hx-trigger="every 2s"' in response.content.decode()
    Campaign.objects.filter(pk=campaign.pk).update(status="completed")
    done = rep_client.get(url("campaign-send-progress", campaign), {"poll": "1"})
    assert done.status_code == 204 and done["HX-Refresh"] == "true"
    assert agent_client.get(url("campaign-send-progress", campaign)).status_code == 403


def test_recipients_list_filters_sorts_and_keeps_its_queries(
    marketer_client, campaign, django_assert_max_num_queries
):
    for i in range(60):
        CampaignRecipientFactory(
            campaign=campaign,
            customer=CustomerFactory(name=f"R{i:02d}"),
            status="sent" if i % 2 else "bounced",
        )
    with django_assert_max_num_queries(12):
        response = marketer_client.get(url("campaign-recipients", campaign))
    assert response.status_code == 200
    page = list(response.context["page"])
    assert len(page) == 50 and page[0].customer.name == "R00"
    bounced = marketer_client.get(
        url("campaign-recipients", campaign), {"status": "bounced", "sort": "-name"}
    )
    rows = list(bounced.context["page"])
    assert len(rows) == 30 and rows[0].customer.name == "R58"
    nonsense = marketer_client.get(
        url("campaign-recipients", campaign), {"status": "x\x00", "sort": "evil", "page": "999"}
    )
    assert nonsense.status_code == 200


def test_empty_recipients_list(marketer_client, campaign):
    response = marketer_client.get(url("campaign-recipients", campaign))
    assert "No recipients" in response.content.decode()


def test_outcomes_are_recorded_by_marketers_not_reps(
    marketer_client, rep_client, agent_client, campaign
):
    row = CampaignRecipientFactory(campaign=campaign, status="sent")
    target = reverse("marketing:recipient-outcome", args=[row.pk])
    response = marketer_client.post(
        target, {"outcome": "interested", "note": "Call back in May"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and f'id="recipient-{row.pk}"' in response.content.decode()
    row.refresh_from_db()
    assert row.outcome == "interested" and row.outcome_note == "Call back in May"
    assert row.responded_at is not None
    assert rep_client.post(target, {"outcome": "declined"}).status_code == 403
    assert agent_client.post(target, {"outcome": "declined"}).status_code == 404
    row.refresh_from_db()
    assert row.outcome == "interested"


@pytest.mark.parametrize(
    "data", [{"outcome": "hacked"}, {"outcome": "declined", "note": "a\x00b"}, {"note": "x" * 501}]
)
def test_hostile_outcomes_are_form_errors(marketer_client, campaign, data):
    row = CampaignRecipientFactory(campaign=campaign, status="sent")
    target = reverse("marketing:recipient-outcome", args=[row.pk])
    response = marketer_client.post(target, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    row.refresh_from_db()
    assert row.outcome == ""


def test_a_sent_campaign_page_loads_progress_and_recipients(
    marketer_client, campaign, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        marketer_client.post(url("campaign-send", campaign), {"send_rate": "600"})
    page = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert url("campaign-send-progress", campaign) in page
    assert url("campaign-recipients", campaign) in page
    assert 'id="send-now"' not in page  # sent: no second "Send now"
    progress = marketer_client.get(url("campaign-send-progress", campaign))
    assert "every 2s" not in progress.content.decode()  # completed: no polling
    assert marketer_client.get(url("campaign-preview", campaign)).status_code == 200


def test_a_mail_campaign_page_offers_the_address_file(marketer, marketer_client):
    ConsentFactory(customer=CustomerFactory(address="1 Main St"), channel="mail")
    campaign = CampaignFactory(channel="mail", owner=marketer, subject="", body="")
    assert (
        marketer_client.post(url("campaign-send", campaign), {"send_rate": "600"}).status_code
        == 302
    )
    page = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert url("campaign-mail-export", campaign) in page
