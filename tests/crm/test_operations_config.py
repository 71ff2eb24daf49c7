"""Deployment configuration (issue 12, point 6): JSON logs as an option, and gunicorn.conf.py."""

import json
import logging
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import RequestFactory
from gunicorn.config import Config

from crm.lib.logging import JsonFormatter

GUNICORN_CONF = Path(settings.BASE_DIR) / "gunicorn.conf.py"


def test_json_formatter_writes_one_object_with_the_request_id_and_the_exception():
    request = RequestFactory().get("/customers/", HTTP_X_REQUEST_ID="req-42")
    try:
        raise RuntimeError("the database went away")
    except RuntimeError:
        record = logging.getLogger("django.request").makeRecord(
            "django.request", logging.ERROR, __file__, 1, "Failed: %s", ("/customers/",),
            sys.exc_info(), extra={"request": request},
        )  # fmt: skip

    line = JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "django.request"
    assert entry["message"] == "Failed: /customers/"
    assert entry["request_id"] == "req-42"
    assert "RuntimeError: the database went away" in entry["exception"]
    assert entry["time"].endswith("+00:00")


def test_crm_log_format_json_switches_the_application_logs_to_json():
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('crm.demo').warning('hello %s', 'world', extra={'request_id': 'r1'})"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "CRM_LOG_FORMAT": "json",
        "DATABASE_URL": "",
        "REDIS_URL": "",
    }
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", script], cwd=settings.BASE_DIR, env=env,
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip

    entry = json.loads(result.stderr.strip().splitlines()[-1])
    assert entry["message"] == "hello world"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "crm.demo"
    assert entry["request_id"] == "r1"


def load_gunicorn_conf(monkeypatch, **env: str) -> dict:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_gunicorn_conf_values_are_sane(monkeypatch):
    for name in ("GUNICORN_BIND", "GUNICORN_WORKERS", "GUNICORN_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    conf = load_gunicorn_conf(monkeypatch)

    assert conf["bind"] == ["127.0.0.1:8000"]
    assert conf["workers"] == 2 * os.cpu_count() + 1
    # A worker waiting on the mail server is not killed before EMAIL_TIMEOUT runs out.
    assert conf["timeout"] > settings.EMAIL_TIMEOUT
    assert conf["graceful_timeout"] >= 1
    assert conf["max_requests"] > 0
    assert 0 < conf["max_requests_jitter"] < conf["max_requests"]
    assert conf["accesslog"] == "-"
    # gunicorn accepts every value (its own validators).
    config = Config()
    for name, value in conf.items():
        if name in config.settings:
            config.set(name, value)
    assert config.timeout == conf["timeout"]
    assert config.workers == conf["workers"]


def test_gunicorn_conf_reads_the_environment(monkeypatch):
    conf = load_gunicorn_conf(
        monkeypatch, GUNICORN_BIND="0.0.0.0:9000", GUNICORN_WORKERS="3", GUNICORN_TIMEOUT="90"
    )

    assert conf["bind"] == ["0.0.0.0:9000"]
    assert conf["workers"] == 3
    assert conf["timeout"] == 90


def test_gunicorn_forks_workers_from_a_warmed_master(monkeypatch):
    monkeypatch.delenv("GUNICORN_PRELOAD", raising=False)
    assert load_gunicorn_conf(monkeypatch)["preload_app"] is True


@pytest.mark.django_db
def test_the_warm_up_compiles_every_page_template():
    from crm.lib.warmup import warm_up

    compiled = warm_up()
    assert {"base.html", "customers/customer_list.html", "service/email/reply.txt"} <= set(compiled)


@pytest.mark.django_db
def test_the_warm_up_loads_every_languages_number_formats_and_the_broker_transport(monkeypatch):
    """Read through the libraries' own caches (emptied first): Babel's locale data, and the
    transport classes kombu has imported."""
    from babel import localedata
    from django.conf import settings
    from django.utils.translation import to_locale
    from kombu import transport

    from crm.celery import app
    from crm.lib.warmup import warm_up

    broker = app.connection_for_write().transport_cls  # its name: "redis", "memory"
    localedata.clear_caches()
    monkeypatch.setattr(transport, "_transport_cache", {})
    warm_up()
    assert {to_locale(code) for code, _name in settings.LANGUAGES} <= set(localedata._cache)
    assert app.finalized
    assert broker in transport._transport_cache, transport._transport_cache
