"""Celery tasks: an interface only; the work is in marketing.sending, .loyalty and .services."""

from datetime import timedelta

from celery import shared_task

from marketing.services import sending


@shared_task(name="marketing.tasks.send_campaign", bind=True, ignore_result=True)
def send_campaign(self, campaign_id: int) -> None:
    """Deliver a running campaign's queued recipients; reschedules itself to keep the pace.

    Safe to run many copies at once (duplicate deliveries, two workers): rows are claimed.
    Inline (no broker) it sends everything at once and leaves retries to the sweep.
    """
    eager = bool(self.request.is_eager)
    wait = sending.send_batches(
        campaign_id=campaign_id, worker=self.request.hostname or "inline", paced=not eager
    )
    if wait is not None and not eager:
        send_campaign.apply_async((campaign_id,), countdown=max(wait, 0.05))


@shared_task(name="marketing.tasks.sweep_sending", ignore_result=True)
def sweep_sending() -> dict:
    """Every minute (beat): re-queue rows of dead workers, restart campaigns whose task was
    lost, and complete campaigns with nothing left to send."""
    requeued = sending.requeue_stale()
    stalled = sending.stalled_campaigns()
    for campaign_id in stalled:
        send_campaign.delay(campaign_id)
    completed = sending.complete_finished()
    return {"requeued": requeued, "restarted": len(stalled), "completed": completed}


@shared_task(name="marketing.tasks.refresh_loyalty_tiers", ignore_result=True)
def refresh_loyalty_tiers() -> int:
    """After admins change the tiers: every account's spend and tier."""
    from marketing.services.loyalty import loyalty_refresh

    return loyalty_refresh()


CATCH_UP = timedelta(days=2)


@shared_task(name="marketing.tasks.nightly_loyalty", ignore_result=True)
def nightly_loyalty() -> dict:
    """Nightly (beat): catch up on the last two days' orders whose points or coupon were
    missed (a receiver that failed, an import whose task was never queued; both steps
    skip what was done), then re-tier everyone, as spend leaves the 12-month window."""
    from django.utils import timezone

    from marketing.services.campaigns import coupon_redeem_orders
    from marketing.services.loyalty import loyalty_earn_orders, loyalty_refresh
    from sales.models import Order

    recent = Order.objects.filter(created_at__gte=timezone.now() - CATCH_UP)
    return {
        "entries": loyalty_earn_orders(recent),
        "redemptions": coupon_redeem_orders(recent),
        "accounts": loyalty_refresh(),
    }


@shared_task(name="marketing.tasks.imported_orders", ignore_result=True)
def imported_orders(first_id: int, last_id: int) -> dict:
    """What an order import means to marketing: points, coupon conversions, tiers."""
    from marketing.services.campaigns import coupon_redeem_orders
    from marketing.services.loyalty import loyalty_earn_orders
    from sales.models import Order

    orders = Order.objects.filter(pk__gte=first_id, pk__lte=last_id)
    return {
        "entries": loyalty_earn_orders(orders),
        "redemptions": coupon_redeem_orders(orders),
    }
