"""Reading a mailbox over IMAP (stdlib imaplib) into the one ingestion path (ingest_raw).

Read-only: the folder is opened with EXAMINE and messages fetched with BODY.PEEK[], so
nothing is deleted, moved or marked on the server. Only messages whose UID is above the
mailbox's `last_uid` are fetched, and `last_uid` advances after each message's own commit:
a worker killed mid-batch re-reads at most the message it was handling, and the
Message-ID key keeps that one from being stored twice. A new UIDVALIDITY (the folder was
re-created) means the UIDs mean nothing any more: read from the start; the keys again
store nothing twice.

Failures (no password variable, a refused login, a dead server) are recorded on the
mailbox (`last_error`) and returned, never raised: the beat task goes on with the others.
Two workers never poll one mailbox at once (mailbox_lock).
"""

import contextlib
import hashlib
import imaplib
import logging
import os
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone

from integrations.mail.ingest import ingest_raw
from integrations.models import InboundEmail, Mailbox

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 60
BATCH = 50  # messages fetched per UID FETCH
BATCH_BYTES = 32 * 1024 * 1024  # ... and at most this many bytes of them (one at least)
LOCK_SECONDS = 15 * 60  # the cache lock's expiry where there are no advisory locks
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


class MailboxError(Exception):
    """A problem the admin fixes on the mailbox (a missing variable, a refused folder)."""


@dataclass
class PollResult:
    mailbox: str
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    error: str = ""
    skipped: bool = False  # another worker is polling it
    statuses: dict[str, int] = field(default_factory=dict)

    def count(self, inbound: InboundEmail, created: bool) -> None:
        self.fetched += 1
        if not created:
            self.duplicates += 1
            return
        self.stored += 1
        self.statuses[inbound.status] = self.statuses.get(inbound.status, 0) + 1
        if inbound.status == InboundEmail.Status.QUARANTINED:
            self.quarantined += 1


def fetch_mailbox(mailbox: Mailbox, *, batch: int = BATCH) -> PollResult:
    """Fetch and ingest the mailbox's new messages; never raises for the server's faults."""
    result = PollResult(mailbox.name)
    with mailbox_lock(mailbox) as locked:
        if not locked:
            result.skipped = True
            return result
        mailbox.refresh_from_db()
        try:
            _poll(mailbox, result, batch=max(1, batch))
        except (MailboxError, imaplib.IMAP4.error, OSError, EOFError) as error:
            result.error = _describe(error)
            log.warning("mailbox %s: %s", mailbox.name, result.error)
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_polled_at=timezone.now(), last_error=result.error[:2000]
        )
    return result


def _describe(error: BaseException) -> str:
    if isinstance(error, MailboxError):
        return str(error)
    detail = error.args[0] if error.args else error
    if isinstance(detail, bytes):
        detail = detail.decode(errors="replace")
    return f"{type(error).__name__}: {detail}"


def _poll(mailbox: Mailbox, result: PollResult, *, batch: int) -> None:
    password = mailbox_password(mailbox)
    with _connect(mailbox) as client:
        client.login(mailbox.username, password)
        uid_validity = examine(client, mailbox.folder)
        if uid_validity != mailbox.uid_validity:
            if mailbox.uid_validity is not None:
                log.info("mailbox %s: new UIDVALIDITY, reading from the start", mailbox.name)
            mailbox.uid_validity, mailbox.last_uid = uid_validity, 0
            mailbox.save(update_fields=["uid_validity", "last_uid"])
        uids = uids_after(client, mailbox.last_uid)
        for chunk in uid_batches(client, uids, batch):
            for uid, raw in fetch_messages(client, chunk):
                inbound, created = ingest_raw(mailbox=mailbox, raw=raw)
                result.count(inbound, created)
                # Only after the message's commit: a kill before this re-reads it.
                Mailbox.objects.filter(pk=mailbox.pk, last_uid__lt=uid).update(last_uid=uid)
                mailbox.last_uid = uid


def mailbox_password(mailbox: Mailbox) -> str:
    name = mailbox.password_env.strip()
    if not name:
        raise MailboxError("No password variable is set on the mailbox.")
    password = os.environ.get(name)
    if password is None:
        raise MailboxError(
            f"The environment variable {name} (the mailbox's password) is not set on this machine."
        )
    return password


