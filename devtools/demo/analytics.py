"""Demo analytics: two segment runs, 30 days apart, so the dashboards show segments and
their migration. Runs after the sales demo has made the orders."""

from datetime import date, timedelta

from analytics.services import run_compute_now


def seed_analytics(*, today: date) -> None:
    run_compute_now(as_of=today - timedelta(days=30))
    run_compute_now(as_of=today)
