"""A real Celery worker killed (SIGKILL) in the middle of a mailbox poll, on a real IMAP
server: nothing is lost and nothing is stored twice. `last_uid` advances after each
message's commit, so the kill leaves it at most one message behind what is stored; the
restarted worker (beat polls again) re-reads that one, finds it by its Message-ID, and goes
on. Needs PostgreSQL, Redis and dovecot (skips locally without them, fails in CI)."""

import time

import pytest
from django.db.models import Count

from integrations.models import InboundEmail, Mailbox
from integrations.tasks import poll_mailbox
from tests.faults.conftest import kill, wait_for
from tests.integrations.mail_helpers import mailbox_on, message

MESSAGES = 300
POLL_SECONDS = 5  # beat polls this often in the test (CRM_MAIL_POLL_SECONDS' minimum)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_batch_loses_nothing_and_stores_nothing_twice(
    deployment, imap_server, imap_user, monkeypatch, report_recovery, settings
):
    box = mailbox_on(imap_server, imap_user, monkeypatch)
    sent = [message(f"Message {n}") for n in range(MESSAGES)]
    imap_server.append_many(box.username, sent)
    deployment.env.update(
        {box.password_env: imap_server.passwords[box.username]},
        CRM_MAIL_POLL_SECONDS=str(POLL_SECONDS),
        # The raw messages the killed worker stored are read by the next one.
        CRM_TEST_MEDIA_ROOT=str(settings.MEDIA_ROOT),
    )
    worker = deployment.start_worker()
    deployment.start_beat()
    poll_mailbox.delay(box.pk)

    stored = InboundEmail.objects.filter(mailbox=box)
    assert wait_for(lambda: stored.count() >= 20, 60) is not None, "the worker stored nothing"
    kill(worker)
    killed_at = time.monotonic()
    at_kill, last_uid = stored.count(), Mailbox.objects.get(pk=box.pk).last_uid
    assert at_kill < MESSAGES, "the poll ended before the kill: nothing was tested"
    # Advanced after each commit: at most the message being handled is ahead of last_uid.
    assert at_kill - last_uid in (0, 1)

    # The supervisor restarts it; beat polls again. Not Deployment.start_worker: its
    # start-up ping goes unanswered by a solo worker already busy with beat's queued polls.
    deployment._spawn(
        "worker", "-Q", deployment.queue, "-c", "1", "-P", "solo", "--without-heartbeat",
        "--without-gossip", "--without-mingle", "-n", f"{deployment.queue}-restarted@%h",
    )  # fmt: skip

    def all_handled() -> bool:
        return (
            Mailbox.objects.get(pk=box.pk).last_uid == MESSAGES
            and not stored.filter(status=InboundEmail.Status.RECEIVED).exists()
        )

    assert wait_for(all_handled, 300, poll=0.5) is not None, _state(box, stored)
    assert stored.count() == MESSAGES
    expected = {m.split(b"Message-ID: ")[1].split(b"\r\n")[0].decode() for m in sent}
    odd = list(stored.filter(message_id="").values())
    assert set(stored.values_list("message_id", flat=True)) == expected, odd
    assert Mailbox.objects.get(pk=box.pk).last_error == ""
    assert not stored.filter(error__contains="FileNotFoundError").exists()
    report_recovery(
        "mailbox poll",
        time.monotonic() - killed_at,
        f"killed after {at_kill} of {MESSAGES} messages (last_uid {last_uid}); the new worker "
        f"polled again on beat's next tick (every {POLL_SECONDS} s) and finished the mailbox",
    )


def _state(box: Mailbox, stored) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT state, wait_event_type, left(query, 80) FROM pg_stat_activity")
        activity = cursor.fetchall()
    statuses = list(stored.values_list("status").annotate(n=Count("pk")).order_by())
    return f"last_uid {Mailbox.objects.get(pk=box.pk).last_uid}, {statuses}, {activity}"
