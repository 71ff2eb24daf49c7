"""Helpers the tests share that are not fixtures."""

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.core.management import call_command
from django.db import connection, transaction

T = TypeVar("T")


def wait_for(
    predicate: Callable[[], object],
    seconds: float = 90,
    every: float = 0.3,
    then: Callable[[], object] | None = None,
) -> bool:
    """Poll until predicate() is true; `then` runs between polls (beat's next tick)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        if then is not None:
            then()
        time.sleep(every)
    return False


def seed_demo_twice(snapshot: Callable[[], T], *, customers: int, seed: int) -> tuple[T, T]:
    """snapshot() of the demo seeded, rolled back, then seeded again with the same seed."""
    with transaction.atomic():
        call_command("seed_demo", customers=customers, seed=seed, verbosity=0)
        first = snapshot()
        transaction.set_rollback(True)
    call_command("seed_demo", customers=customers, seed=seed, verbosity=0)
    return first, snapshot()


def run_in_threads(*calls: Callable[[], object], timeout: float) -> None:
    """Start one thread per call, all at once, and wait for each at most `timeout` seconds."""
    threads = [threading.Thread(target=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)


def sessions_waiting_for_a_lock() -> int:
    """PostgreSQL sessions of this database waiting on a lock (a row or an index entry)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def in_own_session(work: Callable[[], object], outcomes: dict, key: str) -> threading.Thread:
    """A thread with its own database connection; its result or error lands in outcomes."""

    def run() -> None:
        try:
            outcomes[key] = work()
        except Exception as error:  # reported by the test's assertions
            outcomes[key] = error
        finally:
            connection.close()

    return threading.Thread(target=run)


def race_past_an_uncommitted_write(
    works: dict[str, Callable[[], object]], commit: threading.Event
) -> tuple[dict, int]:
    """Run each work in its own session until one waits on another's uncommitted write, then
    set `commit`: (each work's result or error by key, how many sessions were waiting)."""
    outcomes: dict = {}
    threads = [in_own_session(work, outcomes, key) for key, work in works.items()]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while not sessions_waiting_for_a_lock() and time.monotonic() < deadline:
        time.sleep(0.05)
    blocked = sessions_waiting_for_a_lock()
    commit.set()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes, blocked
