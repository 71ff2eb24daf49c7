"""The webhook pages: managers (and admins) only, every page refused to the other roles and
to anonymous visitors; the secret shown once; the delivery log with Redeliver."""

import pytest
from django.test import Client
from django.urls import reverse

from customers.services import customer_create
from integrations.delivery_services import deliveries_deliver_due
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.webhook_services import endpoint_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

GET_PAGES = ["webhook-list", "webhook-create", "webhook-detail", "webhook-update"]
POST_PAGES = ["webhook-rotate", "webhook-enable", "webhook-test", "webhook-delete"]


@pytest.fixture
def endpoint(receiver, manager):
    made = endpoint_create(
        owner=manager, name="Shop", url=receiver.url, events=["customer.created"]
    )
    receiver.secret = made.secret
    return made


def _url(name: str, endpoint: WebhookEndpoint) -> str:
    needs_pk = name not in ("webhook-list", "webhook-create")
    return reverse(f"integrations:{name}", args=[endpoint.pk] if needs_pk else [])


@pytest.mark.parametrize("name", GET_PAGES + POST_PAGES + ["webhook-redeliver"])
@pytest.mark.parametrize("who", ["rep", "agent", "marketer", "nobody"])
def test_other_roles_are_refused_every_page(request, name, who, endpoint):
    client = request.getfixturevalue(f"{who}_client")
    customer_create(data={"name": "Ada"})
    url = (
        reverse("integrations:webhook-redeliver", args=[WebhookDelivery.objects.get().pk])
        if name == "webhook-redeliver"
        else _url(name, endpoint)
    )
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk, secret=endpoint.secret).exists()


@pytest.mark.parametrize("name", GET_PAGES + POST_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(name, endpoint):
    response = Client().get(_url(name, endpoint))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("name", GET_PAGES)
def test_a_manager_and_an_admin_see_the_pages(name, endpoint, manager_client):
    assert manager_client.get(_url(name, endpoint)).status_code == 200
    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert admin.get(_url(name, endpoint)).status_code == 200


def test_the_navigation_links_to_webhooks_for_managers_only(manager_client, rep_client):
    link = reverse("integrations:webhook-list")
    assert link in manager_client.get("/").content.decode()
    assert link not in rep_client.get("/").content.decode()


def test_creating_an_endpoint_shows_its_secret_once(receiver, manager_client):
    response = manager_client.post(
        reverse("integrations:webhook-create"),
        {"name": "Shop", "url": receiver.url, "events": ["customer.created", "deal.won"]},
    )
    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302 and endpoint.events == ["customer.created", "deal.won"]
    first = manager_client.get(response["Location"]).content.decode()
    assert endpoint.secret in first
    assert endpoint.secret not in manager_client.get(response["Location"]).content.decode()


def test_a_private_url_is_refused_on_the_form(manager_client, settings):
    settings.CRM_WEBHOOKS_ALLOW_PRIVATE = False
    response = manager_client.post(
        reverse("integrations:webhook-create"),
        {"url": "http://127.0.0.1:9/", "events": ["customer.created"]},
    )
    assert response.status_code == 422 and not WebhookEndpoint.objects.exists()
    assert "private" in response.content.decode()


def test_rotating_shows_the_new_secret_once(endpoint, manager_client):
    old = endpoint.secret
    response = manager_client.post(_url("webhook-rotate", endpoint))
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.secret in manager_client.get(response["Location"]).content.decode()


def test_editing_changes_the_events(endpoint, receiver, manager_client):
    response = manager_client.post(
        _url("webhook-update", endpoint),
        {"name": "Shop 2", "url": receiver.url, "events": ["deal.won"]},
    )
    endpoint.refresh_from_db()
    assert response.status_code == 302 and endpoint.events == ["deal.won"]


def test_the_log_shows_deliveries_and_redeliver_sends_again(endpoint, receiver, manager_client):
    receiver.answers = [500]
    customer_create(data={"name": "Ada"})
    deliveries_deliver_due()
    page = manager_client.get(_url("webhook-detail", endpoint)).content.decode()
    assert "customer.created" in page and "HTTP 500" in page and "Redeliver" in page
    delivery = WebhookDelivery.objects.get()
    manager_client.post(reverse("integrations:webhook-redeliver", args=[delivery.pk]))
    endpoint.refresh_from_db()
    assert endpoint.paused_until is None
    deliveries_deliver_due()
    delivery.refresh_from_db()
    assert delivery.status == "sent" and len(receiver.received) == 2


def test_send_test_event_and_delete(endpoint, receiver, manager_client):
    manager_client.post(_url("webhook-test", endpoint))
    deliveries_deliver_due()
    assert receiver.received[-1].type == "webhook.test"
    detail = manager_client.get(_url("webhook-detail", endpoint)).content.decode()
    assert "data-confirm" in detail
    assert manager_client.post(_url("webhook-delete", endpoint)).status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_the_log_page_takes_hostile_page_numbers(endpoint, manager_client):
    for page in ("0", "-1", "99999999999999999999", "x\x00", "٣"):
        assert (
            manager_client.get(_url("webhook-detail", endpoint), {"page": page}).status_code == 200
        )
