"""Recording one outcome for many recipients at once, from the recipients page."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from marketing.channels import recipient_outcomes_set
from marketing.models import CampaignRecipient
from marketing.views.sending import BULK_OUTCOME_MAX
from tests.factories import (
    CampaignFactory,
    CampaignRecipientFactory,
    CustomerFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(marketer):
    return CampaignFactory(channel="phone", owner=marketer, subject="", body="")


@pytest.fixture
def rows(campaign):
    return [
        CampaignRecipientFactory(
            campaign=campaign, customer=CustomerFactory(name=f"Caller {i}"), status="sent"
        )
        for i in range(4)
    ]


def bulk_url(campaign, query=""):
    url = reverse("marketing:recipient-outcome-bulk", args=[campaign.pk])
    return f"{url}?{query}" if query else url


def recipients_url(campaign):
    return reverse("marketing:campaign-recipients", args=[campaign.pk])


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_page_has_a_checkbox_per_row_and_the_bulk_form(marketer_client, campaign, rows):
    page = marketer_client.get(recipients_url(campaign), HTTP_HX_REQUEST="true")
    html = page.content.decode()
    assert page.templates[0].name == "marketing/sending/recipients.html"
    assert 'id="bulk-outcome-form"' in html and "Record for selected" in html
    assert bulk_url(campaign) in html
    assert "data-select-page" in html
    for row in rows:
        assert f'name="selected" value="{row.pk}" form="bulk-outcome-form"' in html
    # "No response yet" is not offered in bulk: one click must not wipe many outcomes.
    form_html = html.split('id="bulk-outcome-form"')[1].split("</form>")[0]
    assert 'value="converted"' in form_html and '<option value="">' not in form_html


def test_reps_see_the_list_without_checkboxes(rep_client, campaign, rows):
    html = rep_client.get(recipients_url(campaign), HTTP_HX_REQUEST="true").content.decode()
    assert "bulk-outcome-form" not in html and 'name="selected"' not in html


def test_the_bulk_form_posts_back_to_the_same_filter_sort_and_page(marketer_client, campaign):
    for i in range(55):
        CampaignRecipientFactory(campaign=campaign, customer=CustomerFactory(name=f"N{i:02d}"))
    page = marketer_client.get(
        recipients_url(campaign), {"status": "queued", "sort": "-name", "page": "2"}
    )
    html = page.content.decode()
    assert bulk_url(campaign, "status=queued&amp;sort=-name&amp;page=2") in html


def test_without_htmx_the_list_is_a_whole_page(marketer_client, campaign, rows):
    page = marketer_client.get(recipients_url(campaign))
    assert page.status_code == 200
    assert page.templates[0].name == "marketing/sending/recipients_page.html"
    html = page.content.decode()
    assert "js/campaign_recipients." in html and campaign.get_absolute_url() in html


def test_recording_for_the_selected_rows(marketer_client, campaign, rows):
    first, second, third, untouched = rows
    recipient_outcomes_set(
        campaign=campaign, recipient_ids=[first.pk], outcome="responded", note="earlier"
    )
    first.refresh_from_db()
    earlier = first.responded_at

    response = marketer_client.post(
        bulk_url(campaign, "status=sent&sort=-name&page=1"),
        {
            "selected": [first.pk, second.pk, third.pk, third.pk],
            "outcome": "converted",
            "note": "  Ordered by phone  ",
        },
    )

    assert response.status_code == 302
    target = urlsplit(response.url)
    assert target.path == recipients_url(campaign)
    assert parse_qs(target.query) == {"status": ["sent"], "sort": ["-name"], "page": ["1"]}
    assert texts(response) == ["Outcome recorded for 3 recipients."]
    for row in (first, second, third):
        row.refresh_from_db()
        assert row.outcome == "converted" and row.outcome_note == "Ordered by phone"
        assert row.responded_at is not None and row.converted_at is not None
    assert first.responded_at == earlier  # the first response's time is kept
    untouched.refresh_from_db()
    assert untouched.outcome == "" and untouched.responded_at is None


def test_the_message_is_singular_for_one_and_shown_on_the_page(marketer_client, campaign, rows):
    response = marketer_client.post(
        bulk_url(campaign), {"selected": [rows[0].pk], "outcome": "declined"}, follow=True
    )
    assert response.status_code == 200
    assert "Outcome recorded for 1 recipient." in response.content.decode()
    assert response.redirect_chain == [(recipients_url(campaign), 302)]


def test_the_conversion_time_is_kept_too(campaign, rows):
    row = rows[0]
    assert recipient_outcomes_set(campaign=campaign, recipient_ids=[row.pk], outcome="converted")
    row.refresh_from_db()
    converted, responded = row.converted_at, row.responded_at
    recipient_outcomes_set(campaign=campaign, recipient_ids=[row.pk], outcome="interested")
    recipient_outcomes_set(campaign=campaign, recipient_ids=[row.pk], outcome="converted")
    row.refresh_from_db()
    assert (row.converted_at, row.responded_at) == (converted, responded)
    assert row.outcome == "converted" and row.outcome_note == ""


def test_another_campaigns_ids_are_ignored(marketer, marketer_client, campaign, rows):
    other_campaign = CampaignFactory(owner=marketer)
    other = CampaignRecipientFactory(campaign=other_campaign, status="sent")
    response = marketer_client.post(
        bulk_url(campaign), {"selected": [rows[0].pk, other.pk], "outcome": "interested"}
    )
    assert response.status_code == 302
    assert texts(response) == ["Outcome recorded for 1 recipient."]
    other.refresh_from_db()
    assert other.outcome == "" and other.responded_at is None
    rows[0].refresh_from_db()
    assert rows[0].outcome == "interested"


def test_only_another_campaigns_ids_record_nothing(marketer, marketer_client, campaign, rows):
    other = CampaignRecipientFactory(campaign=CampaignFactory(owner=marketer))
    response = marketer_client.post(
        bulk_url(campaign), {"selected": [other.pk, 987654321], "outcome": "interested"}
    )
    assert response.status_code == 302
    assert texts(response) == ["None of the chosen recipients is in this campaign."]
    assert not CampaignRecipient.objects.exclude(outcome="").exists()


def test_the_service_ignores_other_campaigns_too(marketer, campaign, rows):
    other = CampaignRecipientFactory(campaign=CampaignFactory(owner=marketer))
    count = recipient_outcomes_set(
        campaign=campaign, recipient_ids=[rows[1].pk, other.pk], outcome="unreachable"
    )
    assert count == 1
    assert CampaignRecipient.objects.get(pk=other.pk).outcome == ""


@pytest.mark.parametrize(
    ("outcome", "note"),
    [("nonsense", ""), ("declined", "x" * 501), ("declined", "a\x00b")],
)
def test_the_service_validates(campaign, rows, outcome, note):
    with pytest.raises(ValidationError):
        recipient_outcomes_set(
            campaign=campaign, recipient_ids=[rows[0].pk], outcome=outcome, note=note
        )
    assert CampaignRecipient.objects.get(pk=rows[0].pk).outcome == ""


def test_who_may_record(campaign, rows, rep_client, agent_client, client, manager_client):
    data = {"selected": [rows[0].pk], "outcome": "declined"}
    other_marketer = Client()
    other_marketer.force_login(UserFactory(role="Marketer"))
    for forbidden in (rep_client, agent_client, other_marketer):
        assert forbidden.post(bulk_url(campaign), data).status_code == 403
    anonymous = client.post(bulk_url(campaign), data)
    assert anonymous.status_code == 302 and "/login" in anonymous.url
    assert CampaignRecipient.objects.get(pk=rows[0].pk).outcome == ""
    # Managers record on anyone's campaign.
    assert manager_client.post(bulk_url(campaign), data).status_code == 302
    assert CampaignRecipient.objects.get(pk=rows[0].pk).outcome == "declined"


def test_only_post(marketer_client, campaign):
    assert marketer_client.get(bulk_url(campaign)).status_code == 405


def test_an_unknown_campaign_is_404(marketer_client):
    response = marketer_client.post(
        reverse("marketing:recipient-outcome-bulk", args=[999999]),
        {"selected": ["1"], "outcome": "declined"},
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"outcome": "declined"}, "Choose at least one recipient."),
        ({"selected": "", "outcome": "declined"}, "The selection contains an invalid row."),
        ({"selected": "abc", "outcome": "declined"}, "The selection contains an invalid row."),
        ({"selected": "1\x00", "outcome": "declined"}, "The selection contains an invalid row."),
        ({"selected": "\x00", "outcome": "declined"}, "The selection contains an invalid row."),
        ({"selected": "9" * 30, "outcome": "declined"}, "The selection contains an invalid row."),
        ({"selected": "9" * 5000, "outcome": "declined"}, "The selection contains an invalid row."),
        ({"selected": str(2**63), "outcome": "declined"}, "The selection contains an invalid row."),
        ({"selected": "-1", "outcome": "declined"}, "The selection contains an invalid row."),
        ({"selected": "0", "outcome": "declined"}, "The selection contains an invalid row."),
        ({"selected": "1.5", "outcome": "declined"}, "The selection contains an invalid row."),
        ({"selected": "ROW", "outcome": "hacked"}, "Choose one of the listed outcomes."),
        ({"selected": "ROW", "outcome": ""}, "Choose an outcome."),
        ({"selected": "ROW"}, "Choose an outcome."),
        ({"selected": "ROW", "outcome": "declined\x00"}, "Choose one of the listed outcomes."),
        ({"selected": "ROW", "outcome": "declined", "note": "x" * 501}, "at most 500"),
        ({"selected": "ROW", "outcome": "declined", "note": "a\x00b"}, "Null characters"),
    ],
)
def test_hostile_input_is_a_clear_message_never_a_500(marketer_client, campaign, rows, data, error):
    data = {k: (str(rows[0].pk) if v == "ROW" else v) for k, v in data.items()}
    response = marketer_client.post(bulk_url(campaign), data)
    assert response.status_code == 302
    assert urlsplit(response.url).path == recipients_url(campaign)
    (message,) = texts(response)
    assert message.startswith("The outcome was not recorded:") and error in message
    assert not CampaignRecipient.objects.exclude(outcome="").exists()


def test_too_many_ids_are_refused(marketer_client, campaign, rows):
    ids = [rows[0].pk] + list(range(10**6, 10**6 + BULK_OUTCOME_MAX))
    response = marketer_client.post(bulk_url(campaign), {"selected": ids, "outcome": "declined"})
    assert response.status_code == 302
    (message,) = texts(response)
    assert f"Choose at most {BULK_OUTCOME_MAX} recipients at a time." in message
    assert not CampaignRecipient.objects.exclude(outcome="").exists()


def test_a_full_page_is_written_in_a_few_queries(
    marketer_client, campaign, django_assert_max_num_queries
):
    ids = [
        CampaignRecipientFactory(campaign=campaign, status="sent").pk
        for _ in range(BULK_OUTCOME_MAX // 10)
    ]
    with django_assert_max_num_queries(12):
        response = marketer_client.post(
            bulk_url(campaign), {"selected": ids, "outcome": "unreachable"}
        )
    assert texts(response) == [f"Outcome recorded for {len(ids)} recipients."]
    assert CampaignRecipient.objects.filter(outcome="unreachable").count() == len(ids)


@pytest.mark.parametrize(
    "query",
    [
        "status=evil&sort=name",
        "sort=drop%20table&page=2",
        "page=abc&status=sent",
        "page=%D9%A1&status=sent",
        "page=9999999999&next=https://evil.example/",
        "status=sent%00",
    ],
)
def test_the_way_back_keeps_only_well_formed_parameters(marketer_client, campaign, rows, query):
    response = marketer_client.post(
        bulk_url(campaign, query), {"selected": [rows[0].pk], "outcome": "declined"}
    )
    target = urlsplit(response.url)
    assert target.path == recipients_url(campaign) and not target.netloc
    kept = parse_qs(target.query)
    assert set(kept) <= {"status", "sort", "page"}
    assert kept.get("status", ["sent"]) == ["sent"]
    assert kept.get("sort", ["name"]) == ["name"]
    assert kept.get("page", ["2"]) == ["2"]
