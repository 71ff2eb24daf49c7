"""Settings come from the environment and bad values stop the start-up with a clear error."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

BASE_ENV = {"PATH": os.environ["PATH"], "SECRET_KEY": "s", "DJANGO_SETTINGS_MODULE": "crm.settings"}


def load_settings(**env) -> subprocess.CompletedProcess:
    code = "import django; django.setup(); from django.conf import settings; print(settings.DATABASES['default']['ENGINE'], settings.CELERY_TASK_ALWAYS_EAGER, settings.CRM_CURRENCY)"
    return subprocess.run(  # noqa: S603 - fixed interpreter and code
        [sys.executable, "-c", code],
        env={**BASE_ENV, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_defaults_are_sqlite_and_inline_tasks():
    result = load_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "USD"]


def test_database_and_redis_urls_switch_to_postgresql_and_a_worker():
    result = load_settings(
        DATABASE_URL="postgres://u@db:5432/crm", REDIS_URL="redis://r:6379/0", CRM_CURRENCY="cny"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "False", "CNY"]


@pytest.mark.parametrize(
    "env, message",
    [
        ({"DEBUG": "maybe"}, "DEBUG must be one of"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL must start with one of"),
        ({"REDIS_URL": "http://r"}, "REDIS_URL must start with one of"),
        ({"TIME_ZONE": "Mars/Olympus"}, "not a known IANA time zone"),
        ({"CRM_CURRENCY": "DOLLARS"}, "three-letter ISO 4217 code"),
        ({"ALLOWED_HOSTS": " , "}, "ALLOWED_HOSTS must list at least one"),
    ],
)
def test_bad_values_are_rejected_with_the_variable_name(env, message):
    result = load_settings(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_the_suite_runs_on_the_configured_services():
    """CI sets both URLs; this proves the run really used PostgreSQL and Redis."""
    if os.environ.get("CRM_REQUIRE_SERVICES") != "1":
        pytest.skip("only meaningful with CRM_REQUIRE_SERVICES=1 (CI)")
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.REDIS_URL and not settings.CELERY_TASK_ALWAYS_EAGER


@pytest.mark.parametrize("value", ["abc", "101", "-1"])
def test_commit_probability_must_be_a_percentage(value):
    result = load_settings(CRM_COMMIT_PROBABILITY=value)
    assert result.returncode != 0
    assert "CRM_COMMIT_PROBABILITY must be" in result.stderr


def test_a_server_refuses_to_start_without_a_secret_key():
    """Commands run without SECRET_KEY (the development key); serving with it is refused."""
    code = "import crm.wsgi"
    env = {**BASE_ENV, "SECRET_KEY": ""}
    served = subprocess.run(  # noqa: S603 - fixed interpreter and code
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert served.returncode != 0
    assert "SECRET_KEY must be set" in served.stderr
    assert load_settings(SECRET_KEY="").returncode == 0
    debug = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        env={**env, "DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert debug.returncode == 0, debug.stderr
