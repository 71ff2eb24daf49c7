"""The lead form (issue 17): a public title instead of the internal name, extra questions
stored on the submission, and an embed code whose frame fits the form."""

import pytest
from django.urls import reverse

from marketing.lead_form_link import lead_form_token
from marketing.lead_questions import MAX_QUESTIONS, frame_height_rem
from marketing.models import Campaign, LeadSubmission
from tests.factories import CampaignFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("public_page_setup")]


def form_url(campaign):
    return reverse("public-marketing:lead-form", args=[lead_form_token(campaign)])


@pytest.fixture
def campaign(marketer):
    return CampaignFactory(
        owner=marketer,
        name="Q3 churn push — segment B (internal)",
        form_title="Spring products: get 10% off",
        form_questions=["Which product interests you?", "Company size"],
    )


def test_visitors_see_the_public_title_not_the_internal_name(
    client, campaign, mailoutbox, django_capture_on_commit_callbacks
):
    page = client.get(form_url(campaign)).content.decode()
    assert "Spring products: get 10% off" in page
    assert "internal" not in page
    with django_capture_on_commit_callbacks(execute=True):  # the outbox delivers on commit
        client.post(form_url(campaign), {"name": "Li Lei", "email": "li@example.com"})
    (message,) = mailoutbox
    assert "Spring products" in message.subject and "internal" not in message.subject
    assert "internal" not in message.body


def test_without_a_title_the_form_falls_back_to_the_name(client, marketer):
    campaign = CampaignFactory(owner=marketer, name="Autumn fair")
    assert "Autumn fair" in client.get(form_url(campaign)).content.decode()


def test_the_extra_questions_are_asked_and_stored_with_the_submission(client, campaign):
    page = client.get(form_url(campaign)).content.decode()
    assert "Which product interests you?" in page and 'name="answer_1"' in page
    response = client.post(
        form_url(campaign),
        {
            "name": "Li Lei",
            "email": "li@example.com",
            "answer_0": "  The  blue one ",
            "answer_1": "",
        },
    )
    assert response.status_code == 302
    lead = LeadSubmission.objects.get()
    assert lead.answers == [["Which product interests you?", "The blue one"]]


def test_a_too_long_answer_is_a_form_error(client, campaign):
    data = {"name": "Li Lei", "email": "li@example.com", "answer_0": "x" * 501}
    assert client.post(form_url(campaign), data).status_code == 422
    assert not LeadSubmission.objects.exists()


def test_the_marketer_sees_the_answers(marketer_client, campaign, client):
    client.post(form_url(campaign), {"name": "Li Lei", "email": "li@x.com", "answer_1": "50"})
    page = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert '<span class="text-secondary">Company size:</span> 50</span>' in page


def test_the_marketer_sets_title_and_questions_in_the_campaign_form(marketer, marketer_client):
    data = {
        "name": "Internal",
        "channel": "email",
        "status": "draft",
        "owner": marketer.pk,
        "budget": "0",
        "actual_cost": "0",
        "attribution_days": "30",
        "form_title": "  Win a   trip ",
        "form_questions": "Where to?\n\n  When?  \n",
    }
    response = marketer_client.post(reverse("marketing:campaign-create"), data)
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert (campaign.form_title, campaign.form_questions) == ("Win a trip", ["Where to?", "When?"])
    edit = marketer_client.get(reverse("marketing:campaign-update", args=[campaign.pk]))
    assert "Where to?\nWhen?" in edit.content.decode()


@pytest.mark.parametrize(
    "questions",
    ["\n".join(f"Q{i}" for i in range(MAX_QUESTIONS + 1)), "x" * 201, "Same\nSame", "a\x00b"],
)
def test_bad_question_lists_are_field_errors(marketer, marketer_client, questions):
    data = {
        "name": "Internal",
        "channel": "email",
        "status": "draft",
        "owner": marketer.pk,
        "budget": "0",
        "actual_cost": "0",
        "attribution_days": "30",
        "form_questions": questions,
    }
    response = marketer_client.post(reverse("marketing:campaign-create"), data)
    assert response.status_code == 422
    assert "form_questions" in response.context["form"].errors


def test_questions_stored_badly_are_refused_by_the_model(marketer):
    campaign = CampaignFactory.build(owner=marketer, form_questions={"not": "a list"})
    with pytest.raises(Exception, match="list of texts"):
        campaign.full_clean()


def test_the_embed_code_fits_the_form(marketer_client, campaign):
    page = marketer_client.get(campaign.get_absolute_url()).content.decode()
    height = frame_height_rem(campaign.form_questions)
    assert height > frame_height_rem([])
    assert f"height:{height}rem" in page
    assert "data-crm-lead-form" in page and "js/lead_embed" in page
    form_page = marketer_client.get(form_url(campaign)).content.decode()
    assert "js/lead_frame" in form_page
