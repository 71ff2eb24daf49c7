"""Email in per second (`manage.py bench_mail`), beside a floor, on a real dovecot.

dovecot (devtools/mailserver) keeps its maildir in --dir between runs. The first run
appends N messages over IMAP (shaped like real mail: a text part and, for one in ten, a
small attachment), then:
- floor: one process fetches every message over IMAP exactly as the poller does (UID
  SEARCH, sizes, UID FETCH BODY.PEEK[] in batches) and throws them away;
- ingestion into a support mailbox (each message a ticket, with its acknowledgement in the
  outbox): fetch_mailbox, the code the beat task runs (fetch, store each once with its
  raw bytes, process it, advance last_uid after each commit);
- a second poll, which must ingest nothing, and a re-read with the UIDs forgotten (every
  message found already stored by its Message-ID).
Peak memory is the process's maximum resident set after each phase. A second run of the
command finds the mailbox read and ingests nothing, and says so; --fresh starts again.
"""

import imaplib
import logging
import os
import resource
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from devtools.bench import ensure_database
from devtools.mailserver.dovecot import DovecotServer
from integrations.mail import imap
from integrations.models import InboundEmail, Mailbox

USER, PASSWORD_ENV = "bench@example.com", "CRM_BENCH_MAIL_PASSWORD"
PASSWORD = "bench-only"  # noqa: S105 - a local test server's
NAME = "bench-mail"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_message(n: int) -> bytes:
    body = f"Hello,\r\n\r\nmy order {n} arrived damaged. Could you help?\r\n\r\nKim\r\n" * 5
    head = (
        f"From: Kim {n} <kim{n}@example.org>\r\nTo: support@crm.example.com\r\n"
        f"Subject: Order {n} arrived damaged\r\nMessage-ID: <bench-{n}-{uuid.uuid4().hex}@example.org>\r\n"
        "Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
    )
    if n % 10:
        return (head + f'Content-Type: text/plain; charset="utf-8"\r\n\r\n{body}').encode()
    photo = ("iVBORw0KGgo" + "A" * 76 + "\r\n") * 100  # ~8 KB of base64
    return (
        head + 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        f'Content-Type: text/plain; charset="utf-8"\r\n\r\n{body}\r\n--b\r\n'
        'Content-Type: image/png; name="parcel.png"\r\nContent-Transfer-Encoding: base64\r\n'
        f'Content-Disposition: attachment; filename="parcel.png"\r\n\r\n{photo}--b--\r\n'
    ).encode()


