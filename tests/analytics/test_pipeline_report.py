"""The pipeline report: its figures, hand-computed, from one grouped scan of the deals."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from sales.models import Deal, Stage
from tests.analytics.test_dashboards import page_table
from tests.factories import DealFactory, OrderFactory

pytestmark = pytest.mark.django_db


def _deal(owner, *, stage, amount, created_days_ago, closed_days_ago=None):
    now = timezone.now()
    status = Deal.Status.WON if stage.is_won else Deal.Status.LOST if stage.is_lost else "open"
    closed = now - timedelta(days=closed_days_ago) if closed_days_ago is not None else None
    return DealFactory(owner=owner, stage=stage, status=status, amount=Decimal(amount),
                       created_at=now - timedelta(days=created_days_ago), closed_at=closed)  # fmt: skip


def test_pipeline_report_figures_by_hand(
    manager, manager_client, rep, rep2, django_assert_max_num_queries
):
    stages = Stage.objects.filter(pipeline__is_default=True)
    first, won, lost = (
        stages.order_by("order")[0],
        stages.get(is_won=True),
        stages.get(is_lost=True),
    )
    _deal(rep, stage=won, amount="100.00", created_days_ago=10, closed_days_ago=2)  # 8 days
    _deal(rep, stage=won, amount="300.50", created_days_ago=200, closed_days_ago=4)  # 196 days
    _deal(rep, stage=lost, amount="50.00", created_days_ago=5, closed_days_ago=1)
    _deal(rep2, stage=won, amount="999.00", created_days_ago=300, closed_days_ago=120)  # before
    _deal(rep2, stage=first, amount="70.00", created_days_ago=100)  # open, created before
    _deal(manager, stage=first, amount="30.25", created_days_ago=3)  # open
    url = reverse("analytics:pipeline")  # the last 90 days
    manager_client.get(url)  # fills the sales-by-month cache: the deals' queries remain

    with django_assert_max_num_queries(20) as captured:
        response = manager_client.get(url)
    assert sum('"sales_deal"' in q["sql"] for q in captured) == 1  # one scan, not three

    # Closed in the period: 2 won, 1 lost; 2,400.50 won; (8 + 196) / 2 = 102 days to win.
    assert 'id="cycle-days">102.0<' in response.text
    assert "66.7%" in response.text
    funnel = {row[0]: row[1:] for row in page_table(response, "funnel")[1:]}
    # Created in the period: the 100.00 win, the 50.00 loss, the 30.25 open deal.
    assert funnel[first.name] == ["1", "30.25"]
    assert funnel[won.name] == ["1", "100.00"] and funnel[lost.name] == ["1", "50.00"]
    assert sum(int(deals) for deals, _ in funnel.values()) == 3
    reps = {row[0]: row[1:] for row in page_table(response, "reps")[1:]}
    assert reps == {
        "rep": ["0", "0.00", "2", "400.50", "1", "66.7%"],
        "rep2": ["1", "70.00", "0", "0.00", "0", "—"],
        "manager": ["1", "30.25", "0", "0.00", "0", "—"],
    }


def test_the_funnel_names_the_default_stages_in_the_readers_language(manager, manager_client):
    first = Stage.objects.filter(pipeline__is_default=True).order_by("order")[0]
    assert first.name == "Qualification"
    _deal(manager, stage=first, amount="10.00", created_days_ago=1)
    manager_client.cookies["django_language"] = "zh-hans"
    html = manager_client.get(reverse("analytics:pipeline")).content.decode()
    assert "资格确认" in html
    assert "Qualification" not in html


def test_amounts_without_a_rate_are_flagged_not_dropped(manager, manager_client, rep):
    """The funnel, the open amounts and the orders by month left out amounts in a currency
    without a rate and said nothing: the page now names them, as the forecast does."""
    cache.clear()  # the orders by month are cached per day
    first = Stage.objects.filter(pipeline__is_default=True).order_by("order")[0]
    deal = _deal(rep, stage=first, amount="777.00", created_days_ago=3)
    Deal.objects.filter(pk=deal.pk).update(currency="JPY")
    OrderFactory(customer=deal.customer, total=Decimal("888.00"), currency="JPY")
    response = manager_client.get(reverse("analytics:pipeline"))
    flags = response.text.split('id="pipeline-no-rate"')[1].split('id="table-funnel"')[0]
    assert "Funnel amounts:" in flags and "Open amounts by rep:" in flags
    assert "Orders by month:" in flags
    assert "777" in flags and "888" in flags