def _connect(mailbox: Mailbox) -> imaplib.IMAP4:
    if mailbox.security == Mailbox.Security.SSL:
        return imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=ssl.create_default_context(),
            timeout=TIMEOUT_SECONDS,
        )  # fmt: skip
    client = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT_SECONDS)
    if mailbox.security == Mailbox.Security.STARTTLS:
        client.starttls(ssl.create_default_context())
    return client


def quote_folder(folder: str) -> str:
    """An IMAP quoted string (imaplib sends arguments as they are)."""
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def examine(client: imaplib.IMAP4, folder: str) -> int:
    """Open the folder read-only; its UIDVALIDITY."""
    status, detail = client.select(quote_folder(folder), readonly=True)
    if status != "OK":
        text = b" ".join(d for d in detail if isinstance(d, bytes)).decode(errors="replace")
        raise MailboxError(f"The folder {folder!r} cannot be opened: {text}")
    _name, values = client.response("UIDVALIDITY")
    try:
        return int(values[0])
    except (TypeError, ValueError, IndexError) as error:
        raise MailboxError("The server did not tell the folder's UIDVALIDITY.") from error


def uids_after(client: imaplib.IMAP4, last_uid: int) -> list[int]:
    # `n:*` always includes the highest UID, even below n: filter what the server returns.
    _status, data = client.uid("SEARCH", f"UID {last_uid + 1}:*")
    found = b" ".join(d for d in data if isinstance(d, bytes)).split()
    return sorted(uid for uid in (int(u) for u in found if u.isdigit()) if uid > last_uid)


def uid_batches(client: imaplib.IMAP4, uids: list[int], batch: int) -> Iterator[list[int]]:
    """UIDs in groups of `batch` messages and at most BATCH_BYTES (their sizes asked first),
    so a run of large messages is never all in memory at once."""
    for start in range(0, len(uids), batch):
        chunk = uids[start : start + batch]
        sizes = _sizes(client, chunk)
        group: list[int] = []
        total = 0
        for uid in chunk:
            size = sizes.get(uid, 0)
            if group and total + size > BATCH_BYTES:
                yield group
                group, total = [], 0
            group.append(uid)
            total += size
        if group:
            yield group


def _sizes(client: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
    _status, data = client.uid("FETCH", _uid_set(uids), "(RFC822.SIZE)")
    sizes = {}
    for line in data:
        text = line[0] if isinstance(line, tuple) else line
        if isinstance(text, bytes) and (match := _SIZE.search(text)):
            uid, size = (match[1], match[2]) if match[1] else (match[4], match[3])
            sizes[int(uid)] = int(size)
    return sizes


def _uid_set(uids: list[int]) -> str:
    return ",".join(str(uid) for uid in uids)


def fetch_messages(client: imaplib.IMAP4, uids: list[int]) -> list[tuple[int, bytes]]:
    """The raw bytes of these messages, in UID order (a message expunged meanwhile is
    simply absent)."""
    _status, data = client.uid("FETCH", _uid_set(uids), "(UID BODY.PEEK[])")
    messages = []
    for part in data:
        if isinstance(part, tuple) and (match := _UID.search(part[0])):
            messages.append((int(match[1]), bytes(part[1])))
    return sorted(messages)


@contextlib.contextmanager
def mailbox_lock(mailbox: Mailbox) -> Iterator[bool]:
    """True when this process may poll the mailbox. On PostgreSQL a session advisory lock:
    released by the server when the holder's connection ends, so a killed worker leaves no
    lock behind. Elsewhere (SQLite: one process) the cache's atomic add, with an expiry."""
    if connection.vendor == "postgresql":
        key = _lock_key(mailbox)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            locked = bool(cursor.fetchone()[0])
        try:
            yield locked
        finally:
            if locked:
                # A connection lost meanwhile took the lock with it.
                with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    cache_key = f"mailbox-poll:{mailbox.pk}"
    locked = cache.add(cache_key, 1, LOCK_SECONDS)
    try:
        yield locked
    finally:
        if locked:
            cache.delete(cache_key)


def _lock_key(mailbox: Mailbox) -> int:
    digest = hashlib.sha256(f"crm.mailbox-poll:{mailbox.pk}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
