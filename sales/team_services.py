"""Writes behind the team view and the deal page's quick actions: quotas, a deal's next
step and activity logged from the deal."""

from datetime import date
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.lib.concurrency import NOT_A_USER_EDIT, lock_for_update, save_new_version
from customers.models import Contact, Interaction, Task
from customers.services import interaction_log, task_create
from sales.models import Deal, Quota


@transaction.atomic
def quotas_set(*, month: date, amounts: dict[User, Decimal | None], set_by: User) -> int:
    """Set each rep's quota for `month`; None removes it. Returns how many rows changed."""
    changed = 0
    existing = {q.owner_id: q for q in Quota.objects.select_for_update().filter(month=month)}
    for owner, amount in amounts.items():
        quota = existing.get(owner.pk)
        if amount is None:
            if quota is not None:
                quota.delete()
                changed += 1
            continue
        if quota is not None and quota.amount == amount:
            continue
        quota = quota or Quota(owner=owner, month=month)
        quota.amount, quota.updated_by, quota.updated_at = amount, set_by, timezone.now()
        quota.full_clean()
        quota.save()
        changed += 1
    return changed


@transaction.atomic
def deal_set_next_step(*, deal: Deal, title: str, due_date: date, set_by: User) -> Task:
    """A task for the deal's owner on the deal's customer, made the deal's next step."""
    task = task_create(
        customer=deal.customer, title=title, due_date=due_date, assignee=deal.owner,
        created_by=set_by,
    )  # fmt: skip
    locked = lock_for_update(
        deal, expected_version=NOT_A_USER_EDIT, conflict_message=_("The deal changed meanwhile.")
    )
    locked.next_step = task
    locked.last_activity_at = timezone.now()
    save_new_version(locked)
    deal.next_step, deal.version = task, locked.version
    deal.last_activity_at = locked.last_activity_at
    return task


@transaction.atomic
def deal_log_activity(
    *,
    deal: Deal,
    logged_by: User,
    channel: str,
    direction: str,
    summary: str,
    occurred_at=None,
    contact: Contact | None = None,
) -> Interaction:
    """An interaction with the deal's customer (through customers' service); the deal is no
    longer stale. The version is left alone: an edit open elsewhere stays valid."""
    interaction = interaction_log(
        customer=deal.customer, logged_by=logged_by, channel=channel, direction=direction,
        summary=summary, occurred_at=occurred_at, contact=contact,
    )  # fmt: skip
    now = timezone.now()
    Deal.objects.filter(pk=deal.pk).update(last_activity_at=now)
    deal.last_activity_at = now
    return interaction
