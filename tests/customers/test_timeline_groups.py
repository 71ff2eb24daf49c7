"""Kinds of one table asked with one query (crm.lib.timeline.register_group): deals moved,
won and lost (stage changes), quotes sent and accepted, tickets opened and resolved,
tasks added and done, campaigns received and converted (issue 18)."""

from datetime import timedelta
from decimal import Decimal
from itertools import combinations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.lib.timeline import Cursor, timeline_page
from customers.models import Task
from sales.models import DealStageChange, Quote
from sales.timeline import stage_change_events
from service.timeline import ticket_events
from tests.factories import (
    CampaignRecipientFactory,
    CustomerFactory,
    DealFactory,
    TaskFactory,
    TicketFactory,
)
from tests.sales.test_deals import stage
from tests.sales.test_quotes import make_quote

pytestmark = pytest.mark.django_db

STAGE_KINDS = ("deal_lost", "deal_moved", "deal_won")


def _change(deal, to: str, at, by) -> DealStageChange:
    return DealStageChange.objects.create(
        deal=deal, from_stage=stage("Qualification"), to_stage=stage(to), changed_at=at,
        changed_by=by,
    )  # fmt: skip


def _stage_changes(customer, owner, at) -> list[Cursor]:
    """Moves, wins and losses, three of each sharing each instant: (kind, id) decide."""
    deal = DealFactory(customer=customer, owner=owner, lost_reason="Price")
    made = []
    for step in range(4):
        instant = at - timedelta(minutes=step)
        for to, kind in (("Proposal", "deal_moved"), ("Won", "deal_won"), ("Lost", "deal_lost")):
            made += [Cursor(instant, kind, _change(deal, to, instant, owner).pk) for _ in range(3)]
    return sorted(made, reverse=True)


def test_a_group_answers_exactly_the_newest_events_after_any_cursor(manager):
    """Whatever the cursor (ties at its time across the group's kinds included) and the
    limit, the one query returns the `limit` events next in (time, kind, id) order."""
    customer = CustomerFactory(owner=manager)
    expected = _stage_changes(customer, manager, timezone.now() - timedelta(hours=1))
    for cursor in [None, *expected]:
        older = [c for c in expected if cursor is None or c < cursor]
        for limit in (1, 2, 4, 7, 40):
            events = stage_change_events(manager, customer, cursor, limit, set(STAGE_KINDS))
            assert [e.cursor for e in events] == older[:limit], (cursor, limit)


def test_a_group_on_two_columns_answers_exactly_the_newest_events_after_any_cursor(manager):
    """Tickets opened and resolved: one row, up to two events, at equal or other times."""
    customer = CustomerFactory(owner=manager)
    at = timezone.now() - timedelta(hours=1)
    expected = []
    for n in range(12):
        opened = at - timedelta(minutes=n % 4)
        resolved = None if n % 3 == 0 else at - timedelta(minutes=(n * 5) % 4)
        ticket = TicketFactory(customer=customer, created_at=opened, resolved_at=resolved)
        expected.append(Cursor(opened, "ticket_opened", ticket.pk))
        if resolved is not None:
            expected.append(Cursor(resolved, "ticket_resolved", ticket.pk))
    expected.sort(reverse=True)
    both = {"ticket_opened", "ticket_resolved"}
    for cursor in [None, *expected]:
        older = [c for c in expected if cursor is None or c < cursor]
        for limit in (1, 2, 3, 5, 40):
            events = ticket_events(manager, customer, cursor, limit, both)
            assert [e.cursor for e in events] == older[:limit], (cursor, limit)


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 5, 8])
def test_pages_across_ties_of_a_groups_kinds_lose_and_repeat_nothing(manager, limit):
    """Two kinds of each group at one instant, page boundaries falling among them."""
    customer = CustomerFactory(owner=manager)
    at = timezone.now() - timedelta(hours=1)
    expected = _stage_changes(customer, manager, at)
    for _ in range(3):  # quotes sent and accepted, tasks added and done, all at `at`
        quote = make_quote(DealFactory(customer=customer, owner=manager))
        Quote.objects.filter(pk=quote.pk).update(sent_at=at, accepted_at=at)
        task = TaskFactory(customer=customer, assignee=manager, done=True, done_at=at)
        Task.objects.filter(pk=task.pk).update(created_at=at)
        expected += [Cursor(at, kind, quote.pk) for kind in ("quote_sent", "quote_accepted")]
        expected += [Cursor(at, kind, task.pk) for kind in ("task", "task_done")]
    expected.sort(reverse=True)
    kinds = [*STAGE_KINDS, "quote_sent", "quote_accepted", "task", "task_done"]

    paged, cursor = [], None
    while True:
        page = timeline_page(manager, customer, kinds=kinds, cursor=cursor, limit=limit)
        assert len(page.events) == limit or page.next_cursor is None
        paged += [event.cursor for event in page.events]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert paged == expected


