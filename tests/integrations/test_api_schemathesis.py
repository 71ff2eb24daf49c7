"""schemathesis against the live OpenAPI schema: EVERY operation of /api/v1/ (iterated from
the schema, so each app's new endpoints are covered without a change here), called as a
sales rep and as a manager with their API tokens, with data that fits the schema and data
that does not. No answer may be a 5xx, and every answer must match what the schema says
(status body, content type, headers).

Bounded for CI: few examples per operation, derandomized (the same cases every run), no
shrinking; the requests go through Django's WSGI handler in this process (no server)."""

import pytest
import schemathesis
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.generation import GenerationMode

from core.api_tokens import api_token_create
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    InteractionFactory,
    TagFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db

SCHEMA_URL = "/api/v1/schema/?format=json"
EXAMPLES = {GenerationMode.POSITIVE: 10, GenerationMode.NEGATIVE: 5}
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
]


@pytest.fixture
def wsgi_in_test_transaction():
    """Django's WSGI handler in this thread, inside the test's transaction: like Django's
    test client, keep the request signals from closing the test's connection."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def some_of_everything(rep, manager):
    tag = TagFactory(name="vip")
    for owner in (rep, manager):
        customer = CustomerFactory(owner=owner, kind="company")
        customer.tags.add(tag)
        ContactFactory(customer=customer)
        InteractionFactory(customer=customer)
        TaskFactory(customer=customer, assignee=owner)


def run_operation(operation, headers: dict[str, str], mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES[mode],
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()


@pytest.mark.parametrize("persona", ["rep", "manager"])
def test_every_operation_as_a_rep_and_a_manager(
    request, persona, rep, manager, wsgi_in_test_transaction
):
    some_of_everything(rep, manager)
    user = request.getfixturevalue(persona)
    _token, text = api_token_create(
        user=user, name="schemathesis", scope="read_write", expires_in_days=1
    )
    headers = {"Authorization": f"Bearer {text}"}
    schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, wsgi_in_test_transaction, headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        for mode in EXAMPLES:
            run_operation(operation, headers, mode)


def test_the_schema_is_valid_without_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")
