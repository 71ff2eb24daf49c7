"""`make bench-api`: the REST API under load through gunicorn, beside its floor.

1. Orders posted by 8 concurrent clients (`--clients`), each with its own Idempotency-Key,
   through POST /api/v1/orders/ (sales/api.py: `order_number` upsert, lines by SKU):
   orders per second and p50/p95 latency. `--target customers` posts customers instead
   (POST /api/v1/customers/), for a tree where the orders endpoint is not there yet.
2. The customer list endpoint (GET /api/v1/customers/, first pages, a filter, a search)
   at `--customers` customers (added with one INSERT ... SELECT when fewer): p50/p95.
3. The floor, measured in the same run on the same gunicorn: the same clients asking
   /healthz (requests per second, p95), and the ORM's plain insert rate of customers.

PostgreSQL only; gunicorn runs with the project's gunicorn.conf.py on a free loopback port.
"""

import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import requests
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from core.api_tokens import api_token_create
from crm import roles
from customers.models import Customer
from devtools.bench import ensure_database, insert_bench_customers, require_postgresql
from devtools.management.commands.bench_load import _answers, _database_url, _free_port

ROOT = Path(settings.BASE_DIR)
BENCH_USER = "bench-api"
SKUS = [f"BENCH-API-{n}" for n in range(20)]
SHOP_PREFIX, SHOP_CUSTOMERS = "bench-api-shop-", 5000


@dataclass
class Run:
    name: str
    count: int
    seconds: float
    latencies: list[float]
    errors: int

    def line(self) -> str:
        ms = sorted(1000 * x for x in self.latencies) or [0.0]
        p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
        rate = self.count / self.seconds if self.seconds else 0
        return (
            f"{self.name:<42} {self.count:>8} in {self.seconds:7.1f} s  {rate:8.0f}/s  "
            f"p50 {statistics.median(ms):6.1f} ms  p95 {p95:6.1f} ms  errors {self.errors}"
        )


class Command(BaseCommand):
    help = "REST API throughput and latency through gunicorn, beside /healthz and the ORM."

    def add_arguments(self, parser):
        parser.add_argument("--target", choices=["orders", "customers"], default="orders")
        parser.add_argument("--orders", type=int, default=100_000, help="Writes to post.")
        parser.add_argument("--customers", type=int, default=100_000, help="For the list.")
        parser.add_argument("--clients", type=int, default=8)
        parser.add_argument("--list-requests", type=int, default=400)
        parser.add_argument("--floor-requests", type=int, default=4000)

    def handle(self, *args, **options):
        require_postgresql("bench_api")
        ensure_database(self.stdout)
        call_command("migrate", verbosity=0)
        token = self._token()
        if options["target"] == "orders":
            self._products()
            self._shop_customers()
        self._enough_customers(options["customers"])
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory() as logs, self._gunicorn(port, Path(logs)):
            headers = {"Authorization": f"Bearer {token}"}
            clients = options["clients"]
            results = [
                hammer(f"floor: GET /healthz ({clients} clients)", clients,
                       options["floor_requests"], lambda s, i: s.get(f"{base}/healthz")),
                orm_insert_floor(2000),
                hammer(f"POST /api/v1/{options['target']}/ ({clients} clients)", clients,
                       options["orders"], self._poster(base, options["target"]), headers),
                hammer(f"GET /api/v1/customers/ at {Customer.objects.count():,}", clients,
                       options["list_requests"], list_request(base), headers),
            ]  # fmt: skip
        for result in results:
            self.stdout.write(result.line())
        if any(r.errors for r in results):
            raise CommandError("some requests failed (non-2xx answers)")

    def _token(self) -> str:
        from django.contrib.auth.models import Group, User

        user, _created = User.objects.get_or_create(username=BENCH_USER)
        user.groups.add(Group.objects.get(name=roles.MANAGER))
        _token, text = api_token_create(
            user=user, name="bench", scope="read_write", expires_in_days=1
        )
        return text

    def _products(self) -> None:
        from sales.models import Product

        for sku in SKUS:
            Product.objects.get_or_create(
                sku=sku, defaults={"name": sku, "unit_price": Decimal("10.00")}
            )

    def _shop_customers(self) -> None:
        """The web shop's customers that order_body's orders name by external id."""
        if not Customer.objects.filter(external_id=f"{SHOP_PREFIX}0").exists():
            with transaction.atomic():
                insert_bench_customers(
                    0, SHOP_CUSTOMERS, prefix=SHOP_PREFIX, name="Shop", email="bench-api-shop"
                )

    def _enough_customers(self, wanted: int) -> None:
        have = Customer.objects.count()
        if have < wanted:
            self.stdout.write(f"Adding {wanted - have:,} customers.")
            with transaction.atomic():
                insert_bench_customers(
                    have, wanted, prefix=f"bench-api-{uuid.uuid4().hex[:6]}-",
                    name="Bench API", email="bench-api",
                )  # fmt: skip

    def _poster(self, base: str, target: str) -> Callable:
        run = uuid.uuid4().hex[:8]

        def post(session: requests.Session, i: int) -> requests.Response:
            body = order_body(run, i) if target == "orders" else customer_body(run, i)
            return session.post(
                f"{base}/api/v1/{target}/",
                json=body,
                headers={"Idempotency-Key": f"bench-{run}-{i}"},
            )

        return post

    def _gunicorn(self, port: int, logs: Path):
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "PYTHONPATH": str(ROOT),
            "CRM_API_RATE": "1000000/min",  # the throttle is not what this measures
            # A served deployment refuses the console backend; the API sends no email.
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
        return Gunicorn(env, logs, f"http://127.0.0.1:{port}/healthz")


