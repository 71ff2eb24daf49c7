"""A database outage never answers "Server error" (issue 12, point 8).

A PostgreSQL restart kills every connection the web workers hold. A read that meets the dead
connection is run once more on a new one; anything else (a write, a database that is down)
answers the 503 page with Retry-After. Tested for real: the test connection's backend is
terminated from a second connection, and a subprocess serves against a closed port.
"""

import json
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from customers.models import Customer
from tests.customers.test_customer_pages import customer_form_data


@pytest.fixture
def pg_client(postgres, transactional_db, rep):
    """A logged-in client whose requests run on this process's (persistent) connection."""
    client = Client(raise_request_exception=False)
    client.force_login(rep)
    yield client
    connection.close()  # the teardown's flush needs a live connection


def terminate_this_connection() -> None:
    """Kill the backend of the test's connection from another connection, as a restart would."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    ) as killer:
        # The second argument waits (ms) until the backend is gone.
        row = killer.execute("SELECT pg_terminate_backend(%s, 5000)", [pid]).fetchone()
    assert row is not None and row[0]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_read_survives_a_dropped_connection(pg_client):
    assert pg_client.get(reverse("customers:customer-list")).status_code == 200
    terminate_this_connection()

    response = pg_client.get(reverse("customers:customer-list"))

    assert response.status_code == 200


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_write_on_a_dropped_connection_answers_503_and_changes_nothing(pg_client, rep):
    assert pg_client.get(reverse("customers:customer-list")).status_code == 200
    terminate_this_connection()

    response = pg_client.post(
        reverse("customers:customer-create"), customer_form_data(owner=rep.pk)
    )

    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert b"temporarily unavailable" in response.content
    connection.close()
    assert not Customer.objects.exists()
    # The next request works on a new connection.
    assert pg_client.get(reverse("customers:customer-list")).status_code == 200


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SERVE_WITHOUT_DATABASE = """
import json, django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client(raise_request_exception=False)
client.cookies["sessionid"] = "a" * 32  # a logged-in browser: its session is in the database
answers = {}
for name, method, path, data in [
    ("customers", "get", "/customers/", None),
    ("login", "post", "/accounts/login/", {"username": "rep", "password": "secret"}),
    ("help form", "post", "/help/", {"email": "a@example.com"}),
    ("readyz", "get", "/readyz", None),
]:
    if name == "readyz":
        client = Client(raise_request_exception=False)  # a monitor sends no cookie
    response = getattr(client, method)(path, data)
    answers[name] = {
        "status": response.status_code,
        "retry_after": response.get("Retry-After"),
        "body": response.content.decode(),
    }
print(json.dumps(answers))
"""


def test_a_database_that_refuses_connections_answers_503_pages():
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "SECRET_KEY": "test-only-secret-key",
        "DEBUG": "0",
        "SECURE_COOKIES": "0",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{closed_port()}/crm_nowhere",
    }
    result = subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "-c", SERVE_WITHOUT_DATABASE],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answers = json.loads(result.stdout.strip().splitlines()[-1])

    for name in ("customers", "login", "help form"):
        assert answers[name]["status"] == 503, (name, answers[name]["body"][:500])
        assert answers[name]["retry_after"].isdigit()
        assert "temporarily unavailable" in answers[name]["body"]
    readiness = json.loads(answers["readyz"]["body"])
    assert answers["readyz"]["status"] == 503
    assert readiness["status"] == "fail"
    assert readiness["checks"]["database"] == "fail"
    assert readiness["checks"]["stuck"] == "fail"
    assert "crm_nowhere" not in answers["readyz"]["body"]


def test_other_errors_still_answer_the_500_page(rf):
    from crm.lib.db_outage import server_error

    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Retry-After" not in response
