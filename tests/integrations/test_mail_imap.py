"""Polling a mailbox on a real IMAP server (Debian's dovecot, tests/mailservers.py).

The handlers of each purpose are written on other branches: here a message ends in any
handled status (the skeleton's handlers quarantine it); what is checked is that every
message is stored once, read-only on the server, with its headers readable."""

import threading

import pytest
from django.db import connection

from integrations.mail.imap import fetch_mailbox, mailbox_lock
from integrations.models import InboundEmail, Mailbox
from tests.integrations.mail_helpers import HANDLED, mailbox_on, message


@pytest.fixture
def mailbox(db, imap_server, imap_user, monkeypatch) -> Mailbox:
    return mailbox_on(imap_server, imap_user, monkeypatch)


def test_appended_messages_become_stored_rows_and_stay_on_the_server(imap_server, mailbox):
    sent = [message(f"Parcel {n}", sender=f"c{n}@example.org") for n in range(3)]
    imap_server.append_many(mailbox.username, sent)

    result = fetch_mailbox(mailbox, batch=2)

    assert (result.fetched, result.stored, result.duplicates, result.error) == (3, 3, 0, "")
    rows = list(InboundEmail.objects.filter(mailbox=mailbox).order_by("pk"))
    assert [row.subject for row in rows] == ["Parcel 0", "Parcel 1", "Parcel 2"]
    assert [row.from_address for row in rows] == [f"c{n}@example.org" for n in range(3)]
    assert all(row.status in HANDLED for row in rows)
    with rows[0].raw.open("rb") as stream:
        assert stream.read() == sent[0]
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 3 and mailbox.uid_validity and mailbox.last_error == ""
    assert mailbox.last_polled_at is not None
    assert imap_server.fetch_all(mailbox.username) == sent  # nothing deleted or moved
    assert _unseen(imap_server, mailbox.username) == 3  # nor marked read


def _unseen(imap_server, user: str) -> int:
    client = imap_server.connect(user)
    try:
        client.select("INBOX", readonly=True)
        _status, data = client.search(None, "UNSEEN")
        return len(data[0].split())
    finally:
        client.logout()


def test_polling_twice_stores_nothing_twice(imap_server, mailbox):
    imap_server.append_many(mailbox.username, [message("One"), message("Two")])
    assert fetch_mailbox(mailbox).stored == 2

    again = fetch_mailbox(mailbox)
    assert (again.fetched, again.stored) == (0, 0)

    imap_server.append(mailbox.username, message("Three"))
    third = fetch_mailbox(mailbox)
    assert (third.fetched, third.stored) == (1, 1)
    # The UIDs forgotten (a restored database): everything is read again, nothing stored.
    Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=0)
    reread = fetch_mailbox(mailbox)
    assert (reread.fetched, reread.stored, reread.duplicates) == (3, 0, 3)
    assert InboundEmail.objects.filter(mailbox=mailbox).count() == 3


def test_a_new_uidvalidity_reads_the_folder_from_the_start(db, imap_server, imap_user, monkeypatch):
    box = mailbox_on(imap_server, imap_user, monkeypatch, folder="Support Inbox")
    first, second = message("First"), message("Second")
    imap_server.append_many(box.username, [first, second], folder="Support Inbox")
    assert fetch_mailbox(box).stored == 2
    box.refresh_from_db()
    old_validity = box.uid_validity

    # The folder re-created (a server migration): UIDs start again at 1 under a new
    # UIDVALIDITY; the old messages come back beside a new one.
    imap_server.delete_folder(box.username, "Support Inbox")
    imap_server.append_many(box.username, [first, second, message("New")], folder="Support Inbox")
    result = fetch_mailbox(box)

    box.refresh_from_db()
    assert box.uid_validity != old_validity
    assert (result.fetched, result.stored, result.duplicates) == (3, 1, 2)
    assert box.last_uid == 3
    assert InboundEmail.objects.filter(mailbox=box).count() == 3


def test_a_wrong_password_is_recorded_not_raised(imap_server, mailbox, monkeypatch):
    imap_server.append(mailbox.username, message())
    monkeypatch.setenv(mailbox.password_env, "not-the-password")

    result = fetch_mailbox(mailbox)

    mailbox.refresh_from_db()
    assert "authentication failed" in result.error.lower()
    assert mailbox.last_error == result.error and mailbox.last_polled_at is not None
    assert mailbox.last_uid == 0 and not InboundEmail.objects.exists()
    # Fixed: the next poll reads the message and clears the error.
    monkeypatch.setenv(mailbox.password_env, imap_server.passwords[mailbox.username])
    assert fetch_mailbox(mailbox).stored == 1
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""


def test_a_missing_password_variable_is_a_clear_error(mailbox, monkeypatch):
    monkeypatch.delenv(mailbox.password_env)
    result = fetch_mailbox(mailbox)
    mailbox.refresh_from_db()
    assert mailbox.password_env in mailbox.last_error and "not set" in mailbox.last_error
    assert result.error == mailbox.last_error


def test_an_unreachable_server_or_missing_folder_is_recorded(mailbox, closed_port):
    Mailbox.objects.filter(pk=mailbox.pk).update(folder="No such folder")
    assert "cannot be opened" in fetch_mailbox(mailbox).error
    Mailbox.objects.filter(pk=mailbox.pk).update(port=closed_port)
    error = fetch_mailbox(mailbox).error
    assert "ConnectionRefusedError" in error
    mailbox.refresh_from_db()
    assert mailbox.last_error == error


@pytest.fixture
def closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_never_poll_one_mailbox_at_once(imap_server, imap_user, monkeypatch):
    box = mailbox_on(imap_server, imap_user, monkeypatch)
    imap_server.append(box.username, message())
    results = []

    def other_worker() -> None:
        try:
            results.append(fetch_mailbox(box))
        finally:
            connection.close()  # the thread's own connection

    with mailbox_lock(box) as locked:
        assert locked
        thread = threading.Thread(target=other_worker)
        thread.start()
        thread.join(timeout=60)
    assert results[0].skipped and results[0].fetched == 0
    assert not InboundEmail.objects.exists()
    assert fetch_mailbox(box).stored == 1  # released: the next poll goes on
