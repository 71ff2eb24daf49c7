"""An uploaded order CSV between its preview and its import (sales.import_services)."""

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OrderImport(models.Model):
    """An uploaded order CSV, kept between its preview and its import (files up to
    settings.CRM_IMPORT_MAX_BYTES; bigger ones go through `manage.py import_orders`)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        APPLIED = "applied", _("Imported")
        CANCELLED = "cancelled", _("Cancelled")

    # The status badge's colours ({{ upload|status_badge }}).
    STATUS_BADGES: ClassVar[dict[str, str]] = {
        Status.APPLIED: "text-bg-success",
        Status.PENDING: "text-bg-warning",
        Status.CANCELLED: "text-bg-secondary",
    }

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.CASCADE,
        related_name="order_imports",
    )
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now, editable=False)
    file_name = models.CharField(_("file name"), max_length=255)
    text = models.TextField(_("file contents"), help_text=_("The file decoded as UTF-8."))
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    created_count = models.PositiveIntegerField(_("orders created"), default=0)
    existing_count = models.PositiveIntegerField(_("already present"), default=0)
    customers_created_count = models.PositiveIntegerField(_("customers created"), default=0)
    applied_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("order import")
        verbose_name_plural = _("order imports")
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self):
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"

    def get_absolute_url(self):
        return reverse("sales:order-import-preview", args=[self.pk])
