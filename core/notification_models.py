"""How each user wants to hear of each kind of notification (core.notifications)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
