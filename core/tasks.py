"""Celery tasks: an interface only; the work is in core.services, imported in the body."""

from celery import shared_task


@shared_task(name="core.tasks.deliver_outbox_message")
def deliver_outbox_message(pk: int) -> dict:
    from core import services

    return services.outbox_deliver_due(ids=[pk])


@shared_task(name="core.tasks.sweep_outbox")
def sweep_outbox() -> dict:
    from core import services

    return services.outbox_sweep()


@shared_task(name="core.tasks.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    from core import idempotency

    return idempotency.idempotency_keys_purge()


@shared_task(name="core.tasks.build_export_file")
def build_export_file(pk: int) -> str:
    from core import export_services

    return export_services.export_file_build(pk)


@shared_task(name="core.tasks.sweep_export_files")
def sweep_export_files() -> dict:
    from core import export_services

    return export_services.export_files_sweep()


@shared_task(name="core.tasks.send_notification_digests")
def send_notification_digests() -> int:
    from core import notification_services

    return notification_services.digest_send()
