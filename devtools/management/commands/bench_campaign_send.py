"""Sending one email campaign to 100,000 recipients through a local SMTP sink.

`python manage.py bench_campaign_send` (PostgreSQL and Redis): loads the customers with
email consent unless present, starts a minimal SMTP server in this process that accepts
and discards every message (stdlib asyncio: aiosmtpd is not a dependency and `smtpd` is
deprecated), then for 1 and for 2 real Celery worker processes freezes a new campaign's
audience and times the workers until every recipient is sent: messages per second in
all and per worker. Each worker sends over real SMTP (Django's SMTP backend, one
connection per batch) and marks each recipient sent in PostgreSQL.
"""

import asyncio
import os
import threading
import time
import uuid

from django.conf import settings
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from crm.celery import app
from customers.models import Customer
from devtools.bench import (
    ensure_database,
    insert_bench_customers,
    require_postgresql,
    start_celery_worker,
)
from devtools.demo.customers import ensure_demo_users
from marketing.models import Campaign, CampaignRecipient
from marketing.services import sending

PREFIX = "BENCH-M-"  # external ids of the loaded customers
PORT_VARIABLE = "BENCH_SMTP_PORT"


class SinkBackend(SmtpBackend):
    """Django's SMTP backend pointed at the benchmark's sink (the workers use it)."""

    def __init__(self, **kwargs):
        kwargs.update(host="127.0.0.1", port=int(os.environ[PORT_VARIABLE]), use_tls=False)
        super().__init__(**kwargs)


class SmtpSink:
    """Just enough SMTP to accept and discard messages; counts them."""

    def __init__(self):
        self.accepted = 0
        self.loop = asyncio.new_event_loop()
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._session, "127.0.0.1", 0, reuse_address=True)
        )
        self.port = self.server.sockets[0].getsockname()[1]
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    async def _session(self, reader, writer):
        writer.write(b"220 sink ESMTP\r\n")
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                writer.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                await reader.readuntil(b"\r\n.\r\n")
                self.accepted += 1
                writer.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:  # MAIL, RCPT, RSET, NOOP
                writer.write(b"250 ok\r\n")
            await writer.drain()
        writer.close()

    def stop(self):
        self.loop.call_soon_threadsafe(self.server.close)


class Command(BaseCommand):
    help = "Benchmark sending an email campaign through a local SMTP sink with 1 and 2 workers."

    def add_arguments(self, parser):
        parser.add_argument("--recipients", type=int, default=100_000)
        parser.add_argument("--workers", default="1,2", help="Worker counts to measure.")
        parser.add_argument("--timeout", type=int, default=1800, help="Seconds per run at most.")

    def handle(self, *args, recipients, workers, timeout, **options):
        require_postgresql("bench_campaign_send")
        if not settings.REDIS_URL:
            raise CommandError("bench_campaign_send runs real Celery workers: set REDIS_URL.")
        counts = [int(n) for n in workers.split(",") if n.strip()]
        if recipients < 1 or not counts or min(counts) < 1:
            raise CommandError("Need --recipients >= 1 and worker counts >= 1.")
        ensure_database(self.stdout)
        call_command("migrate", interactive=False, verbosity=0)
        owner = ensure_demo_users()["marketer"]
        self._load(recipients)
        sink = SmtpSink()
        self.stdout.write(f"SMTP sink on 127.0.0.1:{sink.port}")
        try:
            for n in counts:
                self._run(n, recipients, owner, sink, timeout)
        finally:
            sink.stop()

    def _load(self, recipients):
        have = Customer.objects.filter(external_id__startswith=PREFIX).count()
        if have < recipients:
            started = time.perf_counter()
            _customers(have, recipients)
            self.stdout.write(
                f"Loaded {recipients - have} customers with email consent: "
                f"{time.perf_counter() - started:.1f} s"
            )

    def _run(self, n, recipients, owner, sink, timeout):
        campaign = Campaign.objects.create(
            name=f"Bench send {timezone.now():%H:%M:%S} ×{n}",
            owner=owner,
            subject="Hello {{ first_name }}",
            body="Dear {{ name }},\n\nYour code: {{ coupon_code }}\n\n{{ unsubscribe_link }}",
            coupon_prefix="BENCH",
            audience={"regions": ["Bench"]},
            send_rate=1_000_000,
        )
        queue = f"bench-{uuid.uuid4().hex[:8]}"
        app.conf.task_default_queue = queue
        env = {**os.environ, "CELERY_QUEUE": queue, PORT_VARIABLE: str(sink.port),
               "EMAIL_BACKEND": f"{__name__}.SinkBackend"}  # fmt: skip
        procs = [start_celery_worker(queue, f"{queue}-{i}", env) for i in range(n)]
        try:
            _wait_for_workers(queue, n, procs)
            accepted_before = sink.accepted
            started = time.perf_counter()
            sending.campaign_send(campaign=campaign, by=owner)  # queues one task after commit
            frozen = time.perf_counter() - started
            sending.dispatch(campaign.pk, copies=n - 1)  # one task per worker
            sent = self._wait(campaign, started, timeout)
            elapsed = time.perf_counter() - started - frozen
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
        rate = sent / elapsed if elapsed else 0
        self.stdout.write(
            f"{n} worker(s): froze {recipients} recipients in {frozen:.1f} s; sent {sent} "
            f"(sink accepted {sink.accepted - accepted_before}) in {elapsed:.1f} s: "
            f"{rate:.0f} messages/s, {rate / n:.0f} per worker"
        )

    def _wait(self, campaign, started, timeout) -> int:
        deadline = time.monotonic() + timeout
        rows = CampaignRecipient.objects.filter(campaign=campaign)
        while time.monotonic() < deadline:
            campaign.refresh_from_db(fields=["status"])
            if campaign.status == Campaign.Status.SENT:
                return rows.filter(status=CampaignRecipient.Status.SENT).count()
            time.sleep(0.5)
        raise CommandError(
            f"not finished after {timeout} s: {rows.filter(status='sent').count()} sent"
        )


def _wait_for_workers(queue, n, procs):
    names = [f"{queue}-{i}@{os.uname().nodename}" for i in range(n)]
    deadline = time.monotonic() + 60
    while len(app.control.ping(destination=names, timeout=0.5)) < n:
        if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
            raise CommandError("the Celery workers did not start")


def _customers(first: int, last: int) -> None:
    """Customers first..last-1 in region "Bench" with granted email consent (INSERT ... SELECT)."""
    insert_bench_customers(
        first, last, prefix=PREFIX, name="Bench recipient", email="bench-m", region="Bench"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_consent (customer_id, channel, granted, changed_at, source) "
            "SELECT id, 'email', true, now(), 'bench' FROM customers_customer "
            "WHERE external_id LIKE %s ON CONFLICT DO NOTHING",
            [PREFIX + "%"],
        )
