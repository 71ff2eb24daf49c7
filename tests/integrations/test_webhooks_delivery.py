"""Webhook delivery against a real local HTTP receiver (tests/integrations/conftest.py):
signed bodies, retries until the receiver recovers, order per object, automatic disabling
with an email to the owner, and no request to private addresses unless allowed."""

import json
import time

import pytest

from core.models import DomainEvent, OutboxMessage
from customers.services import customer_create
from integrations.delivery_services import deliveries_deliver_due, deliveries_release_stale
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.webhook_services import delivery_redeliver, endpoint_create, endpoint_send_test
from sales.services import deal_win
from tests.factories import DealFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast_retries(settings):
    settings.CRM_WEBHOOK_RETRY_SECONDS = 1
    settings.CRM_WEBHOOK_RETRY_MAX_SECONDS = 1


def register(receiver, events=("customer.created",), owner=None) -> WebhookEndpoint:
    endpoint = endpoint_create(
        owner=owner or UserFactory.create(email="owner@example.com"),
        name="Shop",
        url=receiver.url,
        events=list(events),
    )
    receiver.secret = endpoint.secret
    return endpoint


def test_a_committed_event_is_posted_signed_with_its_id_type_time_and_data(
    receiver, django_capture_on_commit_callbacks
):
    register(receiver)
    with django_capture_on_commit_callbacks(execute=True):
        customer = customer_create(data={"name": "Ada", "external_id": "S-1"})
    event = DomainEvent.objects.get(type="customer.created")
    assert receiver.wait_for(1)
    got = receiver.received[0]
    assert got.signature_valid
    assert got.event_id == str(event.uuid)
    assert got.body == {
        "id": str(event.uuid),
        "type": "customer.created",
        "time": event.occurred_at.isoformat(),
        "data": {
            "id": customer.pk, "kind": "person", "stage": customer.stage, "source": customer.source,
            "owner_id": None, "external_id": "S-1",
        },
    }  # fmt: skip
    assert got.headers["X-CRM-Signature"].startswith("v1=")
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "sent" and delivery.response_code == 200
    assert delivery.duration_ms is not None and delivery.attempts == 1


def test_an_endpoint_not_subscribed_gets_nothing(receiver):
    register(receiver, events=["deal.won"])
    customer_create(data={"name": "Ada"})
    assert not WebhookDelivery.objects.exists()


def test_an_endpoint_answering_500_gets_the_event_once_it_recovers(receiver, fast_retries):
    register(receiver)
    receiver.answers = [500]
    customer_create(data={"name": "Ada"})
    assert deliveries_deliver_due()["retrying"] == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.response_code == 500
    assert delivery.error == "HTTP 500"
    assert deliveries_deliver_due()["sent"] == 0  # not due yet: it waits its backoff
    time.sleep(1.1)
    assert deliveries_deliver_due()["sent"] == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("sent", 2, 200)
    assert len(set(receiver.event_ids())) == 1 and len(receiver.received) == 2
    assert all(r.signature_valid for r in receiver.received)
    assert WebhookEndpoint.objects.get().consecutive_failures == 0


def test_an_objects_events_arrive_in_order_even_when_the_first_fails(receiver, fast_retries):
    register(receiver, events=["deal.stage_changed", "deal.won"])
    receiver.answers = [503]
    deal = DealFactory()
    deal_win(deal=deal, won_by=deal.owner, expected_version=deal.version)
    first, second = DomainEvent.objects.order_by("pk")
    deliveries_deliver_due()
    assert receiver.event_ids() == [str(first.uuid)]  # the second waits behind the first
    time.sleep(1.1)
    deliveries_deliver_due()
    assert receiver.event_ids() == [str(first.uuid), str(first.uuid), str(second.uuid)]
    assert [r.type for r in receiver.received[1:]] == ["deal.stage_changed", "deal.won"]


def test_a_redirect_is_a_failure_and_is_not_followed(receiver):
    register(receiver)
    receiver.answers = [302]
    customer_create(data={"name": "Ada"})
    deliveries_deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.response_code == 302
    assert "not followed" in delivery.error and len(receiver.received) == 1


