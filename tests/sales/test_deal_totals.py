"""The open deals' totals (sales.deal_totals) follow every way deals are written, and the
board and the forecast that read them show what the deals say, per role (issue 18)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone

from sales import deal_totals
from sales.models import Deal, OpenDealTotal, Stage
from sales.services import deal_lose, deal_move, deal_win
from tests.factories import DealFactory

pytestmark = pytest.mark.django_db
KEY = deal_totals.KEY.split(", ")


def stage(name: str) -> Stage:
    return Stage.objects.get(pipeline__is_default=True, name=name)


def from_deals() -> set[tuple]:
    """The totals as the plain aggregate over the open deals computes them."""
    rows = (
        Deal.objects.filter(status=Deal.Status.OPEN)
        .values(*KEY)
        .annotate(n=Count("pk"), a=Sum("amount"))
        .order_by()
    )
    return {(*(row[k] for k in KEY), row["n"], Decimal(row["a"])) for row in rows}


def kept() -> set[tuple]:
    rows = OpenDealTotal.objects.values(*KEY, "deals", "amount")
    return {(*(row[k] for k in KEY), row["deals"], Decimal(row["amount"])) for row in rows}


def test_every_write_keeps_the_totals_equal_to_the_deals(rep, rep2):
    first = DealFactory(owner=rep, amount=Decimal("100.50"))
    second = DealFactory(owner=rep, amount=Decimal("200"))
    euro = DealFactory(owner=rep2, amount=Decimal("70"), currency="EUR")
    assert kept() == from_deals() and len(kept()) == 2
    first.amount = Decimal("150.25")
    first.save()
    assert kept() == from_deals()
    deal_move(deal=second, stage=stage("Proposal"), moved_by=rep, expected_version=1)
    assert kept() == from_deals()
    first, euro = Deal.objects.get(pk=first.pk), Deal.objects.get(pk=euro.pk)
    deal_win(deal=first, won_by=rep, expected_version=first.version)
    deal_lose(deal=euro, reason="Price", lost_by=rep2, expected_version=euro.version)
    assert kept() == from_deals() and len(kept()) == 1  # only the moved deal is open
    Deal.objects.bulk_create([DealFactory.build(owner=rep, customer=second.customer)])
    Deal.objects.filter(owner=rep).update(expected_close_date=timezone.localdate() + timedelta(9))
    assert kept() == from_deals()
    Deal.objects.filter(pk=second.pk).delete()
    assert kept() == from_deals()
    Deal.objects.all().delete()
    assert kept() == set() == from_deals()  # emptied groups are deleted


def test_an_edit_that_moves_no_amount_keeps_the_group(rep):
    deal = DealFactory(owner=rep, amount=Decimal("10"))
    deal.title = "Renamed"
    deal.save()
    assert [(t.deals, t.amount) for t in OpenDealTotal.objects.all()] == [(1, Decimal("10"))]


def test_reinstalling_refills_the_totals_from_the_deals(rep):
    DealFactory(owner=rep, amount=Decimal("10"))
    DealFactory(owner=rep, amount=Decimal("5"), stage=stage("Proposal"))
    OpenDealTotal.objects.all().delete()
    with connection.cursor() as cursor:
        deal_totals.install(cursor.execute, connection.vendor)
    assert kept() == from_deals() and len(kept()) == 2


def test_a_reps_board_totals_count_only_their_deals(rep, rep2, rep_client, manager_client):
    DealFactory(owner=rep, amount=Decimal("100"))
    DealFactory(owner=rep2, amount=Decimal("4000"))
    board = reverse("sales:board")
    for client, params, expected in [
        (rep_client, {"owner": "all"}, (1, Decimal("100"))),  # a rep cannot widen it
        (manager_client, {}, (2, Decimal("4100"))),
        (manager_client, {"owner": rep2.pk}, (1, Decimal("4000"))),
    ]:
        columns = client.get(board, params).context["columns"]
        first = columns[0]
        assert (first["count"], first["total"]) == expected


def test_a_reps_forecast_counts_only_their_deals(rep, rep2, rep_client, manager_client):
    DealFactory(owner=rep, amount=Decimal("100"))
    DealFactory(owner=rep2, amount=Decimal("4000"))
    url = reverse("sales:forecast")
    mine = rep_client.get(url).context["total"]
    assert (mine["best_case"], mine["open_deals"]) == (Decimal("100.00"), 1)
    everyone = manager_client.get(url).context["total"]
    assert (everyone["best_case"], everyone["open_deals"]) == (Decimal("4100.00"), 2)
    rob = manager_client.get(url, {"owner": rep2.pk}).context["total"]
    assert rob["best_case"] == Decimal("4000.00")


def test_the_board_shows_a_move_at_once(rep, rep_client):
    deal = DealFactory(owner=rep, amount=Decimal("100"))
    board = reverse("sales:board")
    assert rep_client.get(board).context["columns"][0]["count"] == 1
    deal_move(deal=deal, stage=stage("Proposal"), moved_by=rep, expected_version=1)
    columns = {c["stage"].name: c for c in rep_client.get(board).context["columns"]}
    assert columns["Qualification"]["count"] == 0
    assert (columns["Proposal"]["count"], columns["Proposal"]["total"]) == (1, Decimal("100"))
