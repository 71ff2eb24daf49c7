"""Redis down: the cache fails soft, the rate limit fails as each use says, and a job that
cannot be queued tells its user it will start later; no page answers 500 or hangs.

The outage is real: the cache and the broker point at a closed port (nothing listens on
127.0.0.1:1), with the connection timeouts and publish retry policy of crm/settings.py.
"""

import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analytics.models import SegmentRun
from crm.lib.cache import CacheUnavailable
from crm.lib.ratelimit import rate_limit_hit
from crm.lib.tasks import QUEUED_UNTIL_BROKER_IS_BACK
from customers.models import CustomerImport
from marketing.models import Campaign, CampaignRecipient
from service.models import Ticket
from tests.analytics.test_runs import order
from tests.conftest import missing_service
from tests.customers.test_import import csv_bytes, upload_ok
from tests.factories import (
    CampaignFactory,
    ConsentFactory,
    CustomerFactory,
    CustomerValueFactory,
    DealFactory,
    SegmentRunFactory,
)

pytestmark = pytest.mark.django_db

CLOSED_PORT = "redis://127.0.0.1:1/0"
# Celery's defaults held each request about 20 s with Redis down; the bound separates that
# hang from a busy machine's noise (it is not a speed target: benchmarks measure speed).
FAST = 8.0
RUN_NOT_TAKEN = "The job system (Redis) could not take the run"
QUEUED_LATER = str(QUEUED_UNTIL_BROKER_IS_BACK)


@pytest.fixture
def redis_down(settings) -> Iterator[None]:
    """The cache and the Celery broker and result backend on a port nobody listens on."""
    from crm.celery import app

    settings.CACHES = {
        "default": {
            "BACKEND": "crm.lib.cache.FailSoftRedisCache",
            "LOCATION": CLOSED_PORT,
            "OPTIONS": {
                "socket_connect_timeout": settings.REDIS_CONNECT_TIMEOUT,
                "socket_timeout": settings.REDIS_SOCKET_TIMEOUT,
            },
        }
    }
    saved = {key: app.conf[key] for key in ("broker_url", "result_backend")}
    app.conf.update(broker_url=CLOSED_PORT, result_backend=CLOSED_PORT, task_always_eager=False)
    _forget_connections(app)
    try:
        yield
    finally:
        app.conf.update(saved)
        _forget_connections(app)


def _forget_connections(app) -> None:
    """Drop the app's pooled broker connections and result backend (made for the old URLs)."""
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    app._local = threading.local()


def timed(call) -> tuple:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


# --- the cache ------------------------------------------------------------------------


def test_cache_reads_and_writes_fail_soft_with_a_warning(redis_down, caplog):
    with caplog.at_level(logging.WARNING, logger="crm.lib.cache"):
        (value, seconds) = timed(lambda: cache.get("key", "default"))
        assert value == "default" and seconds < FAST
        assert "cache get failed" in caplog.text
        assert cache.get_many(["a", "b"]) == {}
        assert cache.add("key", 1) is False
        assert cache.set("key", 1) is None
        assert cache.delete("key") is False
        assert cache.get_or_set("key", 5) == 5
    with pytest.raises(CacheUnavailable):  # a count has no soft answer
        cache.incr("key")


def test_sessions_do_not_live_in_the_cache():
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


@pytest.mark.parametrize(("fail_open", "allowed"), [(True, True), (False, False)])
def test_the_rate_limit_fails_as_its_use_says(redis_down, caplog, fail_open, allowed):
    with caplog.at_level(logging.WARNING, logger="crm.lib.ratelimit"):
        hit = rate_limit_hit("p", "1.2.3.4", limit=1, window=60, fail_open=fail_open)
    assert hit is allowed
    assert f"the cache is unreachable; request {'allowed' if allowed else 'refused'}" in caplog.text


def test_the_value_and_pipeline_dashboards_answer_without_the_cache(redis_down, manager_client):
    run = SegmentRunFactory(customers=2)
    for revenue in (100, 50):
        CustomerValueFactory(run=run, customer=CustomerFactory(), revenue=Decimal(revenue))
    DealFactory(amount=Decimal("700.00"))
    for name in ("analytics:value", "analytics:pipeline"):
        response, seconds = timed(lambda name=name: manager_client.get(reverse(name)))
        assert response.status_code == 200, name
        assert seconds < FAST, (name, seconds)


HELP_FORM = {
    "name": "Zhang San",
    "email": "zhang@example.com",
    "subject": "Invoice",
    "description": "I need a new invoice.",
    "category": "request",
}


