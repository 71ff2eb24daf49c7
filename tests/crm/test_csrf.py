"""Staff writes need the CSRF token: Django's test client skips the check unless asked, so
every other test would pass with the CSRF middleware removed. Here it is enforced: the
main write of each app is refused (403, nothing written) without the token and works with
the token taken from the form page, as a browser sends it."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from analytics.models import SegmentRun
from customers.models import Interaction
from marketing.models import Campaign
from sales.models import Deal, Quote
from service.models import Ticket
from tests.factories import CustomerFactory, DealFactory
from tests.sales.test_deals import deal_form_data
from tests.sales.test_quotes import form_line, post_data

pytestmark = pytest.mark.django_db


@dataclass
class Write:
    url: Callable[[], str]
    data: Callable[[User], dict]
    written: Callable[[], int]
    htmx: bool = False


WRITES = {
    "customers: log an interaction": Write(
        url=lambda: reverse("customers:interaction-create", args=[CustomerFactory.create().pk]),
        data=lambda user: {
            "channel": "phone",
            "direction": "out",
            "occurred_at": "2026-01-05T09:30",
            "summary": "Discussed prices",
        },
        written=Interaction.objects.count,
        htmx=True,
    ),
    "sales: create a deal": Write(
        url=lambda: reverse("sales:deal-create") + f"?customer={CustomerFactory.create().pk}",
        data=lambda user: deal_form_data(owner=str(user.pk)),
        written=Deal.objects.count,
    ),
    "sales: build a quote": Write(
        url=lambda: reverse("sales:quote-create", args=[DealFactory.create().pk]),
        data=lambda user: post_data([form_line()]),
        written=Quote.objects.count,
    ),
    "service: open a ticket": Write(
        url=lambda: reverse("service:ticket-create") + f"?customer={CustomerFactory.create().pk}",
        data=lambda user: {
            "subject": "Printer on fire",
            "description": "It smokes.",
            "channel": "phone",
            "category": "question",
            "priority": "normal",
        },
        written=Ticket.objects.count,
    ),
    "analytics: recompute the segments": Write(
        url=lambda: reverse("analytics:recompute"),
        data=lambda user: {},
        written=SegmentRun.objects.count,
        htmx=True,
    ),
    "marketing: create a campaign": Write(
        url=lambda: reverse("marketing:campaign-create"),
        data=lambda user: {
            "name": "Spring sale",
            "channel": "email",
            "status": "draft",
            "owner": user.pk,
            "budget": "0",
            "actual_cost": "0",
            "attribution_days": "30",
            "subject": "Hello {{ first_name }}",
            "body": "Spring is here.",
        },
        written=Campaign.objects.count,
    ),
}


@pytest.fixture
def strict_client(manager) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    return client


def csrf_token(client: Client) -> str:
    """The token a browser would send: from the cookie the pages set."""
    assert client.get(reverse("home")).status_code == 200
    return client.cookies["csrftoken"].value


@pytest.mark.parametrize("name", WRITES)
def test_a_staff_write_without_the_csrf_token_is_refused(name, strict_client, manager):
    write = WRITES[name]
    url, data = write.url(), write.data(manager)
    before = write.written()
    headers = {"HX-Request": "true"} if write.htmx else {}
    response = strict_client.post(url, data, headers=headers)
    assert response.status_code == 403, name
    assert write.written() == before, name

    data["csrfmiddlewaretoken"] = csrf_token(strict_client)
    response = strict_client.post(url, data, headers=headers)
    assert response.status_code in ((200,) if write.htmx else (302,)), (
        name,
        response.status_code,
    )
    assert write.written() == before + 1, name


def test_a_forged_token_is_refused_too(strict_client, manager):
    csrf_token(strict_client)
    response = strict_client.post(
        reverse("marketing:campaign-create"),
        {**WRITES["marketing: create a campaign"].data(manager), "csrfmiddlewaretoken": "x" * 64},
    )
    assert response.status_code == 403
    assert not Campaign.objects.exists()
