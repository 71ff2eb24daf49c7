"""The analytics API: a customer's segment and value, the current run's values for a data
warehouse, and the segment runs; the same access and money rules as the value panel and
the segments dashboard (tests/analytics/test_value_panel.py, test_dashboard_access.py)."""

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from analytics import reports
from analytics.models import SegmentSummary
from tests.factories import (
    CustomerFactory,
    CustomerValueFactory,
    SegmentRunFactory,
)

pytestmark = pytest.mark.django_db

VALUES = reverse("api:customer-value-list")
RUNS = reverse("api:segment-run-list")
CURRENT = reverse("api:segment-run-current")


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def value_url(customer_id) -> str:
    return reverse("api:customer-value-detail", args=[customer_id])


@pytest.fixture
def run():
    return SegmentRunFactory()


@pytest.fixture
def owned(rep, run):
    """A champion the rep owns, with money."""
    customer = CustomerFactory(owner=rep)
    CustomerValueFactory(run=run, customer=customer, segment="champions", r_score=5, f_score=4,
                         m_score=3, revenue=Decimal("12345.60"), orders=7,
                         predicted_ltv=Decimal("2500.00"), probability_alive=0.876)  # fmt: skip
    return customer


@pytest.fixture
def others(rep2, run):
    customer = CustomerFactory(owner=rep2)
    CustomerValueFactory(run=run, customer=customer, segment="lost")
    return customer


def test_manager_reads_a_customers_values_with_money(manager, owned, run):
    body = api(manager).get(value_url(owned.pk)).json()
    assert body["customer"] == owned.pk and body["run"] == run.pk
    assert body["segment"] == "champions" and body["segment_label"] == "Champions"
    assert (body["r_score"], body["f_score"], body["m_score"]) == (5, 4, 3)
    assert body["revenue"] == "12345.60" and body["predicted_ltv"] == "2500.00"
    assert body["probability_alive"] == pytest.approx(0.876)
    assert body["money_visible"] is True and body["currency"]


def test_rep_sees_money_of_their_own_customers_only(rep, owned, others):
    client = api(rep)
    mine = client.get(value_url(owned.pk)).json()
    assert mine["money_visible"] is True and mine["predicted_ltv"] == "2500.00"
    theirs = client.get(value_url(others.pk)).json()
    assert theirs["segment"] == "lost"  # segments are read by every rep
    assert theirs["money_visible"] is False
    assert theirs["revenue"] is None and theirs["predicted_ltv"] is None
    assert theirs["average_order_value"] is None


def test_a_customer_without_values_has_nulls(manager, run):
    customer = CustomerFactory()
    body = api(manager).get(value_url(customer.pk)).json()
    assert body["run"] == run.pk and body["segment"] is None and body["revenue"] is None


@pytest.mark.parametrize("persona", ["agent", "nobody"])
def test_roles_without_the_value_panel_are_refused(request, persona, owned):
    client = api(request.getfixturevalue(persona))
    assert client.get(value_url(owned.pk)).status_code == 403
    assert client.get(VALUES).status_code == 403
    assert client.get(CURRENT).status_code == 403


def test_missing_customer_is_404(manager):
    assert api(manager).get(value_url(999999)).status_code == 404
    assert api(manager).get(f"/api/v1/customers/{'9' * 30}/value/").status_code == 404


def test_login_is_required(owned):
    assert APIClient().get(value_url(owned.pk)).status_code in (401, 403)
    assert APIClient().get(VALUES).status_code in (401, 403)


def test_the_list_is_the_current_run_in_customer_order(marketer, owned, others, run):
    old = SegmentRunFactory(is_current=False)
    CustomerValueFactory(run=old, customer=owned, segment="new")
    rows = api(marketer).get(VALUES).json()["results"]
    assert [(r["customer"], r["run"]) for r in rows] == [(owned.pk, run.pk), (others.pk, run.pk)]
    assert all(r["money_visible"] for r in rows)  # marketers have the value report


def test_the_list_filters_by_segment_and_hides_others_money_from_a_rep(rep, owned, others):
    client = api(rep)
    rows = client.get(VALUES, {"segment": "lost"}).json()["results"]
    assert [r["customer"] for r in rows] == [others.pk]
    assert rows[0]["predicted_ltv"] is None and rows[0]["money_visible"] is False
    rows = client.get(VALUES, {"segment": "champions"}).json()["results"]
    assert rows[0]["predicted_ltv"] == "2500.00"


def test_the_list_pages_with_a_cursor(manager, run):
    for _ in range(5):
        CustomerValueFactory(run=run)
    client = api(manager)
    first = client.get(VALUES, {"page_size": 3}).json()
    second = client.get(first["next"]).json()
    ids = [r["customer"] for r in first["results"] + second["results"]]
    assert len(ids) == 5 and ids == sorted(ids) and second["next"] is None


def test_no_run_gives_an_empty_list(manager):
    assert api(manager).get(VALUES).json()["results"] == []
    assert api(manager).get(CURRENT).status_code == 404


def test_current_run_summary_matches_the_dashboard(manager, rep, run):
    SegmentSummary.objects.create(
        run=run,
        segment="champions",
        customers=3,
        revenue=Decimal("900.00"),
        average_ltv=Decimal("120.00"),
    )
    SegmentSummary.objects.create(run=run, segment="lost", customers=1,
                                  revenue=Decimal("100.00"), average_ltv=Decimal("5.00"))  # fmt: skip
    body = api(manager).get(CURRENT).json()
    assert body["id"] == run.pk and body["money_visible"] is True
    expected = reports.segment_rows(run)
    assert [s["segment"] for s in body["segments"]] == [row["segment"] for row in expected]
    assert body["segments"][0]["revenue"] == "900.00"
    assert body["segments"][0]["customer_share"] == pytest.approx(0.75)
    rep_body = api(rep).get(CURRENT).json()  # reps read segments, not money
    assert rep_body["money_visible"] is False
    assert rep_body["segments"][0]["customers"] == 3 and rep_body["segments"][0]["revenue"] is None


def test_runs_are_listed_for_those_who_read_segments(rep, run):
    rows = api(rep).get(RUNS).json()["results"]
    assert [r["id"] for r in rows] == [run.pk] and rows[0]["is_current"] is True


HOSTILE = [
    {"segment": "\x00"},
    {"segment": "<script>"},
    {"page_size": "9" * 40},
    {"page_size": "١٢"},
    {"cursor": "bm90IGEgY3Vyc29y"},
    {"ordering": "predicted_ltv"},
    {"status": "2024-02-30"},
]


@pytest.mark.parametrize("params", HOSTILE)
@pytest.mark.parametrize("url", [VALUES, RUNS, CURRENT])
def test_hostile_query_strings_never_500(manager, owned, url, params):
    response = api(manager).get(url, params)
    assert response.status_code in (200, 400, 404), (url, params, response.status_code)
    if response.status_code != 200:
        assert response["Content-Type"] == "application/problem+json"


def test_ordering_by_money_is_not_offered(manager, owned, others):
    # Ordering by predicted value would tell a rep values apart: only customer order.
    rows = api(manager).get(VALUES, {"ordering": "-predicted_ltv"}).json()["results"]
    assert [r["customer"] for r in rows] == sorted(r["customer"] for r in rows)


def test_list_queries_do_not_grow(rep, run, django_assert_max_num_queries):
    client = api(rep)
    CustomerValueFactory.create_batch(2, run=run)
    with django_assert_max_num_queries(10) as few:
        assert client.get(VALUES).status_code == 200
    CustomerValueFactory.create_batch(30, run=run)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(VALUES).json()["results"]) == 32
