"""A user's own details that Django's User lacks: language, phone and job title."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.lib.phones import phone_validator


class UserProfile(models.Model):
    """Created on demand: when the user first saves their profile or picks a language (a
    user without one has the defaults: the browser's language, no phone, no title)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="crm_profile",
        verbose_name=_("user"),
    )
    # Empty: the language the browser asks for (and the site's default in emails).
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True, validators=[phone_validator])
    job_title = models.CharField(_("job title"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("user profile")
        verbose_name_plural = _("user profiles")

    def __str__(self) -> str:
        return str(self.user)
