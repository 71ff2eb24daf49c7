"""The Kanban board: columns, filters, moves and their refusals, constant queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from sales.models import Deal, Pipeline, Stage
from sales.services import deal_lose, deal_move, deal_win
from tests.factories import CustomerFactory, DealFactory, TaskFactory

pytestmark = pytest.mark.django_db
BOARD = reverse("sales:board")
# Session, user, permissions (2), task badge; pipeline, pipelines, stages, closed deals'
# totals, open deals' totals, card ids, cards, owners.
BOARD_QUERIES = 13


def stage(name: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, name=name)


def move(client, deal, target, **extra):
    data = {"stage": target.pk if isinstance(target, Stage) else target, "version": deal.version}
    data.update(extra)
    return client.post(reverse("sales:deal-move", args=[deal.pk]), data)


def column(response, name):
    return next(c for c in response.context["columns"] if c["stage"].name == name)


def test_columns_count_and_total_per_stage(rep, rep_client):
    DealFactory(owner=rep, amount=Decimal("100.50"))
    DealFactory(owner=rep, amount=Decimal("200"))
    DealFactory(owner=rep, amount=Decimal("50"), stage=stage("Proposal"))
    response = rep_client.get(BOARD)
    assert response.status_code == 200
    names = [c["stage"].name for c in response.context["columns"]]
    assert names == ["Qualification", "Needs analysis", "Proposal", "Negotiation", "Won", "Lost"]
    qualification = column(response, "Qualification")
    assert (qualification["count"], qualification["total"]) == (2, Decimal("300.50"))
    assert column(response, "Proposal")["count"] == 1
    assert column(response, "Won")["count"] == 0


def test_cards_show_customer_amount_owner_age_and_overdue_next_step(rep, rep_client):
    customer = CustomerFactory(owner=rep, name="Globex")
    task = TaskFactory(
        customer=customer, assignee=rep, due_date=timezone.localdate() - timedelta(days=2)
    )
    DealFactory(
        owner=rep,
        customer=customer,
        amount=Decimal("1234"),
        next_step=task,
        created_at=timezone.now() - timedelta(days=9),
    )
    page = rep_client.get(BOARD).content.decode()
    assert "Globex" in page and "1,234" in page and "rep" in page
    assert "9 days" in page and "Next step overdue" in page


def test_reps_see_their_own_deals_managers_all_with_a_switch(rep, rep2, manager, rep_client):
    DealFactory(owner=rep, title="Rita's")
    DealFactory(owner=rep2, title="Rob's")
    page = rep_client.get(BOARD, {"owner": "all"}).content.decode()
    assert "Rita&#x27;s" in page and "Rob&#x27;s" not in page
    from django.test import Client

    client = Client()
    client.force_login(manager)
    page = client.get(BOARD).content.decode()
    assert "Rita&#x27;s" in page and "Rob&#x27;s" in page
    page = client.get(BOARD, {"owner": rep2.pk}).content.decode()
    assert "Rita&#x27;s" not in page and "Rob&#x27;s" in page
    page = client.get(BOARD, {"owner": "mine"}).content.decode()
    assert "Rita&#x27;s" not in page and "Rob&#x27;s" not in page


def test_closed_columns_show_only_the_last_30_days(rep, rep_client):
    recent = deal_win(
        deal=DealFactory(owner=rep, title="Recent win"), won_by=rep, expected_version=1
    )
    old = deal_win(deal=DealFactory(owner=rep, title="Old win"), won_by=rep, expected_version=1)
    Deal.objects.filter(pk=old.pk).update(closed_at=timezone.now() - timedelta(days=31))
    won = column(rep_client.get(BOARD), "Won")
    assert [d.title for d in won["cards"]] == [recent.title] and won["count"] == 1


def test_other_pipeline_by_parameter(rep, rep_client):
    pipeline = Pipeline.objects.create(name="Partners")
    Stage.objects.create(pipeline=pipeline, name="Intro", order=1, probability=5)
    response = rep_client.get(BOARD, {"pipeline": pipeline.pk})
    assert [c["stage"].name for c in response.context["columns"]] == ["Intro"]
    assert rep_client.get(BOARD, {"pipeline": 2**30}).status_code == 404
    assert rep_client.get(BOARD, {"pipeline": "x\x00"}).status_code == 200


# --- Moves --------------------------------------------------------------------------------


def test_move_saves_and_answers_the_card_and_headers(rep, rep_client):
    deal = DealFactory(owner=rep)
    response = move(rep_client, deal, stage("Proposal"))
    assert response.status_code == 200
    data = response.json()
    deal.refresh_from_db()
    assert (deal.stage, deal.probability, deal.version) == (stage("Proposal"), 50, 2)
    assert f'data-version="{deal.version}"' in data["card"]
    assert set(data["columns"]) == {str(s.pk) for s in stage("Proposal").pipeline.stages.all()}
    assert "data-count>1<" in data["columns"][str(stage("Proposal").pk)]
    assert "data-count>0<" in data["columns"][str(stage("Qualification").pk)]
    assert "Proposal" in data["message"]


def test_move_to_won_wins_the_deal(rep, rep_client):
    deal = DealFactory(owner=rep)
    assert move(rep_client, deal, stage("Won")).status_code == 200
    deal.refresh_from_db()
    assert deal.status == Deal.Status.WON and deal.probability == 100


def test_move_to_lost_needs_a_reason(rep, rep_client):
    deal = DealFactory(owner=rep)
    response = move(rep_client, deal, stage("Lost"))
    assert response.status_code == 400 and "Lose" in response.json()["error"]
    deal.refresh_from_db()
    assert deal.status == Deal.Status.OPEN
    assert move(rep_client, deal, stage("Lost"), lost_reason="Budget cut").status_code == 200
    deal.refresh_from_db()
    assert (deal.status, deal.lost_reason) == (Deal.Status.LOST, "Budget cut")


def test_refused_moves_answer_4xx_with_a_message(rep, rep2, rep_client):
    others = DealFactory(owner=rep2)
    response = move(rep_client, others, stage("Proposal"))
    assert response.status_code == 404 and response.json()["error"]

    closed = deal_lose(deal=DealFactory(owner=rep), reason="No", lost_by=rep, expected_version=1)
    response = move(rep_client, closed, stage("Proposal"))
    assert response.status_code == 400 and "closed" in response.json()["error"]

    deal = DealFactory(owner=rep)
    stale_version = deal.version
    deal_move(deal=deal, stage=stage("Proposal"), moved_by=rep, expected_version=deal.version)
    response = rep_client.post(
        reverse("sales:deal-move", args=[deal.pk]),
        {"stage": stage("Negotiation").pk, "version": stale_version},
    )
    assert response.status_code == 409 and "Someone else" in response.json()["error"]

    partner = Pipeline.objects.create(name="Partners")
    foreign = Stage.objects.create(pipeline=partner, name="Intro", order=1)
    response = move(rep_client, DealFactory(owner=rep), foreign)
    assert response.status_code == 400 and "another pipeline" in response.json()["error"]

    for bogus in ["99999999", "abc", "9" * 40, "\x00", "-1", ""]:
        response = move(rep_client, deal, bogus)
        assert response.status_code == 400 and response.json()["error"], bogus
    deal.refresh_from_db()
    assert deal.stage == stage("Proposal")


def test_hostile_move_input_never_fails(rep, rep_client):
    deal = DealFactory(owner=rep)
    for data in [
        {"stage": stage("Lost").pk, "lost_reason": "x\x00y"},
        {"stage": stage("Lost").pk, "lost_reason": "x" * 5000},
        {"stage": stage("Proposal").pk, "version": "9" * 40},
        {"stage": stage("Proposal").pk, "version": "-3", "owner": "\x00"},
    ]:
        response = rep_client.post(reverse("sales:deal-move", args=[deal.pk]), data)
        assert response.status_code < 500, data
    assert rep_client.get(reverse("sales:deal-move", args=[deal.pk])).status_code == 405


def test_a_manager_may_move_another_reps_deal(rep, manager_client):
    deal = DealFactory(owner=rep)
    assert move(manager_client, deal, stage("Negotiation")).status_code == 200
    deal.refresh_from_db()
    assert deal.stage == stage("Negotiation")


@pytest.mark.parametrize("persona", ["agent_client", "marketer_client"])
def test_agents_and_marketers_get_403(request, persona, rep):
    client = request.getfixturevalue(persona)
    deal = DealFactory(owner=rep)
    assert client.get(BOARD).status_code == 403
    response = move(client, deal, stage("Proposal"))
    assert response.status_code == 403 and response.json()["error"]
    deal.refresh_from_db()
    assert deal.stage == stage("Qualification")


def test_board_queries_stay_constant(rep, manager, manager_client, django_assert_max_num_queries):
    def add(count):
        stages = [stage("Qualification"), stage("Proposal"), stage("Negotiation")]
        for n in range(count):
            customer = CustomerFactory(owner=rep)
            task = TaskFactory(customer=customer, assignee=rep)
            DealFactory(
                owner=rep if n % 2 else manager,
                customer=customer,
                stage=stages[n % 3],
                next_step=task,
            )

    add(2)
    manager_client.get(BOARD)
    with django_assert_max_num_queries(BOARD_QUERIES) as small:
        assert manager_client.get(BOARD).status_code == 200
    add(38)
    deal_win(
        deal=Deal.objects.first(), won_by=manager, expected_version=Deal.objects.first().version
    )
    with django_assert_max_num_queries(BOARD_QUERIES) as large:
        assert manager_client.get(BOARD).status_code == 200
    assert len(small) == len(large)


def test_a_column_shows_its_first_cards_and_counts_them_all(rep, rep_client, monkeypatch):
    monkeypatch.setattr("sales.selectors.BOARD_CARDS_PER_COLUMN", 2)
    today = timezone.localdate()
    for days in (5, 1, 3):
        DealFactory(owner=rep, title=f"Due in {days}", expected_close_date=today + timedelta(days))
    DealFactory(owner=rep, stage=stage("Proposal"))
    response = rep_client.get(BOARD)
    qualification = column(response, "Qualification")
    assert [d.title for d in qualification["cards"]] == ["Due in 1", "Due in 3"]
    assert qualification["count"] == 3
    assert len(column(response, "Proposal")["cards"]) == 1
    assert "Showing 2 of 3" in response.content.decode()