def test_repeated_failures_disable_the_endpoint_and_email_its_owner(
    receiver, fast_retries, settings, manager_client
):
    settings.CRM_WEBHOOK_DISABLE_AFTER = 2
    endpoint = register(receiver)
    receiver.answers = [500, 500]
    customer_create(data={"name": "Ada"})
    deliveries_deliver_due()
    time.sleep(1.1)
    deliveries_deliver_due()
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert "2 failed deliveries in a row" in endpoint.disabled_reason
    email = OutboxMessage.objects.get(to=["owner@example.com"])
    assert "disabled" in email.subject and endpoint.url in email.text
    # Nothing goes to a disabled endpoint; enabling it again sends what waited.
    customer_create(data={"name": "Bo"})
    assert WebhookDelivery.objects.count() == 1  # no fan-out to a disabled endpoint
    time.sleep(1.1)
    assert deliveries_deliver_due()["sent"] == 0
    response = manager_client.post(f"/integrations/webhooks/{endpoint.pk}/enable/")
    assert response.status_code == 302
    deliveries_deliver_due()
    assert WebhookDelivery.objects.get().status == "sent"
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_failures == 0


def test_a_delivery_is_given_up_once_its_event_is_a_day_old(receiver, settings):
    settings.CRM_WEBHOOK_RETRY_HOURS = 1
    register(receiver)
    receiver.answers = [500]
    customer_create(data={"name": "Ada"})
    DomainEvent.objects.update(occurred_at=DomainEvent.objects.get().occurred_at.replace(year=2020))
    assert deliveries_deliver_due()["failed"] == 1
    assert WebhookDelivery.objects.get().status == "failed"


def test_redeliver_sends_the_same_event_again(receiver):
    endpoint = register(receiver)
    customer_create(data={"name": "Ada"})
    deliveries_deliver_due()
    delivery_redeliver(delivery=WebhookDelivery.objects.get())
    deliveries_deliver_due()
    assert len(receiver.received) == 2 and len(set(receiver.event_ids())) == 1
    endpoint_send_test(endpoint=endpoint)
    deliveries_deliver_due()
    assert receiver.received[-1].type == "webhook.test"
    assert receiver.received[-1].body["data"]["id"] == endpoint.pk


def test_a_stale_claim_is_released_and_counts_as_an_attempt(receiver, settings):
    register(receiver)
    customer_create(data={"name": "Ada"})
    WebhookDelivery.objects.update(status="sending", claimed_at="2020-01-01T00:00:00Z")
    assert deliveries_release_stale() == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook", "http://localhost:8000/", "http://[::1]/", "http://10.1.2.3/",
        "http://192.168.0.10/", "http://172.16.5.4/", "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/", "http://224.0.0.1/", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/",
        "http://100.64.0.1/", "http://240.0.0.1/", "http://[fc00::1]/", "http://[ff02::1]/",
        "http://[2002:7f00:1::]/", "http://[2002:a00:1::]/",  # 6to4 of 127.0.0.1, 10.0.0.1
        "ftp://example.com/", "file:///etc/passwd", "javascript:alert(1)", "http:///nohost",
    ],
)  # fmt: skip
def test_private_and_non_http_urls_are_refused(url, settings):
    settings.CRM_WEBHOOKS_ALLOW_PRIVATE = False
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        endpoint_create(owner=UserFactory(), name="x", url=url, events=["customer.created"])


def test_public_addresses_pass_the_check():
    from integrations.webhook_http import is_public

    assert is_public("93.184.216.34") and is_public("2606:2800:220:1:248:1893:25c8:1946")
    assert not is_public("::ffff:10.0.0.1")
    assert is_public("2002:5db8:d822::")  # 6to4 of the public 93.184.216.34
    assert not is_public("2001:0:4136:e378:8000:63bf:f5ff:fffe")  # Teredo, client 10.0.0.1


def test_the_address_is_checked_again_at_delivery(receiver, settings):
    """A host that resolved to a public address when saved and to a private one now (DNS
    rebinding, or the setting turned off) gets no request."""
    register(receiver)
    customer_create(data={"name": "Ada"})
    settings.CRM_WEBHOOKS_ALLOW_PRIVATE = False
    deliveries_deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and "private" in delivery.error
    assert receiver.received == []


def test_the_body_is_compact_json_with_sorted_keys(receiver):
    register(receiver)
    customer_create(data={"name": "Ada"})
    deliveries_deliver_due()
    raw = json.dumps(receiver.received[0].body, separators=(",", ":"), sort_keys=True)
    assert raw.startswith('{"data":')


def test_a_stale_claim_of_an_event_too_old_to_retry_is_failed(receiver, settings):
    register(receiver)
    customer_create(data={"name": "Ada"})
    DomainEvent.objects.update(occurred_at=DomainEvent.objects.get().occurred_at.replace(year=2020))
    WebhookDelivery.objects.update(status="sending", claimed_at="2020-01-01T00:00:00Z")
    assert deliveries_release_stale() == 1
    assert WebhookDelivery.objects.get().status == "failed"
