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
