"""The run's rows written with PostgreSQL's binary COPY read back value for value."""

from datetime import date
from decimal import Decimal

import numpy as np

from analytics.models import CustomerValue, SegmentRun
from analytics.pipeline.copying import copy_columns
from tests.factories import CustomerFactory

AMOUNTS = [0, 0.01, 0.005, 12345.678, 99999999999999.99, 1234567.5]


def test_values_round_trip(postgres):
    run = SegmentRun.objects.create(as_of=date(2026, 6, 30), status="succeeded")
    customers = [CustomerFactory().pk for _ in AMOUNTS]
    n = len(AMOUNTS)
    segments = np.array(["champions", "lost", "at_risk", "new", "lost", "cannot_lose"])
    days = np.array(["1999-12-31", "2000-01-01", "2026-02-28", "2026-12-06", "1970-01-01",
                     "2040-06-30"], dtype="datetime64[D]")  # fmt: skip
    copy_columns(
        CustomerValue,
        {
            "run_id": np.full(n, run.pk),
            "customer_id": np.array(customers),
            "first_purchase": days,
            "last_purchase": days,
            "recency_days": np.arange(n) * 1000,
            "purchase_days": np.arange(n) + 1,
            "orders": np.arange(n) + 2,
            "revenue": np.array(AMOUNTS),
            "average_order_value": np.array(AMOUNTS) / 3,
            "r_score": np.arange(n) % 5 + 1,
            "f_score": np.full(n, 5),
            "m_score": np.full(n, 1),
            "segment": segments,
            "probability_alive": np.linspace(0, 1, n),
            "expected_purchases": np.array([0, 1e-6, 2.5, 1e6, 3.25, 0.123456]),
            "predicted_ltv": np.array(AMOUNTS[::-1]),
        },
    )
    rows = {v.customer_id: v for v in CustomerValue.objects.filter(run=run)}
    for i, customer in enumerate(customers):
        row = rows[customer]
        assert row.first_purchase == row.last_purchase == days[i].astype(date)
        assert (row.recency_days, row.purchase_days, row.orders) == (i * 1000, i + 1, i + 2)
        assert row.revenue == Decimal(f"{AMOUNTS[i]:.2f}")
        assert row.average_order_value == Decimal(f"{AMOUNTS[i] / 3:.2f}")
        assert row.predicted_ltv == Decimal(f"{AMOUNTS[::-1][i]:.2f}")
        assert (row.r_score, row.f_score, row.m_score) == (i % 5 + 1, 5, 1)
        assert row.segment == segments[i]
        assert row.probability_alive == np.linspace(0, 1, n)[i]


def test_rows_keep_their_order_with_segments_as_the_run_gives_them(postgres):
    """The run writes each chunk by customer id, so the table's unique (run, customer) index
    is built from presorted rows: the rows must not come out grouped by segment. The
    segments are Python strings in an object array, as analytics.rfm returns them."""
    from django.db import connection

    from analytics.pipeline import partitions

    run = SegmentRun.objects.create(as_of=date(2026, 6, 30), status="running")
    n = 1000
    segments = np.array(["lost", "champions", "at_risk"] * (n // 3) + ["new"], dtype=object)
    columns = {
        "run_id": np.full(n, run.pk),
        "customer_id": np.arange(1, n + 1),
        "first_purchase": np.full(n, "2026-01-01", dtype="datetime64[D]"),
        "last_purchase": np.full(n, "2026-02-01", dtype="datetime64[D]"),
        **{name: np.ones(n, dtype=int) for name in ("recency_days", "purchase_days", "orders")},
        **{name: np.ones(n) for name in ("revenue", "average_order_value", "predicted_ltv")},
        **{name: np.full(n, 3) for name in ("r_score", "f_score", "m_score")},
        "segment": segments,
        "probability_alive": np.full(n, 0.5),
        "expected_purchases": np.full(n, 2.0),
    }
    partitions.create(run.pk)
    try:
        copy_columns(CustomerValue, columns, table=partitions.table_of(run.pk))
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(partitions.table_of(run.pk))
            cursor.execute(f"SELECT customer_id, segment FROM {table}")  # noqa: S608
            stored = cursor.fetchall()
    finally:
        partitions.drop(run.pk)
    assert stored == list(zip(range(1, n + 1), segments.tolist(), strict=True))