class Gunicorn:
    def __init__(self, env: dict[str, str], logs: Path, health: str):
        self.env, self.logs, self.health = env, logs, health
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Gunicorn":
        with (self.logs / "gunicorn.log").open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - fixed arguments
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "crm.wsgi"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 90
        while not _answers(self.health):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                tail = (self.logs / "gunicorn.log").read_text(errors="replace")[-2000:]
                raise CommandError(f"gunicorn did not start:\n{tail}")
            time.sleep(0.3)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def order_body(run: str, i: int) -> dict:
    """The shape sales/api.py accepts (docs/api.md): the customer by external id, upserted by
    order number, lines by SKU."""
    return {
        "customer_external_id": f"{SHOP_PREFIX}{i % SHOP_CUSTOMERS}",
        "order_number": f"BENCH-{run}-{i}",
        "ordered_at": datetime.now(UTC).isoformat(),
        "currency": settings.CRM_CURRENCY,
        "lines": [
            {"product": SKUS[(i + n) % len(SKUS)], "quantity": 1 + n, "unit_price": "10.00"}
            for n in range(2)
        ],
    }


def customer_body(run: str, i: int) -> dict:
    return {"name": f"Bench {run} {i}", "external_id": f"bench-{run}-{i}", "stage": "customer"}


def list_request(base: str) -> Callable:
    queries = ["", "?ordering=name", "?stage=customer", "?q=Bench%20API%2012", "?region=beijing"]

    def get(session: requests.Session, i: int) -> requests.Response:
        return session.get(f"{base}/api/v1/customers/{queries[i % len(queries)]}")

    return get


def hammer(name: str, clients: int, total: int, call: Callable, headers: dict | None = None) -> Run:
    """`total` calls shared by `clients` threads, each with its own keep-alive session."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = iter(range(total))

    def client() -> None:
        session = requests.Session()
        session.headers.update(headers or {})
        mine: list[float] = []
        failed = 0
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            started = time.perf_counter()
            response = call(session, i)
            mine.append(time.perf_counter() - started)
            failed += not (200 <= response.status_code < 300)
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Run(name, total, time.perf_counter() - started, latencies, errors[0])


def orm_insert_floor(rows: int) -> Run:
    """The ORM's own rate: Customer.objects.create in a loop, one transaction each."""
    run = uuid.uuid4().hex[:8]
    latencies = []
    started = time.perf_counter()
    for i in range(rows):
        t = time.perf_counter()
        Customer.objects.create(name=f"Floor {run} {i}", external_id=f"floor-{run}-{i}")
        latencies.append(time.perf_counter() - t)
    return Run("floor: ORM Customer.objects.create", rows, time.perf_counter() - started,
               latencies, 0)  # fmt: skip
