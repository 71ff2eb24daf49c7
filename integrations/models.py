"""Webhooks: endpoints that other systems registered, and the delivery of each event to them.

Domain events are recorded by the apps' services through core.events;
integrations.webhook_services fans each one out to a WebhookDelivery per subscribed active
endpoint, in the same transaction, and Celery delivers them (integrations.delivery_services,
with the claim pattern of core.claims). docs/webhooks.md is the integrator's guide.
"""

import secrets
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    url = models.URLField(_("URL"), max_length=2000)
    events = models.JSONField(_("events"), default=list)
    # Kept as it is: the HMAC needs it. Shown once after creation and after each rotation.
    secret = models.CharField(_("signing secret"), max_length=100, default=new_secret)
    is_active = models.BooleanField(_("active"), default=True)
    # Failed attempts since the last success; each one pauses the endpoint a little longer,
    # and CRM_WEBHOOK_DISABLE_AFTER of them disable it.
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    paused_until = models.DateTimeField(_("paused until"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.name or self.url

    @property
    def secret_hint(self) -> str:
        """Enough of the secret to tell which one a receiver holds."""
        return f"{self.secret[: len(SECRET_PREFIX) + 4]}…"


class WebhookDelivery(models.Model):
    """One event on its way to one endpoint: pending -> sending (claimed) -> sent, or back to
    pending with a later attempt, or failed once it is a day old (CRM_WEBHOOK_RETRY_HOURS)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Delivered")
        FAILED = "failed", _("Failed")

    STATUS_BADGES: ClassVar[dict[str, str]] = {
        "pending": "text-bg-warning",
        "sending": "text-bg-info",
        "sent": "text-bg-success",
        "failed": "text-bg-danger",
    }

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    event = models.ForeignKey(
        "core.DomainEvent", on_delete=models.CASCADE, related_name="+", verbose_name=_("event")
    )
    # The event's object ("sales.deal:42"): an endpoint gets an object's events in order.
    object_key = models.CharField(_("object"), max_length=170)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("time taken (ms)"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "object_key", "event"], name="webhook_delivery_order"),
        ]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.event_id} -> {self.endpoint_id} ({self.get_status_display()})"


class Mailbox(models.Model):
    """An IMAP mailbox the CRM reads (integrations.mail): support mail becomes tickets,
    the sales drop-box logs emails on customers, the bounces mailbox marks campaign
    recipients bounced. The password is not stored: `password_env` names the environment
    variable that holds it, on the web and worker machines."""

    class Purpose(models.TextChoices):
        SUPPORT = "support", _("Support (becomes tickets)")
        SALES = "sales", _("Sales drop-box (logs emails on customers)")
        BOUNCES = "bounces", _("Bounces (marks campaign recipients bounced)")

    class Security(models.TextChoices):
        SSL = "ssl", _("TLS (IMAPS)")
        STARTTLS = "starttls", _("STARTTLS")
        NONE = "none", _("None (local test servers only)")

    name = models.SlugField(_("name"), max_length=50, unique=True)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose)
    # The address customers write to: the Reply-To of what we send from this mailbox.
    address = models.EmailField(_("address"), max_length=254)
    host = models.CharField(_("IMAP host"), max_length=255)
    port = models.PositiveIntegerField(_("IMAP port"), default=993)
    security = models.CharField(
        _("security"), max_length=10, choices=Security, default=Security.SSL
    )
    username = models.CharField(_("user name"), max_length=255)
    password_env = models.CharField(
        _("password variable"),
        max_length=100,
        help_text=_("The name of the environment variable that holds the password."),
    )
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    is_active = models.BooleanField(_("active"), default=True)
    # IMAP's UIDs are only valid with their UIDVALIDITY: a new one means read from the start
    # (the Message-ID keys keep that from storing anything twice).
    uid_validity = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.PositiveBigIntegerField(default=0, editable=False)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return self.name


class InboundEmail(models.Model):
    """One message read from a mailbox (or an imported .eml/.mbox), stored once: its key is
    the Message-ID, or a hash of its bytes when it has none. Each message commits on its own;
    one that cannot be processed stays here, quarantined with its error, until an admin
    retries it. The raw bytes are kept (a file in storage) so a retry parses them again."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")  # auto-replies, our own mail, delivery reports
        UNFILED = "unfiled", _("Unfiled")  # sales mail matching no customer
        DISCARDED = "discarded", _("Discarded")
        QUARANTINED = "quarantined", _("Quarantined")

    mailbox = models.ForeignKey(
        Mailbox, on_delete=models.PROTECT, related_name="messages", verbose_name=_("mailbox")
    )
    message_key = models.CharField(max_length=255)
    message_id = models.CharField(_("Message-ID"), max_length=998, blank=True)
    in_reply_to = models.CharField(max_length=998, blank=True)
    references = models.TextField(blank=True)
    from_address = models.CharField(_("from"), max_length=320, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    to = models.JSONField(_("to"), default=list, blank=True)
    cc = models.JSONField(_("cc"), default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # The new text of the message (quoted history stripped), and the sanitised HTML.
    text = models.TextField(_("text"), blank=True)
    html = models.TextField(blank=True)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    raw = models.FileField(upload_to="mail/", max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status, default=Status.RECEIVED, db_index=True
    )
    # What happened, in words for the admin ("ticket T-000042", "auto-reply").
    outcome = models.CharField(_("outcome"), max_length=300, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # The user it belongs to: the rep who sent it to the sales drop-box (for the unfiled list).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
    )
    # The record it became (a ticket, a ticket message, an interaction).
    result_type = models.CharField(max_length=100, blank=True)
    result_id = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["mailbox", "message_key"], name="inbound_once")
        ]
        indexes = [models.Index(fields=["message_id"], name="inbound_message_id")]
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound emails")

    def __str__(self) -> str:
        return f"{self.from_address}: {self.subject}"


class EmailTemplate(models.Model):
    """A saved email for the compose page: personal (its owner's) or shared with everyone
    who writes email. Subject and body use marketing.personalise's sandboxed fields."""

    name = models.CharField(_("name"), max_length=100)
    subject = models.CharField(_("subject"), max_length=250)
    body = models.TextField(_("body"), max_length=20_000)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("owner"),
    )
    shared = models.BooleanField(
        _("shared"), default=False, help_text=_("Everyone who writes email may use it.")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="email_template_name_once")
        ]
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")

    def __str__(self) -> str:
        return self.name
