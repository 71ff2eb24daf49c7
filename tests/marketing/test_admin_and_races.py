"""Django admin for every marketing model; concurrent redemptions never overdraw."""

import threading

import pytest
from django.db import connection, connections
from django.urls import reverse

from marketing.models import LoyaltyAccount, LoyaltyEntry
from marketing.services.loyalty import loyalty_adjust, loyalty_redeem
from tests.conftest import missing_service
from tests.factories import CampaignRecipientFactory, CustomerFactory
from tests.helpers import run_in_threads

MODELS = [
    "campaign",
    "campaignrecipient",
    "loyaltyrule",
    "loyaltytier",
    "loyaltyaccount",
    "loyaltyentry",
]


@pytest.mark.django_db
def test_admin_pages_load_for_every_model(admin_client, admin_user):
    recipient = CampaignRecipientFactory(coupon_code="ABC")
    loyalty_adjust(customer=recipient.customer, points=5, reason="x", by=admin_user)
    for model in MODELS:
        changelist = admin_client.get(reverse(f"admin:marketing_{model}_changelist"), {"q": "a"})
        assert changelist.status_code == 200, model
    assert admin_client.get(reverse("admin:marketing_campaign_add")).status_code == 200
    # The ledger is written by the services only: no adding or deleting entries by hand.
    assert admin_client.get(reverse("admin:marketing_loyaltyentry_add")).status_code == 403
    entry = LoyaltyEntry.objects.get()
    assert (
        admin_client.get(
            reverse("admin:marketing_loyaltyentry_delete", args=[entry.pk])
        ).status_code
        == 403
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_redemptions_racing_cannot_overdraw_the_balance():
    if connection.vendor != "postgresql":
        missing_service("row locks need PostgreSQL (SQLite serialises whole transactions)")
    customer = CustomerFactory()
    loyalty_adjust(customer=customer, points=100, reason="Gift", by=None)
    barrier = threading.Barrier(2)
    outcomes = []

    def redeem():
        try:
            barrier.wait()
            loyalty_redeem(customer=customer, points=60, reason="Race", by=None)
            outcomes.append("ok")
        except Exception as error:  # noqa: BLE001 - the refusal is the expected outcome
            outcomes.append(type(error).__name__)
        finally:
            connections.close_all()

    run_in_threads(redeem, redeem, timeout=30)
    assert sorted(outcomes) == ["ValidationError", "ok"]
    assert LoyaltyAccount.objects.get(customer=customer).balance == 40
