"""Celery tasks of the sales app: interfaces only, the work is in services."""

from celery import shared_task


@shared_task(name="sales.tasks.sweep_order_imports")
def sweep_order_imports() -> int:
    """The beat's sweep: order files left waiting past CRM_IMPORT_KEEP_DAYS are emptied."""
    from sales.import_services import order_imports_purge_stale

    return order_imports_purge_stale()
