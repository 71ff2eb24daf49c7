"""Measuring server time of pages for the `bench_*` management commands (never for tests)."""

import subprocess
import sys
import time
from argparse import ArgumentParser
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management.base import CommandError
from django.db import OperationalError, connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.lib.bulk import insert_series
from customers.models import Customer

WARMUP_REQUESTS = 20


@dataclass
class PageResult:
    name: str
    times_ms: list[float] = field(default_factory=list)
    db_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    # Each request's SELECT statements as the database received them (for replay_floor).
    statements: list[list[str]] = field(default_factory=list, repr=False)

    def percentile(self, fraction: float, values: list[float] | None = None) -> float:
        """Nearest-rank percentile of the server times (or of `values`)."""
        ordered = sorted(self.times_ms if values is None else values)
        rank = max(1, round(fraction * len(ordered) + 0.5))
        return ordered[min(rank, len(ordered)) - 1]


def require_postgresql(command: str) -> None:
    if connection.vendor != "postgresql":
        raise CommandError(
            f"{command} measures PostgreSQL only: set DATABASE_URL=postgres://... "
            f"(the configured database is {connection.vendor})."
        )


def add_count_options(parser: ArgumentParser, **defaults: int) -> None:
    """One whole-number option per keyword (`forecast_deals` is `--forecast-deals`)."""
    for name, default in defaults.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=default)


def ensure_database(stdout) -> None:
    """Create the benchmark database on first use."""
    try:
        connection.ensure_connection()
    except OperationalError as error:
        if "does not exist" not in str(error):
            raise
        name = connection.settings_dict["NAME"]
        stdout.write(f"Creating database {name}.")
        with connection._nodb_cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")


def logged_in_client(user) -> Client:
    host = next((h for h in settings.ALLOWED_HOSTS if h != "*" and not h.startswith(".")), None)
    client = Client(HTTP_HOST=host or "localhost")
    client.force_login(user)
    return client


def get_ok(client: Client, url: str, status: int = 200):
    """The response to GET `url`; CommandError unless it answered `status`."""
    response = client.get(url)
    if response.status_code != status:
        raise CommandError(f"GET {url} answered {response.status_code}, not {status}")
    return response


def measure(name: str, client: Client, make_url: Callable[[], str], requests: int) -> PageResult:
    """Server time, database time and queries of `requests` GETs after a warm-up."""
    for _ in range(min(WARMUP_REQUESTS, requests)):
        get_ok(client, make_url())
    result = PageResult(name)
    for _ in range(requests):
        url = make_url()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            get_ok(client, url)
            elapsed = time.perf_counter() - started
        result.times_ms.append(elapsed * 1000)
        result.db_ms.append(sum(float(q["time"]) for q in captured) * 1000)
        result.queries.append(len(captured))
        result.urls.append(url)
        result.statements.append([q["sql"] for q in captured if _is_select(q["sql"])])
    return result


def _is_select(sql: str) -> bool:
    return sql.lstrip().upper().startswith("SELECT")


def replay_floor(
    page: PageResult, around: Callable[[], AbstractContextManager] = nullcontext
) -> PageResult:
    """The page's floor: the SELECT statements each of its requests ran, replayed as plain
    SQL in the same order (no Django, no templates), timed per request. `around` wraps each
    request's replay (the planner settings the page's own code sets, say)."""
    floor = PageResult(f"floor: {page.name}")
    for url, statements in zip(page.urls, page.statements, strict=True):
        with around(), connection.cursor() as db:
            started = time.perf_counter()
            for sql in statements:
                db.execute(sql)
                db.fetchall()
            elapsed = (time.perf_counter() - started) * 1000
        floor.times_ms.append(elapsed)
        floor.db_ms.append(elapsed)
        floor.queries.append(len(statements))
        floor.urls.append(url)
    return floor


def report(
    command,
    results: list[PageResult],
    targets_ms: dict[str, float],
    verbosity: int = 1,
    floors: dict[str, PageResult] | None = None,
) -> bool:
    """Print the table (and with -v 2 the slowest URLs); True when every p95 meets its target.

    `floors` (by page name, see replay_floor) adds each page's floor p95 and the page's p95
    as a multiple of it, measured in the same run."""
    floors = floors or {}
    header = (
        f"{'page':<24} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
        f"{'db p95 ms':>10} {'queries':>9} {'target':>7}"
    ) + (f" {'floor p95':>9} {'x floor':>7}" if floors else "")
    command.stdout.write("")
    command.stdout.write(header)
    command.stdout.write("-" * len(header))
    failed = []
    for r in results:
        p50, p95 = r.percentile(0.50), r.percentile(0.95)
        low, high = min(r.queries), max(r.queries)
        queries = str(low) if low == high else f"{low}-{high}"
        target = targets_ms[r.name]
        line = (
            f"{r.name:<24} {len(r.times_ms):>8} {p50:>8.1f} {p95:>8.1f} {max(r.times_ms):>8.1f} "
            f"{r.percentile(0.95, r.db_ms):>10.1f} {queries:>9} {target:>7.0f}"
        )
        if r.name in floors:
            floor_p95 = floors[r.name].percentile(0.95)
            line += f" {floor_p95:>9.1f} {p95 / max(floor_p95, 0.001):>6.1f}x"
        command.stdout.write(line)
        if p95 >= target:
            failed.append(r.name)
    if verbosity >= 2:
        command.stdout.write("\nSlowest requests:")
        for r in results:
            for ms, url in sorted(zip(r.times_ms, r.urls, strict=True), reverse=True)[:5]:
                command.stdout.write(f"  {ms:8.1f} ms  {url}")
    command.stdout.write("")
    if failed:
        command.stdout.write(
            command.style.ERROR(f"FAIL: p95 at or over its target for: {', '.join(failed)}")
        )
    else:
        command.stdout.write(command.style.SUCCESS("PASS: every page's p95 is under its target"))
    return not failed


def start_celery_worker(queue: str, name: str, env: dict[str, str]) -> subprocess.Popen:
    """One solo Celery worker process on `queue`, named `name`@host, quiet but for warnings."""
    return subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "celery", "-A", "crm", "worker", "-Q", queue, "-c", "1", "-P", "solo",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-n", f"{name}@%h",
         "-l", "warning"],
        env=env,
    )  # fmt: skip


def insert_bench_customers(
    first: int, last: int, *, prefix: str, name: str, email: str, **fields: object
) -> None:
    """Customers first..last-1 in one INSERT ... SELECT: "<name> i", "<email>i@example.com",
    external id "<prefix>i", and `fields` the same on every row."""
    template = Customer(stage=Customer.Stage.CUSTOMER, created_at=timezone.now(), **fields)
    template.updated_at = template.created_at
    varying = {
        "name": f"'{name} ' || i",
        "email": f"'{email}' || i || '@example.com'",
        "external_id": f"'{prefix}' || i",
    }
    insert_series(template, varying, first, last)
