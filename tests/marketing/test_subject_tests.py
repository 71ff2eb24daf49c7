"""Subject-line A/B tests (issue 17): the split of the sample, the pick by opens or clicks
after the wait, ties and no data, the rest sent the winner exactly once, scheduled sending."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from customers.models import Customer
from marketing.models import Campaign, CampaignRecipient, SubjectTest
from marketing.services.campaigns import campaign_update
from marketing.services.scheduling import campaign_schedule, send_due_campaigns
from marketing.services.sending import campaign_send
from marketing.services.subject_tests import (
    decide_due_subject_tests,
    sample_sizes,
    subject_test_decide,
    subject_test_save,
    subject_test_split,
)
from tests.factories import CampaignFactory, ConsentFactory, CustomerFactory

pytestmark = pytest.mark.django_db
R = CampaignRecipient.Status


def make_campaign(owner, customers: int = 20):
    for i in range(customers):
        ConsentFactory(customer=CustomerFactory(name=f"Customer {i}"))
    return CampaignFactory(owner=owner, subject="Spring sale", body="Hello {{ name }}")


@pytest.fixture
def campaign(marketer):
    campaign = make_campaign(marketer)
    subject_test_save(
        campaign=campaign, subject_b="Last chance", sample_percent=20, metric="opens", wait_hours=4
    )
    return campaign


def send(campaign, capture):
    with capture(execute=True):
        campaign_send(campaign=campaign, by=campaign.owner)


def later(hours: float = 5):
    return timezone.now() + timedelta(hours=hours)


def groups(campaign) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for row in CampaignRecipient.objects.filter(campaign=campaign):
        counts[(row.variant, row.status)] = counts.get((row.variant, row.status), 0) + 1
    return counts


@pytest.mark.parametrize(
    ("total", "percent", "sizes"),
    [(20, 20, (2, 2)), (1000, 20, (100, 100)), (7, 20, (1, 1)), (3, 50, (1, 1)), (1, 20, (1, 0)),
     (0, 20, (0, 0)), (101, 25, (13, 12)), (10, 50, (3, 2))],
)  # fmt: skip
def test_sample_sizes(total, percent, sizes):
    assert sample_sizes(total, percent) == sizes


def test_sending_mails_the_two_halves_of_the_sample_and_holds_the_rest(
    campaign, django_capture_on_commit_callbacks
):
    send(campaign, django_capture_on_commit_callbacks)
    assert groups(campaign) == {("a", R.SENT): 2, ("b", R.SENT): 2, ("", R.HELD): 16}
    subjects = sorted(message.subject for message in mail.outbox)
    assert subjects == ["Last chance"] * 2 + ["Spring sale"] * 2
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING  # the rest is still to send


def _open(campaign, variant: str, count: int, *, clicks: bool = False):
    rows = CampaignRecipient.objects.filter(campaign=campaign, variant=variant)
    ids = list(rows.values_list("pk", flat=True)[:count])
    field = "first_clicked_at" if clicks else "first_opened_at"
    CampaignRecipient.objects.filter(pk__in=ids).update(**{field: timezone.now()})


def test_after_the_wait_the_better_open_rate_wins_and_the_rest_gets_it_once(
    campaign, django_capture_on_commit_callbacks
):
    send(campaign, django_capture_on_commit_callbacks)
    _open(campaign, "b", 2)
    _open(campaign, "a", 1)
    mail.outbox.clear()
    assert decide_due_subject_tests(now=later(3)) == {"decided": 0}  # the wait is not over
    with django_capture_on_commit_callbacks(execute=True):
        assert decide_due_subject_tests(now=later()) == {"decided": 1}
    with django_capture_on_commit_callbacks(execute=True):
        assert decide_due_subject_tests(now=later()) == {"decided": 0}  # a second run
        assert subject_test_decide(test_id=campaign.subject_test.pk, now=later()) is None
    test = SubjectTest.objects.get()
    assert (test.winner, test.reason) == ("b", "better")
    assert [m.subject for m in mail.outbox] == ["Last chance"] * 16
    assert len({m.to[0] for m in mail.outbox}) == 16
    assert groups(campaign) == {("a", R.SENT): 2, ("b", R.SENT): 2, ("rb", R.SENT): 16}
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_the_click_metric_ignores_opens(marketer, django_capture_on_commit_callbacks):
    campaign = make_campaign(marketer)
    subject_test_save(
        campaign=campaign, subject_b="B", sample_percent=20, metric="clicks", wait_hours=1
    )
    send(campaign, django_capture_on_commit_callbacks)
    _open(campaign, "b", 2)
    _open(campaign, "a", 1, clicks=True)
    decide_due_subject_tests(now=later(2))
    test = SubjectTest.objects.get()
    assert (test.winner, test.reason) == ("a", "better")
    assert groups(campaign)[("ra", R.QUEUED)] == 16 or groups(campaign)[("ra", R.SENT)] == 16


def test_a_tie_and_no_data_make_a_the_winner(marketer, django_capture_on_commit_callbacks):
    tied = make_campaign(marketer, customers=10)
    subject_test_save(campaign=tied, subject_b="B", sample_percent=40, metric="opens", wait_hours=1)
    send(tied, django_capture_on_commit_callbacks)
    _open(tied, "a", 1)
    _open(tied, "b", 1)
    decide_due_subject_tests(now=later(2))
    assert (tied.subject_test.__class__.objects.get(campaign=tied).reason) == "tie"

    empty = make_campaign(marketer, customers=10)
    subject_test_save(
        campaign=empty, subject_b="B", sample_percent=40, metric="opens", wait_hours=1
    )
    send(empty, django_capture_on_commit_callbacks)
    CampaignRecipient.objects.filter(campaign=empty, status=R.SENT).update(status=R.FAILED)
    decide_due_subject_tests(now=later(2))
    decided = SubjectTest.objects.get(campaign=empty)
    assert (decided.winner, decided.reason) == ("a", "no_data")


def test_rates_are_per_delivered_message(marketer, django_capture_on_commit_callbacks):
    """B with 1 open of 1 delivered beats A with 1 open of 2 delivered."""
    campaign = make_campaign(marketer, customers=10)
    subject_test_save(
        campaign=campaign, subject_b="B", sample_percent=40, metric="opens", wait_hours=1
    )
    send(campaign, django_capture_on_commit_callbacks)
    b_rows = CampaignRecipient.objects.filter(campaign=campaign, variant="b").order_by("pk")
    CampaignRecipient.objects.filter(pk=b_rows[0].pk).update(status=R.BOUNCED)
    _open(campaign, "a", 1)
    CampaignRecipient.objects.filter(pk=b_rows[1].pk).update(first_opened_at=timezone.now())
    decide_due_subject_tests(now=later(2))
    assert SubjectTest.objects.get().winner == "b"


def test_scheduled_sending_runs_the_test(campaign, django_capture_on_commit_callbacks):
    campaign_schedule(campaign=campaign, by=campaign.owner, send_at=later(0.01))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_campaigns(now=later(0.02))["sent"] == 1
    assert groups(campaign)[("", R.HELD)] == 16
    with django_capture_on_commit_callbacks(execute=True):
        decide_due_subject_tests(now=later(5))
    assert groups(campaign)[("ra", R.SENT)] == 16


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"subject_b": ""}, "subject_b"), ({"subject_b": "Spring sale"}, "subject_b"),
     ({"sample_percent": 1}, "sample_percent"), ({"sample_percent": 51}, "sample_percent"),
     ({"wait_hours": 0}, "wait_hours"), ({"wait_hours": 169}, "wait_hours"),
     ({"metric": "revenue"}, "metric"), ({"subject_b": "{% if %}"}, None)],
)  # fmt: skip
def test_validation(marketer, changes, field):
    campaign = make_campaign(marketer, customers=0)
    values = {"subject_b": "B", "sample_percent": 20, "metric": "opens", "wait_hours": 4}
    with pytest.raises(ValidationError) as error:
        subject_test_save(campaign=campaign, **{**values, **changes})
    if field:
        assert field in error.value.message_dict
    assert not SubjectTest.objects.exists()


def test_no_change_once_sent_and_only_for_email(
    campaign, marketer, django_capture_on_commit_callbacks
):
    send(campaign, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError, match="before the campaign is sent"):
        subject_test_save(
            campaign=campaign, subject_b="C", sample_percent=20, metric="opens", wait_hours=1
        )
    sms = CampaignFactory(owner=marketer, channel="sms", body="Hi")
    with pytest.raises(ValidationError, match="Only email"):
        subject_test_save(
            campaign=sms, subject_b="C", sample_percent=20, metric="opens", wait_hours=1
        )


class WorkerDied(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_pick_whose_worker_dies_midway_is_redone_once(
    django_db_serialized_rollback, marketer, django_capture_on_commit_callbacks
):
    """Another worker holds the test's row lock, has already queued the held rows in its
    transaction, and dies: the running beat skipped the locked test, the dead worker's
    work is rolled back, and the next beat picks the winner and queues the rest once."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    campaign = make_campaign(marketer)
    test = subject_test_save(
        campaign=campaign, subject_b="B", sample_percent=20, metric="opens", wait_hours=1
    )
    send(campaign, django_capture_on_commit_callbacks)
    locked, die = threading.Event(), threading.Event()

    def dying_worker():
        try:
            with transaction.atomic():
                SubjectTest.objects.select_for_update().get(pk=test.pk)
                CampaignRecipient.objects.filter(campaign=campaign, status=R.HELD).update(
                    status=R.QUEUED, variant="rb"
                )
                locked.set()
                die.wait(10)
                raise WorkerDied
        except WorkerDied:
            pass
        finally:
            connection.close()

    thread = threading.Thread(target=dying_worker)
    thread.start()
    assert locked.wait(10)
    try:
        assert decide_due_subject_tests(now=later(2)) == {"decided": 0}
    finally:
        die.set()
        thread.join()
    assert groups(campaign)[("", R.HELD)] == 16  # the dead worker's pick left nothing
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert decide_due_subject_tests(now=later(2)) == {"decided": 1}
        assert decide_due_subject_tests(now=later(2)) == {"decided": 0}
    assert groups(campaign) == {("a", R.SENT): 2, ("b", R.SENT): 2, ("ra", R.SENT): 16}
    assert len(mail.outbox) == 16


def test_a_campaign_leaving_email_is_refused_while_it_has_a_subject_test(campaign):
    with pytest.raises(ValidationError, match="Remove the subject-line test"):
        campaign_update(
            campaign=campaign, expected_version=campaign.version, data={"channel": "sms"}
        )
    assert Campaign.objects.get(pk=campaign.pk).channel == "email"


def test_a_non_email_campaign_with_a_leftover_test_splits_nobody(campaign):
    Campaign.objects.filter(pk=campaign.pk).update(channel="sms")  # saved before the check
    campaign.refresh_from_db()
    for customer in Customer.objects.all():
        CampaignRecipient.objects.create(campaign=campaign, customer=customer)
    assert subject_test_split(campaign) == {}
    assert not CampaignRecipient.objects.filter(campaign=campaign).exclude(variant="").exists()
    assert not CampaignRecipient.objects.filter(campaign=campaign, status=R.HELD).exists()
