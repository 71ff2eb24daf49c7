"""The customer list's segment, LTV and probability-alive filters and columns."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.list_columns import available_columns
from tests.factories import CustomerFactory, CustomerValueFactory, SegmentRunFactory

LIST = reverse("customers:customer-list")


@pytest.fixture
def customers(db):
    """Ann (champion), Bob (at risk) and Cleo (no orders) in the current run; Ann was
    "lost" in an older run, which must not count."""
    old = SegmentRunFactory(is_current=False)
    run = SegmentRunFactory()
    ann, bob, cleo = (CustomerFactory(name=name) for name in ("Ann", "Bob", "Cleo"))
    CustomerValueFactory(run=old, customer=ann, segment="lost")
    CustomerValueFactory(run=run, customer=ann, segment="champions",
                         predicted_ltv=Decimal("900.00"), probability_alive=0.95)  # fmt: skip
    CustomerValueFactory(run=run, customer=bob, segment="at_risk",
                         predicted_ltv=Decimal("50.00"), probability_alive=0.25)  # fmt: skip
    return {"ann": ann, "bob": bob, "cleo": cleo, "run": run}


def names(response) -> list[str]:
    return [customer.name for customer in response.context["page"].object_list]


def test_segment_filter_uses_the_current_run(manager_client, customers):
    assert names(manager_client.get(LIST, {"segment": "champions"})) == ["Ann"]
    assert names(manager_client.get(LIST, {"segment": "lost"})) == []
    assert names(manager_client.get(LIST, {"segment": "at_risk"})) == ["Bob"]
    assert names(manager_client.get(LIST)) == ["Ann", "Bob", "Cleo"]


def test_ltv_and_probability_ranges(marketer_client, customers):
    assert names(marketer_client.get(LIST, {"ltv_min": "100"})) == ["Ann"]
    assert names(marketer_client.get(LIST, {"ltv_max": "100"})) == ["Bob"]
    assert names(marketer_client.get(LIST, {"alive_max": "50"})) == ["Bob"]
    both = {"alive_min": "90", "ltv_min": "500", "segment": "champions"}
    assert names(marketer_client.get(LIST, both)) == ["Ann"]


def test_columns_show_segment_ltv_and_probability(manager, manager_client, customers):
    # P(alive) is off by default (the column chooser): this manager shows every column.
    columns = [key for key, _label in available_columns(manager)]
    manager_client.post(reverse("customers:list-columns"), {"columns": columns})
    response = manager_client.get(LIST)
    text = response.content.decode()
    assert "P(alive)" in text and f'href="{LIST}?segment=champions"' in text
    assert "900.00" in text and "95.0%" in text and "25.0%" in text
    row = next(c for c in response.context["page"].object_list if c.name == "Cleo")
    assert [cell.text for cell in row.extra_cells] == ["—", "—", "—"]


def test_bad_filter_values_are_ignored_with_a_warning(manager_client, customers):
    response = manager_client.get(LIST, {"segment": "<script>", "ltv_min": "1e309"})
    assert response.status_code == 200
    assert names(response) == ["Ann", "Bob", "Cleo"]
    assert "Some filters were not understood" in response.content.decode()


def test_agents_get_neither_filters_nor_columns(agent_client, customers):
    # Service agents lack analytics.view_customervalue: the filter is not applied.
    response = agent_client.get(LIST, {"segment": "champions"})
    assert names(response) == ["Ann", "Bob", "Cleo"]
    assert "P(alive)" not in response.content.decode()


def test_export_and_bulk_scope_follow_the_segment_filter(manager_client, customers):
    response = manager_client.get(reverse("customers:customer-export"), {"segment": "at_risk"})
    exported = b"".join(response.streaming_content).decode()
    assert "Bob" in exported and "Ann" not in exported


def test_one_query_for_the_columns_whatever_the_page(manager_client, customers,
                                                     django_assert_max_num_queries):  # fmt: skip
    with CaptureQueriesContext(connection) as few:
        manager_client.get(LIST, {"segment": "champions"})
    for _ in range(30):
        CustomerValueFactory(run=customers["run"], segment="champions")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = manager_client.get(LIST, {"segment": "champions"})
    assert len(names(response)) == 25


def test_filtered_list_plan_uses_the_run_segment_index(postgres, manager, customers):
    """EXPLAIN the filtered list query on PostgreSQL: an index on the values, no seq scan."""
    from django.test import RequestFactory

    from customers.filters import CustomerFilter
    from customers.selectors import customers_visible_to

    request = RequestFactory().get(LIST, {"segment": "champions"})
    request.user = manager
    queryset = CustomerFilter(request.GET, queryset=customers_visible_to(manager),
                              request=request).qs  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be scanned
        sql, params = queryset.order_by("name", "id")[:25].query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "analytics_customervalue" in plan and "Index" in plan, plan


def _list_queries(client, params) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, params)
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries if "analytics_customervalue" in q["sql"]]


def test_segment_filter_finds_the_current_run_by_id_without_a_join(manager_client, customers):
    """`run_id = (SELECT id ... WHERE is_current)`: a join of the runs made PostgreSQL read
    every run's rows of the segment (a second at 1M customers)."""
    queries = _list_queries(manager_client, {"segment": "at_risk"})
    assert queries
    for sql in queries:
        assert 'JOIN "analytics_segmentrun"' not in sql, sql
        assert '"run_id" = (SELECT' in sql, sql


def test_a_whole_segment_is_counted_from_the_run_summary(manager_client, customers):
    from analytics.models import SegmentSummary

    run = customers["run"]
    for segment in ("champions", "at_risk"):
        SegmentSummary.objects.create(
            run=run, segment=segment, customers=1, revenue=0, average_ltv=0
        )
    with CaptureQueriesContext(connection) as queries:
        response = manager_client.get(LIST, {"segment": "at_risk"})
    assert names(response) == ["Bob"] and response.context["page"].paginator.count == 1
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert not any("customers_customer" in sql for sql in counts), counts
    # A segment nobody is in: no summary, no customer.
    response = manager_client.get(LIST, {"segment": "lost"})
    assert names(response) == [] and response.context["page"].paginator.count == 0


def test_a_segment_with_another_filter_is_counted_by_the_database(manager_client, customers):
    from analytics.models import SegmentSummary

    # A wrong stored size shows which count was used.
    SegmentSummary.objects.create(
        run=customers["run"], segment="at_risk", customers=99, revenue=0, average_ltv=0
    )
    response = manager_client.get(LIST, {"segment": "at_risk", "q": "Bob"})
    assert names(response) == ["Bob"] and response.context["page"].paginator.count == 1
    response = manager_client.get(LIST, {"segment": "at_risk", "ltv_min": "10"})
    assert response.context["page"].paginator.count == 1
    response = manager_client.get(LIST, {"segment": "at_risk"})  # the segment alone
    assert response.context["page"].paginator.count == 99
