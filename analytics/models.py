"""Segment runs: what the nightly job computed about every customer with orders.

Dashboards read only these tables. A run is written in full, then made current in one
transaction (analytics.runs), so readers never see a half-written run.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analytics.choices import Segment

# SegmentRun.step values (analytics.runs) and how the progress display names them.
STEP_LABELS = {
    "queued": _("Waiting for a worker"),
    "aggregate": _("Aggregating orders"),
    "fit": _("Fitting the models"),
    "score": _("Scoring customers"),
    "finish": _("Summarising and publishing"),
    "done": _("Done"),
}


class SegmentRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    as_of = models.DateField(_("as of"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.QUEUED)
    is_current = models.BooleanField(_("current"), default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # What the progress display shows: the step running and how far it is (0-100).
    step = models.CharField(_("step"), max_length=50, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress %"), default=0)
    error = models.TextField(_("error"), blank=True)
    customers = models.PositiveIntegerField(_("customers"), default=0)
    # Fitted parameters: {"r", "alpha", "a", "b", "p", "q", "gamma", "time_unit", "discount_rate"}.
    parameters = models.JSONField(_("model parameters"), default=dict, blank=True)
    # Seconds per step: {"aggregate", "score", "fit", "write", "total"}.
    timings = models.JSONField(_("timings"), default=dict, blank=True)
    # Order totals up to as_of left out of revenue, RFM and value for want of an exchange
    # rate on their day, per currency: {"CHF": "75.00"}; the dashboards flag them.
    unconverted = models.JSONField(_("amounts without an exchange rate"), default=dict, blank=True)
    # Where R, F and M quintiles start over all customers (analytics.rfm.Breakpoints.to_dict),
    # computed once by the fit step so every chunk scores the same way.
    quintiles = models.JSONField(_("quintile breakpoints"), default=dict, blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    # The running task's last sign of life (each step and chunk): the sweep fails a run
    # whose heartbeat is older than settings.CRM_RUN_STALE_SECONDS (analytics.runs).
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # When its per-customer rows (values, recommendations, product affinities) were removed:
    # only the newest settings.CRM_KEEP_RUN_DETAILS runs keep them (analytics.runs.prune).
    details_pruned_at = models.DateTimeField(_("details removed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("segment run")
        verbose_name_plural = _("segment runs")
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"], condition=models.Q(is_current=True), name="one_current_run"
            ),
            # A second run while one is queued or running is refused, not doubled: every
            # active run has the same (constant) key, whatever its status.
            models.UniqueConstraint(
                models.Value(True),
                condition=models.Q(status__in=["queued", "running"]),
                name="one_active_run",
                violation_error_message=_("A segment run is already queued or running."),
            ),
        ]
        permissions = [
            ("run_segments", _("Can recompute segments")),
            ("view_value_report", _("Can see the value report")),
            ("view_pipeline_report", _("Can see the pipeline report")),
            ("view_service_report", _("Can see the service report")),
        ]

    def __str__(self):
        return f"{self.as_of:%Y-%m-%d} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def step_label(self) -> str:
        return str(STEP_LABELS.get(self.step, self.step))

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


# Customers too valuable to lose: the segment, or high value and probably leaving.
CANNOT_LOSE = models.Q(segment=Segment.CANNOT_LOSE) | models.Q(
    m_score__gte=4, probability_alive__lt=0.5
)


class CustomerValue(models.Model):
    """One customer's RFM scores, segment and lifetime value in one run."""

    # No database foreign-key checks on the two big result tables: a million rows are written
    # in seconds only without a trigger per row. Only the run writes them, from ids it has
    # just read; deleting a customer or a run still deletes their rows (Django's CASCADE).
    run = models.ForeignKey(
        SegmentRun,
        on_delete=models.CASCADE,
        related_name="values",
        db_index=False,
        db_constraint=False,
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="values",
        db_index=False,
        db_constraint=False,
    )
    first_purchase = models.DateField(_("first purchase"))
    last_purchase = models.DateField(_("last purchase"))
    recency_days = models.PositiveIntegerField(_("days since last purchase"))
    purchase_days = models.PositiveIntegerField(_("purchase days"))
    orders = models.PositiveIntegerField(_("orders"))
    revenue = models.DecimalField(_("revenue"), max_digits=16, decimal_places=2)
    average_order_value = models.DecimalField(
        _("average order value"), max_digits=16, decimal_places=2
    )
    r_score = models.PositiveSmallIntegerField("R")
    f_score = models.PositiveSmallIntegerField("F")
    m_score = models.PositiveSmallIntegerField("M")
    segment = models.CharField(_("segment"), max_length=20, choices=Segment)
    probability_alive = models.FloatField(_("probability alive"))
    expected_purchases = models.FloatField(_("expected purchases in 12 months"))
    predicted_ltv = models.DecimalField(
        _("predicted 12-month value"), max_digits=16, decimal_places=2
    )

    class Meta:
        verbose_name = _("customer value")
        verbose_name_plural = _("customer values")
        constraints = [
            models.UniqueConstraint(fields=["run", "customer"], name="one_value_per_run")
        ]
        indexes = [
            # Two besides (run, customer): each index costs seconds per million rows written
            # (bench_analytics), and the Pareto curve and LTV histogram read the whole run
            # anyway. The customer id makes the segment filter of the customer list and of
            # campaign audiences an index-only scan that yields ids in order (no heap
            # read, a merge join); the probability alive and the predicted value make the
            # audiences' range criteria index-only too (350 ms rather than 700 ms on
            # 1,000,000 customers, make bench-audience).
            models.Index(
                fields=["run", "segment", "customer", "probability_alive", "predicted_ltv"],
                name="analytics_cv_run_segment",
            ),
            # The "cannot lose them" list (analytics.reports.cannot_lose), in its order: its
            # page is the first 25 entries and its count an index scan. Partial, so the run
            # writes it for about a fifth of the rows. The condition must stay the same as
            # in the list's query (CANNOT_LOSE), or PostgreSQL no longer uses the index.
            models.Index(
                fields=["run", "-predicted_ltv", "-revenue", "customer"],
                name="analytics_cv_cannot_lose",
                condition=CANNOT_LOSE,
            ),
        ]

    def __str__(self):
        return f"{self.customer_id} in run {self.run_id}: {self.segment}"


