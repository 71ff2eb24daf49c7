"""The background jobs that other tests run inline, each once on a real Celery worker.

A worker process on Redis with the test database (the `celery_worker` fixture): the jobs
are queued the way the product queues them (an order import, a tier changed in admin, and
beat, which sends its entries' task names), and the test waits for their effects. Inline
runs cannot catch a task name beat sends but no worker registered, an argument that does
not survive JSON, or work that only happens in the caller's process.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analytics.models import CustomerValue, SegmentRun
from crm import roles
from crm.celery import app
from marketing.models import Campaign, CampaignRecipient, LoyaltyAccount, LoyaltyTier
from sales.models import Order
from tests.factories import (
    CampaignFactory,
    CampaignRecipientFactory,
    ConsentFactory,
    CustomerFactory,
    OrderFactory,
    UserFactory,
)
from tests.helpers import wait_for

# Every test here empties the tables: serialized_rollback restores the migrations' rows.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

R = CampaignRecipient.Status


def beat_sends(entry: str) -> None:
    """What beat does for an entry: send its task by name, with its arguments."""
    schedule = settings.CELERY_BEAT_SCHEDULE[entry]
    app.send_task(
        schedule["task"],
        args=schedule.get("args", ()),
        kwargs=schedule.get("kwargs", {}),
        queue=app.conf.task_default_queue,
    )


def logged_in(role: str, **extra) -> Client:
    client = Client()
    client.force_login(UserFactory.create(role=role, **extra))
    return client


def balance(customer) -> int | None:
    return (
        LoyaltyAccount.objects.filter(customer=customer).values_list("balance", flat=True).first()
    )


def tier(customer) -> str | None:
    return (
        LoyaltyAccount.objects.filter(customer=customer)
        .values_list("tier__name", flat=True)
        .first()
    )


def test_the_beat_entries_name_tasks_the_worker_registered(celery_worker):
    registered = app.control.inspect(timeout=5).registered() or {}
    (tasks,) = [names for name, names in registered.items() if name.startswith(celery_worker)]
    for entry, schedule in settings.CELERY_BEAT_SCHEDULE.items():
        assert schedule["task"] in tasks, entry


def test_the_nightly_segments_entry_runs_as_of_today_on_the_worker(celery_worker):
    buyers = CustomerFactory.create_batch(3)
    for days, buyer in enumerate(buyers):
        OrderFactory(customer=buyer, ordered_at=timezone.now() - timedelta(days=days))
    beat_sends("nightly-segments")

    def finished() -> bool:
        run = SegmentRun.objects.first()
        return run is not None and not run.is_active

    assert wait_for(finished), list(SegmentRun.objects.values("status", "step", "progress"))
    run = SegmentRun.objects.get()
    assert run.status == SegmentRun.Status.SUCCEEDED, run.error
    assert run.is_current and run.as_of == timezone.localdate()
    recency = dict(CustomerValue.objects.filter(run=run).values_list("customer_id", "recency_days"))
    assert recency == {buyer.pk: days for days, buyer in enumerate(buyers)}


def test_an_order_import_earns_points_and_converts_coupons_on_the_worker(celery_worker):
    buyer = CustomerFactory(external_id="EXT-1")
    recipient = CampaignRecipientFactory(customer=buyer, coupon_code="SPRING-ABC")
    manager = logged_in(roles.MANAGER, username="import-manager")
    csv = (
        "customer_external_id,ordered_at,total,order_number,coupon_code\n"
        "EXT-1,2026-01-05,100.00,IMP-1,spring-abc\n"
        "EXT-1,2026-01-06,1000.00,IMP-2,\n"
    )
    response = manager.post(
        reverse("sales:order-import"),
        {"file": SimpleUploadedFile("orders.csv", csv.encode(), "text/csv")},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    response = manager.post(response.url, {"action": "apply"})
    assert response.status_code == 302
    assert wait_for(lambda: Order.objects.count() == 2)

    assert wait_for(lambda: balance(buyer) == 1100), balance(buyer)
    recipient.refresh_from_db()
    assert recipient.conversion_order.number == "IMP-1"
    assert recipient.revenue == Decimal("100.00") and recipient.outcome == "converted"


def test_the_nightly_loyalty_entry_catches_up_on_the_worker(celery_worker):
    buyer = CustomerFactory()
    recipient = CampaignRecipientFactory(customer=buyer, coupon_code="MISSED-1")
    # Written without the signals: their points and coupon were missed.
    OrderFactory(customer=buyer, total=Decimal("300.00"), coupon_code="missed-1")
    OrderFactory(customer=buyer, total=Decimal("900.00"))
    assert balance(buyer) is None
    beat_sends("nightly-loyalty")

    assert wait_for(lambda: balance(buyer) == 1200), balance(buyer)
    assert wait_for(lambda: tier(buyer) == "Silver"), tier(buyer)
    recipient.refresh_from_db()
    assert recipient.revenue == Decimal("300.00")


def test_changing_a_tier_in_admin_re_tiers_every_account_on_the_worker(celery_worker):
    buyer = CustomerFactory()
    OrderFactory(customer=buyer, total=Decimal("1500.00"))
    beat_sends("nightly-loyalty")
    assert wait_for(lambda: tier(buyer) == "Silver"), tier(buyer)

    admin = Client()
    admin.force_login(UserFactory(username="tier-admin", is_staff=True, is_superuser=True))
    silver = LoyaltyTier.objects.get(name="Silver")
    data = {"name": "Silver", "rank": 2, "minimum_points": 2000, "minimum_spend": "2000.00"}
    response = admin.post(reverse("admin:marketing_loyaltytier_change", args=[silver.pk]), data)
    assert response.status_code == 302
    assert wait_for(lambda: tier(buyer) == "Bronze"), tier(buyer)


def test_the_sending_sweep_restarts_a_lost_campaign_on_the_worker(celery_worker):
    long_ago = timezone.now() - timedelta(hours=1)
    campaign = CampaignFactory(
        status=Campaign.Status.RUNNING, send_started_at=long_ago, send_not_before=long_ago
    )
    customers = CustomerFactory.create_batch(3)
    for customer in customers:
        ConsentFactory(customer=customer)
    # A worker claimed two rows and died; the third waits for a task that was lost.
    for customer in customers[:2]:
        CampaignRecipientFactory(
            campaign=campaign,
            customer=customer,
            status=R.SENDING,
            claimed_by="dead@host",
            claimed_at=long_ago,
        )
    CampaignRecipientFactory(campaign=campaign, customer=customers[2], status=R.QUEUED)

    def completed() -> bool:
        return Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT

    # Beat sends the sweep every minute; here every few seconds until the work is done.
    assert wait_for(completed, every=3, then=lambda: beat_sends("marketing-sweep-sending")), list(
        CampaignRecipient.objects.values_list("status", "claimed_by")
    )
    rows = CampaignRecipient.objects.filter(campaign=campaign)
    assert set(rows.values_list("status", flat=True)) == {R.SENT}
    assert all(
        claimed.startswith(celery_worker) for claimed in rows.values_list("claimed_by", flat=True)
    )
