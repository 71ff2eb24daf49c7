"""Turning prospects into revenue: products, pipelines, deals, quotes and orders."""

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.exchange import to_reporting
from crm.lib.choice_labels import ChoiceLabels
from crm.lib.currencies import currency_choices, validate_currency
from crm.lib.money import MONEY, MONEY_MAX

PERCENT_VALIDATORS = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


def default_currency() -> str:
    return settings.CRM_CURRENCY


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    unit_price = models.DecimalField(
        _("unit price"), **MONEY, validators=[MinValueValidator(Decimal("0"))]
    )
    tax_rate = models.DecimalField(
        _("tax rate %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=PERCENT_VALIDATORS,
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self):
        return f"{self.name} ({self.sku})"


class Pipeline(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(_("default"), default=False)

    class Meta:
        ordering = ["-is_default", "name"]
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="one_default_pipeline",
            )
        ]

    def __str__(self):
        return gettext(self.name)


# The default pipeline's names (migration 0002), so they are translated where shown.
DEFAULT_STAGE_NAMES = [
    gettext_noop("Qualification"),
    gettext_noop("Needs analysis"),
    gettext_noop("Proposal"),
    gettext_noop("Negotiation"),
    gettext_noop("Won"),
    gettext_noop("Lost"),
    gettext_noop("Sales"),
]


class Stage(models.Model):
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.CASCADE, related_name="stages"
    )
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(
        pgettext_lazy("position in a list", "order"), default=0
    )
    probability = models.PositiveSmallIntegerField(
        _("default win probability %"), default=0, validators=[MaxValueValidator(100)]
    )
    is_won = models.BooleanField(_("won"), default=False)
    is_lost = models.BooleanField(_("lost"), default=False)

    class Meta:
        ordering = ["pipeline", "order", "id"]
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_name_per_pipeline"),
            models.CheckConstraint(
                condition=~(models.Q(is_won=True) & models.Q(is_lost=True)),
                name="stage_not_won_and_lost",
            ),
        ]

    def __str__(self):
        """The name in the user's language when it is one of the default names."""
        return gettext(self.name)

    @property
    def is_closed(self) -> bool:
        return self.is_won or self.is_lost


