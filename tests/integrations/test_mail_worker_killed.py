"""A real Celery worker killed (SIGKILL) in the middle of a mailbox poll, on a real IMAP
server: nothing is lost and nothing is stored twice. `last_uid` advances after each
message's commit, so the kill leaves it at most one message behind what is stored; the
restarted worker (beat polls again) re-reads that one, finds it by its Message-ID, and goes
on. Needs PostgreSQL, Redis and dovecot (skips locally without them, fails in CI)."""

import time

import pytest

from integrations.models import InboundEmail, Mailbox
from integrations.tasks import poll_mailbox
from tests.faults.conftest import kill, wait_for
from tests.integrations.mail_helpers import mailbox_on, message

MESSAGES = 300
POLL_SECONDS = 5  # beat polls this often in the test (CRM_MAIL_POLL_SECONDS' minimum)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_batch_loses_nothing_and_stores_nothing_twice(
    deployment, imap_server, imap_user, monkeypatch, report_recovery
):
    box = mailbox_on(imap_server, imap_user, monkeypatch)
    sent = [message(f"Message {n}") for n in range(MESSAGES)]
    imap_server.append_many(box.username, sent)
    deployment.env.update(
        {box.password_env: imap_server.passwords[box.username]},
        CRM_MAIL_POLL_SECONDS=str(POLL_SECONDS),
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

    # The supervisor restarts it; beat polls again. Its task runs in a thread, so the
    # worker answers the start-up ping while it polls (a solo pool would not).
    deployment.start_worker(pool="threads")

    def all_handled() -> bool:
        return (
            Mailbox.objects.get(pk=box.pk).last_uid == MESSAGES
            and not stored.filter(status=InboundEmail.Status.RECEIVED).exists()
        )

    assert wait_for(all_handled, 240, poll=0.5) is not None, stored.count()
    assert stored.count() == MESSAGES
    expected = {m.split(b"Message-ID: ")[1].split(b"\r\n")[0].decode() for m in sent}
    odd = list(stored.filter(message_id="").values())
    assert set(stored.values_list("message_id", flat=True)) == expected, odd
    assert Mailbox.objects.get(pk=box.pk).last_error == ""
    report_recovery(
        "mailbox poll",
        time.monotonic() - killed_at,
        f"killed after {at_kill} of {MESSAGES} messages (last_uid {last_uid}); the new worker "
        f"polled again on beat's next tick (every {POLL_SECONDS} s) and finished the mailbox",
    )
