"""Each domain event is recorded by its service in the change's transaction: one test per
event type that it is there after the change, and absent when the change rolls back."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from analytics.services import run_compute_now
from core.events import EVENT_TYPES, event_record, events_erase
from core.models import DomainEvent
from customers.erasure import customer_erase
from customers.services import consent_set, customer_create, customer_update, customers_merge
from sales.models import Stage
from sales.services import deal_lose, deal_move, deal_win, order_create
from service.services import (
    satisfaction_record,
    ticket_create,
    ticket_customer_reply,
    ticket_update,
)
from tests.analytics.test_runs import order
from tests.factories import CustomerFactory, DealFactory, UserFactory


class Rollback(Exception):
    pass


def _ticket(customer=None):
    return ticket_create(
        customer=customer or CustomerFactory(),
        subject="Printer jams",
        description="It jams.",
        channel="phone",
    )


def _resolved_ticket():
    ticket = _ticket()
    return ticket_update(
        ticket=ticket, user=UserFactory(), expected_version=ticket.version, status="resolved"
    )


def _next_stage(deal):
    return (
        Stage.objects.filter(pipeline=deal.pipeline, is_won=False, is_lost=False)
        .exclude(pk=deal.stage_id)
        .order_by("order")
        .first()
    )


# What makes each event happen, given objects made beforehand (outside the transaction).
SETUP: dict[str, Callable[[], Any]] = {
    "customer.created": lambda: None,
    "customer.updated": lambda: CustomerFactory(stage="lead"),
    "customer.merged": lambda: (CustomerFactory(), CustomerFactory(), UserFactory()),
    "customer.erased": lambda: (CustomerFactory(email="gone@example.com"), UserFactory()),
    "consent.changed": lambda: CustomerFactory(),
    "deal.stage_changed": lambda: DealFactory(),
    "deal.won": lambda: DealFactory(),
    "deal.lost": lambda: DealFactory(),
    "order.created": lambda: CustomerFactory(),
    "ticket.created": lambda: CustomerFactory(),
    "ticket.customer_replied": _ticket,
    "ticket.resolved": _ticket,
    "csat.received": _resolved_ticket,
    "segment_run.completed": lambda: order(CustomerFactory(), "2026-01-10", "10.00"),
}
ACT: dict[str, Callable[[Any], object]] = {
    "customer.created": lambda _: customer_create(data={"name": "Ada", "external_id": "S-1"}),
    "customer.updated": lambda c: customer_update(
        customer=c, expected_version=c.version, data={"stage": "customer", "name": c.name}
    ),
    "customer.merged": lambda a: customers_merge(kept=a[0], duplicate=a[1], merged_by=a[2]),
    "customer.erased": lambda a: customer_erase(customer=a[0], erased_by=a[1]),
    "consent.changed": lambda c: consent_set(
        customer=c, channel="email", granted=True, source="test"
    ),
    "deal.stage_changed": lambda d: deal_move(
        deal=d, stage=_next_stage(d), moved_by=d.owner, expected_version=d.version
    ),
    "deal.won": lambda d: deal_win(deal=d, won_by=d.owner, expected_version=d.version),
    "deal.lost": lambda d: deal_lose(
        deal=d, reason="Price", lost_by=d.owner, expected_version=d.version
    ),
    "order.created": lambda c: order_create(
        customer=c,
        ordered_at=timezone.now(),
        lines=[{"description": "Widget", "quantity": Decimal(1), "unit_price": Decimal(5)}],
    ),
    "ticket.created": lambda c: _ticket(c),
    "ticket.customer_replied": lambda t: ticket_customer_reply(ticket=t, body="Still jams"),
    "ticket.resolved": lambda t: ticket_update(
        ticket=t, user=UserFactory.create(), expected_version=t.version, status="resolved"
    ),
    "csat.received": lambda t: satisfaction_record(ticket=t, score=5, comment="Great"),
    "segment_run.completed": lambda _: run_compute_now(as_of=date(2026, 6, 30)),
}


def test_every_event_type_has_a_test():
    assert set(SETUP) == set(ACT) == set(EVENT_TYPES)


@pytest.mark.django_db
@pytest.mark.parametrize("event_type", list(EVENT_TYPES))
def test_the_service_records_the_event(event_type):
    made = SETUP[event_type]()
    ACT[event_type](made)
    event = DomainEvent.objects.filter(type=event_type).get()
    assert event.data["id"] == int(event.object_id)
    assert str(event.uuid) and event.occurred_at
    # No personal values: names, emails and texts stay in the CRM.
    text = str(event.data)
    for value in ("Ada", "gone@example.com", "Still jams", "Great", "Printer jams"):
        assert value not in text


@pytest.mark.django_db
@pytest.mark.parametrize("event_type", list(EVENT_TYPES))
def test_a_change_that_rolls_back_records_nothing(event_type):
    made = SETUP[event_type]()
    before = DomainEvent.objects.count()
    with pytest.raises(Rollback), transaction.atomic():
        ACT[event_type](made)
        assert DomainEvent.objects.filter(type=event_type).exists()
        raise Rollback
    assert DomainEvent.objects.count() == before


@pytest.mark.django_db
def test_an_update_that_changes_nothing_records_nothing():
    customer = CustomerFactory(stage="lead")
    customer_update(customer=customer, expected_version=customer.version, data={"stage": "lead"})
    assert not DomainEvent.objects.filter(type="customer.updated").exists()


@pytest.mark.django_db
def test_the_update_names_the_changed_fields():
    customer = CustomerFactory(stage="lead", name="Ada")
    customer_update(
        customer=customer,
        expected_version=customer.version,
        data={"stage": "customer", "name": "Ada B"},
    )
    event = DomainEvent.objects.get(type="customer.updated")
    assert event.data["changed"] == ["name", "stage"] and event.data["stage"] == "customer"


@pytest.mark.django_db
def test_winning_a_deal_records_the_stage_change_then_the_win_in_order():
    deal = DealFactory()
    deal_win(deal=deal, won_by=deal.owner, expected_version=deal.version)
    types = list(DomainEvent.objects.order_by("pk").values_list("type", flat=True))
    assert types == ["deal.stage_changed", "deal.won"]


@pytest.mark.django_db
def test_an_erasure_blanks_the_external_id_in_earlier_events():
    customer = customer_create(data={"name": "Ada", "external_id": "SHOP-77"})
    customer_erase(customer=customer, erased_by=UserFactory())
    assert "SHOP-77" not in str(list(DomainEvent.objects.values_list("data", flat=True)))
    assert events_erase(target=customer) == 0  # nothing left to blank


def test_an_unknown_event_type_is_refused():
    with pytest.raises(ValueError, match="unknown event type"):
        event_record(type="deal.exploded", target=UserFactory.build(pk=1))