class Deal(ChoiceLabels, models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    # The status badge's colours ({{ deal|status_badge }}); open is neutral.
    STATUS_BADGES: ClassVar[dict[str, str]] = {
        Status.WON: "text-bg-success",
        Status.LOST: "text-bg-secondary",
    }

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="deals",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deals",
    )
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(_("amount"), **MONEY, validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default=default_currency,
        choices=currency_choices,
        validators=[validate_currency],
    )
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="deals"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals"
    )
    probability = models.PositiveSmallIntegerField(
        _("win probability %"), validators=[MaxValueValidator(100)],
        help_text=_("Taken from the stage unless you change it."),
    )  # fmt: skip
    expected_close_date = models.DateField(_("expected close date"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="deals",
    )
    next_step = models.ForeignKey(
        "customers.Task",
        verbose_name=_("next step"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=4, choices=Status, default=Status.OPEN)
    lost_reason = models.CharField(_("lost reason"), max_length=300, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["expected_close_date", "id"]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        indexes = [
            models.Index(fields=["owner", "status", "expected_close_date"]),
            models.Index(fields=["pipeline", "stage", "status"]),
            models.Index(fields=["status", "expected_close_date"]),
            models.Index(fields=["status", "closed_at"]),
            models.Index(fields=["expected_close_date", "id"]),  # the deal list's default order
            models.Index(fields=["stage", "expected_close_date", "id"]),  # a board column's cards
            models.Index(fields=["customer", "status"]),
            models.Index(fields=["created_at"], name="sales_deal_created_at_idx"),  # reports
            models.Index(fields=["customer", "-created_at", "-id"]),  # the customer's timeline
            # Stale deals per rep (home page, team view): the open ones, by last activity.
            models.Index(
                fields=["owner", "last_activity_at"],
                condition=models.Q(status="open"),
                name="deal_open_activity_idx",
            ),
        ]
        permissions = [
            ("view_any_deal", _("Can see deals owned by others")),
            ("change_any_deal", _("Can change deals owned by others")),
            ("import_orders", _("Can import orders")),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("sales:deal-detail", args=[self.pk])

    def clean(self):
        if self.stage_id and self.pipeline_id and self.stage.pipeline_id != self.pipeline_id:
            raise ValidationError({"stage": _("The stage belongs to another pipeline.")})
        if self.status == self.Status.LOST and not self.lost_reason.strip():
            raise ValidationError({"lost_reason": _("Say why the deal was lost.")})

    @property
    def weighted_amount(self) -> Decimal:
        return (self.amount * self.probability / 100).quantize(Decimal("0.01"))


class DealStageChange(models.Model):
    """Every move of a deal between stages: who, when, from, to."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, null=True, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)
    # The deal's amount as it stood after the change: the timeline's "created: 48,000 EUR"
    # and "won: 50,000 EUR" stay true when the amount changes later. Empty on older rows.
    amount = models.DecimalField(_("amount"), **MONEY, null=True, blank=True)
    # db_default: the bulk loaders' COPY (the demo, make bench) name their columns.
    currency = models.CharField(_("currency"), max_length=3, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [models.Index(fields=["deal", "-changed_at"])]

    def __str__(self):
        return f"{self.deal}: {self.from_stage} → {self.to_stage}"


class Quote(ChoiceLabels, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    # The status badge's colours ({{ quote|status_badge }}); a draft is neutral.
    STATUS_BADGES: ClassVar[dict[str, str]] = {
        Status.ACCEPTED: "text-bg-success",
        Status.REJECTED: "text-bg-danger",
        Status.SENT: "text-bg-primary",
    }

    deal = models.ForeignKey(
        Deal, verbose_name=_("deal"), on_delete=models.CASCADE, related_name="quotes"
    )
    number = models.CharField(_("number"), max_length=30, unique=True)
    status = models.CharField(_("status"), max_length=8, choices=Status, default=Status.DRAFT)
    valid_until = models.DateField(_("valid until"))
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default=default_currency,
        choices=currency_choices,
        validators=[validate_currency],
    )
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    # When it last became sent and when it was accepted: the customer's timeline shows both.
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True, editable=False)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("sales:quote-detail", args=[self.pk])


class LineAmounts(models.Model):
    """Quantity × unit price, less a discount, plus tax; every amount rounded to cents."""

    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=12,
        decimal_places=3,
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    unit_price = models.DecimalField(
        _("unit price"), **MONEY, validators=[MinValueValidator(Decimal("0"))]
    )
    discount_percent = models.DecimalField(
        _("discount %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=PERCENT_VALIDATORS,
    )
    tax_rate = models.DecimalField(
        _("tax rate %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=PERCENT_VALIDATORS,
    )

    class Meta:
        abstract = True

    @property
    def net_amount(self) -> Decimal:
        from sales.money import line_net

        return line_net(self.quantity, self.unit_price, self.discount_percent)

    @property
    def tax_amount(self) -> Decimal:
        from sales.money import line_tax

        return line_tax(self.net_amount, self.tax_rate)

    @property
    def total(self) -> Decimal:
        return self.net_amount + self.tax_amount


class QuoteLine(LineAmounts):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")

    def __str__(self):
        return self.description


class Order(ChoiceLabels, models.Model):
    """A purchase: what analytics reads for recency, frequency and value."""

    class Channel(models.TextChoices):
        SALES = "sales", _("Sales")
        WEB = "web", _("Web")
        STORE = "store", _("Store")
        PARTNER = "partner", _("Partner")

    # Index upkeep is most of a bulk import's time, so only the indexes queries use exist:
    # customer is covered by (customer, -ordered_at), deal by a partial index, and number's
    # uniqueness is a constraint (no extra LIKE index).
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="orders",
        db_index=False,
    )
    number = models.CharField(_("number"), max_length=50)
    ordered_at = models.DateTimeField(_("ordered"))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel, default=Channel.SALES)
    total = models.DecimalField(_("total"), **MONEY, validators=[MinValueValidator(Decimal("0"))])
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default=default_currency,
        choices=currency_choices,
        validators=[validate_currency],
    )
    # The total in CRM_CURRENCY at the rate of the order's day (NULL: no rate yet). Set by
    # save(), the order import and, when rates change, sales.reporting_totals; db_default so
    # bulk COPY loaders may leave it out.
    total_reporting = models.DecimalField(
        _("total in the reporting currency"),
        **MONEY,
        null=True,
        blank=True,
        editable=False,
        db_default=None,
    )
    coupon_code = models.CharField(_("coupon code"), max_length=50, blank=True)
    deal = models.ForeignKey(
        Deal,
        verbose_name=_("deal"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
        db_index=False,
    )
    quote = models.OneToOneField(
        Quote,
        verbose_name=_("quote"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="order",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-ordered_at", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["customer", "-ordered_at"]),
            models.Index(fields=["-ordered_at"]),
            models.Index(
                fields=["coupon_code"], condition=~models.Q(coupon_code=""), name="order_coupon_idx"
            ),
            models.Index(
                fields=["deal"], condition=models.Q(deal__isnull=False), name="order_deal_idx"
            ),
            # The few orders without a value in the reporting currency, which the segment
            # run totals per currency to flag them (analytics.pipeline.staging).
            models.Index(
                fields=["ordered_at"],
                condition=models.Q(total_reporting__isnull=True),
                name="order_unconverted_idx",
            ),
        ]
        constraints = [models.UniqueConstraint(fields=["number"], name="order_number_unique")]

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        """Every save converts the total at its day's rate (admin, services, quotes)."""
        self.total_reporting = self.reporting_total()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"total", "currency", "ordered_at"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "total_reporting"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("sales:order-detail", args=[self.pk])

    def reporting_total(self) -> Decimal | None:
        if self.total is None or self.ordered_at is None:
            return None
        day = timezone.localdate(self.ordered_at)
        converted = to_reporting(Decimal(self.total), self.currency, day)
        return converted if converted is not None and converted <= MONEY_MAX else None


class OrderLine(LineAmounts):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")

    class Meta:
        ordering = ["id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")

    def __str__(self):
        return self.description


# Defined in their own modules (order statistics kept by triggers, quotas, the seller,
# uploaded order files).
from sales.deal_totals import OpenDealTotal  # noqa: E402, F401
from sales.import_models import OrderImport  # noqa: E402, F401
from sales.order_stats import CustomerLastOrder, CustomerOrderStats  # noqa: E402, F401
from sales.team_models import CompanyDetails, Quota  # noqa: E402, F401
