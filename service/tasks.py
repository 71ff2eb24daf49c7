"""Celery tasks: an interface only; the work is in service.services."""

from celery import shared_task

from service import services


@shared_task(name="service.tasks.escalate_tickets")
def escalate_tickets() -> dict:
    return services.escalate_tickets()
