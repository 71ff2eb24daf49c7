"""The forecast's figures on a small known data set."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from sales.models import Deal, Stage
from sales.selectors import DealScope, forecast
from sales.team import _money_by_rep
from sales.views.deals import home_pipeline_context
from tests.factories import DealFactory, UserFactory

pytestmark = pytest.mark.django_db

EVERY_DEAL = DealScope(visible=True)  # a manager's scope


def stage(name):
    return Stage.objects.get(pipeline__is_default=True, name=name)


@pytest.fixture
def deals():
    ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
    tz = timezone.get_current_timezone()
    DealFactory(
        owner=ann,
        amount=Decimal("1000"),
        stage=stage("Proposal"),
        probability=50,
        expected_close_date=date(2026, 1, 10),
    )
    DealFactory(
        owner=ann,
        amount=Decimal("2000"),
        stage=stage("Negotiation"),
        probability=75,
        expected_close_date=date(2026, 1, 31),
    )
    DealFactory(
        owner=bob,
        amount=Decimal("400"),
        stage=stage("Qualification"),
        probability=10,
        expected_close_date=date(2026, 2, 1),
    )
    DealFactory(
        owner=bob, amount=Decimal("300"), stage=stage("Won"), probability=100, status=Deal.Status.WON,
        expected_close_date=date(2025, 12, 1), closed_at=datetime(2026, 1, 5, 12, tzinfo=tz),
    )  # fmt: skip
    DealFactory(
        owner=bob, amount=Decimal("9999"), stage=stage("Lost"), probability=0, status=Deal.Status.LOST,
        lost_reason="price", expected_close_date=date(2026, 1, 20), closed_at=datetime(2026, 1, 20, tzinfo=tz),
    )  # fmt: skip
    DealFactory(
        owner=bob,
        amount=Decimal("5000"),
        stage=stage("Proposal"),
        expected_close_date=date(2026, 4, 1),
    )


def test_forecast_by_month(deals):
    rows = forecast(
        EVERY_DEAL,
        start=date(2026, 1, 1),
        months=2,
        commit_probability=75,
    ).by_month
    january, february = rows  # every month of the horizon, with or without deals
    assert january.key == date(2026, 1, 1)
    assert (january.won, january.committed, january.best_case, january.weighted) == (
        Decimal("300.00"),
        Decimal("2300.00"),  # won + the 75% deal
        Decimal("3300.00"),  # won + every open deal
        Decimal("2300.00"),  # 300 + 1000 × 50% + 2000 × 75%
    )
    assert january.open_deals == 2
    assert (february.key, february.weighted, february.best_case) == (
        date(2026, 2, 1),
        Decimal("40.00"),
        Decimal("400.00"),
    )


def test_forecast_by_rep(deals):
    rows = forecast(
        EVERY_DEAL,
        start=date(2026, 1, 1),
        months=3,
        commit_probability=75,
    ).by_owner
    by_rep = {row.key.username: row for row in rows}
    assert by_rep["ann"].weighted == Decimal("2000.00")
    assert by_rep["bob"].weighted == Decimal("340.00")
    assert by_rep["bob"].won == Decimal("300.00")


def test_two_reps_of_one_name_are_two_rows(deals):
    for login in ("jsmith", "john.smith"):
        owner = UserFactory(username=login, first_name="John", last_name="Smith")
        DealFactory(owner=owner, amount=Decimal("100"), expected_close_date=date(2026, 1, 15))
    rows = forecast(EVERY_DEAL, start=date(2026, 1, 1), months=3, commit_probability=75).by_owner
    assert [str(row.key) for row in rows] == ["ann", "bob", "John Smith", "John Smith"]


def test_forecast_page_shows_own_deals_to_reps_and_all_to_managers(
    deals, rep, rep_client, manager_client
):
    DealFactory(owner=rep, amount=Decimal("777"), expected_close_date=date(2026, 1, 15))
    url = reverse("sales:forecast")
    mine = rep_client.get(url, {"start": "2026-01", "months": 3})
    assert [str(row.key) for row in mine.context["by_rep"]] == ["Rita"]  # not her login
    assert '<th scope="row" class="text-nowrap">Rita</th>' in mine.content.decode()
    everyone = manager_client.get(url, {"start": "2026-01", "months": 3})
    assert [str(row.key) for row in everyone.context["by_rep"]] == ["ann", "bob", "Rita"]
    assert everyone.context["total"]["best_case"] == Decimal("3300.00") + Decimal(
        "400.00"
    ) + Decimal("777.00")


@pytest.mark.parametrize(
    "params",
    [{"start": "99999-99"}, {"months": "1000000"}, {"owner": "x\x00"}, {"start": "0000-01"}],
)
def test_forecast_hostile_input_is_explained_not_a_500(manager_client, params):
    response = manager_client.get(reverse("sales:forecast"), params)
    assert response.status_code == 200


def test_agent_and_marketer_have_no_forecast(agent_client, marketer_client):
    assert agent_client.get(reverse("sales:forecast")).status_code == 403
    assert marketer_client.get(reverse("sales:forecast")).status_code == 403


def test_months_without_deals_are_listed_with_zeros(deals):
    rows = forecast(EVERY_DEAL, start=date(2026, 1, 1), months=4, commit_probability=75).by_month
    assert [row.key for row in rows] == [
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
        date(2026, 4, 1),
    ]
    assert (rows[2].best_case, rows[2].open_deals) == (Decimal("0.00"), 0)
    assert rows[3].best_case == Decimal("5000.00")


def test_weighted_amounts_keep_their_cents_on_every_database(rep, rf):
    """SQLite stores a whole amount as an integer, where "× probability / 100" was integer
    division: 2,007 × 33 % gave 662, not 662.31 (forecast, home panel, team view)."""
    month = timezone.localdate().replace(day=1)
    DealFactory(owner=rep, amount=Decimal("2007"), stage=stage("Proposal"), probability=33,
                expected_close_date=month)  # fmt: skip
    (row,) = forecast(EVERY_DEAL, start=month, months=1, commit_probability=75).by_month
    assert row.weighted == Decimal("662.31")
    weighted_open = _money_by_rep(EVERY_DEAL, month)[("weighted_open", rep.pk)]
    assert weighted_open == {"USD": Decimal("662.31")}
    request = rf.get("/")
    request.user = rep
    (stage_row,) = home_pipeline_context(request)["rows"]
    assert stage_row["weighted"] == Decimal("662.31")
