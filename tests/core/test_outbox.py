"""The outbox: written in the caller's transaction, delivered after commit through Django's
email backend, retried with backoff up to a maximum, claims of a dead worker released.

Unit tests use the locmem backend; the SMTP tests talk to a real socket (tests/core/smtp_sink)
or to a closed port.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from core.models import OutboxMessage
from core.services import (
    outbox_deliver_due,
    outbox_email_enqueue,
    outbox_release_stale_claims,
    outbox_retry_now,
    outbox_sweep,
    retry_delay,
)
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


def an_email(to: str = "buyer@example.com") -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject="Your order",
        body="Plain text",
        from_email="shop@example.com",
        to=[to],
        cc=["cc@example.com"],
        reply_to=["help@example.com"],
        headers={"List-Unsubscribe": "<https://example.com/u>"},
    )
    email.attach_alternative("<p>HTML</p>", "text/html")
    return email


def test_a_rolled_back_change_emails_nobody(django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks(execute=True)
    with capture, pytest.raises(RuntimeError), transaction.atomic():
        outbox_email_enqueue(message=an_email())
        raise RuntimeError("the change failed")
    assert (OutboxMessage.objects.count(), mail.outbox) == (0, [])


def test_a_committed_message_is_delivered_once_with_its_message_id(
    django_capture_on_commit_callbacks,
):
    ticket = TicketFactory()
    with django_capture_on_commit_callbacks(execute=True):
        row = outbox_email_enqueue(message=an_email(), about=ticket)
    row.refresh_from_db()
    (sent,) = mail.outbox
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")
    assert row.about == ticket and row.sent_at is not None
    assert sent.extra_headers["Message-ID"] == row.message_id
    assert row.message_id.endswith("@example.com>")
    assert (sent.to, sent.cc, sent.reply_to) == (["buyer@example.com"], ["cc@example.com"], ["help@example.com"])  # fmt: skip
    assert sent.alternatives[0] == ("<p>HTML</p>", "text/html")
    assert sent.extra_headers["List-Unsubscribe"] == "<https://example.com/u>"
    assert outbox_deliver_due(now=timezone.now() + timedelta(days=2))["sent"] == 0
    assert len(mail.outbox) == 1


def test_a_refused_delivery_is_retried_with_backoff_then_failed(settings, closed_port):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port, 2
    settings.CRM_OUTBOX_MAX_ATTEMPTS, settings.CRM_OUTBOX_RETRY_SECONDS = 3, 60
    row = outbox_email_enqueue(message=an_email())  # the test's transaction: not yet delivered
    now = timezone.now()
    assert outbox_deliver_due(now=now)["retrying"] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in row.last_error
    assert now + timedelta(seconds=59) < row.next_attempt_at < timezone.now() + timedelta(seconds=61)  # fmt: skip
    assert outbox_deliver_due(now=now)["retrying"] == 0  # not due yet
    assert outbox_deliver_due(now=row.next_attempt_at)["retrying"] == 1
    row.refresh_from_db()
    assert row.attempts == 2 and row.next_attempt_at > timezone.now() + timedelta(seconds=170)
    assert outbox_deliver_due(now=row.next_attempt_at)["failed"] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 3)
    assert outbox_deliver_due(now=now + timedelta(days=9)) == {
        "sent": 0, "retrying": 0, "failed": 0, "postponed": 0
    }  # fmt: skip


def test_the_default_backoff_spans_about_a_day(settings):
    waits = [retry_delay(n) for n in range(1, settings.CRM_OUTBOX_MAX_ATTEMPTS)]
    assert waits[0] == timedelta(minutes=1)
    assert timedelta(hours=12) < sum(waits, timedelta()) < timedelta(hours=30)


def test_a_claim_left_by_a_dead_worker_is_released_and_sent_again_with_the_same_id():
    row = outbox_email_enqueue(message=an_email())
    claimed_at = timezone.now() - timedelta(minutes=10)
    OutboxMessage.objects.filter(pk=row.pk).update(status="sending", claimed_at=claimed_at)
    assert outbox_release_stale_claims(now=claimed_at + timedelta(minutes=1)) == 0  # still fresh
    result = outbox_sweep()
    row.refresh_from_db()
    assert (result["released"], result["sent"]) == (1, 1)
    assert (row.status, row.attempts) == ("sent", 2)  # the lost attempt counts
    assert mail.outbox[0].extra_headers["Message-ID"] == row.message_id


def test_a_claimed_row_is_not_sent_twice():
    """The claim is taken before sending: a second deliverer finds nothing due."""
    row = outbox_email_enqueue(message=an_email())
    OutboxMessage.objects.filter(pk=row.pk).update(status="sending", claimed_at=timezone.now())
    assert outbox_deliver_due()["sent"] == 0 and mail.outbox == []


def test_retry_now_gives_a_failed_message_one_more_attempt(settings):
    settings.CRM_OUTBOX_MAX_ATTEMPTS = 3
    row = outbox_email_enqueue(message=an_email())
    OutboxMessage.objects.filter(pk=row.pk).update(
        status="failed", attempts=3, next_attempt_at=timezone.now() + timedelta(days=1)
    )
    with transaction.atomic():
        assert outbox_retry_now(ids=[row.pk]) == 1
    assert outbox_deliver_due()["sent"] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 3)


def test_the_admin_lists_searches_and_retries(admin_client):
    row = outbox_email_enqueue(message=an_email("someone@example.com"))
    OutboxMessage.objects.filter(pk=row.pk).update(status="failed", last_error="554 refused")
    listing = admin_client.get("/admin/core/outboxmessage/", {"q": "someone", "status": "failed"})
    assert listing.status_code == 200 and "554 refused" in listing.text
    response = admin_client.post(
        "/admin/core/outboxmessage/",
        {"action": "retry_now", "_selected_action": [row.pk]},
        follow=True,
    )
    assert "1 message will be retried now." in response.text
    row.refresh_from_db()
    assert row.status == "pending"


def test_the_ticket_page_shows_an_email_that_gave_up(agent, agent_client):
    from django.urls import reverse

    from service.services import ticket_create
    from tests.factories import CustomerFactory

    ticket = ticket_create(
        customer=CustomerFactory(email="buyer@example.com"),
        subject="Printer jams",
        description="It jams.",
        channel="phone",
        created_by=agent,
    )
    row = outbox_email_enqueue(message=an_email(), about=ticket)
    OutboxMessage.objects.filter(pk=row.pk).update(
        status="failed", attempts=8, last_error="SMTPSenderRefused: 554 <b>no</b>"
    )
    page = agent_client.get(reverse("service:ticket-detail", args=[ticket.pk])).text
    problems = page.split('id="email-problems"')[1].split("</ul>")[0]
    assert "Email to buyer@example.com, cc@example.com failed: SMTPSenderRefused: 554 &lt;b&gt;no&lt;/b&gt;; no more retries." in problems  # fmt: skip
