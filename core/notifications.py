"""In-app notifications: the one writer, `notify(...)`, and the reads the bell needs.

    notify(recipient=deal.owner, kind="deal_closed", text=..., url=deal.get_absolute_url(),
           actor=request.user, key=f"deal-closed:{deal.pk}")

Apps decide when to notify (in their services or receivers); `core` stores, counts and
marks read. A `key` makes a notification once-only (a task's reminder, one SLA warning).
"""

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from core.models import Notification

NOTIFICATION_KINDS = {
    "task_due": _("A task is due or overdue"),
    "assigned": _("A deal or customer was assigned to you"),
    "reply": _("A customer replied to your ticket or email"),
    "mention": _("You were mentioned in a note"),
    "deal_closed": _("A deal of yours was won or lost by someone else"),
    "sla_breach": _("A ticket's SLA is about to be breached"),
}


def notify(
    *,
    recipient: User,
    kind: str,
    text: str,
    url: str = "",
    actor: User | None = None,
    key: str = "",
) -> Notification | None:
    """Tell `recipient` (nobody is told of their own action); None when `key` was used."""
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    if actor is not None and actor.pk == recipient.pk:
        return None
    try:
        with transaction.atomic():
            return Notification.objects.create(
                recipient=recipient, kind=kind, text=text[:300], url=url, actor=actor, key=key
            )
    except IntegrityError:
        if not key:
            raise
        return None


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
