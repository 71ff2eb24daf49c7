"""The personal calendar feed's secret: a version per user, signed into the feed's URL.

The URL carries a signed (user id, version); "Reset link" raises the version, so every
link made before stops working (404). Nothing secret is stored: the signature is the secret.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarFeed(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="calendar_feed",
        verbose_name=_("user"),
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    reset_at = models.DateTimeField(_("reset"), auto_now=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.user} v{self.version}"
