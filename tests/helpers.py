"""Helpers the tests share that are not fixtures."""

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.core.management import call_command
from django.db import transaction

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
