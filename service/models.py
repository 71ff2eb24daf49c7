"""Service desk: tickets and their conversation, SLA policies, knowledge base, satisfaction."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.lib.choice_labels import ChoiceLabels
from service.knowledge_models import ArticleCategory as ArticleCategory
from service.knowledge_models import ArticleTranslation as ArticleTranslation
from service.knowledge_models import CategoryTranslation as CategoryTranslation
from service.knowledge_models import KnowledgeArticle as KnowledgeArticle
from service.knowledge_models import SuggestionOpen as SuggestionOpen
from service.reply_models import Macro as Macro
from service.reply_models import ReplyDraft as ReplyDraft


class Priority(models.TextChoices):
    # Ordered lowest first; escalation raises a ticket one step (service.sla.raised_priority).
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


# The SLA clock runs while a ticket is new or open and not paused waiting on the customer:
# the one definition, used by the queue's flags, the escalation job and its indexes.
SLA_RUNNING = Q(status__in=["new", "open"], sla_paused_at__isnull=True)


def next_due_expression() -> Case:
    """The next SLA due time: the first response until it is given, then the resolution."""
    return Case(
        When(
            first_responded_at__isnull=True,
            first_response_due__isnull=False,
            then=F("first_response_due"),
        ),
        default=F("resolution_due"),
    )


def paused_rank_expression() -> Case:
    """1 while waiting on the customer: paused tickets sort after running ones."""
    return Case(
        When(sla_paused_at__isnull=False, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )


class Team(models.Model):
    """A queue of tickets, worked by its members and watched by its manager."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_teams",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("members"), blank=True, related_name="teams"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self):
        return self.name