def test_the_public_help_form_works_and_fails_open(redis_down, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client = Client()
    response, seconds = timed(lambda: client.get(reverse("help:submit")))
    assert response.status_code == 200 and seconds < FAST
    response, seconds = timed(lambda: client.post(reverse("help:submit"), HELP_FORM))
    assert response.status_code == 302 and seconds < FAST
    assert Ticket.objects.filter(subject="Invoice").exists()
    # The suggestions fail closed: no search, but no error either.
    response = client.get(reverse("help:suggest"), {"subject": "invoice"})
    assert response.status_code == 200


# --- jobs that cannot be queued ----------------------------------------------------------
# These requests commit for real (a transactional test), as in production: a task is
# published when the view's transaction commits, before the view answers.

committing = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@committing
def test_recompute_now_fails_the_run_at_once_and_says_why(redis_down, manager_client):
    order(CustomerFactory(), "2026-01-10", "10.00")
    with_htmx = {"HTTP_HX_REQUEST": "true"}
    response, seconds = timed(
        lambda: manager_client.post(reverse("analytics:recompute"), **with_htmx)
    )
    assert response.status_code == 200 and seconds < FAST, seconds
    run = SegmentRun.objects.get()
    assert run.status == SegmentRun.Status.FAILED
    assert RUN_NOT_TAKEN in run.error
    assert RUN_NOT_TAKEN in response.content.decode()


@committing
def test_recompute_now_without_htmx_shows_the_reason_on_the_dashboard(redis_down, manager_client):
    response = manager_client.post(reverse("analytics:recompute"), follow=True)
    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    assert len(shown) == 1 and RUN_NOT_TAKEN in shown[0]


@committing
def test_a_campaign_send_says_it_will_start_and_the_sweep_finds_it(
    redis_down, marketer, marketer_client
):
    from marketing.services.sending import stalled_campaigns

    for i in range(3):
        ConsentFactory(customer=CustomerFactory(name=f"Customer {i}"))
    campaign = CampaignFactory(owner=marketer, subject="Hi", body="Hello")
    send_url = reverse("marketing:campaign-send", args=[campaign.pk])
    response, seconds = timed(
        lambda: marketer_client.post(send_url, {"send_rate": "600"}, follow=True)
    )
    assert response.status_code == 200 and seconds < FAST, seconds
    shown = [str(message) for message in response.context["messages"]]
    assert "Campaign sent to 3 new recipients." in shown and QUEUED_LATER in shown
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING
    assert CampaignRecipient.objects.filter(campaign=campaign).count() == 3
    # The sending sweep (every minute) restarts it once the broker is back.
    assert stalled_campaigns() == [campaign.pk]


@committing
def test_a_customer_import_says_it_will_start_and_the_sweep_publishes_it(
    redis_down, manager_client
):

    customer_import = upload_ok(manager_client, csv_bytes([["name"], ["Acme"]]))
    url = reverse("customers:customer-import-preview", args=[customer_import.pk])
    response, seconds = timed(
        lambda: manager_client.post(url, {"action": "apply", "mode": "valid_only"}, follow=True)
    )
    assert response.status_code == 200 and seconds < FAST, seconds
    assert QUEUED_LATER in [str(message) for message in response.context["messages"]]
    customer_import.refresh_from_db()
    assert customer_import.status == CustomerImport.Status.QUEUED


def test_the_import_sweep_publishes_a_queued_import_that_never_started(
    manager, manager_client, django_capture_on_commit_callbacks
):
    from customers.import_services import REQUEUE_AFTER
    from customers.tasks import sweep_imports

    customer_import = upload_ok(manager_client, csv_bytes([["name"], ["Acme"]]))
    # Queued while the broker was down: its message never reached a worker.
    CustomerImport.objects.filter(pk=customer_import.pk).update(
        status=CustomerImport.Status.QUEUED, mode="valid_only", queued_at=timezone.now()
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_imports.delay().get() == 0  # not stalled yet: its message may be coming
    CustomerImport.objects.filter(pk=customer_import.pk).update(
        queued_at=timezone.now() - REQUEUE_AFTER - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_imports.delay().get() == 1
    customer_import.refresh_from_db()
    assert customer_import.status == CustomerImport.Status.APPLIED
    assert customer_import.created_count == 1


@committing
def test_an_order_import_applies_and_its_follow_up_waits_for_the_nightly_catch_up(
    redis_down, manager_client
):
    """The import writes in the request; the loyalty follow-up it publishes is lost, and
    the nightly loyalty job rewards what it missed."""
    from sales.models import Order, OrderImport

    CustomerFactory(external_id="C1")
    content = b"customer_external_id,ordered_at,total\nC1,2026-01-05,100.00\n"
    manager_client.post(
        reverse("sales:order-import"),
        {"file": SimpleUploadedFile("orders.csv", content, "text/csv")},
    )
    upload = OrderImport.objects.get()
    response, seconds = timed(
        lambda: manager_client.post(upload.get_absolute_url(), {"action": "apply"})
    )
    assert response.status_code == 302 and seconds < FAST, seconds
    assert Order.objects.count() == 1


# --- the settings themselves, and recovery -------------------------------------------------


def test_with_the_settings_alone_a_closed_port_costs_no_time(tmp_path):
    """A fresh process configured by REDIS_URL only: the cache misses and a publish fails,
    both at once (with Celery's defaults the publish took about 20 s)."""
    code = (
        "import django, time; django.setup()\n"
        "from django.core.cache import cache\n"
        "from crm.lib.tasks import publish\n"
        "from customers.tasks import sweep_imports\n"
        "started = time.monotonic()\n"
        "value = cache.get('key', 'soft')\n"
        "published = publish(sweep_imports)\n"
        "print(value, published, time.monotonic() - started)\n"
    )
    env = {
        "PATH": os.environ["PATH"],
        "SECRET_KEY": "s",
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": CLOSED_PORT,
    }
    result = subprocess.run(  # noqa: S603 - fixed interpreter and code
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    value, published, seconds = result.stdout.split()
    assert (value, published) == ("soft", "False")
    assert float(seconds) < FAST, seconds


def test_a_redis_that_accepts_and_never_answers_fails_a_publish_within_its_timeouts(tmp_path):
    """A Redis that hangs (stopped with SIGSTOP, a dead peer behind a live load balancer):
    the broker's socket timeout ends the publish. The settings once replaced the broker's
    transport options and lost their timeouts: the publish then waited for ever."""
    code = (
        "import django, time; django.setup()\n"
        "from crm.lib.tasks import publish\n"
        "from customers.tasks import sweep_imports\n"
        "from crm.celery import app\n"
        # The broker alone: the result backend has timeouts of its own (CELERY_REDIS_*).
        "app.conf.result_backend = 'cache+memory://'\n"
        "started = time.monotonic()\n"
        "published = publish(sweep_imports)\n"
        "print(published, time.monotonic() - started)\n"
    )
    with socket.create_server(("127.0.0.1", 0)) as hanging:  # listens, never answers
        env = {
            "PATH": os.environ["PATH"],
            "SECRET_KEY": "s",
            "DJANGO_SETTINGS_MODULE": "crm.settings",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "REDIS_URL": f"redis://127.0.0.1:{hanging.getsockname()[1]}/0",
        }
        try:
            result = subprocess.run(  # noqa: S603 - fixed interpreter and code
                [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
            )
        except subprocess.TimeoutExpired:
            pytest.fail("the publish to a Redis that never answers hung")
    assert result.returncode == 0, result.stderr
    published, seconds = result.stdout.split()
    assert published == "False"
    # A few socket timeouts (a publish and its one retry), not a hang.
    assert float(seconds) < 6 * settings.REDIS_SOCKET_TIMEOUT, seconds


REDIS_SERVER = shutil.which("redis-server") or "redis-server"
REDIS_CLI = shutil.which("redis-cli") or "redis-cli"


def _redis_cli(port: int, *command: str) -> str:
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [REDIS_CLI, "-p", str(port), *command], capture_output=True, text=True, check=False
    )
    return result.stdout.strip()


@pytest.fixture
def own_redis() -> Iterator[int]:
    """A free port for a Redis server of this test's own (the machine's shared one is
    never stopped), shut down after the test."""
    if not (shutil.which(REDIS_SERVER) and shutil.which(REDIS_CLI)):
        missing_service("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield port
    _redis_cli(port, "shutdown", "nosave")


def _start_redis(port: int) -> None:
    arguments = ["--port", str(port), "--save", "", "--appendonly", "no", "--daemonize", "yes"]
    subprocess.run([REDIS_SERVER, *arguments], check=True, capture_output=True)  # noqa: S603
    deadline = time.monotonic() + 10
    while _redis_cli(port, "ping") != "PONG":
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.1)


def test_the_cache_and_the_broker_come_back_with_redis(own_redis, redis_down, settings):
    """Down, then started: the same process caches and publishes again, with no restart."""
    from crm.celery import app
    from crm.lib import cache as fail_soft
    from crm.lib.tasks import publish
    from customers.tasks import sweep_imports

    url = f"redis://127.0.0.1:{own_redis}/0"
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    app.conf.update(broker_url=url, result_backend=url)
    _forget_connections(app)
    assert cache.get("key", "soft") == "soft" and publish(sweep_imports) is False
    _start_redis(own_redis)
    assert publish(sweep_imports) is True
    time.sleep(fail_soft.RETRY_AFTER)  # the cache leaves a failed server alone this long
    cache.set("key", "cached")
    assert cache.get("key") == "cached"
