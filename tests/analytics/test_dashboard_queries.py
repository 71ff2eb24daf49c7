"""Constant query counts as data grows, and hostile query strings (never a 500)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics.models import Segment, SegmentMigration, SegmentRun, SegmentSummary
from sales.models import Deal, Stage
from tests.factories import (
    CustomerValueFactory,
    DealFactory,
    OrderFactory,
    SatisfactionResponseFactory,
    SegmentRunFactory,
    TicketFactory,
    UserFactory,
)


def _runs(count: int, customers_per_run: int):
    """`count` runs (the newest current), each with values, summaries and migrations."""
    SegmentRun.objects.filter(is_current=True).update(is_current=False)
    today = timezone.localdate()
    run = None
    for index in range(count):
        current = index == count - 1
        run = SegmentRunFactory.create(
            is_current=current, as_of=today - timedelta(days=count - index)
        )
        for segment in list(Segment)[: 3 + index % 8]:
            SegmentSummary.objects.create(run=run, segment=segment, customers=5, revenue=100,
                                          average_ltv=10)  # fmt: skip
            SegmentMigration.objects.create(run=run, from_segment=segment, to_segment="loyal",
                                            customers=2)  # fmt: skip
        for n in range(customers_per_run if current else 0):
            CustomerValueFactory(run=run, segment="cannot_lose", revenue=Decimal(n + 1),
                                 customer__owner=UserFactory())  # fmt: skip
    return run


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url, params or {}).status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("name", ["segments", "value"])
def test_run_dashboards_constant_queries(manager_client, django_assert_max_num_queries, name):
    url = reverse(f"analytics:{name}")
    _runs(1, 3)
    few = _queries(manager_client, url)
    _runs(9, 60)  # more runs, more segments and more customers than one page
    with django_assert_max_num_queries(few):
        manager_client.get(url)


def test_pipeline_and_service_constant_queries(manager_client, django_assert_max_num_queries):
    won = Stage.objects.get(is_won=True, pipeline__is_default=True)
    DealFactory(status=Deal.Status.WON, stage=won, closed_at=timezone.now())
    TicketFactory()
    # One agent with a rated ticket: the agent tables read their rows and names once.
    SatisfactionResponseFactory(ticket__assignee=UserFactory(), ticket__category="complaint")
    counts = {name: _queries(manager_client, reverse(f"analytics:{name}"))
              for name in ("pipeline", "service")}  # fmt: skip
    for _ in range(15):
        owner = UserFactory()
        DealFactory(owner=owner, status=Deal.Status.WON, stage=won, closed_at=timezone.now())
        DealFactory(owner=owner)
        OrderFactory(ordered_at=timezone.now() - timedelta(days=40))
        SatisfactionResponseFactory(ticket__assignee=owner, ticket__category="complaint")
    for name, few in counts.items():
        with django_assert_max_num_queries(few):
            manager_client.get(reverse(f"analytics:{name}"))


HOSTILE = [
    {"segment": "<script>alert(1)</script>"},
    {"period": "custom", "from": "2024-13-45", "to": "2024-01-01"},
    {"period": "custom", "from": "2024-02-01", "to": "2023-01-01"},
    {"period": "custom", "from": "0001-01-01", "to": "9999-12-31"},
    {"period": "custom", "from": "2024-01-01\x00", "to": "\xff\xfe"},
    {"period": "<b>", "page": "99999999999999999999"},
    {"ltv_min": "1e309", "ltv_max": "-5", "alive_min": "NaN", "alive_max": "1e309"},
    {"export": "<script>"},
    {"page": "-1"},
]


@pytest.mark.parametrize("params", HOSTILE)
def test_hostile_query_strings(manager_client, params):
    _runs(1, 3)
    for name in ("segments", "value", "pipeline", "service"):
        response = manager_client.get(reverse(f"analytics:{name}"), params)
        # An export the dashboard does not offer is a 404; anything else shows the page.
        expected = 404 if "export" in params else 200
        assert response.status_code == expected, (name, params)
        assert b"<script>alert(1)" not in response.content
    response = manager_client.get(reverse("customers:customer-list"), params)
    assert response.status_code == 200
    assert b"<script>alert(1)" not in response.content


def test_impossible_dates_get_an_error_beside_the_field(manager_client):
    url = reverse("analytics:pipeline")
    response = manager_client.get(url, {"period": "custom", "from": "2024-13-45", "to": ""})
    assert response.status_code == 200
    assert 'class="invalid-feedback d-block">Enter a valid date.' in response.text
    assert "Enter the last day." in response.text
    response = manager_client.get(url, {"period": "custom", "from": "2024-02-01",
                                        "to": "2024-01-01"})  # fmt: skip
    assert "The last day is before the first." in response.text
    response = manager_client.get(url, {"period": "custom", "from": "1990-01-01",
                                        "to": "2024-01-01"})  # fmt: skip
    assert "Choose a day between 2000 and 2100." in response.text
    response = manager_client.get(url, {"period": "custom", "from": "2024-01-01",
                                        "to": "2024-01-31"})  # fmt: skip
    assert "From 01/01/2024 to 01/31/2024." in response.text
