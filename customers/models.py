"""Who the customer is and everything that happened with them."""

from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.db.models import F
from django.db.models.functions import Replace, Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.lib.choice_labels import ChoiceLabels
from crm.lib.phones import phone_validator
from customers.calendar_models import CalendarFeed as CalendarFeed  # the feed's secret
from customers.choices import DEFAULT_DUE_TIME, CustomerStage, Reminder

PHONE_SEPARATORS = " +()./-"
TAG_NAME_MAX_LENGTH = 50


def phone_digits_expression(field: str) -> Replace:
    """The phone field less the separators phone_validator allows (portable SQL REPLACE)."""
    expression = Replace(models.F(field), models.Value(PHONE_SEPARATORS[0]), models.Value(""))
    for separator in PHONE_SEPARATORS[1:]:
        expression = Replace(expression, models.Value(separator), models.Value(""))
    return expression


# How to reach a customer and where: the form, the services, the CSV layout and the import
# each list these fields, in this order, among others.
CONTACT_DETAILS = ["email", "phone", "country", "region", "city", "address"]


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    SOCIAL = "social", _("WeChat / social")
    MAIL = "mail", _("Mail")
    FAX = "fax", _("Fax")
    IN_PERSON = "in_person", _("In person")


MEETING = "meeting"  # an interaction with a start, an end and attendees; no consent channel
INTERACTION_CHANNELS = [*Channel.choices, (MEETING, _("Meeting"))]


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=TAG_NAME_MAX_LENGTH, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.name


# Has an email address that did not hard-bounce (Customer.email_bounced): who an email
# campaign can reach.
EMAIL_REACHABLE = ~models.Q(email="") & ~models.Q(email_bounced=models.F("email"))


