"""In-app notifications: the one writer, `notify(...)`, and the reads the bell needs.

    notify(recipient=deal.owner, kind="deal_closed",
           message=gettext_noop("%(user)s won your deal %(title)s"),
           params={"user": "rep2", "title": deal.title},
           url=deal.get_absolute_url(), actor=request.user, key=f"deal-closed:{deal.pk}")

The message is stored untranslated (gettext_noop marks it for the catalogues) with its
params, and translated when it is read: in the bell in the reader's active language, in
an email in the recipient's (their profile's) language, never in the actor's.

Apps decide when to notify (in their services or receivers); `core` stores, counts and
marks read. A `key` makes a notification once-only (a task's reminder, one SLA warning).
Each user chooses per kind whether a notification also comes by email at once or in the
daily digest (NotificationPreference); emails leave through the outbox, never from here.
"""

import re

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from core.models import Notification, NotificationPreference
from core.notification_models import TEXT_MAX, render_message
from core.profiles import email_language
from core.services import outbox_email_enqueue
from crm.lib.public_links import public_url

NOTIFICATION_KINDS = {
    "task_due": _("A task is due or overdue"),
    "assigned": _("A deal or customer was assigned to you"),
    "reply": _("A customer replied to your ticket or email"),
    "mention": _("You were mentioned in a note"),
    "deal_closed": _("A deal of yours was won or lost by someone else"),
    "sla_breach": _("A ticket's SLA is about to be breached"),
}

Delivery = NotificationPreference.Delivery

# "@rep2", "@hazel.watts": Django usernames (letters, digits and @ . + - _), not in an address.
MENTION = re.compile(r"(?<![\w@.+-])@([\w.+-]{1,150})")
MAX_MENTIONS = 20
PARAM_MAX = 200  # a customer's name or a deal's title: the text is cut at 300 anyway


def notify(
    *,
    recipient: User,
    kind: str,
    message: str,
    params: dict[str, str | int] | None = None,
    url: str = "",
    actor: User | None = None,
    key: str = "",
) -> Notification | None:
    """Tell `recipient` (nobody is told of their own action); None when `key` was used.
    `message` is an untranslated msgid (gettext_noop) with %(name)s placeholders."""
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    params = {name: _param(value) for name, value in (params or {}).items()}
    with translation.override(settings.LANGUAGE_CODE):
        text = render_message(message, params) or message[:TEXT_MAX]
    if actor is not None and actor.pk == recipient.pk:
        return None
    if not recipient.is_active:
        return None
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient,
                kind=kind,
                text=text,
                message=message[:TEXT_MAX],
                params=params,
                url=url,
                actor=actor,
                key=key,
            )
            if delivery_for(recipient, kind) == Delivery.EMAIL_NOW:
                _email_at_once(notification)
            return notification
    except IntegrityError:
        if not key:
            raise
        return None


def _param(value: str | int) -> str | int:
    """A number as it is; words cut, without NUL (PostgreSQL's jsonb refuses \\u0000)."""
    return value if isinstance(value, int) else str(value).replace("\x00", "")[:PARAM_MAX]


def delivery_for(user: User, kind: str) -> str:
    chosen = (
        NotificationPreference.objects.filter(user=user, kind=kind)
        .values_list("delivery", flat=True)
        .first()
    )
    return chosen or Delivery.IN_APP


def preferences_of(user: User) -> dict[str, str]:
    """Every kind with the user's choice (in-app only where they chose nothing)."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "delivery"))
    return {kind: chosen.get(kind, Delivery.IN_APP) for kind in NOTIFICATION_KINDS}


@transaction.atomic
def preferences_save(*, user: User, choices: dict[str, str]) -> None:
    for kind, delivery in choices.items():
        if kind not in NOTIFICATION_KINDS or delivery not in Delivery.values:
            raise ValueError(f"bad preference {kind!r}: {delivery!r}")
        NotificationPreference.objects.update_or_create(
            user=user, kind=kind, defaults={"delivery": delivery}
        )


def notification_link(notification: Notification) -> str:
    return public_url(notification.url) if notification.url.startswith("/") else ""


def _email_at_once(notification: Notification) -> None:
    recipient = notification.recipient
    if not recipient.email:
        return
    with translation.override(email_language(recipient)):
        text = notification.display_text
    body = text
    if link := notification_link(notification):
        body += "\n\n" + link
    subject = " ".join(text.split())[:150]  # a newline in a header: BadHeaderError
    message = EmailMessage(subject=subject, body=body, to=[recipient.email])
    outbox_email_enqueue(message=message, about=notification)
    notification.emailed_at = timezone.now()
    notification.save(update_fields=["emailed_at"])


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).select_related("actor")


def notification_mark_read(*, notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def mentioned_users(text: str, *, author: User | None) -> list[User]:
    """The active users named `@username` in `text`, less the author; unknown names are
    ignored (an email address is not a mention)."""
    names = {name.rstrip(".-") for name in MENTION.findall(text or "")}
    names.discard("")
    if not names:
        return []
    users = User.objects.filter(username__in=list(names)[:MAX_MENTIONS], is_active=True)
    if author is not None:
        users = users.exclude(pk=author.pk)
    return list(users.order_by("pk"))


def notify_mentions(
    *,
    text: str,
    author: User | None,
    message: str,
    params: dict[str, str | int],
    url: str,
    key: str,
) -> int:
    """Tell everyone `@mentioned` in `text` (a note at `url`); returns how many were told.
    `message` (untranslated) names the author as %(name)s and the note ("%(name)s
    mentioned you in a note on %(customer)s"); `key` makes it once per note."""
    told = 0
    # An author gone from the database is "?": the name is not translated at read time.
    name = author.get_username() if author else "?"
    for user in mentioned_users(text, author=author):
        if notify(
            recipient=user,
            kind="mention",
            message=message,
            params={**params, "name": name},
            url=url,
            actor=author,
            key=f"{key}:{user.pk}"[:100],
        ):
            told += 1
    return told
