"""The subject-line test's page and its card on the campaign page: validation messages,
hostile input, and who may set it up."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm import roles
from marketing.models import CampaignRecipient, SubjectTest
from marketing.services.sending import campaign_send
from marketing.services.subject_tests import decide_due_subject_tests, subject_test_save
from tests.factories import CampaignFactory, ConsentFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db
VALID = {"subject_b": "Last chance", "sample_percent": "20", "metric": "opens", "wait_hours": "4"}


@pytest.fixture
def campaign(marketer):
    for i in range(10):
        ConsentFactory(customer=CustomerFactory(name=f"Customer {i}"))
    return CampaignFactory(owner=marketer, subject="Spring sale", body="Hello")


def url(campaign):
    return reverse("marketing:campaign-subject-test", args=[campaign.pk])


def test_marketer_sets_up_changes_and_removes_a_test(marketer_client, campaign):
    detail = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert url(campaign) in detail and 'id="subject-test"' in detail
    assert marketer_client.get(url(campaign)).status_code == 200
    response = marketer_client.post(url(campaign), {**VALID, "subject_b": "  Last   chance "})
    assert response.status_code == 302
    test = SubjectTest.objects.get()
    assert (test.subject_b, test.sample_percent, test.metric, test.wait_hours) == (
        "Last chance",
        20,
        "opens",
        4,
    )
    marketer_client.post(url(campaign), {**VALID, "metric": "clicks"})
    assert SubjectTest.objects.get().metric == "clicks"
    detail = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert "Last chance" in detail and "Spring sale" in detail
    assert marketer_client.post(url(campaign), {"remove": "1"}).status_code == 302
    assert not SubjectTest.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"subject_b": "   "}, "Write subject B"),
        ({"subject_b": "Spring sale"}, "must differ"),
        ({"subject_b": "{{ password }}"}, "no field called"),
        ({"subject_b": "x\x00"}, "Null characters"),
        ({"subject_b": "x" * 201}, "at most 200"),
        ({"sample_percent": "1"}, "greater than or equal to 2"),
        ({"sample_percent": "٥٠٠"}, "less than or equal to 50"),
        ({"sample_percent": "9" * 40}, "less than or equal to 50"),
        ({"wait_hours": "0"}, "greater than or equal to 1"),
        ({"wait_hours": "<script>"}, "whole number"),
        ({"metric": "revenue"}, "Select a valid choice"),
    ],
)
def test_validation_messages(marketer_client, campaign, changes, message):
    response = marketer_client.post(url(campaign), {**VALID, **changes})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not SubjectTest.objects.exists()


def test_a_sent_campaign_refuses_changes_with_a_message(
    marketer_client, campaign, django_capture_on_commit_callbacks
):
    subject_test_save(
        campaign=campaign, subject_b="B", sample_percent=20, metric="opens", wait_hours=1
    )
    with django_capture_on_commit_callbacks(execute=True):
        campaign_send(campaign=campaign, by=campaign.owner)
    response = marketer_client.post(url(campaign), VALID)
    assert response.status_code == 422
    assert "before the campaign is sent" in response.content.decode()
    assert SubjectTest.objects.get().subject_b == "B"


def test_the_campaign_page_shows_both_subjects_their_rates_and_the_winner(
    marketer_client, campaign, django_capture_on_commit_callbacks
):
    subject_test_save(
        campaign=campaign, subject_b="B wins", sample_percent=40, metric="opens", wait_hours=1
    )
    with django_capture_on_commit_callbacks(execute=True):
        campaign_send(campaign=campaign, by=campaign.owner)
    page = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert 'id="subject-test-pending"' in page
    opened = CampaignRecipient.objects.filter(campaign=campaign, variant="b")[:1]
    CampaignRecipient.objects.filter(pk__in=[r.pk for r in opened]).update(
        first_opened_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=True):
        decide_due_subject_tests(now=timezone.now() + timedelta(hours=2))
    page = marketer_client.get(campaign.get_absolute_url()).content.decode()
    assert 'id="subject-test-winner"' in page and "Higher rate" in page
    assert 'data-variant="a"' in page and 'data-variant="b"' in page and 'data-variant="rb"' in page
    assert "50%" in page  # B: 1 of 2 opened


def test_the_campaign_page_queries_stay_constant(
    marketer_client, campaign, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    subject_test_save(
        campaign=campaign, subject_b="B", sample_percent=40, metric="opens", wait_hours=1
    )
    with django_capture_on_commit_callbacks(execute=True):
        campaign_send(campaign=campaign, by=campaign.owner)
    with django_assert_max_num_queries(30) as captured:
        marketer_client.get(campaign.get_absolute_url())
    before = len(captured)
    for i in range(20):
        ConsentFactory(customer=CustomerFactory(name=f"More {i}"))
    with django_assert_max_num_queries(before):
        marketer_client.get(campaign.get_absolute_url())


def test_who_may_set_up_a_test(campaign, rep_client, agent_client, manager_client, client):
    assert client.get(url(campaign)).status_code == 302  # to the login page
    for forbidden in (rep_client, agent_client):
        assert forbidden.post(url(campaign), VALID).status_code in (403, 404)
    other = Client()
    other.force_login(UserFactory(username="marketer2", role=roles.MARKETER))
    assert other.post(url(campaign), VALID).status_code == 403  # not their campaign
    assert not SubjectTest.objects.exists()
    assert manager_client.post(url(campaign), VALID).status_code == 302
    assert (
        manager_client.get(reverse("marketing:campaign-subject-test", args=[10**9])).status_code
        == 404
    )
