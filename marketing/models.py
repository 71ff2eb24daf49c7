"""Campaigns to an audience on a channel, their recipients, and the loyalty programme.

The audience is a JSON rule validated by marketing.audience_rule.AudienceRule (one place knows
its keys, the form, the query and the model's clean() all use it): a rule is read as a
whole, never queried by its parts, and adding a criterion needs no schema change.
Consent lives in customers.Consent (one row per customer and channel, with history).
"""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.lib.choice_labels import ChoiceLabels
from crm.lib.money import MONEY
from marketing.audience_rule import AudienceRule
from marketing.lead_form_link import LEAD_CONFIRM_MAX_AGE, lead_form_token
from marketing.lead_questions import clean_questions
from marketing.loyalty_models import LoyaltyAccount as LoyaltyAccount
from marketing.loyalty_models import LoyaltyEntry as LoyaltyEntry
from marketing.loyalty_models import LoyaltyRule as LoyaltyRule
from marketing.loyalty_models import LoyaltyTier as LoyaltyTier
from marketing.personalise import check_template
from marketing.subject_test_models import SubjectTest as SubjectTest

NON_NEGATIVE = [MinValueValidator(Decimal("0"))]


class CampaignChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone call list")
    MAIL = "mail", _("Direct mail")
    SOCIAL = "social", _("Social")