class Command(BaseCommand):
    help = "Append N messages to a local dovecot and ingest them; print messages/s beside the raw fetch."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--messages", type=int, default=10_000)
        parser.add_argument("--batch", type=int, default=imap.BATCH)
        parser.add_argument(
            "--dir", type=Path, default=Path(tempfile.gettempdir()) / "crm-bench-mail"
        )
        parser.add_argument("--fresh", action="store_true", help="Empty the maildir first.")

    def handle(self, *args, messages: int, batch: int, dir: Path, fresh: bool, **options):
        ensure_database(self.stdout)
        call_command("migrate", interactive=False, verbosity=0)
        if fresh:
            shutil.rmtree(dir, ignore_errors=True)
        os.environ[PASSWORD_ENV] = PASSWORD
        # The skeleton's handlers quarantine with a logged traceback each: not the cost measured.
        logging.getLogger("integrations.mail.ingest").setLevel(logging.ERROR)
        server = DovecotServer(dir).start()
        try:
            server.add_user(USER, PASSWORD)
            mailbox = _mailbox(server, fresh=fresh)
            self._append(server, messages)
            self._run(server, mailbox, batch)
        finally:
            server.stop()

    def _append(self, server: DovecotServer, messages: int) -> None:
        present = len(_all_uids(server))
        if present >= messages:
            self.stdout.write(f"dovecot already holds {present} messages ({server.root}).")
            return
        started = time.perf_counter()
        chunk = 500
        for start in range(present, messages, chunk):
            server.append_many(
                USER, [bench_message(n) for n in range(start, min(messages, start + chunk))]
            )
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"appended {messages - present} messages over IMAP in {seconds:.1f} s "
            f"({(messages - present) / seconds:.0f}/s)"
        )

    def _run(self, server: DovecotServer, mailbox: Mailbox, batch: int) -> None:
        floor_seconds, floor_count, floor_bytes = _raw_fetch(server, batch)
        floor_peak = peak_mb()
        self.stdout.write(
            f"floor: raw IMAP fetch of {floor_count} messages ({floor_bytes / 1e6:.0f} MB) in "
            f"{floor_seconds:.2f} s = {floor_count / floor_seconds:.0f} messages/s; "
            f"peak RSS {floor_peak:.0f} MB"
        )
        started = time.perf_counter()
        result = imap.fetch_mailbox(mailbox, batch=batch)
        seconds = time.perf_counter() - started
        if result.error:
            self.stderr.write(f"the poll failed: {result.error}")
            return
        if result.stored == 0:
            self.stdout.write(
                f"ingestion: nothing new (last_uid {Mailbox.objects.get(pk=mailbox.pk).last_uid}:"
                f" this mailbox was ingested by an earlier run); {seconds:.2f} s; use --fresh to measure again"
            )
        else:
            self.stdout.write(
                f"ingestion: {result.stored} stored ({_statuses(result)}) in {seconds:.2f} s = "
                f"{result.stored / seconds:.0f} messages/s, {100 * (result.stored / seconds) / (floor_count / floor_seconds):.1f}% "
                f"of the floor; peak RSS {peak_mb():.0f} MB (after the floor: {floor_peak:.0f} MB)"
            )
        self._again(mailbox, batch)

    def _again(self, mailbox: Mailbox, batch: int) -> None:
        started = time.perf_counter()
        second = imap.fetch_mailbox(mailbox, batch=batch)
        self.stdout.write(
            f"second poll: {second.fetched} fetched, {second.stored} stored "
            f"({time.perf_counter() - started:.2f} s): nothing ingested twice"
        )
        Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=0)
        started = time.perf_counter()
        reread = imap.fetch_mailbox(mailbox, batch=batch)
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"re-read with the UIDs forgotten: {reread.fetched} fetched, {reread.stored} stored, "
            f"{reread.duplicates} found already stored in {seconds:.2f} s"
        )


def _statuses(result: imap.PollResult) -> str:
    return ", ".join(f"{count} {status}" for status, count in sorted(result.statuses.items()))


def _mailbox(server: DovecotServer, *, fresh: bool) -> Mailbox:
    with transaction.atomic():
        mailbox, created = Mailbox.objects.get_or_create(
            name=NAME,
            defaults={"purpose": Mailbox.Purpose.SUPPORT, "address": USER, "host": server.host,
                      "username": USER, "password_env": PASSWORD_ENV},
        )  # fmt: skip
        if fresh and not created:
            for inbound in InboundEmail.objects.filter(mailbox=mailbox).iterator():
                inbound.raw.delete(save=False)
            InboundEmail.objects.filter(mailbox=mailbox).delete()
            mailbox.uid_validity, mailbox.last_uid = None, 0
        mailbox.host, mailbox.port, mailbox.security = server.host, server.port, "none"
        mailbox.save()
    return mailbox


def _all_uids(server: DovecotServer) -> list[int]:
    client = server.connect(USER)
    try:
        imap.examine(client, "INBOX")
        return imap.uids_after(client, 0)
    finally:
        client.logout()


def _raw_fetch(server: DovecotServer, batch: int) -> tuple[float, int, int]:
    """The poller's IMAP traffic alone: the same commands, the messages thrown away."""
    started = time.perf_counter()
    count = size = 0
    client: imaplib.IMAP4 = server.connect(USER)
    try:
        imap.examine(client, "INBOX")
        uids = imap.uids_after(client, 0)
        for chunk in imap.uid_batches(client, uids, batch):
            for _uid, raw in imap.fetch_messages(client, chunk):
                count, size = count + 1, size + len(raw)
    finally:
        client.logout()
    return time.perf_counter() - started, count, size
