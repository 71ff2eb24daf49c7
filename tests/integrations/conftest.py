"""A real HTTP receiver for the webhook tests: a threaded http.server on a free local port
that checks every signature with the docs' example code (docs/examples/webhook_receiver.py)."""

import contextlib
import importlib.util
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from integrations.models import Mailbox
from tests.factories import CustomerFactory

# The fault tests' Deployment (worker and beat processes), for the killed-worker test.
from tests.faults.conftest import deploy, deployment, report_recovery  # noqa: F401
from tests.integrations.mail_helpers import DROP_BOX

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "webhook_receiver.py"
_spec = importlib.util.spec_from_file_location("webhook_receiver_example", EXAMPLE)
assert _spec and _spec.loader
example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(example)


@dataclass
class Received:
    event_id: str
    type: str
    body: dict
    headers: dict
    signature_valid: bool


@dataclass
class LocalReceiver:
    url: str
    secret: str = ""
    answers: list[int] = field(default_factory=list)  # statuses to answer first, then 200
    hang_first: float = 0.0  # seconds the first request waits before its answer
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def event_ids(self) -> list[str]:
        return [r.event_id for r in self.received]

    def wait_for(self, count: int, seconds: float = 10) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return True
            time.sleep(0.05)
        return False


def _handler(receiver: LocalReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            valid = example.signature_is_valid(
                secret=receiver.secret,
                timestamp=self.headers.get("X-CRM-Timestamp", ""),
                signature=self.headers.get("X-CRM-Signature", ""),
                body=body,
            )
            with receiver.lock:
                first = not receiver.received
                receiver.received.append(
                    Received(
                        self.headers.get("X-CRM-Event-Id", ""),
                        self.headers.get("X-CRM-Event-Type", ""),
                        json.loads(body or b"{}"),
                        dict(self.headers),
                        valid,
                    )
                )
                status = receiver.answers.pop(0) if receiver.answers else 200
            if first and receiver.hang_first:
                time.sleep(receiver.hang_first)
            status = status if valid else 401
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "http://example.com/elsewhere")
            self.send_header("Content-Length", "2")
            self.end_headers()
            with contextlib.suppress(OSError):  # the sender was killed while we waited
                self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

    return Handler


@pytest.fixture
def receiver(settings) -> Iterator[LocalReceiver]:
    """A running receiver; endpoints may point at it (CRM_WEBHOOKS_ALLOW_PRIVATE on)."""
    settings.CRM_WEBHOOKS_ALLOW_PRIVATE = True
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(LocalReceiver(url="")))
    local = LocalReceiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/crm")
    server.RequestHandlerClass = _handler(local)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield local
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def dropbox(db):
    """The sales drop-box of the sales mail and compose tests (a mailbox nobody polls)."""
    return Mailbox.objects.create(
        name="sales", purpose=Mailbox.Purpose.SALES, address=DROP_BOX, host="imap.test",
        username="sales",
    )  # fmt: skip


@pytest.fixture
def acme(rep):
    return CustomerFactory(owner=rep, name="Acme Ltd", email="buyer@acme.test", kind="company")
