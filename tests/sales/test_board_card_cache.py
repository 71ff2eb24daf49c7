"""The board's cards are kept rendered per distinct card ({% valuecache %}, BoardCard.shown;
issue 18: the cards were most of the board's rendering). Served again unchanged, and never
stale: whatever a card shows is part of its key."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.lib.fragments import value_fragments
from tests.factories import DealFactory, TaskFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_fragments")]
BOARD = reverse("sales:board")


def card(response, deal) -> str:
    assert response.status_code == 200
    match = re.search(
        rf'<article [^>]*data-deal="{deal.pk}".*?</article>', response.content.decode(), re.S
    )
    assert match, "no card"
    return match.group(0)


def test_a_card_is_kept_and_served_again(rep, rep_client):
    deal = DealFactory(owner=rep, title="Kept card")
    first = card(rep_client.get(BOARD), deal)
    kept = value_fragments.kept_from("sales/partials/board_card.html")
    assert kept == 1
    assert card(rep_client.get(BOARD), deal) == first
    assert value_fragments.kept_from("sales/partials/board_card.html") == kept


def test_a_card_shows_its_customers_new_name_and_owner_at_once(rep, rep_client):
    deal = DealFactory(owner=rep)
    card(rep_client.get(BOARD), deal)
    deal.customer.name = "Renamed customer"  # the deal's own version does not change
    deal.customer.save()
    assert "Renamed customer" in card(rep_client.get(BOARD), deal)
    rep.username = "renamedrep"
    rep.save()
    assert "renamedrep" in card(rep_client.get(BOARD), deal)


def test_a_card_shows_its_next_step_overdue_and_stale_the_day_they_are(rep, rep_client):
    step = TaskFactory(assignee=rep, title="Call back", due_date=timezone.localdate())
    deal = DealFactory(owner=rep, customer=step.customer, next_step=step)
    assert "Next step overdue" not in card(rep_client.get(BOARD), deal)
    step.due_date = timezone.localdate() - timedelta(days=1)
    step.save()
    assert 'title="Call back">Next step overdue' in card(rep_client.get(BOARD), deal)
    deal.last_activity_at = timezone.now() - timedelta(days=365)
    deal.save(update_fields=["last_activity_at"])
    assert "Stale" in card(rep_client.get(BOARD), deal)


def test_a_card_is_kept_per_language(rep, rep_client):
    deal = DealFactory(owner=rep)
    english = card(rep_client.get(BOARD), deal)
    chinese = card(rep_client.get(BOARD, headers={"accept-language": "zh-hans"}), deal)
    assert "Owner" in english and "Owner" not in chinese
