"""A real Celery worker killed (SIGKILL) in the middle of a webhook delivery: the event is
neither lost nor doubled. The receiver took it but the worker died before recording the
answer; beat's sweep releases the stale claim, a new worker delivers it again with the same
event id (which the receiver uses to ignore the repeat), and the delivery ends sent once.
Needs PostgreSQL and Redis (skips locally without them, fails in CI)."""

import time

import pytest

from customers.services import customer_create
from integrations.models import WebhookDelivery
from integrations.webhook_services import endpoint_create
from tests.factories import UserFactory
from tests.faults.conftest import STALE_SECONDS, SWEEP_SECONDS, kill, wait_for


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_delivery_neither_loses_nor_doubles_the_event(
    deployment, receiver, report_recovery
):
    deployment.env.update(
        CRM_WEBHOOKS_ALLOW_PRIVATE="1",
        CRM_WEBHOOK_CLAIM_SECONDS=str(STALE_SECONDS),
        CRM_WEBHOOK_TIMEOUT_SECONDS="30",  # the worker waits for the hanging receiver
    )
    endpoint = endpoint_create(
        owner=UserFactory(), name="Shop", url=receiver.url, events=["customer.created"]
    )
    receiver.secret = endpoint.secret
    receiver.hang_first = 20  # took the event, answers late: the worker is killed meanwhile
    worker = deployment.start_worker()
    deployment.start_beat()

    customer_create(data={"name": "Ada"})  # committed: the fan-out queued the delivery
    assert receiver.wait_for(1, seconds=30), "the worker never posted the event"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "sending"
    kill(worker)
    killed_at = time.monotonic()
    deployment.start_worker()  # the supervisor restarts it
    restarted = time.monotonic() - killed_at

    def delivered() -> bool:
        delivery.refresh_from_db()
        return delivery.status == "sent"

    assert wait_for(delivered, STALE_SECONDS + 10 * SWEEP_SECONDS) is not None, delivery.error
    ids = receiver.event_ids()
    assert len(ids) == 2 and len(set(ids)) == 1  # once more, with the same event id
    assert all(r.signature_valid for r in receiver.received)
    assert WebhookDelivery.objects.count() == 1 and delivery.attempts == 2
    report_recovery(
        "webhook delivery",
        time.monotonic() - killed_at,
        f"stale claim released, sent again; the new worker answered {restarted:.1f} s after "
        f"the kill (claims stale after {STALE_SECONDS} s, sweep every {SWEEP_SECONDS} s)",
    )
