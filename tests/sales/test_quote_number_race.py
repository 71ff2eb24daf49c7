"""Two people saving a quote at the same moment both get a number, and not the same one.

Real sessions on PostgreSQL, each thread with its own connection: nothing of our own is
patched. The first test makes the collision certain (B reads the last number while A's
quote is written but not committed, so both pick the same number and B waits on the
unique index); the second lets several sessions race from a barrier.
"""

import threading
from datetime import timedelta
from decimal import Decimal
from functools import partial

import pytest
from django.db import transaction
from django.utils import timezone

from sales.models import Quote
from sales.services import quote_create
from tests.factories import DealFactory, UserFactory
from tests.helpers import in_own_session, race_past_an_uncommitted_write


def create_quote(deal, user) -> Quote:
    return quote_create(
        deal=deal,
        valid_until=timezone.localdate() + timedelta(days=30),
        created_by=user,
        lines=[
            {
                "description": "Widget",
                "quantity": Decimal("1"),
                "unit_price": Decimal("100.00"),
                "discount_percent": Decimal("0"),
                "tax_rate": Decimal("0"),
            }
        ],
    )


year_stem = f"Q-{timezone.localdate().year}-"


# serialized_rollback as in every transactional test: later tests get the migrations' rows.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_quote_saved_while_another_is_uncommitted_gets_the_next_number(postgres: None) -> None:
    user = UserFactory()
    deal = DealFactory(owner=user)
    written, commit = threading.Event(), threading.Event()

    def a() -> str:
        with transaction.atomic():
            number = create_quote(deal, user).number
            written.set()
            commit.wait(timeout=10)  # B picks its number now and waits on the index
        return number

    def b() -> str:
        written.wait(timeout=10)
        return create_quote(deal, user).number

    outcomes, blocked = race_past_an_uncommitted_write({"a": a, "b": b}, commit)

    assert blocked == 1, "B did not wait on A's uncommitted number"
    assert outcomes == {"a": f"{year_stem}000001", "b": f"{year_stem}000002"}
    assert sorted(Quote.objects.values_list("number", flat=True)) == [
        f"{year_stem}000001",
        f"{year_stem}000002",
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sessions_racing_from_a_barrier_get_distinct_sequential_numbers(postgres: None) -> None:
    user = UserFactory()
    deals = [DealFactory(owner=user) for _ in range(4)]
    rounds = 5
    outcomes: dict = {}
    for round_ in range(rounds):
        barrier = threading.Barrier(len(deals))

        def racer(deal=deals, index=0, barrier=barrier) -> str:
            barrier.wait(timeout=10)
            return create_quote(deal[index], user).number

        threads = [
            in_own_session(partial(racer, index=i), outcomes, f"{round_}-{i}")
            for i in range(len(deals))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    errors = [value for value in outcomes.values() if isinstance(value, Exception)]
    assert not errors
    numbers = sorted(outcomes.values())
    assert numbers == [f"{year_stem}{n:06d}" for n in range(1, rounds * len(deals) + 1)]
