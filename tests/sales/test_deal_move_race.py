"""Deals moved at the same moment (issue 18, both seen in make bench-load at 96 users).

First test: two deals moved into each other's stages both move (seen as a 503, "deadlock
detected"). A's move is written but not committed while B moves its deal into A's old stage
and commits: B's foreign-key check on that stage must not wait for A, which then commits its
own check on B's old stage.

Second test: one deal moved twice at once from the same version: the second move is refused
as a conflict (seen as a 500, Deal.DoesNotExist: the locking query joined the stage, and
PostgreSQL rechecked that join against the old stage once the first move committed).

Real sessions on PostgreSQL, each thread with its own connection.
"""

import threading

import pytest
from django.db import transaction

from crm.lib.concurrency import ConcurrentEditError
from sales.models import Deal, Stage
from sales.services import deal_drop
from tests.factories import DealFactory, UserFactory
from tests.helpers import in_own_session, race_past_an_uncommitted_write


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_deals_moved_into_each_others_stages_at_once_both_move(postgres: None) -> None:
    user = UserFactory.create()
    first, second = Stage.objects.filter(
        pipeline__is_default=True, is_won=False, is_lost=False
    ).order_by("order")[:2]
    deal_a = DealFactory.create(stage=first, owner=user)
    deal_b = DealFactory.create(stage=second, owner=user)
    a_moved, b_done = threading.Event(), threading.Event()

    def a() -> str:
        with transaction.atomic():
            deal_drop(deal=deal_a, stage=second, moved_by=user, expected_version=deal_a.version)
            a_moved.set()
            b_done.wait(timeout=10)  # B moves and commits meanwhile
        return "moved"

    def b() -> str:
        a_moved.wait(timeout=10)
        try:
            deal_drop(deal=deal_b, stage=first, moved_by=user, expected_version=deal_b.version)
        finally:
            b_done.set()
        return "moved"

    outcomes: dict = {}
    threads = [in_own_session(work, outcomes, key) for key, work in {"a": a, "b": b}.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes == {"a": "moved", "b": "moved"}
    assert Deal.objects.get(pk=deal_a.pk).stage == second
    assert Deal.objects.get(pk=deal_b.pk).stage == first


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_deal_moved_twice_at_once_refuses_the_second_as_a_conflict(postgres: None) -> None:
    user = UserFactory.create()
    first, second, third = Stage.objects.filter(
        pipeline__is_default=True, is_won=False, is_lost=False
    ).order_by("order")[:3]
    deal = DealFactory.create(stage=first, owner=user)
    seen_version = deal.version
    a_moved, commit = threading.Event(), threading.Event()

    def a() -> str:
        with transaction.atomic():
            deal_drop(deal=deal, stage=second, moved_by=user, expected_version=seen_version)
            a_moved.set()
            commit.wait(timeout=10)  # B queues behind A's lock meanwhile
        return "moved"

    def b() -> str:
        a_moved.wait(timeout=10)
        deal_drop(deal=deal, stage=third, moved_by=user, expected_version=seen_version)
        return "moved"

    outcomes, blocked = race_past_an_uncommitted_write({"a": a, "b": b}, commit)
    assert blocked == 1
    assert outcomes["a"] == "moved"
    assert isinstance(outcomes["b"], ConcurrentEditError), outcomes
    assert Deal.objects.get(pk=deal.pk).stage == second
