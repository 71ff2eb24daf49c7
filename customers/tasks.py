"""Celery tasks of the customers app: interfaces only, the work is in services."""

import logging

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext as _

from customers.models import CustomerImport

logger = logging.getLogger(__name__)


# acks_late + reject_on_worker_lost: a worker killed mid-import hands the job to another.
# That is safe: the import runs in one transaction (a killed worker wrote nothing) and
# applying a file again matches the customers it created.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def import_customers(import_id: int, user_id: int, mode: str) -> str:
    customer_import = CustomerImport.objects.get(pk=import_id)
    user = get_user_model().objects.get(pk=user_id)
    with translation.override(customer_import.language or settings.LANGUAGE_CODE):
        return _import_customers(customer_import, user, mode)


def _import_customers(customer_import: CustomerImport, user, mode: str) -> str:
    # Services queue this task (customers.import_services imports this module): import
    # them here, so the two modules never import each other while loading.
    from customers.import_services import (
        ImportClosedError,
        customer_import_apply,
        customer_import_stop,
    )

    import_id = customer_import.pk
    try:
        result = customer_import_apply(customer_import=customer_import, user=user, mode=mode)
    except ImportClosedError:  # a second message (the import sweep's) for a finished import
        logger.info("customer import %s was imported already", import_id)
        return customer_import.status
    except Exception:
        logger.exception("customer import %s failed", import_id)
        customer_import_stop(
            customer_import=customer_import,
            error=_(
                "The import stopped because of an unexpected error; nothing was written. Try again, or tell an administrator."
            ),
        )
        return "stopped"
    return result.customer_import.status


@shared_task(name="customers.tasks.sweep_imports")
def sweep_imports() -> int:
    """The beat's sweep: queued imports whose message was lost are published again, and
    files left waiting past CRM_IMPORT_KEEP_DAYS are emptied."""
    from customers.import_services import (
        customer_imports_purge_stale,
        customer_imports_requeue_stalled,
    )

    return customer_imports_requeue_stalled() + customer_imports_purge_stale()


@shared_task(name="customers.tasks.send_task_reminders")
def send_task_reminders() -> int:
    from customers import reminders

    # Reminders whose time has come, then tasks without a reminder that fell due.
    return reminders.task_reminders_send() + reminders.task_due_notices_send()


@shared_task(name="customers.tasks.refresh_duplicates")
def refresh_duplicates() -> int:
    """Find the possible duplicate customers again (beat, an import, “Refresh now”)."""
    from customers.duplicate_refresh import duplicates_refresh

    return duplicates_refresh()
