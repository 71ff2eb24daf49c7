"""Celery tasks: an interface only; the work is in service.services, imported in the body
(the one pattern of every app's tasks: services may queue tasks without a cycle)."""

from celery import shared_task


@shared_task(name="service.tasks.escalate_tickets")
def escalate_tickets() -> dict:
    from service import services

    return services.escalate_tickets()