class CustomerStats(models.Model):
    """Staging: one customer's order aggregate for a running run (analytics.pipeline).

    Written by one INSERT ... SELECT over the orders, read by the fit and the chunks, and
    emptied when the run ends. No indexes and no foreign key checks (it only ever holds
    the one active run's rows); UNLOGGED on PostgreSQL, since a crash loses nothing a
    new run would not recompute.
    """

    run = models.ForeignKey(
        SegmentRun, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    first_day = models.DateField()
    last_day = models.DateField()
    purchase_days = models.PositiveIntegerField()
    orders = models.PositiveIntegerField()
    revenue = models.FloatField()
    repeat_value = models.FloatField()  # revenue less the first purchase day's value

    class Meta:
        verbose_name = _("customer statistics (staging)")
        verbose_name_plural = _("customer statistics (staging)")

    def __str__(self):
        return f"{self.customer_id} in run {self.run_id}"


class SegmentSummary(models.Model):
    """Per run and segment, kept for every run so trends can be shown."""

    run = models.ForeignKey(SegmentRun, on_delete=models.CASCADE, related_name="summaries")
    segment = models.CharField(_("segment"), max_length=20, choices=Segment)
    customers = models.PositiveIntegerField(_("customers"))
    revenue = models.DecimalField(_("revenue"), max_digits=18, decimal_places=2)
    average_ltv = models.DecimalField(_("average predicted value"), max_digits=16, decimal_places=2)

    class Meta:
        ordering = ["run", "segment"]
        verbose_name = _("segment summary")
        verbose_name_plural = _("segment summaries")
        constraints = [
            models.UniqueConstraint(fields=["run", "segment"], name="one_summary_per_segment")
        ]

    def __str__(self):
        return f"{self.run_id} {self.segment}: {self.customers}"


class SegmentMigration(models.Model):
    """How many customers moved from one segment (in the previous run) to another."""

    run = models.ForeignKey(SegmentRun, on_delete=models.CASCADE, related_name="migrations")
    from_segment = models.CharField(max_length=20, choices=Segment, blank=True)  # "" = new
    to_segment = models.CharField(max_length=20, choices=Segment)
    customers = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("segment migration")
        verbose_name_plural = _("segment migrations")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "from_segment", "to_segment"], name="one_migration_cell"
            )
        ]

    def __str__(self):
        return f"{self.from_segment} -> {self.to_segment}: {self.customers}"


class ProductAffinity(models.Model):
    """Customers who bought `product` also bought `related` (normalised co-occurrence)."""

    run = models.ForeignKey(SegmentRun, on_delete=models.CASCADE, related_name="affinities")
    product = models.ForeignKey("sales.Product", on_delete=models.CASCADE, related_name="+")
    related = models.ForeignKey("sales.Product", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    customers = models.PositiveIntegerField()  # customers who bought both

    class Meta:
        verbose_name = _("product affinity")
        verbose_name_plural = _("product affinities")
        indexes = [models.Index(fields=["run", "product", "-score"])]

    def __str__(self):
        return f"{self.product_id} -> {self.related_id}: {self.score:.3f}"


class Recommendation(models.Model):
    """A product the customer has not bought yet, ranked for them."""

    run = models.ForeignKey(
        SegmentRun,
        on_delete=models.CASCADE,
        related_name="recommendations",
        db_index=False,
        db_constraint=False,
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    product = models.ForeignKey(
        "sales.Product", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()

    class Meta:
        ordering = ["rank"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        indexes = [models.Index(fields=["customer", "run", "rank"])]

    def __str__(self):
        return f"{self.customer_id}: {self.product_id} #{self.rank}"
