"""Celery tasks: an interface only; the work is in marketing.services.

Services queue these on commit (crm.lib.tasks.queue_on_commit) and import this module at
the top; a task imports the services it calls inside its body, so the two never import
each other while loading. The names are the beat schedule's and the workers': keep them.
"""

from celery import shared_task


@shared_task(name="marketing.tasks.send_campaign", bind=True, ignore_result=True)
def send_campaign(self, campaign_id: int) -> None:
    """Deliver a running campaign's queued recipients; reschedules itself to keep the pace.

    Safe to run many copies at once (duplicate deliveries, two workers): rows are claimed.
    Inline (no broker) it sends everything at once and leaves retries to the sweep.
    """
    from marketing.services.sending import send_batches

    eager = bool(self.request.is_eager)
    wait = send_batches(
        campaign_id=campaign_id, worker=self.request.hostname or "inline", paced=not eager
    )
    if wait is not None and not eager:
        send_campaign.apply_async((campaign_id,), countdown=max(wait, 0.05))


@shared_task(name="marketing.tasks.sweep_sending", ignore_result=True)
def sweep_sending() -> dict:
    """Every minute (beat): re-queue rows of dead workers, restart campaigns whose task was
    lost, and complete campaigns with nothing left to send."""
    from marketing.services.sending import sending_sweep

    return sending_sweep()


@shared_task(name="marketing.tasks.send_scheduled", ignore_result=True)
def send_scheduled() -> dict:
    """Every CRM_SWEEP_SECONDS (beat): send the scheduled campaigns whose time has come;
    each is claimed under a row lock, so two beats or workers never send one twice."""
    from marketing.services.scheduling import send_due_campaigns

    return send_due_campaigns()


@shared_task(name="marketing.tasks.decide_subject_tests", ignore_result=True)
def decide_subject_tests() -> dict:
    """Every CRM_SWEEP_SECONDS (beat): pick the winners of subject-line tests whose wait is
    over and queue the rest of their audience; each test is decided under its row lock, so
    a second run, or a run after a killed one, sends the rest the winner exactly once."""
    from marketing.services.subject_tests import decide_due_subject_tests

    return decide_due_subject_tests()


@shared_task(name="marketing.tasks.refresh_loyalty_tiers", ignore_result=True)
def refresh_loyalty_tiers() -> int:
    """After admins change the tiers: every account's spend and tier."""
    from marketing.services.loyalty import loyalty_refresh

    return loyalty_refresh()


@shared_task(name="marketing.tasks.nightly_loyalty", ignore_result=True)
def nightly_loyalty() -> dict:
    """Nightly (beat): missed points and coupons of recent orders, then every tier."""
    from marketing.services.order_rewards import loyalty_catch_up

    return loyalty_catch_up()


@shared_task(name="marketing.tasks.imported_orders", ignore_result=True)
def imported_orders(first_id: int, last_id: int) -> dict:
    """What an order import means to marketing: points, coupon conversions, tiers."""
    from marketing.services.order_rewards import imported_orders_reward

    return imported_orders_reward(first_id=first_id, last_id=last_id)


@shared_task(name="marketing.tasks.converted_orders", ignore_result=True)
def converted_orders(changes: dict[str, str]) -> dict:
    """New exchange rates: the points of the orders they converted."""
    from marketing.services.order_rewards import converted_orders_reward

    return converted_orders_reward(changes=changes)


@shared_task(name="marketing.tasks.purge_lead_submissions", ignore_result=True)
def purge_lead_submissions() -> int:
    """Nightly (beat): delete lead form submissions whose confirmation link has expired."""
    from marketing.services.leads import lead_submissions_purge

    return lead_submissions_purge()