class SLAPolicy(models.Model):
    """Response and resolution targets for one priority."""

    priority = models.CharField(_("priority"), max_length=10, choices=Priority, unique=True)
    first_response_minutes = models.PositiveIntegerField(
        _("first response target (minutes)"),
        validators=[MinValueValidator(1), MaxValueValidator(525_600)],
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution target (minutes)"),
        validators=[MinValueValidator(1), MaxValueValidator(5_256_000)],
    )
    business_hours_only = models.BooleanField(
        _("count business hours only"),
        default=False,
        help_text=_("Count only the business hours below, skipping weekends and holidays."),
    )
    business_day_start = models.TimeField(_("business day starts"), default="09:00")
    business_day_end = models.TimeField(_("business day ends"), default="18:00")
    business_weekdays = models.CharField(
        _("business weekdays"),
        max_length=13,
        default="0,1,2,3,4",
        help_text=_("Comma-separated weekday numbers, Monday being 0."),
    )
    at_risk_percent = models.PositiveSmallIntegerField(
        _("at-risk threshold (percent of the target)"),
        default=75,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    raise_priority_on_breach = models.BooleanField(_("raise priority on breach"), default=False)

    class Meta:
        ordering = ["priority"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self):
        return str(self.get_priority_display())


class Holiday(models.Model):
    """A day without business hours for every SLA policy that counts business hours."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["date"]
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}"


class Ticket(ChoiceLabels, models.Model):
    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")
        WEB = "web", _("Web form")
        CHAT = "chat", _("Chat")
        SOCIAL = "social", _("Social")
        IN_PERSON = "in_person", _("In person")

    class Category(models.TextChoices):
        QUESTION = "question", _("Question")
        COMPLAINT = "complaint", _("Complaint")
        INCIDENT = "incident", _("Incident")
        REQUEST = "request", _("Request")
        FEEDBACK = "feedback", _("Feedback")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        WAITING = "waiting", _("Waiting on customer")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    class RootCause(models.TextChoices):
        PRODUCT = "product", _("Product defect")
        SERVICE = "service", _("Service failure")
        DELIVERY = "delivery", _("Delivery")
        BILLING = "billing", _("Billing")
        COMMUNICATION = "communication", _("Communication")
        EXPECTATION = "expectation", _("Expectation mismatch")
        OTHER = "other", _("Other")

    OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.WAITING)

    # None for a web request from an unknown address: a requester, not a customer, until an
    # agent links the ticket to a customer or creates one from the requester (issue 13).
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    requester_name = models.CharField(_("requester's name"), max_length=200, blank=True)
    requester_email = models.EmailField(_("requester's email"), max_length=254, blank=True)
    # A web request names an address nobody has proven to own: True until the sender
    # follows the emailed link and confirms (service.services.ticket_sender_verify).
    sender_unverified = models.BooleanField(_("sender not verified"), default=False)
    sender_verified_at = models.DateTimeField(_("sender verified"), null=True, blank=True)
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), max_length=20_000)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel, default=Channel.EMAIL)
    # The language the customer wrote in, when known (the help centre's): articles offered
    # for the reply are in it.
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True, db_default=""
    )
    category = models.CharField(
        _("category"), max_length=10, choices=Category, default=Category.QUESTION
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team queue"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    tags = models.ManyToManyField(
        "customers.Tag", verbose_name=_("tags"), blank=True, related_name="tickets"
    )
    # Set on a ticket closed as a duplicate of another (service.ticket_actions.ticket_merge).
    merged_into = models.ForeignKey(
        "self",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("merged into"),
    )
    root_cause = models.CharField(_("root cause"), max_length=15, choices=RootCause, blank=True)
    # The support address the customer wrote to: replies are sent with it as Reply-To
    # (blank: settings.CRM_SUPPORT_ADDRESS).
    reply_address = models.EmailField(
        _("reply address"), max_length=254, blank=True, db_default="", default=""
    )

    # SLA clock (service.sla computes the due times; None when no policy applies).
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first response"), null=True, blank=True)
    sla_paused_at = models.DateTimeField(
        _("SLA paused"), null=True, blank=True, help_text=_("Set while waiting on the customer.")
    )
    # When at_risk_percent of each target has elapsed (set with the due times).
    first_response_at_risk_at = models.DateTimeField(
        _("first response at risk"), null=True, blank=True, editable=False
    )
    resolution_at_risk_at = models.DateTimeField(
        _("resolution at risk"), null=True, blank=True, editable=False
    )
    # SLA time spent waiting on the customer in earlier pauses (the due times include it).
    sla_paused_minutes = models.PositiveIntegerField(
        _("SLA minutes paused"), default=0, editable=False
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # Not a field: set only on the tickets services.tickets_bulk_set_status skips.
    skip_reason: str

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        indexes = [
            # The agent's queue: open tickets by SLA due time, mine or unassigned.
            models.Index(
                fields=["assignee", "resolution_due", "id"],
                condition=models.Q(status__in=["new", "open", "waiting"]),
                name="ticket_open_queue_idx",
            ),
            models.Index(fields=["status", "resolution_due", "id"]),
            # The queue filtered by status and priority: its count and its order.
            models.Index(
                F("status"),
                F("priority"),
                paused_rank_expression(),
                next_due_expression(),
                F("id"),
                condition=models.Q(status__in=["new", "open", "waiting"]),
                name="ticket_status_priority_due_idx",
            ),
            # The queue's order (service.filters.with_queue_order_fields), mine/unassigned and all.
            models.Index(
                F("assignee"),
                paused_rank_expression(),
                next_due_expression(),
                F("id"),
                condition=models.Q(status__in=["new", "open", "waiting"]),
                name="ticket_queue_due_idx",
            ),
            models.Index(
                paused_rank_expression(),
                next_due_expression(),
                F("id"),
                condition=models.Q(status__in=["new", "open", "waiting"]),
                name="ticket_open_due_idx",
            ),
            # The escalation job: running tickets whose at-risk threshold has passed.
            models.Index(
                fields=["first_response_at_risk_at"],
                condition=models.Q(first_responded_at__isnull=True) & SLA_RUNNING,
                name="ticket_fr_escalation_idx",
            ),
            models.Index(
                fields=["resolution_at_risk_at"],
                condition=SLA_RUNNING,
                name="ticket_res_escalation_idx",
            ),
            models.Index(fields=["customer", "-created_at"]),
            models.Index(fields=["-created_at", "-id"]),
            # The customer's timeline (service/timeline.py): tickets resolved.
            models.Index(
                fields=["customer", "-resolved_at", "-id"],
                condition=models.Q(resolved_at__isnull=False),
                name="ticket_customer_resolved_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False) | ~models.Q(requester_email=""),
                name="ticket_customer_or_requester",
            ),
        ]
        permissions = [
            ("view_any_ticket", _("Can see every ticket")),
            ("work_ticket", _("Can reply to, assign and resolve tickets")),
        ]

    def __str__(self):
        return f"{self.number} {self.subject}"

    def get_absolute_url(self):
        return reverse("service:ticket-detail", args=[self.pk])

    @property
    def number(self) -> str:
        return f"T-{self.pk:06d}" if self.pk else ""

    @property
    def is_requester(self) -> bool:
        """From an unknown address, not linked to a customer yet."""
        return self.customer_id is None

    @property
    def sender_name(self) -> str:
        """Who wrote in: the contact, else the customer, else the requester."""
        if self.contact_id is not None and self.contact is not None:
            return self.contact.name
        if self.customer_id is not None and self.customer is not None:
            return self.customer.name
        return self.requester_name or self.requester_email

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class TicketMessage(models.Model):
    """One entry in a ticket's conversation: a public reply or an internal note."""

    class Kind(models.TextChoices):
        REPLY = "reply", _("Public reply")
        NOTE = "note", _("Internal note")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("kind"), max_length=5, choices=Kind, default=Kind.REPLY)
    # None for the customer's own messages (the submission form, the self-service page).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ticket_messages",
    )
    from_customer = models.BooleanField(_("from the customer"), default=False)
    body = models.TextField(_("message"), max_length=20_000)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    # The customer's message came in through the support mailbox (not the web page).
    via_email = models.BooleanField(_("by email"), default=False, db_default=False)
    # Its Message-ID: the customer's (received) or ours (an emailed reply), "<...@...>".
    # Replies name it in In-Reply-To/References, which is how they find their ticket.
    email_message_id = models.CharField(
        _("email Message-ID"), max_length=255, blank=True, db_default="", default="", db_index=True
    )

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        indexes = [models.Index(fields=["ticket", "created_at"])]

    def __str__(self):
        return f"{self.ticket_id}: {self.get_kind_display()}"


