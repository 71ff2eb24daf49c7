"""Celery tasks: an interface only; the work is in integrations.delivery_services."""

from celery import shared_task


@shared_task(name="integrations.tasks.deliver_webhooks")
def deliver_webhooks(ids: list[int] | None) -> dict:
    """Deliver these deliveries (all due ones for None), then what waited behind them."""
    from integrations import delivery_services

    return dict(delivery_services.deliveries_deliver_due(ids=ids))


@shared_task(name="integrations.tasks.sweep_webhooks")
def sweep_webhooks() -> dict:
    from integrations import delivery_services

    return delivery_services.deliveries_sweep()


@shared_task(name="integrations.tasks.poll_mailboxes")
def poll_mailboxes() -> dict:
    """Beat: one poll task per active mailbox (a slow server delays only its own), after
    the sweep of messages a killed worker left unprocessed."""
    from integrations.mail import polling

    swept = polling.inbound_sweep()
    ids = polling.active_mailbox_ids()
    for mailbox_id in ids:
        poll_mailbox.delay(mailbox_id)
    return {"mailboxes": len(ids), "swept": swept}


@shared_task(name="integrations.tasks.poll_mailbox")
def poll_mailbox(mailbox_id: int) -> dict:
    """Fetch one mailbox; its faults are recorded on it, not raised."""
    from integrations.mail import polling

    result = polling.mailbox_poll(mailbox_id=mailbox_id)
    return vars(result) if result else {}
