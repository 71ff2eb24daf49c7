"""Who may open which dashboard, and what a rep's read-only view leaves out."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from analytics.models import SegmentSummary
from sales.models import Deal, Stage
from tests.factories import (
    CustomerFactory,
    CustomerValueFactory,
    DealFactory,
    OrderFactory,
    SegmentRunFactory,
)


@pytest.fixture(autouse=True)
def empty_cache():
    """Reports cache per run and per day; each test starts from an empty cache."""
    cache.clear()


DASHBOARDS = ["segments", "value", "pipeline", "service"]
ALLOWED = {
    "manager": {"segments", "value", "pipeline", "service"},
    "marketer": {"segments", "value"},
    "rep": {"segments", "pipeline"},
    "agent": {"service"},
    "nobody": set(),
}


@pytest.fixture
def run(db):
    run = SegmentRunFactory(customers=3)
    SegmentSummary.objects.create(run=run, segment="loyal", customers=3,
                                  revenue=Decimal("987654.32"), average_ltv=Decimal("4321.09"))  # fmt: skip
    return run


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_dashboards_by_role(request, role, run):
    client = request.getfixturevalue(f"{role}_client")
    for name in DASHBOARDS:
        url = reverse(f"analytics:{name}")
        expected = 200 if name in ALLOWED[role] else 403
        assert client.get(url).status_code == expected, (role, name)
        # Only the segments dashboard offers the segments export; the others answer 404.
        export = expected if expected != 200 or name == "segments" else 404
        assert client.get(url, {"export": "segments"}).status_code == export, (role, name)


def test_anonymous_users_are_sent_to_log_in(client, run):
    for name in DASHBOARDS:
        response = client.get(reverse(f"analytics:{name}"))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    customer = CustomerFactory()
    response = client.get(reverse("analytics:customer-value-panel", args=[customer.pk]))
    assert response.status_code == 302
    response = client.post(reverse("analytics:cannot-lose-tasks"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_rep_sees_segments_without_money_or_recompute(rep_client, manager_client, run):
    response = rep_client.get(reverse("analytics:segments"))
    assert "987,654.32" not in response.text and "4,321.09" not in response.text
    assert "chart-segment-revenue" not in response.text
    assert reverse("analytics:recompute") not in response.text
    exported = rep_client.get(reverse("analytics:segments"), {"export": "segments"})
    assert "987654.32" not in exported.content.decode()
    response = manager_client.get(reverse("analytics:segments"))
    assert "987,654.32" in response.text and "chart-segment-revenue" in response.text


def test_cannot_lose_tasks_need_add_task(marketer_client, rep_client, run):
    # Marketers read the value report but may not create tasks; reps may not read it.
    CustomerValueFactory(run=run, segment="cannot_lose")
    assert marketer_client.post(reverse("analytics:cannot-lose-tasks")).status_code == 403
    assert rep_client.post(reverse("analytics:cannot-lose-tasks")).status_code == 403
    response = marketer_client.get(reverse("analytics:value"))
    assert reverse("analytics:cannot-lose-tasks") not in response.text


def test_rep_pipeline_counts_only_own_deals(rep, rep2, rep_client):
    won = Stage.objects.get(is_won=True, pipeline__is_default=True)
    for owner in (rep, rep2, rep2):
        DealFactory(owner=owner, status=Deal.Status.WON, stage=won, amount=Decimal("1000"),
                    closed_at=timezone.now())  # fmt: skip
    DealFactory(owner=rep2, amount=Decimal("55555.00"))
    response = rep_client.get(reverse("analytics:pipeline"))
    assert "1 won, 0 lost" in response.text
    assert "55,555.00" not in response.text
    assert 'id="table-reps"' not in response.text  # the per-rep table is for managers


def test_value_panel_permission_and_visibility(agent_client, rep_client, run):
    customer = CustomerFactory()
    CustomerValueFactory(run=run, customer=customer)
    url = reverse("analytics:customer-value-panel", args=[customer.pk])
    assert agent_client.get(url).status_code == 403  # agents lack view_customervalue
    assert rep_client.get(url).status_code == 200
    missing = reverse("analytics:customer-value-panel", args=[customer.pk + 1000])
    assert rep_client.get(missing).status_code == 404


def test_reps_never_get_the_managers_cached_sales(manager_client, rep_client, rep):
    OrderFactory(total=Decimal("4242.00"), customer__owner=None)
    OrderFactory(total=Decimal("17.00"), customer__owner=rep)
    assert "4,259.00" in manager_client.get(reverse("analytics:pipeline")).text  # both
    text = rep_client.get(reverse("analytics:pipeline")).text
    assert "4,259.00" not in text and "17.00" in text
