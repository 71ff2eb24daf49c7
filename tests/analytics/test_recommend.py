"""Product affinities and recommendations on a basket set checked by hand."""

import math
from datetime import date

import numpy as np
import pytest
from scipy import sparse

from analytics import recommend, selectors
from analytics.models import ProductAffinity, Recommendation, SegmentRun
from analytics.services import run_compute_now
from tests.analytics.test_runs import order
from tests.factories import CustomerFactory, OrderLineFactory, ProductFactory

AS_OF = date(2026, 6, 30)


@pytest.fixture
def baskets(db):
    p1, p2, p3, p4 = (ProductFactory(name=f"P{i}") for i in range(1, 5))
    c1, c2, c3, c4, c5 = (CustomerFactory(name=f"C{i}") for i in range(1, 6))
    bought = {c1: [p1, p2], c2: [p1, p2, p2], c3: [p1, p3], c4: [p2], c5: [p4]}
    for customer, products in bought.items():
        for i, product in enumerate(products):
            OrderLineFactory(order=order(customer, f"2026-0{i + 1}-15", "10.00"), product=product)
    OrderLineFactory(order=order(c4, "2026-07-02", "10.00"), product=p3)  # after as-of
    OrderLineFactory(order=order(c5, "2026-03-01", "10.00"), product=None)  # free text line
    return (p1, p2, p3, p4), (c1, c2, c3, c4, c5)


def test_affinities_are_cosine_normalised_co_buyers(baskets):
    (p1, p2, p3, p4), _customers = baskets
    run = SegmentRun.objects.create(as_of=AS_OF, status="running")
    recommend.compute(run)
    got = {
        (a.product_id, a.related_id): (round(a.score, 4), a.customers)
        for a in ProductAffinity.objects.filter(run=run)
    }
    # buyers: P1 = 3 (C1 C2 C3), P2 = 3 (C1 C2 C4), P3 = 1 (C3; C4's is after as-of), P4 = 1.
    both_12, both_13 = 2 / math.sqrt(3 * 3), 1 / math.sqrt(3 * 1)
    assert got == {
        (p1.pk, p2.pk): (round(both_12, 4), 2),
        (p2.pk, p1.pk): (round(both_12, 4), 2),
        (p1.pk, p3.pk): (round(both_13, 4), 1),
        (p3.pk, p1.pk): (round(both_13, 4), 1),
    }


def test_customers_get_the_best_products_they_have_not_bought(baskets):
    (p1, p2, p3, p4), (c1, c2, c3, c4, c5) = baskets
    run = SegmentRun.objects.create(as_of=AS_OF, status="running")
    recommend.compute(run)
    got = {}
    for r in Recommendation.objects.filter(run=run).order_by("customer_id", "rank"):
        got.setdefault(r.customer_id, []).append((r.product_id, r.rank, round(r.score, 4)))
    assert got == {
        c1.pk: [(p3.pk, 1, round(1 / math.sqrt(3), 4))],  # via P1 (P2 has no link to P3)
        c2.pk: [(p3.pk, 1, round(1 / math.sqrt(3), 4))],
        c3.pk: [(p2.pk, 1, round(2 / 3, 4))],  # via P1
        c4.pk: [(p1.pk, 1, round(2 / 3, 4))],  # via P2
    }  # C5 bought only P4, which nobody else bought: nothing to recommend


def test_scores_add_up_and_ranks_order_them(db):
    """A customer who bought A and B is recommended C (linked to both) before D."""
    a, b, c, d = ProductFactory.create_batch(4)
    baskets = [[a, c], [b, c], [a, d], [a, b]]
    for products in baskets:
        customer = CustomerFactory()
        for product in products:
            OrderLineFactory(order=order(customer, "2026-02-01", "5.00"), product=product)
    run = SegmentRun.objects.create(as_of=AS_OF, status="running")
    recommend.compute(run)
    last = Recommendation.objects.filter(run=run).order_by("customer_id", "rank")
    ab_buyer = [r for r in last if r.customer.orders.count() == 2][-1]
    rows = list(Recommendation.objects.filter(run=run, customer=ab_buyer.customer))
    assert [r.product for r in rows] == [c, d] and [r.rank for r in rows] == [1, 2]
    # c: cos(a,c) + cos(b,c) = 1/sqrt(3*2) + 1/sqrt(2*2); d: cos(a,d) = 1/sqrt(3*1)
    assert rows[0].score == pytest.approx(1 / math.sqrt(6) + 1 / 2, abs=1e-6)
    assert rows[1].score == pytest.approx(1 / math.sqrt(3), abs=1e-6)


def test_the_selectors_read_the_current_run(baskets):
    (p1, p2, p3, _p4), (c1, *_rest) = baskets
    assert list(selectors.recommendations_for(c1)) == []
    run = run_compute_now(as_of=AS_OF)
    assert [r.product for r in selectors.recommendations_for(c1)] == [p3]
    assert [a.related for a in selectors.related_products(p1)] == [p2, p3]
    assert all(r.run == run for r in selectors.recommendations_for(c1))


def test_no_order_lines_means_no_recommendations(db):
    run = SegmentRun.objects.create(as_of=AS_OF, status="running")
    assert recommend.compute(run) == (0, 0)


def test_each_rows_best_are_picked_as_a_full_sort_would():
    """best_per_row (k passes of per-row maxima) against sorting each row in Python: the
    highest scores first, equal scores by the lower column, rows without entries left out."""
    rng = np.random.default_rng(18)
    dense = rng.integers(0, 4, size=(60, 12)).astype(np.float64)  # many ties
    dense[rng.random(dense.shape) < 0.5] = 0
    dense[7] = 0
    rows, cols, ranks, scores = recommend.best_per_row(sparse.csr_matrix(dense), 3)
    expected = [
        (row, col, rank, dense[row, col])
        for row in range(dense.shape[0])
        for rank, col in enumerate(
            sorted(np.flatnonzero(dense[row]), key=lambda c: (-dense[row, c], c))[:3], 1
        )
    ]
    assert list(zip(rows, cols, ranks, scores, strict=True)) == expected
