"""The manager's team view (issue 16): figures computed by hand on two reps with mixed
stages and currencies, links that open the right rows, permissions and a constant number
of queries."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from core.models import ExchangeRate
from sales.models import Deal, Quota
from sales.selectors import DealScope
from sales.team import team_view
from tests.factories import (
    CustomerFactory,
    DealFactory,
    InteractionFactory,
    TaskFactory,
    UserFactory,
)

PANEL = reverse("sales:home-team-panel")


def won(owner, amount, currency="USD", closed_at=None):
    return DealFactory(
        owner=owner, amount=Decimal(amount), currency=currency, status=Deal.Status.WON,
        closed_at=closed_at or timezone.now(), probability=100,
    )  # fmt: skip


def open_deal(owner, amount, probability, currency="USD", close=None, **fields):
    return DealFactory(
        owner=owner, amount=Decimal(amount), currency=currency, probability=probability,
        expected_close_date=close or timezone.localdate(), **fields,
    )  # fmt: skip


@pytest.fixture
def team(rep, rep2, manager):
    """rep: won 1,000 USD and 500 EUR (at 1.10: 550), open 2,000 USD at 50% (1,000) and
    300 GBP at 10% (no rate: 30 GBP left out); quota 5,000. rep2: open 4,000 USD at 25%
    (1,000), quota 2,000. Outside the month or lost: counted nowhere."""
    today = timezone.localdate()
    month = today.replace(day=1)
    ExchangeRate.objects.create(currency="EUR", day=month, rate=Decimal("1.10"))
    won(rep, "1000.00")
    won(rep, "500.00", "EUR")
    won(rep, "7000.00", closed_at=timezone.now() - timedelta(days=40))  # an earlier month
    open_deal(rep, "2000.00", 50)
    open_deal(rep, "300.00", 10, "GBP")
    open_deal(rep, "9000.00", 90, close=month + timedelta(days=40))  # next month
    DealFactory(owner=rep, amount=Decimal("9999"), status=Deal.Status.LOST, lost_reason="x")
    open_deal(rep2, "4000.00", 25)
    stale = open_deal(rep2, "100.00", 10, close=month + timedelta(days=45))
    Deal.objects.filter(pk=stale.pk).update(
        last_activity_at=timezone.now() - timedelta(days=settings.CRM_STALE_DEAL_DAYS + 1)
    )
    Quota.objects.create(owner=rep, month=month, amount=Decimal("5000"))
    Quota.objects.create(owner=rep2, month=month, amount=Decimal("2000"))
    customer = CustomerFactory(owner=rep)
    InteractionFactory.create_batch(2, customer=customer, logged_by=rep)
    InteractionFactory(
        customer=customer, logged_by=rep,
        occurred_at=timezone.now() - timedelta(days=today.weekday() + 1),  # last week
    )  # fmt: skip
    TaskFactory(customer=customer, assignee=rep, done=True, done_at=timezone.now())
    yesterday = today - timedelta(days=1)
    TaskFactory.create_batch(2, customer=customer, assignee=rep2, due_date=yesterday)
    TaskFactory(customer=customer, assignee=rep2, due_date=yesterday, done=True)
    return month


def rows_by_rep(view):
    return {row.rep.username: row for row in view.reps}


def test_figures_per_rep_match_the_hand_computed_ones(team, rep, rep2):
    view = team_view(DealScope(visible=True), month=team)
    mine, theirs = rows_by_rep(view)["rep"], rows_by_rep(view)["rep2"]
    assert mine.quota == Decimal("5000")
    assert mine.won.amount == Decimal("1550.00")
    assert mine.weighted_open.amount == Decimal("1000.00")
    assert mine.missing == {"GBP": Decimal("30.00")}
    assert mine.forecast == Decimal("2550.00")
    assert mine.attainment == 51
    assert (mine.interactions, mine.tasks_done, mine.overdue_tasks, mine.stale_deals) == (
        2,
        1,
        0,
        0,
    )
    assert theirs.won.amount == Decimal("0.00")
    assert theirs.weighted_open.amount == Decimal("1000.00")
    assert theirs.attainment == 50
    assert (theirs.overdue_tasks, theirs.stale_deals, theirs.interactions) == (2, 1, 0)
    assert view.quota_total == Decimal("7000.00")
    assert view.forecast_total == Decimal("3550.00")
    assert view.incomplete


def test_the_panel_shows_the_figures_and_flags_the_missing_rate(team, manager_client):
    response = manager_client.get(PANEL)
    assert response.status_code == 200
    html = response.content.decode()
    row = re.search(r'<tr data-rep="rep">(.*?)</tr>', html, re.S)[1]
    assert re.search(r'data-col="forecast">2,550', row)
    assert re.search(r'data-col="attainment">.*?51%', row, re.S)
    assert 'id="team-missing-rates"' in html
    assert "30.00 GBP" in html
    assert 'id="team-chart-data"' in html


def test_a_month_without_deals_shows_zeroes(team, manager_client):
    response = manager_client.get(PANEL, {"month": "2001-02"})
    assert response.status_code == 200
    assert "team-missing-rates" not in response.content.decode()


def _links(html):
    return [link.replace("&amp;", "&") for link in re.findall(r'href="([^"]+)"', html)]


def test_won_and_open_links_list_the_deals_behind_the_figures(team, rep, manager_client):
    html = manager_client.get(PANEL).content.decode()
    row = re.search(r'<tr data-rep="rep">(.*?)</tr>', html, re.S)[1]
    won_link, open_link = (
        link for link in _links(row) if link.startswith(reverse("sales:deal-list"))
    )
    won_page = manager_client.get(won_link).content.decode()
    titles = set(
        Deal.objects.filter(owner=rep, status="won", amount__in=[1000, 500]).values_list(
            "title", flat=True
        )
    )
    assert titles and all(title in won_page for title in titles)
    earlier = Deal.objects.get(owner=rep, amount=7000)
    assert earlier.title not in won_page
    open_page = manager_client.get(open_link).content.decode()
    assert Deal.objects.get(owner=rep, amount=2000).title in open_page
    assert Deal.objects.get(owner=rep, amount=9000).title not in open_page


def test_stale_and_overdue_links_list_the_right_rows(team, rep2, manager_client):
    html = manager_client.get(PANEL).content.decode()
    row = re.search(r'<tr data-rep="rep2">(.*?)</tr>', html, re.S)[1]
    stale_link = next(link for link in _links(row) if "stale=true" in link)
    stale_page = manager_client.get(stale_link).content.decode()
    stale = Deal.objects.get(owner=rep2, amount=100)
    assert stale.title in stale_page
    assert Deal.objects.get(owner=rep2, amount=4000).title not in stale_page
    overdue_link = next(link for link in _links(row) if "overdue=true" in link)
    tasks_page = manager_client.get(overdue_link)
    assert tasks_page.status_code == 200
    assert len(tasks_page.context["page"].object_list) == 2
    assert {t.assignee_id for t in tasks_page.context["page"].object_list} == {rep2.pk}


def test_a_rep_cannot_list_another_reps_tasks(team, rep, rep2, rep_client):
    response = rep_client.get(
        reverse("customers:my-tasks"), {"assignee": rep2.pk, "overdue": "true"}
    )
    assert response.status_code == 200
    assert all(task.assignee_id == rep.pk for task in response.context["page"].object_list)


def test_reps_have_no_team_view(rep_client):
    assert rep_client.get(PANEL).status_code == 403


def test_the_managers_home_holds_the_team_panel_and_a_reps_does_not(manager_client, rep_client):
    manager_home = manager_client.get(reverse("home")).content.decode()
    assert 'id="team-table"' in manager_home
    assert 'hx-trigger="load"' not in manager_home  # every panel rendered in the page's request
    assert 'id="team-table"' not in rep_client.get(reverse("home")).content.decode()


def test_the_panel_queries_stay_constant_in_reps_and_deals(
    team, manager_client, django_assert_max_num_queries
):
    manager_client.get(PANEL)
    with django_assert_max_num_queries(20) as small:
        assert manager_client.get(PANEL).status_code == 200
    for n in range(6):
        someone = UserFactory(username=f"extra{n}", role="Sales rep")
        open_deal(someone, "100.00", 20, currency=["USD", "EUR", "GBP"][n % 3])
        won(someone, "50.00", "EUR")
        Quota.objects.create(owner=someone, month=team, amount=Decimal("10"))
    with django_assert_max_num_queries(20) as large:
        assert manager_client.get(PANEL).status_code == 200
    assert len(small) == len(large)
