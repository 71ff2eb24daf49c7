"""Celery tasks: an interface only; the work is in service.services and service.escalation, imported in the body
(the one pattern of every app's tasks: services may queue tasks without a cycle)."""

from celery import shared_task


@shared_task(name="service.tasks.escalate_tickets")
def escalate_tickets() -> dict:
    from service import escalation

    return escalation.escalate_tickets()
