"""An uploaded customer CSV between its upload and its import (customers.import_services)."""

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CustomerImport(models.Model):
    """An uploaded customer CSV, kept between its preview and its import."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        QUEUED = "queued", _("Importing")
        APPLIED = "applied", _("Imported")
        FAILED = "failed", _("Not imported: rows have errors")
        CANCELLED = "cancelled", _("Cancelled")
        # Held for the column-mapping step (one per user, for an hour): in the database, so
        # every worker process sees it (a per-process or failing cache lost it).
        MAPPING = "mapping", _("Waiting for its columns")

    # The status badge's colours ({{ customer_import|status_badge }}).
    STATUS_BADGES: ClassVar[dict[str, str]] = {
        Status.APPLIED: "text-bg-success",
        Status.FAILED: "text-bg-danger",
        Status.PENDING: "text-bg-warning",
        Status.QUEUED: "text-bg-secondary",
        Status.CANCELLED: "text-bg-secondary",
        Status.MAPPING: "text-bg-secondary",
    }

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", _("Only if every row is valid")
        VALID_ONLY = "valid_only", _("Import the valid rows, skip the others")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.CASCADE,
        related_name="customer_imports",
    )
    created_at = models.DateTimeField(_("uploaded"), default=timezone.now, editable=False)
    file_name = models.CharField(_("file name"), max_length=255)
    text = models.TextField(_("file contents"), help_text=_("The file decoded as UTF-8."))
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    mode = models.CharField(_("mode"), max_length=15, choices=Mode, blank=True)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    failed_count = models.PositiveIntegerField(_("failed"), default=0)
    row_errors = models.JSONField(
        _("row errors"),
        default=list,
        blank=True,
        help_text=_("The rows the last attempt did not import: line and errors per column."),
    )
    applied_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    error = models.TextField(
        _("error"), blank=True, help_text=_("Why the background import stopped.")
    )
    # When the background job was queued: the import sweep publishes it again when it has
    # not started a few minutes later (the broker was down).
    queued_at = models.DateTimeField(_("queued"), null=True, blank=True, editable=False)
    # The language of the user who started it: the background job writes its row errors in
    # it (a worker has no request, so they were English on a Chinese page).
    language = models.CharField(max_length=10, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("customer import")
        verbose_name_plural = _("customer imports")
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self):
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"

    def get_absolute_url(self):
        return reverse("customers:customer-import-preview", args=[self.pk])

    @property
    def is_open(self) -> bool:
        """May still be imported (a failed all-or-nothing attempt wrote nothing)."""
        return self.status in (self.Status.PENDING, self.Status.FAILED)
