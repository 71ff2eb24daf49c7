"""Issue 13, point 6: exports follow the role's scope and are written to the audit log.

Before the fix every rep and marketer exported every customer's full record and nothing
recorded it: the scope and audit tests here failed on that code.
"""

import csv
import io

import pytest
from django.urls import reverse

from core.models import AuditEvent
from customers.csv_format import COLUMNS
from customers.exports import CAMPAIGN_COLUMNS
from customers.models import Consent
from tests.factories import CustomerFactory

EXPORT = reverse("customers:customer-export")
BULK = reverse("customers:customer-bulk")


@pytest.fixture
def book(rep, rep2):
    """Two customers of rep, one of rep2, one without owner."""
    own = [CustomerFactory(name=f"Own {i}", owner=rep, address=f"{i} Rep Road") for i in range(2)]
    other = CustomerFactory(name="Other", owner=rep2, address="9 Secret Street")
    nobodys = CustomerFactory(name="Unowned", owner=None)
    Consent.objects.create(customer=own[0], channel="email", granted=True)
    return {"own": own, "other": other, "nobodys": nobodys}


def _table(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _names(rows: list[list[str]]) -> set[str]:
    return {row[rows[0].index("name")] for row in rows[1:]}


def test_a_rep_exports_only_their_own_customers(rep_client, book):
    rows = _table(rep_client.get(EXPORT))
    assert rows[0] == COLUMNS
    assert _names(rows) == {"Own 0", "Own 1"}
    # Filters only narrow the scope: asking for rep2's customers gives nothing.
    rep2_pk = book["other"].owner.pk
    assert _names(_table(rep_client.get(EXPORT, {"owner": rep2_pk}))) == set()


def test_a_marketer_exports_every_customer_with_the_campaign_columns_only(marketer_client, book):
    rows = _table(marketer_client.get(EXPORT))
    assert rows[0] == CAMPAIGN_COLUMNS
    assert _names(rows) == {"Own 0", "Own 1", "Other", "Unowned"}
    text = repr(rows)
    assert "Secret Street" not in text and "Rep Road" not in text  # no postal address
    own0 = next(row for row in rows if row[1] == "Own 0")
    assert own0[CAMPAIGN_COLUMNS.index("consent_email")] == "yes"
    assert own0[CAMPAIGN_COLUMNS.index("consent_sms")] == "no"


def test_a_manager_exports_every_customer_in_full(manager_client, book):
    rows = _table(manager_client.get(EXPORT))
    assert rows[0] == COLUMNS and len(rows) == 5
    assert "9 Secret Street" in repr(rows)


def test_an_agent_may_not_export(agent_client, book):
    assert agent_client.get(EXPORT).status_code == 403
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_the_bulk_export_of_every_filtered_row_keeps_the_rep_scope(rep_client, book):
    response = rep_client.post(BULK, {"action": "export", "scope": "all", "filter_query": ""})
    assert _names(_table(response)) == {"Own 0", "Own 1"}
    chosen = [book["other"].pk, book["own"][0].pk]
    response = rep_client.post(BULK, {"action": "export", "scope": "selected", "selected": chosen})
    assert _names(_table(response)) == {"Own 0"}


def test_every_export_is_in_the_audit_log(rep, rep_client, book):
    _table(rep_client.get(EXPORT, {"stage": "customer", "q": "Own"}, REMOTE_ADDR="203.0.113.9"))
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.actor == rep and event.rows == 2
    assert event.target_type == "customers.customer" and event.ip_address == "203.0.113.9"
    assert event.detail["source"] == "customers" and event.detail["layout"] == "full"
    assert "stage=customer" in event.detail["filter"] and "q=Own" in event.detail["filter"]
    assert event.detail["background"] is False


def test_the_bulk_export_is_in_the_audit_log(rep, manager_client, book):
    query = f"owner={rep.pk}"
    _table(manager_client.post(BULK, {"action": "export", "scope": "all", "filter_query": query}))
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert event.rows == 2 and query in event.detail["filter"]


def test_hostile_selected_ids_export_nothing(manager_client, book):
    params = {"id": ["1e5", "²", "-1", str(10**30)]}
    response = manager_client.get(EXPORT, params)
    assert _names(_table(response)) == set()
