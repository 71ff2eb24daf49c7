"""The subject-line A/B test of an email campaign (kept apart from models.py, which
re-exports it). The service is marketing.services.subject_tests."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from marketing.personalise import check_template


class SubjectTest(models.Model):
    """Send subject A and subject B to two halves of a sample of the audience, wait, then
    send the subject with the better open (or click) rate to everyone else."""

    class Metric(models.TextChoices):
        OPENS = "opens", _("Open rate")
        CLICKS = "clicks", _("Click rate")

    class Variant(models.TextChoices):
        A = "a", _("Subject A")
        B = "b", _("Subject B")

    class Reason(models.TextChoices):
        BETTER = "better", _("Higher rate")
        TIE = "tie", _("Same rate: subject A wins")
        NO_DATA = "no_data", _("Nothing measured yet: subject A wins")

    campaign = models.OneToOneField(
        "marketing.Campaign",
        verbose_name=_("campaign"),
        on_delete=models.CASCADE,
        related_name="subject_test",
    )
    subject_b = models.CharField(_("subject B"), max_length=200)
    sample_percent = models.PositiveSmallIntegerField(
        _("test sample (percent of the audience)"),
        default=20,
        validators=[MinValueValidator(2), MaxValueValidator(50)],
        help_text=_("Half of the sample gets subject A, half subject B; the rest the winner."),
    )
    metric = models.CharField(
        _("the winner has the better"), max_length=6, choices=Metric, default=Metric.OPENS
    )
    wait_hours = models.PositiveSmallIntegerField(
        _("wait before picking (hours)"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(168)],
    )
    winner = models.CharField(_("winner"), max_length=1, choices=Variant, blank=True)
    reason = models.CharField(_("why"), max_length=8, choices=Reason, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("subject-line test")
        verbose_name_plural = _("subject-line tests")
        indexes = [models.Index(fields=["winner"])]

    def __str__(self):
        return f"{self.campaign_id}: {self.subject_b}"

    def clean(self):
        super().clean()
        try:
            check_template(self.subject_b)
        except ValidationError as error:
            raise ValidationError({"subject_b": error.messages}) from error
