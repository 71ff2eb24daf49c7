"""Duplicate customers: the pairs a manager said are not duplicates, and the merges done.
Imported by customers.models (Django finds models there)."""

from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Why two customers look like one: the flags of DuplicateCandidate.reasons.
EMAIL, PHONE, NAME, SIMILAR = 1, 2, 4, 8
REASONS = {EMAIL: _("Same email"), PHONE: _("Same phone"), NAME: _("Same name")}


def reason_labels(flags: int, score: float) -> list[str]:
    """“Same email”, …; a similar name only when the names are not the same already."""
    reasons = [str(REASONS[flag]) for flag in REASONS if flags & flag]
    if flags & SIMILAR and not flags & NAME:
        reasons.append(_("Similar name (%(percent)s%%)") % {"percent": round(score * 100)})
    return reasons


class DuplicateDismissal(models.Model):
    """“Not duplicates”: the pair no longer shows on the possible-duplicates page."""

    # The lower id first, so one pair has one row whichever way round it was dismissed.
    first = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", db_constraint=True
    )
    second = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("dismissed by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    dismissed_at = models.DateTimeField(_("dismissed"), default=timezone.now)

    class Meta:
        verbose_name = _("dismissed duplicate")
        verbose_name_plural = _("dismissed duplicates")
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="dismissal_one_per_pair"),
            models.CheckConstraint(
                condition=models.Q(first__lt=models.F("second")), name="dismissal_ordered_pair"
            ),
        ]

    def __str__(self):
        return f"#{self.first_id} ≠ #{self.second_id}"


class CustomerMerge(models.Model):
    """A merge done: which record went into which, by whom, and what moved with it."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("kept customer"),
        on_delete=models.CASCADE,
        related_name="merges",
    )
    duplicate_id = models.PositiveBigIntegerField(_("merged record's number"))
    duplicate_name = models.CharField(_("merged record's name"), max_length=200)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("merged by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    merged_at = models.DateTimeField(_("merged"), default=timezone.now)
    # {"sales.deal": 2, ...}: rows moved per model (the receivers of customers_merged answer);
    # "fields" lists the fields whose value was taken from the merged record.
    moved = models.JSONField(_("what moved"), default=dict, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")
        indexes = [models.Index(fields=["customer", "-merged_at"])]

    def __str__(self):
        return f"#{self.duplicate_id} → #{self.customer_id}"

    @property
    def moved_text(self) -> str:
        """What moved, in the reader's language: "2 interactions, 1 deal"."""
        parts = []
        for label, count in sorted(self.moved.items()):  # jsonb keeps no key order
            try:
                meta = apps.get_model(label)._meta
            except (LookupError, ValueError):  # "fields", or a model removed since
                continue
            if isinstance(count, int):
                name = meta.verbose_name if count == 1 else meta.verbose_name_plural
                parts.append(f"{count} {name}")
        return ", ".join(parts)

    @property
    def taken_fields(self) -> list[str]:
        """The labels of the fields whose value came from the merged record."""
        customer_model: Any = self._meta.get_field("customer").related_model
        fields = {field.name: field for field in customer_model._meta.get_fields()}
        return [
            str(getattr(fields[name], "verbose_name", name))
            for name in self.moved.get("fields", [])
            if isinstance(name, str) and name in fields
        ]


class DuplicateCandidate(models.Model):
    """A likely duplicate pair found by the last refresh (customers.duplicate_refresh): the
    possible-duplicates page reads these rows instead of searching 100,000 customers.
    Derived data: the refresh replaces the whole set; a merge deletes its rows (cascade), a
    dismissal deletes its row."""

    # The lower id first, as in DuplicateDismissal.
    first = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    reasons = models.PositiveSmallIntegerField(_("reasons"))  # customers.duplicates flags
    score = models.FloatField(_("name similarity"), default=0)
    found_at = models.DateTimeField(_("found"))

    class Meta:
        verbose_name = _("duplicate candidate")
        verbose_name_plural = _("duplicate candidates")
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="candidate_one_per_pair"),
            models.CheckConstraint(
                condition=models.Q(first__lt=models.F("second")), name="candidate_ordered_pair"
            ),
        ]
        indexes = [models.Index(fields=["-second", "-first"], name="candidate_newest_first")]

    def __str__(self):
        return f"#{self.first_id} ~ #{self.second_id}"

    @property
    def reason_labels(self) -> list[str]:
        return reason_labels(self.reasons, self.score)


class DuplicateRefresh(models.Model):
    """The state of the duplicate search (one row, pk 1): when it was asked for, started
    and last finished, for the page's “Last checked” and “refresh running”."""

    requested_at = models.DateTimeField(_("requested"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    pairs_found = models.PositiveIntegerField(_("pairs found"), default=0)
    duration_seconds = models.FloatField(_("duration (s)"), null=True, blank=True)

    class Meta:
        verbose_name = _("duplicate search")
        verbose_name_plural = _("duplicate searches")

    def __str__(self):
        return f"duplicates checked {self.finished_at}"