def test_choosing_some_kinds_of_a_group_fetches_only_those_in_one_query(manager, manager_client):
    customer = CustomerFactory(owner=manager)
    everything = _stage_changes(customer, manager, timezone.now() - timedelta(hours=1))
    for size in (1, 2):
        for chosen in combinations(STAGE_KINDS, size):
            with CaptureQueriesContext(connection) as captured:
                page = timeline_page(manager, customer, kinds=chosen, limit=100)
            assert [e.cursor for e in page.events] == [c for c in everything if c.kind in chosen]
            timeline_queries = [q for q in captured if "sales_dealstagechange" in q["sql"]]
            assert len(timeline_queries) == 1, chosen

    response = manager_client.get(customer.get_absolute_url() + "?kind=deal_won")
    events = response.context["timeline"]
    assert {event.kind for event in events} == {"deal_won"} and len(events) == 12
    assert all(event.icon == "★" and event.badge == "Won" for event in events)


def test_each_kind_keeps_its_text_badge_link_and_icon(rep, rep_client):
    customer = CustomerFactory(owner=rep)
    deal = DealFactory(customer=customer, owner=rep, title="Fleet", lost_reason="Price")
    at = timezone.now() - timedelta(hours=1)
    _change(deal, "Proposal", at, rep)
    _change(deal, "Won", at - timedelta(minutes=1), rep)
    _change(deal, "Lost", at - timedelta(minutes=2), rep)
    TicketFactory(customer=customer, created_at=at, resolved_at=at + timedelta(minutes=1))
    CampaignRecipientFactory(customer=customer, sent_at=at, converted_at=at, coupon_code="")

    events = {e.kind: e for e in timeline_page(rep, customer).events}

    moved, won, lost = events["deal_moved"], events["deal_won"], events["deal_lost"]
    assert moved.text == "Deal “Fleet” moved: Qualification → Proposal"
    assert (moved.icon, moved.badge, moved.badge_class) == ("→", "", "text-bg-light")
    assert won.text.startswith("Deal “Fleet” won: ") and won.icon == "★"
    assert (won.badge, won.badge_class) == ("Won", "text-bg-success")
    assert lost.text == "Deal “Fleet” lost: Price" and lost.icon == "✕"
    assert (lost.badge, lost.badge_class) == ("Lost", "text-bg-secondary")
    assert {moved.url, won.url, lost.url} == {deal.get_absolute_url()}
    assert moved.who == won.who == lost.who == rep.username
    opened, resolved = events["ticket_opened"], events["ticket_resolved"]
    assert (opened.when, resolved.when) == (at, at + timedelta(minutes=1))
    assert opened.text.endswith(" opened") and resolved.text.endswith(" resolved")
    assert (opened.icon, resolved.icon) == ("✉", "✔")
    assert events["converted"].text.startswith("Converted from the campaign “")
    assert events["campaign"].badge and events["converted"].badge_class == "text-bg-success"


def test_a_rep_sees_no_stage_change_of_another_reps_deal(rep, rep2):
    customer = CustomerFactory(owner=rep)
    at = timezone.now() - timedelta(hours=1)
    theirs = DealFactory(customer=customer, owner=rep, title="Rep's deal", lost_reason="Price")
    mine = DealFactory(customer=customer, owner=rep2, title="Rep2's deal", amount=Decimal(3))
    for n, to in enumerate(("Proposal", "Won", "Lost")):
        _change(theirs, to, at - timedelta(minutes=n), rep)
    own = _change(mine, "Proposal", at, rep2)

    seen = timeline_page(rep2, customer, kinds=STAGE_KINDS).events
    assert [(e.kind, e.pk) for e in seen] == [("deal_moved", own.pk)]
    owner_sees = timeline_page(rep, customer, kinds=STAGE_KINDS).events
    assert {e.kind for e in owner_sees} == set(STAGE_KINDS) and len(owner_sees) == 3
