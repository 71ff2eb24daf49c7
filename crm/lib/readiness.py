"""The readiness check behind `/readyz`: can this deployment do its work right now?

`/healthz` stays the cheap liveness probe (the process answers and reaches the database);
`/readyz` also asks Redis, the Celery workers and beat, and whether any job is stuck:

    {"status": "ok" | "fail", "checks": {"database": "ok", "redis": "skipped", ...}}

Each check answers "ok", "fail" or "skipped" (the service is not configured: without
REDIS_URL tasks run inline and there is no worker or beat to ask). Only names and these words
are shown, never a host, an error text or a count: the page is public.

A warning check answers "ok" or "warn" and never makes the status fail: it reports trouble
outside this deployment that it keeps working through, such as a mail server refusing the
outbox's messages (they wait and are retried). Taking the web servers out of the load
balancer would not help, so the status stays "ok" (200); a monitor alerts on "warn".

`crm` imports no app, so the apps that own jobs register how to count their stuck ones in
AppConfig.ready() with `register_stuck_check` (as with panels), and their warnings with
`register_warning_check`.
"""

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection

from crm.celery import app

logger = logging.getLogger(__name__)

OK, FAIL, SKIPPED, WARN = "ok", "fail", "skipped", "warn"
# Beat records a tick every minute (crm.tasks.beat_tick, run by a worker); older than this,
# beat (or every worker) is gone.
BEAT_TICK_KEY = "crm:beat:last-tick"
BEAT_TICK_MAX_AGE_SECONDS = 180
PROBE_TIMEOUT_SECONDS = 1.0

# name -> a function counting that app's stuck jobs
_stuck_checks: dict[str, Callable[[], int]] = {}
# check name -> a function counting what it warns about
_warning_checks: dict[str, Callable[[], int]] = {}


def register_stuck_check(name: str, count_stuck: Callable[[], int]) -> None:
    _stuck_checks[name] = count_stuck


def register_warning_check(name: str, count_troubled: Callable[[], int]) -> None:
    _warning_checks[name] = count_troubled


def background_jobs_configured() -> bool:
    """A broker is configured and tasks are not run inline."""
    return bool(settings.REDIS_URL) and not app.conf.task_always_eager


def check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.warning("readiness: the database does not answer", exc_info=True)
        return FAIL
    return OK


def check_redis() -> str:
    if not settings.REDIS_URL:
        return SKIPPED
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
        socket_timeout=PROBE_TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    except redis.RedisError:
        logger.warning("readiness: Redis does not answer", exc_info=True)
        return FAIL
    finally:
        client.close()
    return OK


def check_worker(*, redis_status: str) -> str:
    """At least one Celery worker answers a ping (on the broker, so only when Redis does)."""
    if not background_jobs_configured():
        return SKIPPED
    if redis_status != OK:
        return FAIL  # a ping through a dead broker would wait for its connection retries
    try:
        # limit=1: answer as soon as one worker replies instead of waiting out the timeout.
        replies = app.control.ping(timeout=PROBE_TIMEOUT_SECONDS, limit=1)
    except Exception:  # noqa: BLE001 - any broker error means no worker can be reached
        logger.warning("readiness: the worker ping failed", exc_info=True)
        return FAIL
    return OK if replies else FAIL


def record_beat_tick(*, now: float | None = None) -> None:
    cache.set(BEAT_TICK_KEY, time.time() if now is None else now, timeout=None)


def check_beat() -> str:
    if not background_jobs_configured():
        return SKIPPED
    try:
        last_tick = cache.get(BEAT_TICK_KEY)
    except Exception:  # noqa: BLE001 - the cache (Redis) is down: no tick can be read
        logger.warning("readiness: the beat tick cannot be read", exc_info=True)
        return FAIL
    if last_tick is None or time.time() - float(last_tick) > BEAT_TICK_MAX_AGE_SECONDS:
        return FAIL
    return OK


def check_stuck() -> str:
    try:
        stuck = {name: count() for name, count in _stuck_checks.items()}
    except DatabaseError:
        logger.warning("readiness: stuck jobs cannot be counted", exc_info=True)
        return FAIL
    for name, count in stuck.items():
        if count:
            logger.warning("readiness: %s stuck %s", count, name)
    return FAIL if any(stuck.values()) else OK


def check_warning(name: str) -> str:
    try:
        troubled = _warning_checks[name]()
    except DatabaseError:
        logger.warning("readiness: %s cannot be counted", name, exc_info=True)
        return WARN
    if troubled:
        logger.warning("readiness: %s: %s in trouble", name, troubled)
    return WARN if troubled else OK


def readiness() -> dict[str, str]:
    """Every check's status, by name."""
    redis_status = check_redis()
    return {
        "database": check_database(),
        "redis": redis_status,
        "worker": check_worker(redis_status=redis_status),
        "beat": check_beat(),
        "stuck": check_stuck(),
        **{name: check_warning(name) for name in sorted(_warning_checks)},
    }
