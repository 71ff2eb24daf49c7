"""Fault injection: the worker delivering an outbox email is killed (SIGKILL) while the SMTP
server holds the DATA phase; a new worker starts, beat's outbox sweep releases the dead
worker's claim and the message is delivered, with no one's help.

Delivery is at-least-once, and this is where its one duplicate comes from. Killed before the
message's final dot (BEFORE_DATA), the server has nothing and the message arrives once.
Killed after the server has the whole message but before the worker read its "250" reply
(AFTER_DATA), the server delivers it and the sweep sends it again: the recipient gets it
twice, with the same Message-ID, which mail clients and servers use to drop the copy.
Nothing is lost in either case, and the row ends `sent`.

Short times (tests/faults/conftest.py): the claim is stale after 6 s (production: 5 min).
"""

import time

import pytest
from django.test import Client

from core.models import OutboxMessage
from tests.core.smtp_sink import AFTER_DATA, BEFORE_DATA
from tests.faults.conftest import (
    STALE_SECONDS,
    SWEEP_SECONDS,
    kill,
    readyz,
    reply,
    send_mail_to,
    wait_for,
)

COPIES = {BEFORE_DATA: 1, AFTER_DATA: 2}


@pytest.mark.parametrize("stage", [BEFORE_DATA, AFTER_DATA])
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_email_whose_worker_is_killed_mid_send_is_delivered_by_the_sweep(
    stage, deployment, smtp_sink, ticket, agent, report_recovery
):
    send_mail_to(deployment, smtp_sink)  # EMAIL_TIMEOUT 10 s: the kill comes first
    smtp_sink.hold = stage
    worker = deployment.start_worker()
    deployment.start_beat()
    client = Client()
    client.force_login(agent)

    response = reply(client, ticket, "On our way")
    assert response.status_code == 302
    assert smtp_sink.held.wait(30), "the worker never reached the DATA phase"
    row = OutboxMessage.objects.get()
    assert row.status == OutboxMessage.Status.SENDING
    kill(worker)
    killed_at = time.monotonic()
    smtp_sink.release()  # the server goes on; the dead worker's session ends
    status, checks = readyz()
    assert (status, checks["worker"]) == (503, "fail")
    assert client.get(response.url).status_code == 200  # the ticket page, during the fault
    deployment.start_worker()  # the supervisor restarts it; nobody touches the message
    restarted = time.monotonic() - killed_at

    def sent() -> bool:
        row.refresh_from_db()
        return row.status == OutboxMessage.Status.SENT

    assert wait_for(sent, STALE_SECONDS + 10 * SWEEP_SECONDS) is not None, row.status
    recovery = time.monotonic() - killed_at
    assert wait_for(lambda: readyz()[0] == 200, 30) is not None, readyz()
    green = time.monotonic() - killed_at

    received = [message["Message-ID"] for message in smtp_sink.messages]
    assert received == [row.message_id] * COPIES[stage]
    assert row.attempts == 2 and row.last_error == ""
    page = client.get(response.url)
    assert page.status_code == 200 and 'id="email-problems"' not in page.text
    report_recovery(
        f"email worker killed {stage}",
        recovery,
        f"claim stale {STALE_SECONDS} s, sweep every {SWEEP_SECONDS} s; delivered "
        f"{len(received)}x with one Message-ID; the new worker answered {restarted:.1f} s "
        f"after the kill; /readyz green {green:.1f} s after the kill",
    )
