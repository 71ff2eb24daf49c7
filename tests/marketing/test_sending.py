"""Sending email and SMS campaigns: freezing, delivery, headers, retries, bounces, pace."""

import smtplib
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from customers.models import Consent
from marketing.models import Campaign, CampaignRecipient
from marketing.services import sending
from marketing.sms import LocmemSmsBackend
from tests.factories import (
    CampaignFactory,
    ConsentFactory,
    CustomerFactory,
    CustomerValueFactory,
    SegmentRunFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
R = CampaignRecipient.Status


class FlakyBackend(BaseEmailBackend):
    """An email backend (the SMTP boundary) that fails as told per address, else accepts."""

    plan: dict[str, list[Exception]] = {}
    accepted: list = []

    def send_messages(self, messages):
        for message in messages:
            failures = self.plan.get(message.to[0], [])
            if failures:
                error = failures.pop(0) if len(failures) > 1 else failures[0]
                raise error
            self.accepted.append(message)
        return len(messages)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.marketing.test_sending.FlakyBackend"
    FlakyBackend.plan = {}
    FlakyBackend.accepted = []
    return FlakyBackend


def audience(n=3, channel="email", **kwargs):
    customers = [CustomerFactory(**kwargs) for _i in range(n)]
    for customer in customers:
        ConsentFactory(customer=customer, channel=channel)
    return customers


def send(campaign, django_capture_on_commit_callbacks, by=None, rate=None):
    with django_capture_on_commit_callbacks(execute=True):
        return sending.campaign_send(campaign=campaign, by=by or campaign.owner, rate=rate)


def test_sending_freezes_the_audience_with_coupons_and_segments_and_delivers_once_each(
    django_capture_on_commit_callbacks,
):
    owner = UserFactory(first_name="Rita")
    customers = audience(3, owner=owner)
    opted_out = CustomerFactory()
    ConsentFactory(customer=opted_out, granted=False)
    no_consent = CustomerFactory()
    run = SegmentRunFactory()
    CustomerValueFactory(run=run, customer=customers[0], segment="at_risk")
    campaign = CampaignFactory(
        subject="{{ first_name }}, we miss you",
        body="Hello {{ name }}, {{ owner }} says: use {{ coupon_code }}.",
        coupon_prefix="BACK",
    )

    assert send(campaign, django_capture_on_commit_callbacks) == 3

    rows = CampaignRecipient.objects.filter(campaign=campaign)
    assert {r.customer_id for r in rows} == {c.pk for c in customers}
    assert {r.status for r in rows} == {R.SENT}
    codes = [r.coupon_code for r in rows]
    assert len(set(codes)) == 3 and all(c.startswith("BACK-") for c in codes)
    assert rows.get(customer=customers[0]).segment == "at_risk"
    assert {m.to[0] for m in mail.outbox} == {c.email for c in customers}
    assert len(mail.outbox) == 3
    message = next(m for m in mail.outbox if m.to == [customers[0].email])
    code = rows.get(customer=customers[0]).coupon_code
    assert message.subject == f"{customers[0].name.split()[0]}, we miss you"
    assert f"Hello {customers[0].name}, Rita says: use {code}." in message.body
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert campaign.send_started_at and campaign.send_finished_at
    assert opted_out.pk not in {r.customer_id for r in rows}
    assert no_consent.pk not in {r.customer_id for r in rows}


def test_every_email_has_the_one_click_unsubscribe_headers_and_the_link_works(
    client, django_capture_on_commit_callbacks
):
    customer = audience(1)[0]
    campaign = CampaignFactory(body="No link written in this body.")
    send(campaign, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    header = message.extra_headers["List-Unsubscribe"]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = header.strip("<>")
    assert link in message.body  # added to the body when the template lacks it
    assert message.message()["List-Unsubscribe"].startswith("<http")
    # The mail client's one-click POST (no CSRF token, no login) withdraws the consent.
    response = client.post(urlparse(link).path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not Consent.objects.get(customer=customer, channel="email").granted
    # A tampered link is refused.
    assert client.post(urlparse(link).path[:-3] + "xx/").status_code == 404


def test_a_body_with_the_link_is_not_given_a_second_one(django_capture_on_commit_callbacks):
    audience(1)
    campaign = CampaignFactory(body="Bye: {{ unsubscribe_link }}")
    send(campaign, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert message.body.count(message.extra_headers["List-Unsubscribe"].strip("<>")) == 1


def test_a_permanent_refusal_is_a_bounce_and_is_not_retried(
    flaky, django_capture_on_commit_callbacks
):
    good, bad = audience(2)
    flaky.plan[bad.email] = [
        smtplib.SMTPRecipientsRefused({bad.email: (550, b"5.1.1 no such user")})
    ]
    campaign = CampaignFactory()
    send(campaign, django_capture_on_commit_callbacks)
    bounced = CampaignRecipient.objects.get(customer=bad)
    assert bounced.status == R.BOUNCED and "no such user" in bounced.failure_reason
    assert bounced.attempts == 1
    assert CampaignRecipient.objects.get(customer=good).status == R.SENT
    assert [m.to for m in flaky.accepted] == [[good.email]]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT


def test_a_temporary_failure_is_retried_with_backoff_then_sent(flaky, settings):
    settings.CRM_SEND_RETRY_SECONDS = 60
    (customer,) = audience(1)
    flaky.plan[customer.email] = [
        smtplib.SMTPServerDisconnected("connection lost"),
        smtplib.SMTPRecipientsRefused({customer.email: (451, b"try later")}),
        None,
    ]
    flaky.plan[customer.email].pop()  # after the two failures the address is accepted
    campaign = CampaignFactory()
    sending.campaign_send(campaign=campaign, by=campaign.owner)
    now = timezone.now()

    assert sending.send_batches(campaign_id=campaign.pk, worker="w", paced=False) > 0
    row = CampaignRecipient.objects.get()
    assert row.status == R.QUEUED and row.attempts == 1 and "connection lost" in row.failure_reason
    assert timedelta(seconds=55) < row.next_attempt_at - now < timedelta(seconds=65)
    # Not due yet: nothing is claimed before the backoff ends.
    assert sending.claim_batch(campaign_id=campaign.pk, worker="w", paced=False).count == 0

    later = row.next_attempt_at + timedelta(seconds=1)
    claim = sending.claim_batch(campaign_id=campaign.pk, worker="w", now=later, paced=False)
    sending.deliver_claimed(campaign_id=campaign.pk, token=claim.token)
    row.refresh_from_db()
    assert row.status == R.QUEUED and row.attempts == 2 and "try later" in row.failure_reason
    second_wait = row.next_attempt_at - timezone.now()
    assert timedelta(seconds=115) < second_wait < timedelta(seconds=125)  # doubled

    flaky.plan[customer.email] = []
    claim = sending.claim_batch(
        campaign_id=campaign.pk, worker="w", now=row.next_attempt_at, paced=False
    )
    sending.deliver_claimed(campaign_id=campaign.pk, token=claim.token)
    row.refresh_from_db()
    assert row.status == R.SENT and row.attempts == 3 and row.failure_reason == ""
    assert len(flaky.accepted) == 1


def test_after_the_last_attempt_the_recipient_failed_with_the_reason(flaky, settings):
    settings.CRM_SEND_MAX_ATTEMPTS = 2
    (customer,) = audience(1)
    flaky.plan[customer.email] = [ConnectionRefusedError("the mail server is down")]
    campaign = CampaignFactory()
    sending.campaign_send(campaign=campaign, by=campaign.owner)
    sending.send_batches(campaign_id=campaign.pk, worker="w", paced=False)
    later = timezone.now() + timedelta(hours=1)
    claim = sending.claim_batch(campaign_id=campaign.pk, worker="w", now=later, paced=False)
    sending.deliver_claimed(campaign_id=campaign.pk, token=claim.token)
    row = CampaignRecipient.objects.get()
    assert row.status == R.FAILED and row.attempts == 2
    assert "the mail server is down" in row.failure_reason
    assert sending.finish_if_done(campaign.pk)


def test_rate_arithmetic():
    assert sending.batch_size(1) == 1
    assert sending.batch_size(600) == 10  # one second's worth
    assert sending.batch_size(6000) == 100
    assert sending.batch_size(1_000_000) == sending.MAX_BATCH
    now = timezone.now()
    assert sending.next_slot(None, now, 10, 600) == now + timedelta(seconds=1)
    assert sending.next_slot(now - timedelta(hours=1), now, 1, 60) == now + timedelta(seconds=1)
    ahead = now + timedelta(seconds=5)
    assert sending.next_slot(ahead, now, 30, 60) == ahead + timedelta(seconds=30)


def test_claims_keep_the_pace_across_workers():
    audience(25)
    campaign = CampaignFactory()
    sending.campaign_send(campaign=campaign, by=campaign.owner, rate=600)
    now = timezone.now()
    first = sending.claim_batch(campaign_id=campaign.pk, worker="a", now=now)
    assert first.count == 10
    # Another worker half a second later waits the other half: 10 messages at 600/min.
    at = now + timedelta(seconds=0.5)
    early = sending.claim_batch(campaign_id=campaign.pk, worker="b", now=at)
    assert early.count == 0 and early.wait == pytest.approx(0.5)
    at = now + timedelta(seconds=1)
    second = sending.claim_batch(campaign_id=campaign.pk, worker="b", now=at)
    assert second.count == 10
    claimed = CampaignRecipient.objects.filter(status=R.SENDING)
    assert claimed.filter(claimed_by=first.token).count() == 10
    assert claimed.filter(claimed_by=second.token).count() == 10  # disjoint rows
    at = now + timedelta(seconds=2)
    assert sending.claim_batch(campaign_id=campaign.pk, worker="a", now=at).count == 5
    at = now + timedelta(hours=1)
    assert sending.claim_batch(campaign_id=campaign.pk, worker="a", now=at).wait is None


def test_stale_claims_are_requeued_only_after_the_timeout():
    audience(2)
    campaign = CampaignFactory()
    sending.campaign_send(campaign=campaign, by=campaign.owner, rate=60)  # one per claim
    now = timezone.now()
    old = sending.claim_batch(campaign_id=campaign.pk, worker="dead", now=now - timedelta(hours=1))
    fresh = sending.claim_batch(campaign_id=campaign.pk, worker="alive", now=now, paced=False)
    assert old.count == fresh.count == 1
    assert sending.requeue_stale(now=now) == 1
    assert CampaignRecipient.objects.get(claimed_by=fresh.token).status == R.SENDING
    assert CampaignRecipient.objects.filter(status=R.QUEUED, claimed_by="").count() == 1
    assert sending.stalled_campaigns(now=now + timedelta(minutes=5)) == [campaign.pk]


def test_a_cancelled_campaign_stops_sending(flaky):
    audience(3)
    campaign = CampaignFactory()
    sending.campaign_send(campaign=campaign, by=campaign.owner)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CANCELLED)
    assert sending.send_batches(campaign_id=campaign.pk, worker="w", paced=False) is None
    assert flaky.accepted == []
    assert CampaignRecipient.objects.filter(status=R.QUEUED).count() == 3


def test_a_resent_campaign_adds_only_new_customers(django_capture_on_commit_callbacks):
    audience(2)
    campaign = CampaignFactory()
    send(campaign, django_capture_on_commit_callbacks)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.DRAFT)
    audience(1)
    mail.outbox.clear()
    assert send(Campaign.objects.get(pk=campaign.pk), django_capture_on_commit_callbacks) == 1
    assert len(mail.outbox) == 1
    assert CampaignRecipient.objects.filter(campaign=campaign).count() == 3


@pytest.mark.parametrize(
    ("status", "subject", "body"),
    [
        ("running", "Hi", "Hi"),
        ("completed", "Hi", "Hi"),
        ("sent", "Hi", "Hi"),
        ("draft", "", "Body"),
        ("draft", "Hi", ""),
    ],
)
def test_what_cannot_be_sent(status, subject, body):
    campaign = CampaignFactory(status=status, subject=subject, body=body)
    with pytest.raises(sending.NotSendable):
        sending.campaign_send(campaign=campaign, by=campaign.owner)
    assert not CampaignRecipient.objects.exists()


def test_sms_goes_through_the_configured_backend_with_an_unsubscribe_link(
    settings, django_capture_on_commit_callbacks
):
    settings.CRM_SMS_BACKEND = "marketing.sms.LocmemSmsBackend"
    LocmemSmsBackend.outbox = []
    ok, barred = audience(2, channel="sms")
    LocmemSmsBackend.refused = {barred.phone}
    campaign = CampaignFactory(channel="sms", subject="", body="Hi {{ first_name }}: sale today")
    send(campaign, django_capture_on_commit_callbacks)
    (message,) = LocmemSmsBackend.outbox
    assert (
        message.to == ok.phone
        and "sale today" in message.body
        and "/m/unsubscribe/" in message.body
    )
    assert CampaignRecipient.objects.get(customer=barred).status == R.BOUNCED
    assert mail.outbox == []


def test_the_console_sms_backend_prints(capsys):
    from marketing.sms import ConsoleSmsBackend, SmsMessage, get_sms_backend

    assert isinstance(get_sms_backend(), ConsoleSmsBackend)
    get_sms_backend().send(SmsMessage(to="+86 138", body="hello"))
    assert "SMS to +86 138\nhello" in capsys.readouterr().out


def test_the_sweep_requeues_restarts_and_completes(flaky):
    from marketing.tasks import sweep_sending

    audience(2)
    campaign = CampaignFactory()
    sending.campaign_send(campaign=campaign, by=campaign.owner)  # its task was "lost"
    long_ago = timezone.now() - timedelta(hours=1)
    sending.claim_batch(campaign_id=campaign.pk, worker="dead", now=long_ago, paced=False)
    Campaign.objects.filter(pk=campaign.pk).update(send_not_before=long_ago)
    result = sweep_sending()
    assert result == {"requeued": 2, "restarted": 1, "completed": 0, "ended": 0}
    # The restarted task ran inline: both are sent now, and the next sweep completes it.
    assert CampaignRecipient.objects.filter(status=R.SENT).count() == 2
    assert len(flaky.accepted) == 2
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert sweep_sending() == {"requeued": 0, "restarted": 0, "completed": 0, "ended": 0}


def test_a_recipient_who_opts_out_after_the_freeze_gets_nothing(flaky):
    stays, leaves = audience(2)
    campaign = CampaignFactory()
    sending.campaign_send(campaign=campaign, by=campaign.owner)
    Consent.objects.filter(customer=leaves).update(granted=False)  # unsubscribed meanwhile
    sending.send_batches(campaign_id=campaign.pk, worker="w", paced=False)
    assert [m.to[0] for m in flaky.accepted] == [stays.email]
    row = CampaignRecipient.objects.get(customer=leaves)
    assert (row.status, row.failure_reason) == (R.FAILED, "Opted out before sending.")