class Escalation(models.Model):
    """A notification the escalation job sent; unique so a second run notifies nobody twice."""

    class Target(models.TextChoices):
        FIRST_RESPONSE = "first_response", _("First response")
        RESOLUTION = "resolution", _("Resolution")

    class Level(models.TextChoices):
        AT_RISK = "at_risk", _("At risk")
        BREACHED = "breached", _("Breached")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    target = models.CharField(_("target"), max_length=15, choices=Target)
    level = models.CharField(_("level"), max_length=10, choices=Level)
    # The due time that was escalated. Each target escalates once per level, so a priority
    # raised on breach (which recomputes the due times) does not escalate it again.
    due_at = models.DateTimeField(_("due"))
    created_at = models.DateTimeField(_("escalated"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "target", "level"], name="escalation_once")
        ]

    def __str__(self):
        return f"{self.ticket_id} {self.target} {self.level}"


class SatisfactionResponse(models.Model):
    """The customer's CSAT rating of a resolved ticket: one per ticket."""

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="satisfaction")
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), max_length=5_000, blank=True)
    created_at = models.DateTimeField(_("rated"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("satisfaction response")
        verbose_name_plural = _("satisfaction responses")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="csat_score_1_to_5"
            )
        ]

    def __str__(self):
        return f"{self.ticket_id}: {self.score}"
