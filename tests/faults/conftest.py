"""The deployment the fault tests break: Celery worker and beat processes on a queue of their
own, against the test database, started and killed as a process supervisor would.

The processes run with short times so a test takes seconds, not minutes; production uses
the defaults (a run is failed after 5 minutes without a heartbeat, a claim released after
90 s, an outbox claim after 5 minutes, sweeps every minute): scale the recovery times the
tests print accordingly.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from crm.celery import app
from service.services import ticket_create
from tests.conftest import missing_service
from tests.core.conftest import smtp_sink  # noqa: F401 - a fixture of these tests too
from tests.core.smtp_sink import SmtpSink
from tests.factories import CustomerFactory

STALE_SECONDS = 6  # a run without heartbeat, a claim without heartbeat: dead after this
SWEEP_SECONDS = 2  # beat runs the sweeps this often
PAUSE_SECONDS = 3  # a segment run waits this long after aggregating and in each chunk


class Deployment:
    """Worker and beat processes on a queue of their own, against the test database."""

    def __init__(self, env: dict, tmp_path: Path):
        self.env, self.tmp_path = env, tmp_path
        self.queue = env["CELERY_QUEUE"]
        self.processes: list[subprocess.Popen] = []
        self.workers = 0

    def start_worker(self, pool: str = "solo") -> subprocess.Popen:
        self.workers += 1
        self.worker_name = f"{self.queue}-{self.workers}@{os.uname().nodename}"
        worker = self._spawn(
            "worker", "-Q", self.queue, "-c", "1", "-P", pool, "--without-heartbeat",
            "--without-gossip", "--without-mingle", "-n", self.worker_name,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[self.worker_name], timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the Celery worker did not start")
        return worker

    def pool_processes(self) -> list[int]:
        """The pids of the last worker's pool processes (prefork)."""
        stats = app.control.inspect(destination=[self.worker_name], timeout=5).stats() or {}
        return stats[self.worker_name]["pool"]["processes"]

    def start_beat(self) -> subprocess.Popen:
        return self._spawn("beat", "-s", str(self.tmp_path / "beat-schedule"))

    def _spawn(self, *args: str) -> subprocess.Popen:
        process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [sys.executable, "-m", "celery", "-A", "crm", *args, "-l", "warning"], env=self.env
        )
        self.processes.append(process)
        return process

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def deployment_env(*, redis_url: str, secret_key: str, tmp_path: Path) -> dict[str, str]:
    """The environment of the spawned processes: the test database, short sweep times."""
    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "CELERY_QUEUE": f"fault-{uuid.uuid4().hex[:8]}",
        "SECRET_KEY": secret_key,
        "CRM_RUN_STALE_SECONDS": str(STALE_SECONDS),
        "CRM_CLAIM_STALE_SECONDS": str(STALE_SECONDS),
        "CRM_OUTBOX_CLAIM_SECONDS": str(STALE_SECONDS),
        "CRM_SWEEP_SECONDS": str(SWEEP_SECONDS),
        "CRM_SEGMENTS_STEP_PAUSE_SECONDS": str(PAUSE_SECONDS),
        "EMAIL_BACKEND": "tests.marketing.test_send_worker.DirBackend",
        "MARKETING_TEST_MAIL_DIR": str(tmp_path),
    }  # fmt: skip


@pytest.fixture
def deploy(
    transactional_db, django_db_serialized_rollback, settings, tmp_path
) -> Iterator[Callable[[str], Deployment]]:
    """`deploy(redis_url)`: a Deployment on that Redis (not started: call its start_*)."""
    if connection.vendor != "postgresql":
        missing_service("the fault tests need PostgreSQL (set DATABASE_URL)")
    deployments: list[Deployment] = []

    def make(redis_url: str) -> Deployment:
        env = deployment_env(redis_url=redis_url, secret_key=settings.SECRET_KEY, tmp_path=tmp_path)
        app.conf.task_default_queue = env["CELERY_QUEUE"]
        app.conf.task_always_eager = False
        deployments.append(Deployment(env, tmp_path))
        return deployments[-1]

    try:
        yield make
    finally:
        app.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE
        for running in deployments:
            running.stop()


@pytest.fixture
def deployment(redis_url, deploy) -> Deployment:
    """A Deployment on the machine's Redis (REDIS_URL)."""
    return deploy(redis_url)


def wait_for(predicate: Callable[[], object], seconds: float, poll: float = 0.1) -> float | None:
    """Seconds until `predicate()` held, or None after `seconds`."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if predicate():
            return time.monotonic() - started
        time.sleep(poll)
    return None


def kill(worker: subprocess.Popen) -> None:
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


@pytest.fixture
def report_recovery(request) -> Callable[[str, float, str], None]:
    """`report_recovery(name, seconds, how)`: the figure the integrator quotes, printed
    (pytest -s) and kept in the test's user_properties (for report plugins; not through
    `record_property`, which warns under the default xunit2 JUnit format)."""

    def report(name: str, seconds: float, how: str) -> None:
        request.node.user_properties.append((f"recovery_seconds[{name}]", round(seconds, 1)))
        print(f"\nRECOVERY {name}: {seconds:.1f} s ({how})")  # noqa: T201 - the report quotes it

    return report


def readyz() -> tuple[int, dict[str, str]]:
    """/readyz's status code and its checks."""
    response = Client().get(reverse("readyz"))
    return response.status_code, json.loads(response.content)["checks"]


def send_mail_to(deployment: Deployment, sink: SmtpSink, *, timeout: int = 10) -> None:
    """The deployment's processes (started after this) deliver through `sink`."""
    deployment.env.update(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(sink.port),
        EMAIL_USE_TLS="0",
        EMAIL_TIMEOUT=str(timeout),
        CRM_OUTBOX_RETRY_SECONDS="1",  # retries after 1, 3, 9, 27 s
    )


@pytest.fixture
def ticket(agent):
    return ticket_create(
        customer=CustomerFactory(email="buyer@example.com"),
        subject="Printer jams",
        description="It jams.",
        channel="phone",
        created_by=agent,
    )


def reply(client: Client, ticket, body: str) -> Any:  # the test client's response
    return client.post(
        reverse("service:ticket-reply", args=[ticket.pk]), {"kind": "public", "body": body}
    )
