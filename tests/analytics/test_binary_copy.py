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