class Customer(ChoiceLabels, models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        COMPANY = "company", _("Company")

    Stage = CustomerStage

    class Size(models.TextChoices):
        MICRO = "1-9", _("1-9 employees")
        SMALL = "10-49", _("10-49 employees")
        MEDIUM = "50-249", _("50-249 employees")
        LARGE = "250-999", _("250-999 employees")
        ENTERPRISE = "1000+", _("1000+ employees")

    class Source(models.TextChoices):
        WEBSITE = "website", _("Website")
        REFERRAL = "referral", _("Referral")
        EVENT = "event", _("Event")
        CAMPAIGN = "campaign", _("Campaign")
        COLD_CALL = "cold_call", _("Cold call")
        PARTNER = "partner", _("Partner")
        IMPORT = "import", _("Import")
        OTHER = "other", _("Other")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=200)
    organization = models.CharField(
        _("company"),
        max_length=200,
        blank=True,
        help_text=_("For a person: the company they work for."),
    )
    email = models.EmailField(_("email"), blank=True)
    # The address a delivery-status notification reported as not existing (a hard bounce),
    # copied from `email` when it bounced: the email is undeliverable while the two are
    # equal, so changing the address clears the flag without any code having to remember to.
    # db_default: the bulk loaders' COPY (customers.services, the demo) name their columns.
    email_bounced = models.EmailField(
        _("bounced email address"), blank=True, default="", db_default="", editable=False
    )
    email_bounced_at = models.DateTimeField(
        _("email bounced"), null=True, blank=True, editable=False
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True, validators=[phone_validator])
    # The phone without separators, kept by the database, so "13800138000" finds "+86 138 0013 8000".
    phone_digits = models.GeneratedField(
        expression=phone_digits_expression("phone"),
        output_field=models.CharField(max_length=30),
        db_persist=True,
    )
    country = models.CharField(_("country"), max_length=100, blank=True)
    region = models.CharField(_("region / province"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    address = models.CharField(_("street address"), max_length=300, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    company_size = models.CharField(_("company size"), max_length=10, choices=Size, blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source, default=Source.OTHER)
    stage = models.CharField(_("lifecycle stage"), max_length=10, choices=Stage, default=Stage.LEAD)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_customers",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="customers")
    is_key_account = models.BooleanField(_("key account"), default=False)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel, blank=True
    )
    # Documents for the customer (a printed quote) are in this language when it is set.
    # db_default: bulk loads (COPY of customers without this column) leave it empty.
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True, default="",
        db_default="", help_text=_("Quotes are printed in this language."),
    )  # fmt: skip
    external_id = models.CharField(
        _("external id"),
        max_length=100,
        blank=True,
        help_text=_("The id in the system it was imported from."),
    )
    notes = models.TextField(_("notes"), blank=True)
    # Set when the customer's personal data was erased (customers.erasure): the row stays,
    # anonymous, so their orders and the reports keep their numbers.
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords(
        excluded_fields=["version", "updated_at", "phone_digits"], m2m_fields=[tags]
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            # The list's sort orders with their tie-breakers (CustomerFilter.sort); name is
            # also the global search's order. Holding the id, they serve a deep page's ids
            # from the index alone (crm.lib.paging.DeepPagingQuerySet).
            models.Index(fields=["name", "id"]),
            models.Index(fields=["region", "name", "id"]),
            models.Index(fields=["-updated_at", "-id"]),
            models.Index(fields=["created_at", "id"]),
            models.Index(fields=["owner", "name", "id"]),
            models.Index(fields=["owner", "-updated_at", "-id"]),  # "mine", recent first
            models.Index(fields=["stage", "name", "id"]),
            models.Index(
                fields=["name", "id"],
                condition=models.Q(is_key_account=True),
                name="customer_key_account_idx",
            ),
            models.Index(fields=["email"]),
            models.Index(fields=["phone"]),
            # The few erased customers, which the possible-duplicates page leaves out.
            models.Index(
                fields=["id"],
                condition=models.Q(erased_at__isnull=False),
                name="customer_erased_idx",
            ),
            # Who can be reached by phone and SMS, in id order: an audience's count merges
            # it with the consent and criteria indexes (marketing.audience). Who can be
            # reached by email is customer_email_ok_cover (migration 0029, PostgreSQL only:
            # it includes the stage and key-account flag an audience filters on), with the
            # very condition the audience uses (EMAIL_REACHABLE), so its scan stays
            # index-only.
            models.Index(
                fields=["id"], condition=~models.Q(phone=""), name="customer_with_phone_idx"
            ),
            # The list's region and industry filters compare case-insensitively (iexact);
            # a region's customers come sorted by name, or by region (and name). Without
            # them PostgreSQL walked the name index past every customer of other regions
            # (a Chinese province's customers, with Chinese names, sort last: 45 ms).
            models.Index(Upper("region"), F("name"), F("id"), name="customer_region_ci_name_idx"),
            models.Index(
                Upper("region"), F("region"), F("name"), F("id"), name="customer_region_ci_idx"
            ),
            models.Index(Upper("industry"), name="customer_industry_ci_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~models.Q(external_id=""),
                name="customer_external_id_unique",
            )
        ]
        permissions = [
            ("change_any_customer", _("Can change customers owned by others")),
            ("change_customer_contact_details", _("Can change any customer's contact details")),
            ("work_any_customer", _("Can log interactions and tasks on any customer")),
            ("import_customers", _("Can import customers")),
            ("export_customers", _("Can export customers")),
            ("merge_customers", _("Can merge customers")),
            ("erase_customer", _("Can erase a customer's personal data")),
            ("access_customer_data", _("Can download everything held on a customer")),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("customers:customer-detail", args=[self.pk])

    @property
    def email_undeliverable(self) -> bool:
        """The current address hard-bounced: audiences and sending skip it."""
        return bool(self.email) and self.email == self.email_bounced


class Consent(models.Model):
    """The customer's current marketing consent on one channel; its history is kept."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel)
    granted = models.BooleanField(_("granted"), default=False)
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)
    source = models.CharField(_("how"), max_length=100, blank=True)

    history = HistoricalRecords()
    # Set by consent_set: who simple-history records as having made the change.
    _history_user: User | None

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["customer", "channel"], name="consent_one_per_channel")
        ]
        # Campaign audiences: who opted in on a channel (marketing.audience).
        indexes = [
            models.Index(
                fields=["channel", "customer"],
                condition=models.Q(granted=True),
                name="consent_granted_idx",
            )
        ]

    def __str__(self):
        state = _("granted") if self.granted else _("withdrawn")
        return f"{self.get_channel_display()}: {state}"


class Contact(models.Model):
    """A person at a company customer."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=200)
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True, validators=[phone_validator])
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta:
        ordering = ["-is_primary", "name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self):
        return self.name


class Interaction(ChoiceLabels, models.Model):
    class Direction(models.TextChoices):
        INBOUND = "in", _("Inbound")
        OUTBOUND = "out", _("Outbound")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="interactions"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="interactions",
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=INTERACTION_CHANNELS, default=Channel.PHONE
    )
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction, default=Direction.OUTBOUND
    )
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    summary = models.TextField(_("summary"), max_length=5000)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # An email's Message-ID, and its conversation's key (the root message's Message-ID): a
    # reply whose In-Reply-To/References names one of ours joins the same thread.
    # db_default: bulk loads (COPY of interactions without these columns) leave them empty.
    message_id = models.CharField(
        _("Message-ID"), max_length=998, blank=True, db_default="", default="", db_index=True
    )
    thread = models.CharField(
        _("email thread"), max_length=998, blank=True, db_default="", default="", db_index=True
    )
    ends_at = models.DateTimeField(
        _("ends"), null=True, blank=True
    )  # a meeting's; starts: occurred_at
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="crm_meetings",
        verbose_name=_("attendees"),
    )
    attendee_contacts = models.ManyToManyField(
        Contact, blank=True, related_name="meetings", verbose_name=_("contacts attending")
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(fields=["customer", "-occurred_at"]),
            # The team view's activity this week: a range of the newest, grouped by who.
            models.Index(fields=["occurred_at", "logged_by"], name="interaction_when_by_idx"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} · {self.customer}"


class Task(models.Model):
    title = models.CharField(_("title"), max_length=200)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="tasks"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.CASCADE,
        related_name="crm_tasks",
    )
    due_date = models.DateField(_("due date"))
    due_time = models.TimeField(_("due time"), null=True, blank=True)  # None: some time that day
    reminder = models.PositiveIntegerField(_("reminder"), choices=Reminder, null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True, editable=False)  # due_at - reminder
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["done", "due_date", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["assignee", "done", "due_date"]),
            models.Index(fields=["customer", "due_date"]),
            # The customer's timeline (customers/timeline.py): tasks added, tasks done.
            models.Index(fields=["customer", "-created_at", "-id"]),
            models.Index(
                fields=["customer", "-done_at", "-id"],
                condition=models.Q(done=True),
                name="task_customer_done_at_idx",
            ),
            models.Index(
                fields=["remind_at"],
                condition=models.Q(reminded_at__isnull=True, done=False),
                name="task_reminder_pending",
            ),
            # Tasks without a reminder not yet told they are due (customers.reminders).
            models.Index(
                fields=["due_date"],
                condition=models.Q(reminder__isnull=True, reminded_at__isnull=True, done=False),
                name="task_due_notice_pending",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def due_at(self) -> datetime:  # its time that day, or the start of the working day
        due = datetime.combine(self.due_date, self.due_time or DEFAULT_DUE_TIME)
        return timezone.make_aware(due)

    @property
    def is_overdue(self) -> bool:  # a task with no time: from the next day
        if self.done or self.due_time is None:
            return not self.done and self.due_date < timezone.localdate()
        return self.due_at < timezone.now()


class SavedView(models.Model):
    """A named customer-list filter a user keeps in the sidebar; the row named COLUMNS
    (a name the form refuses) holds the list columns the user chose (`columns=a,b`), read
    with the saved views in one query (customers.list_columns)."""

    COLUMNS = ""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filter"), max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_view_name_per_user")
        ]

    def __str__(self):
        return self.name


# Defined in their own module to keep this one short; imported here for Django to find.
from customers.dedup_models import (  # noqa: E402, F401
    CustomerMerge,
    DuplicateCandidate,
    DuplicateDismissal,
    DuplicateRefresh,
)
from customers.import_models import CustomerImport  # noqa: E402, F401
