"""Shared fixtures: one persona per role, and the real services CI provides."""

import os

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from crm import roles
from tests.factories import UserFactory

REQUIRE_SERVICES = os.environ.get("CRM_REQUIRE_SERVICES") == "1"


def missing_service(reason: str):
    """Skip locally when a real service is absent; fail in CI (CRM_REQUIRE_SERVICES=1)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (CRM_REQUIRE_SERVICES=1 requires it)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2 is deliberately slow; tests log users in hundreds of times."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def default_language():
    """A request in Chinese leaves its language active in the thread; the next test starts
    in the default language, as a fresh request or worker would."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def celery_tasks_inline():
    """Tasks run inline in the test process unless a test asks for `celery_worker`."""
    from crm.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


def pytest_report_header(config):
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    return f"crm: database={engine} redis={'yes' if settings.REDIS_URL else 'no (tasks inline)'}"


@pytest.fixture
def rep(db):
    return UserFactory(username="rep", first_name="Rita", role=roles.SALES_REP)


@pytest.fixture
def rep2(db):
    return UserFactory(username="rep2", first_name="Rob", role=roles.SALES_REP)


@pytest.fixture
def agent(db):
    return UserFactory(username="agent", role=roles.SERVICE_AGENT)


@pytest.fixture
def marketer(db):
    return UserFactory(username="marketer", role=roles.MARKETER)


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", role=roles.MANAGER)


@pytest.fixture
def nobody(db):
    """A logged-in user without any role."""
    return UserFactory(username="nobody")


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def rep_client(rep):
    return _client_for(rep)


@pytest.fixture
def rep2_client(rep2):
    return _client_for(rep2)


@pytest.fixture
def agent_client(agent):
    return _client_for(agent)


@pytest.fixture
def marketer_client(marketer):
    return _client_for(marketer)


@pytest.fixture
def manager_client(manager):
    return _client_for(manager)


@pytest.fixture
def nobody_client(nobody):
    return _client_for(nobody)


@pytest.fixture
def unhashed_static_files(settings):
    """Serve static names unhashed: the public pages' tests need no collectstatic run."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def fresh_cache():
    """The rate limiters count in the cache, which outlives a test (Redis)."""
    cache.clear()


@pytest.fixture
def public_page_setup(unhashed_static_files, fresh_cache):
    """What a test of the public pages needs: unhashed static names and fresh rate limits."""


@pytest.fixture
def postgres(db):
    """Tests that need PostgreSQL features (trigram indexes, COPY)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        missing_service("PostgreSQL is not configured (set DATABASE_URL)")


@pytest.fixture(scope="session")
def redis_url():
    url = settings.REDIS_URL
    if not url:
        missing_service("Redis is not configured (set REDIS_URL)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        missing_service(f"Redis at {url} does not answer: {error}")
    return url


@pytest.fixture
def celery_worker(redis_url, transactional_db, django_db_serialized_rollback, settings):
    """A real `celery worker` process on Redis, using the test database.

    The worker is another process with its own connection, so the data must be
    committed (transactional_db); the serialized rollback puts back what migrations
    created (the role groups) after the test empties the tables.
    """
    import subprocess
    import sys
    import time
    import uuid

    from django.db import connection

    from crm.celery import app

    queue = f"test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    if connection.vendor != "postgresql":
        missing_service(
            "the Celery worker test needs PostgreSQL (an in-memory SQLite cannot be shared)"
        )
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_QUEUE": queue,
        "SECRET_KEY": settings.SECRET_KEY,
    }
    worker = subprocess.Popen(  # noqa: S603 - fixed arguments
        [sys.executable, "-m", "celery", "-A", "crm", "worker", "-Q", queue, "-c", "1", "-P", "solo",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-n", f"{queue}@%h", "-l", "warning"],
        env=env,
    )  # fmt: skip
    app.conf.task_default_queue = queue
    app.conf.task_always_eager = False
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=0.5):
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the Celery worker did not start")
        yield queue
    finally:
        app.conf.task_default_queue = settings.CELERY_TASK_DEFAULT_QUEUE
        worker.terminate()
        worker.wait(timeout=15)


@pytest.fixture
def empty_fragments():
    """The worker's kept fragments ({% formcache %}, {% valuecache %}) emptied before and
    after: a test that counts what is kept starts from nothing and leaves nothing behind."""
    from crm.lib.fragments import fragments, value_fragments

    fragments.clear()
    value_fragments.clear()
    yield
    fragments.clear()
    value_fragments.clear()


# The real IMAP and SMTP servers (issue 14): imap_server, smtp_server, smtp_email_settings.
from tests.mailservers import (  # noqa: E402, F401 - fixtures
    _smtp_server_session,
    imap_server,
    imap_user,
    smtp_email_settings,
    smtp_server,
)
