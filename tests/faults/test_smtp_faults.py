"""Fault injection: the SMTP server refuses (554), hangs (accepts the connection and never
answers, longer than EMAIL_TIMEOUT), or is slow. A ticket reply still answers at once (the
outbox takes the email; the worker talks to the server), the agent sees the failed delivery
on the ticket, /readyz warns (mail waits; the site works), and when the server works again
the outbox sweep delivers everything once.
"""

import threading
import time
from collections import Counter

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from core.models import OutboxMessage
from core.services import outbox_deliver_due, outbox_sweep
from tests.core.smtp_sink import ACCEPT, HANG, REFUSE
from tests.faults.conftest import SWEEP_SECONDS, readyz, reply, send_mail_to, wait_for

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

EMAIL_TIMEOUT = 2  # the worker's; the sink hangs for ever


def ticket_page_problems(client: Client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200
    return page.text.split('id="email-problems"')[1].split("</ul>")[0]


def test_a_refusing_then_hanging_server_is_shown_and_the_sweep_delivers_when_it_is_back(
    deployment, smtp_sink, ticket, agent, report_recovery
):
    send_mail_to(deployment, smtp_sink, timeout=EMAIL_TIMEOUT)
    deployment.start_worker()
    deployment.start_beat()
    client = Client()
    client.force_login(agent)
    answers = []

    smtp_sink.mode = REFUSE
    answers.append(reply(client, ticket, "Refused reply"))
    refused = OutboxMessage.objects.get()

    def attempted(row: OutboxMessage) -> bool:
        row.refresh_from_db()
        return row.attempts > 0 and row.status == OutboxMessage.Status.PENDING

    assert wait_for(lambda: attempted(refused), 30) is not None, refused.status
    assert "554" in refused.last_error and refused.next_attempt_at > refused.created_at
    problems = ticket_page_problems(client, answers[0].url)
    assert "Email to buyer@example.com failed:" in problems and "retrying at" in problems
    status, checks = readyz()
    assert checks["outbox"] == "warn" and checks["stuck"] == "ok"

    smtp_sink.mode = HANG
    started = time.monotonic()
    answers.append(reply(client, ticket, "Hung reply"))
    # The request only writes the outbox row: it is not held by the server's hang (the
    # bound is that hang, not a speed target).
    assert time.monotonic() - started < EMAIL_TIMEOUT
    hung = OutboxMessage.objects.exclude(pk=refused.pk).get()
    assert wait_for(lambda: attempted(hung), 30) is not None, hung.status
    assert "timed out" in hung.last_error
    problems = ticket_page_problems(client, answers[1].url)
    assert problems.count("Email to buyer@example.com failed:") == 2 and "timed out" in problems
    assert readyz()[1]["outbox"] == "warn"

    smtp_sink.mode = ACCEPT  # the server works again; nobody touches the outbox
    back_at = time.monotonic()
    # The retries back off (1, 3, 9, 27 s here; 1, 3, 9, 27 min in production): the last
    # one is not tried before its time, however long the outage was.
    last_due = max(OutboxMessage.objects.values_list("next_attempt_at", flat=True))
    backoff = max(0.0, (last_due - timezone.now()).total_seconds())

    def all_sent() -> bool:
        return not OutboxMessage.objects.exclude(status=OutboxMessage.Status.SENT).exists()

    assert wait_for(all_sent, backoff + 60, poll=0.2) is not None, list(
        OutboxMessage.objects.values_list("status", "attempts", "last_error")
    )
    recovery = time.monotonic() - back_at
    assert wait_for(lambda: readyz()[0] == 200, 30) is not None, readyz()
    assert readyz()[1]["outbox"] == "ok"

    ids = Counter(message["Message-ID"] for message in smtp_sink.messages)
    assert ids == {refused.message_id: 1, hung.message_id: 1}
    assert all(answer.status_code == 302 for answer in answers)
    page = client.get(answers[1].url)
    assert page.status_code == 200 and 'id="email-problems"' not in page.text
    report_recovery(
        "smtp refused then hung, back",
        recovery,
        f"the last retry was due {backoff:.1f} s after the server was back (backoff 1, 3, 9, "
        f"27 s), sweep every {SWEEP_SECONDS} s; each reply delivered once",
    )


@pytest.fixture
def postgresql(transactional_db):
    from tests.conftest import missing_service

    if connection.vendor != "postgresql":
        missing_service("two connections at once need PostgreSQL (set DATABASE_URL)")


def test_a_long_batch_to_a_slow_server_is_not_taken_for_a_dead_worker(
    postgresql, smtp_sink, settings
):
    """The delivering worker renews its claims after each message. Without that, a batch
    that took longer than CRM_OUTBOX_CLAIM_SECONDS looked like a dead worker's: the sweep
    released its tail and sent it again while the worker was still sending it."""
    settings.CRM_OUTBOX_CLAIM_SECONDS, smtp_sink.data_delay, count = 3, 0.8, 6
    for i in range(count):  # a backlog, as after an outage: one sweep delivers it all
        OutboxMessage.objects.create(
            to=[f"c{i}@example.com"], subject="Hi", text="Hello", message_id=f"<m{i}@crm>"
        )

    def deliver_backlog() -> None:
        try:
            outbox_deliver_due()
        finally:
            connection.close()

    worker = threading.Thread(target=deliver_backlog)
    worker.start()
    claimed = OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING)
    assert wait_for(lambda: not claimed.exists(), 10) is not None  # the batch is the worker's
    while worker.is_alive():  # beat's sweep, meanwhile, on another worker
        outbox_sweep()
        time.sleep(0.3)
    worker.join()
    outbox_sweep()

    assert Counter(m["Message-ID"] for m in smtp_sink.messages) == {
        f"<m{i}@crm>": 1 for i in range(count)
    }
    assert set(OutboxMessage.objects.values_list("status", "attempts")) == {("sent", 1)}
