"""The daily digest of notifications (core.tasks.send_notification_digests, once a day):
one email per user who chose the digest for some kind, through the outbox."""

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _g

from core.models import Notification, NotificationPreference
from core.notifications import notification_link
from core.profiles import email_language
from core.services import outbox_email_enqueue

Delivery = NotificationPreference.Delivery


def digest_send(*, now: datetime | None = None) -> int:
    """One email per user who chose the daily digest for some kind, listing that day's
    unread notifications of those kinds not emailed yet; returns how many emails."""
    now = now or timezone.now()
    since = now - timedelta(days=7)  # older unread ones are left to the bell
    by_user: dict[int, list[str]] = {}
    for user_id, kind in NotificationPreference.objects.filter(
        delivery=Delivery.DIGEST
    ).values_list("user_id", "kind"):
        by_user.setdefault(user_id, []).append(kind)
    sent = 0
    for user in User.objects.filter(pk__in=by_user, is_active=True).exclude(email=""):
        pending = Notification.objects.filter(
            recipient=user,
            kind__in=by_user[user.pk],
            read_at__isnull=True,
            emailed_at__isnull=True,
            created_at__gte=since,
            created_at__lte=now,
        ).order_by("created_at", "pk")
        if _email_digest(user, list(pending[:200]), now):
            sent += 1
    return sent


@transaction.atomic
def _email_digest(user: User, pending: list[Notification], now: datetime) -> bool:
    if not pending:
        return False
    with translation.override(email_language(user)):  # the recipient's, not the actors'
        subject = _g("Your CRM digest: %(count)d notifications") % {"count": len(pending)}
        lines = [
            f"- {n.display_text}" + (f"\n  {notification_link(n)}" if notification_link(n) else "")
            for n in pending
        ]
    message = EmailMessage(subject=subject, body="\n".join(lines), to=[user.email])
    outbox_email_enqueue(message=message)
    Notification.objects.filter(pk__in=[n.pk for n in pending]).update(emailed_at=now)
    return True
