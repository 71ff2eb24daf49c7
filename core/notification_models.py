"""Notifications (core.notifications) and how each user wants to hear of each kind."""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

TEXT_MAX = 300


class Notification(models.Model):
    """Something a user should know about, shown under the bell (core.notifications).
    Apps decide when to notify; core only stores, counts and marks read.

    The words are stored untranslated (`message`, an English msgid with %(name)s
    placeholders, and its `params`) and translated when read, in the reader's language:
    whoever caused it may speak another. `text` is the English rendering, kept for the
    admin and for rows written before `message` existed (they show it as it is)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="crm_notifications",
        verbose_name=_("recipient"),
    )
    # A code from core.notifications.NOTIFICATION_KINDS.
    kind = models.CharField(_("kind"), max_length=32)
    text = models.CharField(_("text"), max_length=TEXT_MAX)
    message = models.CharField(_("message"), max_length=300, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("by"),
    )
    # Notifying twice about one thing (a task's reminder, one SLA breach) is refused by key.
    key = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient"),
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key"],
                condition=~models.Q(key=""),
                name="notification_once_per_key",
            )
        ]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.text

    @property
    def display_text(self) -> str:
        """The words in the active language (an old row without `message`: its text)."""
        return render_message(self.message, self.params) or self.text


def render_message(message: str, params: Any) -> str:
    """`message` translated into the active language with `params` put in; empty when it
    cannot be (no message, or a catalogue's placeholders that do not match the params)."""
    if not message:
        return ""
    translated = gettext(message)
    if not isinstance(params, dict) or not params:
        return translated[:TEXT_MAX]
    try:
        return (translated % params)[:TEXT_MAX]
    except (KeyError, ValueError, TypeError):
        try:  # a bad translation: the English words are better than nothing
            return (message % params)[:TEXT_MAX]
        except (KeyError, ValueError, TypeError):
            return ""


class NotificationPreference(models.Model):
    """One row per user and kind that differs from the default (in-app only)."""

    class Delivery(models.TextChoices):
        IN_APP = "in_app", _("In the app only")
        EMAIL_NOW = "email_now", _("Also by email at once")
        DIGEST = "digest", _("Also in a daily email digest")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
        verbose_name=_("user"),
    )
    # A code from core.notifications.NOTIFICATION_KINDS.
    kind = models.CharField(_("kind"), max_length=32)
    delivery = models.CharField(
        _("delivery"), max_length=16, choices=Delivery.choices, default=Delivery.IN_APP
    )

    class Meta:
        ordering = ["user", "kind"]
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.kind}: {self.delivery}"