class Campaign(ChoiceLabels, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        RUNNING = "running", _("Sending")
        # Every message is out; the campaign still runs (its lead form takes leads) until
        # its end date, when the sweep completes it (marketing.services.sending).
        SENT = "sent", _("Sent")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    # Statuses in which the audience and the message may still change.
    EDITABLE_STATUSES = (Status.DRAFT, Status.SCHEDULED)
    # Statuses whose lead form takes no leads, whatever the schedule says.
    FORM_CLOSED_STATUSES = (Status.CANCELLED, Status.COMPLETED)

    name = models.CharField(_("name"), max_length=200)
    objective = models.TextField(_("objective"), max_length=2000, blank=True)
    channel = models.CharField(
        _("channel"), max_length=10, choices=CampaignChannel, default=CampaignChannel.EMAIL
    )
    audience = models.JSONField(_("audience"), default=dict, blank=True)
    budget = models.DecimalField(_("budget"), **MONEY, default=0, validators=NON_NEGATIVE)
    actual_cost = models.DecimalField(_("actual cost"), **MONEY, default=0, validators=NON_NEGATIVE)
    starts_on = models.DateField(_("starts"), null=True, blank=True)
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.DRAFT)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="campaigns",
    )
    subject = models.CharField(_("email subject"), max_length=200, blank=True)
    form_title = models.CharField(
        _("lead form title"),
        max_length=200,
        blank=True,
        help_text=_("What visitors of the lead form see; the campaign's name stays internal."),
    )
    # Extra questions of the lead form: a short list of labels (marketing.lead_questions).
    form_questions = models.JSONField(_("lead form questions"), default=list, blank=True)
    body = models.TextField(_("message"), max_length=50000, blank=True)
    offer = models.CharField(
        _("offer"),
        max_length=300,
        blank=True,
        help_text=_("What the coupon gives, for example ten percent off."),
    )
    coupon_prefix = models.CharField(
        _("coupon code prefix"),
        max_length=10,
        blank=True,
        help_text=_("Letters and digits put before each recipient's code; empty for no coupons."),
    )
    attribution_days = models.PositiveSmallIntegerField(
        _("attribution window (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    # Sending (marketing.services.sending): the pace, and the next moment a batch may start, which
    # every worker reads and advances under a row lock so the rate holds across workers.
    send_rate = models.PositiveIntegerField(
        _("messages per minute"),
        default=600,
        validators=[MinValueValidator(1), MaxValueValidator(1_000_000)],
    )
    send_not_before = models.DateTimeField(null=True, blank=True, editable=False)
    # A scheduled campaign is sent by the beat's sweep once this moment has come
    # (marketing.services.scheduling); empty: sent by hand with "Send now".
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    send_started_at = models.DateTimeField(_("sending started"), null=True, blank=True)
    send_finished_at = models.DateTimeField(_("sending finished"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        indexes = [
            models.Index(fields=["-created_at", "-id"]),
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["owner", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(budget__gte=0) & models.Q(actual_cost__gte=0),
                name="campaign_money_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(starts_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="campaign_ends_after_start",
            ),
        ]
        permissions = [
            ("change_any_campaign", _("Can change campaigns owned by others")),
            ("send_campaign", _("Can send campaigns")),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("marketing:campaign-detail", args=[self.pk])

    def clean(self):
        errors = {}
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            errors["ends_on"] = _("The campaign cannot end before it starts.")
        if self.coupon_prefix and not (
            self.coupon_prefix.isascii() and self.coupon_prefix.isalnum()
        ):
            errors["coupon_prefix"] = _("Use only letters and digits.")
        try:
            self.audience = AudienceRule.from_dict(self.audience).to_dict()
        except ValidationError as error:
            errors["audience"] = error.messages
        errors.update(_template_errors(self))
        try:
            self.form_questions = clean_questions(self.form_questions)
        except ValidationError as error:
            errors["form_questions"] = error.messages
        if errors:
            raise ValidationError(errors)
        self.coupon_prefix = self.coupon_prefix.upper()

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE_STATUSES

    def lead_form_open(self, today: date) -> bool:
        """The lead form takes leads as long as the schedule says: from creation until the
        end date (inclusive), unless the campaign was cancelled or completed."""
        if self.status in self.FORM_CLOSED_STATUSES:
            return False
        return self.ends_on is None or today <= self.ends_on

    @property
    def public_title(self) -> str:
        """The lead form's heading: never the internal name when a title is given."""
        return self.form_title or self.name

    @property
    def lead_form_token(self) -> str:
        """The signed id in the public lead form's URL (marketing.lead_form_link)."""
        return lead_form_token(self)


def _template_errors(campaign: Campaign) -> dict:
    """The subject and message must be valid personalisation templates (marketing.personalise)."""
    errors = {}
    for key in ("subject", "body"):
        try:
            check_template(getattr(campaign, key))
        except ValidationError as error:
            errors[key] = error.messages
    return errors


class BounceKind(models.TextChoices):
    HARD = "hard", _("Hard (the address does not exist)")
    SOFT = "soft", _("Soft (temporary)")


class CampaignRecipient(models.Model):
    """One customer in a campaign: delivery, coupon and outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        # Accepted by the receiving server. The report's "Sent" counts these and the
        # bounced ones (both went out), its "Delivered" only these: one name, one number.
        SENT = "sent", _("Delivered")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")
        # In a subject-line test, the rest of the audience until the winner is picked.
        HELD = "held", _("Waiting for the winning subject")

    class Outcome(models.TextChoices):
        NONE = "", _("No response yet")
        RESPONDED = "responded", _("Responded")
        INTERESTED = "interested", _("Interested")
        DECLINED = "declined", _("Declined")
        UNREACHABLE = "unreachable", _("Unreachable")
        CONVERTED = "converted", _("Converted")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="campaign_recipients"
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.QUEUED)
    failure_reason = models.CharField(_("reason"), max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    coupon_code = models.CharField(_("coupon code"), max_length=50, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome, blank=True)
    outcome_note = models.CharField(_("note"), max_length=500, blank=True)
    responded_at = models.DateTimeField(_("responded"), null=True, blank=True)
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    conversion_order = models.ForeignKey(
        "sales.Order",
        verbose_name=_("converting order"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revenue = models.DecimalField(_("revenue"), **MONEY, default=0, validators=NON_NEGATIVE)
    # The analytics segment the customer was in when the audience was frozen ("" for none).
    segment = models.CharField(_("segment at send time"), max_length=30, blank=True)
    # Sending (marketing.services.sending): who claimed the row, when, and when a retry may run.
    claimed_by = models.CharField(max_length=200, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_attempt_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Delivery feedback (marketing.services.feedback): a bounce reported by a delivery-status
    # notification, and the opens (the pixel) and clicks (the signed redirects) of the email.
    # db_default: COPY writers (marketing.services.sending) need not name these columns.
    bounce_kind = models.CharField(
        _("bounce"), max_length=4, choices=BounceKind, blank=True, default="", db_default=""
    )
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)
    first_opened_at = models.DateTimeField(_("first opened"), null=True, blank=True)
    open_count = models.PositiveIntegerField(_("opens"), default=0, db_default=0)
    first_clicked_at = models.DateTimeField(_("first clicked"), null=True, blank=True)
    click_count = models.PositiveIntegerField(_("clicks"), default=0, db_default=0)
    # The subject-line test (marketing.services.subject_tests): "a" or "b" in the sample, "ra"
    # or "rb" for the rest, sent the winner; "" without a test.
    variant = models.CharField(_("subject"), max_length=2, blank=True, default="", db_default="")

    class Meta:
        ordering = ["campaign", "id"]
        verbose_name = _("campaign recipient")
        verbose_name_plural = _("campaign recipients")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="recipient_once"),
            models.UniqueConstraint(
                fields=["coupon_code"],
                condition=~models.Q(coupon_code=""),
                name="recipient_coupon_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "status"]),
            # The customer's timeline (marketing/timeline.py): campaigns received, conversions.
            models.Index(fields=["customer", "-sent_at", "-id"]),
            models.Index(
                fields=["customer", "-converted_at", "-id"],
                condition=models.Q(converted_at__isnull=False),
                name="recipient_customer_conv_idx",
            ),
        ]

    def __str__(self):
        return f"{self.campaign_id} → {self.customer_id}"


class LeadSubmission(models.Model):
    """A lead form submission waiting for the visitor to confirm it from their mailbox.

    Double opt-in: the form only stores this row and emails a signed confirmation link
    (marketing.services.leads). Nothing about a customer changes until the link is
    followed and confirmed; then the customer is matched by email or created, and only
    then are the ticked channels granted. Unconfirmed rows are deleted once their link
    has expired (the nightly purge), so a stranger's typing is not kept.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="leads")
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), max_length=254)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    channels = models.JSONField(_("channels ticked"), default=list, blank=True)
    # The answers to the campaign's extra questions: [[question, answer], ...] as asked.
    answers = models.JSONField(_("answers"), default=list, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("lead form submission")
        verbose_name_plural = _("lead form submissions")
        indexes = [
            models.Index(fields=["campaign", "-submitted_at"]),
            models.Index(
                fields=["submitted_at"],
                condition=models.Q(confirmed_at__isnull=True),
                name="lead_pending_idx",
            ),
        ]

    def __str__(self):
        return f"{self.campaign_id}: {self.email}"

    @property
    def answer_pairs(self) -> list[tuple[str, str]]:
        """The well-formed (question, answer) pairs (an admin may have edited the JSON)."""
        if not isinstance(self.answers, list):
            return []
        return [
            (str(pair[0]), str(pair[1]))
            for pair in self.answers
            if isinstance(pair, list | tuple) and len(pair) == 2
        ]

    @property
    def expires_at(self):
        """When the confirmation link dies (the nightly purge deletes it unconfirmed)."""
        return self.submitted_at + LEAD_CONFIRM_MAX_AGE

    @property
    def is_expired(self) -> bool:
        return self.confirmed_at is None and self.expires_at < timezone.now()
