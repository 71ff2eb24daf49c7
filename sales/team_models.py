"""A rep's monthly quota and the seller's company details printed on quotes.

Defined here (sales/models.py is full) and registered with the app from sales.models.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.file_types import SNIFF_BYTES, sniff_content_type
from crm.lib.money import MONEY

LOGO_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
LOGO_MAX_BYTES = 512 * 1024


def reporting_currency() -> str:
    return settings.CRM_CURRENCY


class Quota(models.Model):
    """What a rep should win in a month, in the reporting currency (set by managers)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rep"),
        on_delete=models.CASCADE,
        related_name="quotas",
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    amount = models.DecimalField(_("target"), **MONEY, validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(_("currency"), max_length=3, default=reporting_currency)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        ordering = ["month", "owner_id"]
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        constraints = [
            models.UniqueConstraint(fields=["owner", "month"], name="one_quota_per_rep_and_month")
        ]

    def __str__(self):
        return f"{self.owner} {self.month:%Y-%m}: {self.amount} {self.currency}"

    def clean(self):
        if self.month and self.month.day != 1:
            raise ValidationError({"month": _("A quota is for a whole month: use its first day.")})
        if self.currency != reporting_currency():
            raise ValidationError(
                {"currency": _("Quotas are in the reporting currency (%(currency)s).")
                 % {"currency": reporting_currency()}}
            )  # fmt: skip


def validate_logo(upload) -> None:
    """A logo is a PNG, JPEG, GIF or WebP image (by its bytes, not its name) up to 512 KB."""
    if upload.size > LOGO_MAX_BYTES:
        raise ValidationError(_("The logo may be at most 512 KB."))
    was_closed = upload.closed  # a stored logo: open it here, and close it again
    if was_closed:
        upload.open("rb")
    try:
        upload.seek(0)
        head = upload.read(SNIFF_BYTES)
        upload.seek(0)
    finally:
        if was_closed:
            upload.close()
    if sniff_content_type(head) not in LOGO_TYPES:
        raise ValidationError(_("Upload a PNG, JPEG, GIF or WebP image."))


class CompanyDetails(models.Model):
    """The seller printed on quotes: one record, edited in the admin."""

    name = models.CharField(_("company name"), max_length=200)
    address = models.TextField(_("address"), blank=True)
    tax_id = models.CharField(_("tax id"), max_length=50, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    logo = models.FileField(_("logo"), upload_to="company/", blank=True, validators=[validate_logo])

    class Meta:
        verbose_name = _("company details")
        verbose_name_plural = _("company details")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.pk = 1  # one record: saving another replaces it
        super().save(*args, **kwargs)

    @classmethod
    def current(cls) -> "CompanyDetails | None":
        return cls.objects.filter(pk=1).first()
