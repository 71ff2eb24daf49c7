"""A load test: locust users of every role against gunicorn, a Celery worker and beat.

`python manage.py bench_load` (PostgreSQL and Redis): migrates and seeds the demo data
unless customers exist, starts gunicorn with the project's gunicorn.conf.py on a free
loopback port, a Celery worker and beat on a queue of their own, and an SMTP sink for the
outbox's emails. Then locust (devtools/load/locustfile.py) runs headless twice: first the
floor (the same users asking /healthz), then the users of every role through their pages
and writes, while devtools.load.cpu samples the servers' CPU time. Afterwards it prints the
CPU per request, counts the rows carrying each write's marker and fails when a request
failed, the server answered a 5xx, or a write did not land exactly once.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from crm.celery import app
from customers.models import Customer
from devtools.bench import ensure_database, require_postgresql
from devtools.demo.customers import DEMO_PASSWORD, ensure_demo_users
from devtools.load import cpu, tally
from devtools.management.commands.bench_campaign_send import PORT_VARIABLE, SmtpSink

ROOT = Path(settings.BASE_DIR)
LOCUSTFILE = ROOT / "devtools" / "load" / "locustfile.py"
EMAIL_DRAIN_SECONDS = 60
LOGIN_ALLOWANCE_SECONDS = 300
# gunicorn, the worker and beat start within this (several minutes on a 2-core machine
# shared with other loads: 90 s was seen to be too short).
START_SECONDS = 300


class Command(BaseCommand):
    help = "Load test: locust users of every role against gunicorn, Celery and PostgreSQL."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=32)
        parser.add_argument("--seconds", type=int, default=60)
        parser.add_argument("--floor-seconds", type=int, default=20)
        parser.add_argument("--spawn-rate", type=float, default=4, help="Users started per s.")
        parser.add_argument("--wait", default="1,3", help="Think time between clicks: min,max s.")
        parser.add_argument("--customers", type=int, default=5000, help="Demo size if empty.")
        parser.add_argument("--logs", default="", help="Directory for the logs (default: temp).")

    def handle(self, *args, **options):
        require_postgresql("bench_load")
        if not settings.REDIS_URL:
            raise CommandError("bench_load runs a real Celery worker and beat: set REDIS_URL.")
        if options["users"] < 1 or options["seconds"] < 1:
            raise CommandError("Need --users >= 1 and --seconds >= 1.")
        ensure_database(self.stdout)
        call_command("migrate", interactive=False, verbosity=0)
        self._seed(options["customers"])
        ensure_demo_users()
        logs = Path(options["logs"] or tempfile.mkdtemp(prefix="crm-bench-load-"))
        logs.mkdir(parents=True, exist_ok=True)
        self.stdout.write(f"Logs in {logs}")
        # SIGTERM (a CI timeout, kill) stops the servers as Ctrl-C does.
        previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        try:
            with Services(logs) as services:
                ok = self._run(services, logs, options)
        except KeyboardInterrupt:
            raise CommandError("interrupted; everything it started has stopped") from None
        finally:
            signal.signal(signal.SIGTERM, previous)
        if not ok:
            raise CommandError(f"the load test failed (logs in {logs})")

    def _seed(self, customers: int) -> None:
        if Customer.objects.exists():
            return
        started = time.perf_counter()
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}  # jobs run inline
        env["DATABASE_URL"] = _database_url()
        subprocess.run(  # noqa: S603 - fixed arguments
            [sys.executable, "manage.py", "seed_demo", "--customers", str(customers)],
            cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        self.stdout.write(
            f"Seeded {customers} demo customers: {time.perf_counter() - started:.0f} s"
        )

    def _run(self, services: "Services", logs: Path, options) -> bool:
        users, seconds = options["users"], options["seconds"]
        run = f"LOAD-{uuid.uuid4().hex[:8]}"
        common = {"users": users, "spawn_rate": options["spawn_rate"], "wait": options["wait"]}
        self.stdout.write(f"Floor: {users} users asking /healthz for {options['floor_seconds']} s")
        with cpu.Sampler(services.cpu_reader()) as floor_cpu:
            services.locust(
                logs / "floor.json", run, options["floor_seconds"], floor=True, **common
            )
        self.stdout.write(f"Load: {users} users of every role for {seconds} s (run {run})")
        since = timezone.now()
        with cpu.Sampler(services.cpu_reader()) as load_cpu:
            services.locust(logs / "load.json", run, seconds, floor=False, **common)
        pending = self._drain_emails(run)
        return self._report(logs, run, since, pending, (floor_cpu, load_cpu, seconds))

    def _drain_emails(self, run: str) -> int:
        deadline = time.monotonic() + EMAIL_DRAIN_SECONDS
        while (pending := tally.pending_reply_emails(run)) and time.monotonic() < deadline:
            time.sleep(1)
        return pending

    def _report(self, logs: Path, run: str, since, pending_emails: int, cpu_samples) -> bool:
        stats, exceptions = tally.read_stats(logs / "load.json")
        floor, floor_exceptions = tally.read_stats(logs / "floor.json")
        exceptions += floor_exceptions
        writes = tally.read_writes(logs / "writes.jsonl")
        tallies = tally.tally_writes(writes, run, since)
        logins = next((w for w in writes if w["kind"] == "logins"), None)
        five_xx, server_ms = tally.read_access_log(logs / "gunicorn.log")
        emails, sent, doubled_emails = tally.reply_emails(run)
        if logins:
            self.stdout.write(
                f"\nLogins (before the measured run; each hashes the password): "
                f"{logins['users']} users through the login form in {logins['seconds']} s, "
                f"{logins['failed']} refused"
            )
        for line in [
            "",
            *tally.stats_lines(stats, floor, server_ms),
            "",
            *_cpu_lines(cpu_samples, logins, stats, floor),
            "",
            *tally.write_lines(tallies),
        ]:
            self.stdout.write(line)
        self.stdout.write(
            f"reply emails: {emails} queued, {sent} sent through SMTP, "
            f"{doubled_emails} doubled, {pending_emails} still pending"
        )
        failed_requests = sum(s.failures for s in stats if s.method)
        failed_requests += sum(s.failures for s in floor if s.method)
        self.stdout.write(
            f"errors: {failed_requests} failed requests, "
            f"{sum(five_xx.values())} server errors (5xx) in gunicorn's access log"
        )
        for exception in exceptions:
            self.stdout.write(self.style.ERROR(f"locust user code raised: {exception}"))
        problems = ["the locust users' code raised (see locust.log)"] if exceptions else []
        if not logins or logins["failed"]:
            problems.append("not every user could log in (see locust.log)")
        if failed_requests or five_xx:
            problems.append("requests failed (see the failures CSV and gunicorn.log)")
        if not all(t.exact for t in tallies):
            problems.append("a write did not land exactly once")
        if doubled_emails or pending_emails:
            problems.append("a reply email was doubled or not delivered")
        if not any(t.sent for t in tallies):
            problems.append("no write was sent")
        self.stdout.write("")
        if problems:
            self.stdout.write(self.style.ERROR("FAIL: " + "; ".join(problems)))
        else:
            self.stdout.write(self.style.SUCCESS("PASS: no errors; every write landed once"))
        return not problems


class Services:
    """gunicorn, a Celery worker, beat and an SMTP sink; stopped on leaving, however left."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.procs: list[subprocess.Popen] = []
        self.port = _free_port()
        self.queue = f"bench-load-{uuid.uuid4().hex[:8]}"
        self.sink = SmtpSink()
        self.env = {
            **os.environ,
            "DATABASE_URL": _database_url(),  # the database this command uses (or a test's)
            "CELERY_QUEUE": self.queue,  # beat and the web publish here; only our worker reads
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "EMAIL_BACKEND": "devtools.management.commands.bench_campaign_send.SinkBackend",
            PORT_VARIABLE: str(self.sink.port),
            "PYTHONPATH": str(ROOT),
            # A served deployment refuses a short key (crm/lib/env.py); the bench's own
            # processes get a fresh one.
            "SECRET_KEY": secrets.token_urlsafe(50),
        }

    def __enter__(self) -> "Services":
        try:
            self._start("gunicorn", "-m", "gunicorn", "-c", "gunicorn.conf.py", "crm.wsgi")
            self._start("worker", "-m", "celery", "-A", "crm", "worker", "-Q", self.queue,
                        "-c", "2", "-n", f"{self.queue}@%h", "-l", "info")  # fmt: skip
            self._start("beat", "-m", "celery", "-A", "crm", "beat", "-l", "info",
                        "-s", str(self.logs / "beat-schedule"))  # fmt: skip
            self._wait_until_up()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.sink.stop()

    def _start(self, name: str, *args: str) -> None:
        with (self.logs / f"{name}.log").open("ab") as log:  # the child keeps its own copy
            self.procs.append(
                subprocess.Popen(  # noqa: S603 - fixed arguments
                    [sys.executable, *args],
                    cwd=ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )  # fmt: skip
            )

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        worker = f"{self.queue}@{socket.gethostname()}"
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.procs):
                raise CommandError(f"a server did not start (logs in {self.logs})")
            if _answers(f"http://127.0.0.1:{self.port}/healthz") and app.control.ping(
                destination=[worker], timeout=0.5
            ):
                return
            time.sleep(0.5)
        raise CommandError(f"gunicorn or the worker did not come up (logs in {self.logs})")

    def cpu_reader(self):
        """A function reading each server's CPU seconds so far (devtools.load.cpu)."""
        import redis

        gunicorn, worker, beat = (proc.pid for proc in self.procs)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            postmaster = cpu.postmaster_of(cursor.fetchone()[0])  # None: not on this machine
        client = redis.Redis.from_url(settings.REDIS_URL)

        def read() -> dict[str, float]:
            table = cpu.process_table()
            seconds = {
                "web": cpu.tree_seconds(gunicorn, table),
                "jobs": cpu.tree_seconds(worker, table) + cpu.tree_seconds(beat, table),
                "redis": cpu.redis_seconds(client),
            }
            if postmaster is not None:
                seconds["database"] = cpu.tree_seconds(postmaster, table)
            return seconds

        return read

    def locust(self, stats: Path, run: str, seconds: int, *, floor: bool, **common) -> None:
        env = {**self.env, "LOAD_RUN": run, "LOAD_PASSWORD": DEMO_PASSWORD,
               "LOAD_WAIT": common["wait"], "LOAD_FLOOR": "1" if floor else "0",
               "LOAD_SECONDS": str(seconds), "LOAD_STATS_FILE": str(stats),
               "LOAD_WRITES_FILE": str(self.logs / "writes.jsonl")}  # fmt: skip
        command = [
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            "--host", f"http://127.0.0.1:{self.port}", "--users", str(common["users"]),
            "--spawn-rate", str(common["spawn_rate"]),
            # The floor stops by this; the users stop LOAD_SECONDS after their logins, and
            # this only bounds a run whose logins never finish.
            "--run-time", f"{seconds if floor else seconds + LOGIN_ALLOWANCE_SECONDS}s",
            "--stop-timeout", "30", "--only-summary", "--loglevel", "WARNING",
        ]  # fmt: skip
        with (self.logs / "locust.log").open("ab") as log:
            # Exit code 1 means some request failed: the report counts and shows those.
            subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603


def _cpu_lines(cpu_samples, logins: dict | None, stats, floor) -> list[str]:
    """The servers' CPU per request: the measured run from the moment every user had logged
    in (the locustfile's `at`) for its seconds; the floor's whole run."""
    floor_cpu, load_cpu, seconds = cpu_samples
    first_sample = load_cpu.samples[0][0] if load_cpu.samples else 0.0  # none: every read failed
    start = (logins or {}).get("at") or first_sample
    total = {name: next((s.requests for s in rows if not s.method), 0)
             for name, rows in (("load", stats), ("floor", floor))}  # fmt: skip
    return cpu.cpu_lines(
        [
            ("all pages", load_cpu.between(start, start + seconds), total["load"]),
            ("FLOOR GET /healthz", floor_cpu.between(0, time.time()), total["floor"]),
        ]
    )


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{quote(db['USER'], safe='')}{password}@{host}:{port}/{db['NAME']}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return response.status == 200
    except OSError:
        return False
