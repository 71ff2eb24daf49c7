"""Tasks that belong to no app."""

from celery import shared_task

from crm.lib.readiness import record_beat_tick


@shared_task
def beat_tick() -> None:
    """Beat queues this every minute; `/readyz` fails when the last tick is too old."""
    record_beat_tick()
