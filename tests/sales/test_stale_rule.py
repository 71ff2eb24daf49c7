"""The stale-deal rule is written once; the list, board, card moves, detail and home panel agree."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sales.models import Deal, Stage
from sales.selectors import is_stale, stale_deal_condition, with_stale_flag
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def deals(rep, settings):
    settings.CRM_STALE_DEAL_DAYS = 10
    now = timezone.now()
    return {
        "stale": DealFactory(owner=rep, title="Quiet", last_activity_at=now - timedelta(days=11)),
        "fresh": DealFactory(owner=rep, title="Busy", last_activity_at=now - timedelta(days=9)),
        "closed": DealFactory(
            owner=rep,
            title="Done",
            status=Deal.Status.WON,
            stage=Stage.objects.get(pipeline__is_default=True, name="Won"),
            closed_at=now,
            last_activity_at=now - timedelta(days=30),
        ),
    }


def test_the_queryset_and_one_deal_give_the_same_answer(deals):
    flagged = dict(with_stale_flag(Deal.objects.all()).values_list("title", "is_stale"))
    assert flagged == {"Quiet": True, "Busy": False, "Done": False}
    assert {d.title for d in Deal.objects.filter(stale_deal_condition())} == {"Quiet"}
    assert {name for name, deal in deals.items() if is_stale(deal)} == {"stale"}


def test_every_page_flags_only_the_stale_deal(deals, rep_client):
    listed = rep_client.get(reverse("sales:deal-list")).context["page"]
    assert {d.title for d in listed if d.is_stale} == {"Quiet"}
    columns = rep_client.get(reverse("sales:board")).context["columns"]
    cards = [deal for column in columns for deal in column["cards"]]
    assert {d.title for d in cards if d.is_stale} == {"Quiet"}
    for name, deal in deals.items():
        page = rep_client.get(deal.get_absolute_url()).content.decode()
        assert ('id="stale-flag"' in page) == (name == "stale")
    panel = rep_client.get(reverse("sales:home-pipeline-panel"))
    assert panel.context["stale_count"] == 1


def test_a_moved_card_is_flagged_by_the_same_rule(deals, rep_client, settings):
    settings.CRM_STALE_DEAL_DAYS = 0  # anything not done this instant is stale
    stale = deals["stale"]
    target = Stage.objects.get(pipeline__is_default=True, name="Proposal")
    response = rep_client.post(
        reverse("sales:deal-move", args=[stale.pk]), {"stage": target.pk, "version": stale.version}
    )
    assert response.status_code == 200
    assert is_stale(Deal.objects.get(pk=stale.pk))
    assert "Stale" in response.json()["card"]
