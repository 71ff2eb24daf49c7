"""The loyalty programme's models (kept apart from models.py, which re-exports them, to keep
files short): the earning rule, the tiers, each customer's account and its ledger."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from crm.lib.money import MONEY

NON_NEGATIVE = [MinValueValidator(Decimal("0"))]


class LoyaltyRule(models.Model):
    """How orders earn points. One row (pk=1, made by the migration) that admins edit."""

    points_per_unit = models.DecimalField(
        _("points per currency unit"),
        max_digits=8,
        decimal_places=3,
        default=Decimal("1"),
        validators=NON_NEGATIVE,
    )
    minimum_order_total = models.DecimalField(
        _("minimum order total"), **MONEY, default=0, validators=NON_NEGATIVE
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("loyalty rule")
        verbose_name_plural = _("loyalty rules")

    def __str__(self):
        return str(_("%(points)s points per currency unit") % {"points": self.points_per_unit})


# The default tiers' names (marketing migration 0002), translated when shown.
DEFAULT_TIER_NAMES = (gettext_noop("Bronze"), gettext_noop("Silver"), gettext_noop("Gold"))


class LoyaltyTier(models.Model):
    """A customer reaches the highest tier whose points OR 12-month spend threshold they meet."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    minimum_points = models.PositiveIntegerField(_("minimum points earned"), null=True, blank=True)
    minimum_spend = models.DecimalField(
        _("minimum 12-month spend"), **MONEY, null=True, blank=True, validators=NON_NEGATIVE
    )
    rank = models.PositiveSmallIntegerField(_("rank"), help_text=_("Higher is better."))

    class Meta:
        ordering = ["-rank"]
        verbose_name = _("loyalty tier")
        verbose_name_plural = _("loyalty tiers")
        constraints = [models.UniqueConstraint(fields=["rank"], name="loyalty_tier_rank_unique")]

    def __str__(self):
        """The name in the user's language when it is one of the default names."""
        return gettext(self.name)

    def clean(self):
        if self.minimum_points is None and self.minimum_spend is None:
            raise ValidationError(_("Give a minimum of points, of spend, or both."))


class LoyaltyAccount(models.Model):
    """A customer's current balance (the sum of their ledger, kept so it can be locked),
    12-month spend and tier."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="loyalty_account"
    )
    balance = models.IntegerField(_("balance"), default=0)
    earned = models.PositiveIntegerField(_("points earned"), default=0)
    # Stored rather than computed on read so an audience can select a tier with an index:
    # refreshed by marketing.services.loyalty.loyalty_refresh on every order and ledger change of
    # the customer, and nightly for everyone (spend falls out of the 12-month window).
    spend_12m = models.DecimalField(_("12-month spend"), **MONEY, default=0)
    tier = models.ForeignKey(
        LoyaltyTier,
        verbose_name=_("tier"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="accounts",
        db_index=False,  # covered by (tier, customer)
    )
    refreshed_at = models.DateTimeField(_("tier refreshed"), null=True, blank=True)

    class Meta:
        verbose_name = _("loyalty account")
        verbose_name_plural = _("loyalty accounts")
        # An audience's tier criterion, in customer order for its merge joins: customers
        # in some tiers (tier, customer), or without an account outside them (customer,
        # tier); both index-only.
        indexes = [
            models.Index(fields=["tier", "customer"], name="loyalty_account_tier_idx"),
            models.Index(fields=["customer", "tier"], name="loyalty_account_customer_tier"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=0), name="loyalty_balance_not_negative"
            )
        ]

    def __str__(self):
        return f"{self.customer_id}: {self.balance}"


class LoyaltyEntry(models.Model):
    """One change of a customer's points.

    Both keys keep their database constraint although PostgreSQL checks them row by row
    (123 s of an import follow-up's 177 s on 1,000,000 entries, load average 20, without
    them): a points ledger whose entries may name a deleted customer or order is not one a
    business can trust, and an import's follow-up runs in the background."""

    class Kind(models.TextChoices):
        EARNED = "earned", _("Earned from an order")
        ADJUSTED = "adjusted", _("Manual adjustment")
        REDEEMED = "redeemed", _("Redeemed")

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.CASCADE,
        related_name="loyalty_entries",
        db_index=False,  # covered by (customer, -created_at)
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    points = models.IntegerField(
        _("points"), validators=[MinValueValidator(-(10**9)), MaxValueValidator(10**9)]
    )
    reason = models.CharField(_("reason"), max_length=300)
    order = models.ForeignKey(
        "sales.Order",
        verbose_name=_("order"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # the unique index of Meta.constraints serves the lookups
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # partial: see Meta.indexes
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("loyalty entry")
        verbose_name_plural = _("loyalty entries")
        indexes = [
            models.Index(fields=["customer", "-created_at"]),
            # Only manual entries have an author (deleting a user sets theirs to NULL): an
            # index of every entry cost each of an import's million earned entries a write.
            models.Index(
                fields=["created_by"],
                name="loyalty_entry_author",
                condition=models.Q(created_by__isnull=False),
            ),
        ]
        constraints = [
            # An order earns points once, however often its signal is delivered. Only
            # earned entries name an order, so one unique index of every order serves both
            # this rule and the lookups by order (a partial one beside a plain one cost
            # each of an import's million entries a second index write).
            models.UniqueConstraint(fields=["order"], name="loyalty_order_earns_once"),
            models.CheckConstraint(
                condition=models.Q(order__isnull=True) | models.Q(kind="earned"),
                name="loyalty_order_only_earned",
            ),
            models.CheckConstraint(condition=~models.Q(points=0), name="loyalty_points_not_zero"),
        ]

    def __str__(self):
        return f"{self.customer_id}: {self.points:+d} ({self.kind})"

    @staticmethod
    def order_reason(number: str) -> str:
        """What an order's points are for, in the active language."""
        return gettext("Order %(number)s") % {"number": number}

    @property
    def shown_reason(self) -> str:
        """The reason in the reader's language. The stored text is in the language of
        whoever, or whichever job, wrote it (an import's follow-up writes English), so an
        order's points are told from the order; a person's own reason as they typed it.
        Read with select_related("order")."""
        if self.kind == self.Kind.EARNED and self.order is not None:
            return self.order_reason(self.order.number)
        return self.reason
