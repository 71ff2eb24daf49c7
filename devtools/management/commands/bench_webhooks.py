"""Webhook deliveries per second per worker (`manage.py bench_webhooks`), beside a floor.

A receiver runs in a process of its own (docs/examples/webhook_receiver.py: it checks every
signature, as a real one must). N events of N different customers are fanned out to one
endpoint (rows laid out as the fan-out writes them), then one worker's loop delivers them
all: `deliveries_deliver_due`, the code the Celery task runs (claim a batch, sign, POST,
record the answer, renew the claims), without the broker's round trip. The floor is the
same number of plain POSTs of the same bodies from one process to the same receiver, with
the same HTTP client (urllib3): what the network and the receiver cost alone.
Everything the run writes is deleted afterwards.
"""

import subprocess
import sys
import time
import uuid
from pathlib import Path

import urllib3
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from core.models import DomainEvent
from integrations.delivery_services import body_of, deliveries_deliver_due, signature
from integrations.models import WebhookDelivery, WebhookEndpoint

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "webhook_receiver.py"
PORT = 8765


class Command(BaseCommand):
    help = "Deliver N webhook events to a local receiver; print deliveries/s beside plain POSTs."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=2000)
        parser.add_argument("--batch", type=int, default=100, help="Deliveries claimed at once.")
        parser.add_argument("--port", type=int, default=PORT)

    def handle(self, *args, events: int, batch: int, port: int, **options):
        secret = "whsec_bench"  # noqa: S105 - the local receiver's, for this run only
        receiver = subprocess.Popen(  # noqa: S603 - fixed arguments
            [sys.executable, str(EXAMPLE), str(port), secret],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_listening(port)
            with override_settings(CRM_WEBHOOKS_ALLOW_PRIVATE=True):
                endpoint = _endpoint(port, secret)
                try:
                    self._run(endpoint, events, batch, port)
                finally:
                    _clean(endpoint)
        finally:
            receiver.terminate()
            receiver.wait(timeout=10)

    def _run(self, endpoint: WebhookEndpoint, events: int, batch: int, port: int) -> None:
        bodies = _fan_out(endpoint, events)
        started = time.perf_counter()
        counts = deliveries_deliver_due(limit=batch)
        while WebhookDelivery.objects.filter(endpoint=endpoint, status="pending").exists():
            counts += deliveries_deliver_due(limit=batch)
        worker = time.perf_counter() - started
        floor = _plain_posts(port, bodies, endpoint.secret)
        sent = counts["sent"]
        self.stdout.write(
            f"webhook deliveries: {sent} of {events} sent by one worker in {worker:.2f} s = "
            f"{sent / worker:.0f}/s per worker (batches of {batch}; failed {counts['retrying']})"
        )
        self.stdout.write(
            f"floor: {events} plain POSTs from one process to the same receiver in "
            f"{floor:.2f} s = {events / floor:.0f}/s; the worker runs at "
            f"{100 * (events / worker) / (events / floor):.0f}% of it"
        )


def _wait_listening(port: int) -> None:
    http = urllib3.PoolManager(retries=False)
    for _ in range(100):
        try:
            http.request("GET", f"http://127.0.0.1:{port}/", timeout=0.5)
            return
        except urllib3.exceptions.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the receiver did not start")


def _endpoint(port: int, secret: str) -> WebhookEndpoint:
    owner, _created = get_user_model().objects.get_or_create(username="bench-webhooks")
    return WebhookEndpoint.objects.create(
        owner=owner, url=f"http://127.0.0.1:{port}/hook", events=["order.created"], secret=secret
    )


@transaction.atomic
def _fan_out(endpoint: WebhookEndpoint, count: int) -> list[bytes]:
    """`count` order.created events of different orders and their deliveries, in bulk."""
    now = timezone.now()
    made = DomainEvent.objects.bulk_create(
        DomainEvent(
            uuid=uuid.uuid4(), type="order.created", occurred_at=now,
            object_type="sales.order", object_id=f"bench-{i}",
            data={"id": i, "number": f"SO-{i:06d}", "customer_id": i, "total": "59.90",
                  "currency": "EUR", "channel": "web"},
        )
        for i in range(count)
    )  # fmt: skip
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(endpoint=endpoint, event=event, object_key=event.object_key)
        for event in made
    )
    return [body_of(event) for event in made]


def _plain_posts(port: int, bodies: list[bytes], secret: str) -> float:
    pool = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=2, retries=False)
    started = time.perf_counter()
    for body in bodies:
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-CRM-Timestamp": str(timestamp),
            "X-CRM-Signature": signature(secret, timestamp, body),
        }
        pool.urlopen("POST", "/hook", body=body, headers=headers, redirect=False)
    return time.perf_counter() - started


def _clean(endpoint: WebhookEndpoint) -> None:
    DomainEvent.objects.filter(object_type="sales.order", object_id__startswith="bench-").delete()
    endpoint.delete()
