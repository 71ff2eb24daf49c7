"""Role access: marketers create, reps only read, agents see nothing, anonymous log in."""

import pytest
from django.urls import reverse

from marketing.consent import preferences_token, unsubscribe_token
from marketing.models import Campaign
from tests.factories import CampaignFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def urls(marketer):
    campaign = CampaignFactory(owner=marketer)
    customer = CustomerFactory()
    return {
        "list": ("get", reverse("marketing:campaign-list")),
        "detail": ("get", reverse("marketing:campaign-detail", args=[campaign.pk])),
        "audience": ("get", reverse("marketing:campaign-audience", args=[campaign.pk])),
        "create": ("get", reverse("marketing:campaign-create")),
        "update": ("get", reverse("marketing:campaign-update", args=[campaign.pk])),
        "preview": ("post", reverse("marketing:audience-preview")),
        "loyalty": ("get", reverse("marketing:customer-loyalty-panel", args=[customer.pk])),
        "loyalty-change": ("post", reverse("marketing:loyalty-change", args=[customer.pk])),
    }


def request(client, method, url):
    return getattr(client, method)(url, {"channel": "email"} if method == "post" else None)


def test_anonymous_is_sent_to_login_except_on_the_public_pages(client, urls):
    for name, (method, url) in urls.items():
        response = request(client, method, url)
        assert response.status_code == 302, name
        assert response.url.startswith(reverse("login")), name
    customer = CustomerFactory()
    token = unsubscribe_token(customer_id=customer.pk, channel="email")
    assert client.get(reverse("public-marketing:unsubscribe", args=[token])).status_code == 200
    token = preferences_token(customer_id=customer.pk)
    assert client.get(reverse("public-marketing:preferences", args=[token])).status_code == 200


@pytest.mark.parametrize("persona", ["agent_client", "nobody_client"])
def test_agents_and_users_without_a_role_get_403_everywhere(request, persona, urls):
    client = request.getfixturevalue(persona)
    for name, (method, url) in urls.items():
        assert request_status(client, method, url) == 403, name


def request_status(client, method, url):
    return request(client, method, url).status_code


def test_reps_only_read(rep_client, urls):
    allowed = {"list", "detail", "audience", "loyalty"}
    for name, (method, url) in urls.items():
        expected = 200 if name in allowed else 403
        assert request_status(rep_client, method, url) == expected, name
    response = rep_client.post(reverse("marketing:campaign-create"), {"name": "Sneaky"})
    assert response.status_code == 403
    assert not Campaign.objects.filter(name="Sneaky").exists()


def test_marketers_create_and_edit_their_own_but_not_others(marketer_client, marketer, urls):
    for name, (method, url) in urls.items():
        expected = 302 if name == "loyalty-change" else 200  # an invalid change goes back
        assert request_status(marketer_client, method, url) == expected, name
    others = CampaignFactory(name="Someone else's")
    url = reverse("marketing:campaign-update", args=[others.pk])
    assert marketer_client.get(url).status_code == 403
    assert marketer_client.post(url, {"name": "Taken"}).status_code == 403
    others.refresh_from_db()
    assert others.name == "Someone else's"
    # Reading it is fine; no edit button is offered.
    response = marketer_client.get(others.get_absolute_url())
    assert response.status_code == 200
    assert url.encode() not in response.content


def test_managers_edit_any_campaign(manager_client):
    campaign = CampaignFactory()
    url = reverse("marketing:campaign-update", args=[campaign.pk])
    assert manager_client.get(url).status_code == 200


def test_a_missing_campaign_is_404_for_readers(rep_client):
    url = reverse("marketing:campaign-detail", args=[999999])
    assert rep_client.get(url).status_code == 404
    assert rep_client.get(reverse("marketing:campaign-detail", args=[2**62])).status_code == 404
