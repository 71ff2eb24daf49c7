"""Orders the segment run cannot convert to the reporting currency (no exchange rate for
their day) are left out of revenue, RFM and value, and the run says how much was left
out, per currency, so the segments and value dashboards flag it instead of silently
counting those orders as nothing."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from analytics.services import run_compute_now
from core.models import ExchangeRate
from tests.factories import CustomerFactory, OrderFactory

AS_OF = date(2026, 6, 30)


@pytest.fixture(autouse=True)
def usd_reporting(settings):
    settings.CRM_CURRENCY = "USD"
    cache.clear()


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00").replace(tzinfo=UTC)


@pytest.fixture
def mixed_orders(db):
    """EUR has a rate from March on; CHF has none; one CHF order comes after the run's day."""
    ExchangeRate.objects.create(currency="EUR", day=date(2026, 3, 1), rate=Decimal("1.10"))
    ada, bob = CustomerFactory(name="Ada"), CustomerFactory(name="Bob")
    OrderFactory(customer=ada, total=Decimal("100.00"), currency="USD", ordered_at=at("2026-05-01"))
    OrderFactory(customer=ada, total=Decimal("50.00"), currency="EUR", ordered_at=at("2026-04-01"))
    OrderFactory(customer=ada, total=Decimal("40.00"), currency="EUR", ordered_at=at("2026-02-01"))
    OrderFactory(customer=bob, total=Decimal("70.00"), currency="CHF", ordered_at=at("2026-05-02"))
    OrderFactory(customer=bob, total=Decimal("5.00"), currency="CHF", ordered_at=at("2026-06-01"))
    OrderFactory(customer=bob, total=Decimal("9.00"), currency="CHF", ordered_at=at("2026-07-09"))


def test_the_run_records_what_it_could_not_convert_per_currency(mixed_orders):
    run = run_compute_now(as_of=AS_OF)
    assert run.status == "succeeded"
    # The EUR order before the first EUR rate and the CHF orders up to the run's day.
    assert run.unconverted == {"CHF": "75.00", "EUR": "40.00"}


def test_a_run_with_every_order_converted_records_nothing(db):
    OrderFactory(total=Decimal("10.00"), currency="USD", ordered_at=at("2026-05-01"))
    assert run_compute_now(as_of=AS_OF).unconverted == {}


@pytest.mark.parametrize("page", ["analytics:segments", "analytics:value"])
def test_the_dashboards_flag_the_amounts_left_out(mixed_orders, manager_client, page):
    run_compute_now(as_of=AS_OF)
    response = manager_client.get(reverse(page))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="run-unconverted"' in html
    assert "75\u00a0CHF has no exchange rate and is not included" in html
    assert "40\u00a0EUR has no exchange rate and is not included" in html
