"""Records every app writes and that hold no business rule; `core` imports no app.

The outbox: a message waiting for delivery, written in the transaction of the change it
follows (a rolled-back change sends nothing, a committed one is never lost) and delivered
by Celery with retries (core.services).

The audit log: who exported, changed in bulk, merged, erased or signed in (core.audit).

Idempotency keys: a form (later an API call) that must take effect once (core.idempotency).
The last run of each beat task, for the admins' jobs page (core.job_runs).
Export files: large exports written in the background and downloaded once.
API tokens: personal tokens for the REST API, stored hashed (core.api_tokens).
Domain events: what changed, for webhooks (core.events).
"""

import uuid
from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.lib.currencies import currency_choices, validate_currency


class OutboxMessage(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", _("Email")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.EMAIL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # The rendered email: enough to rebuild an EmailMultiAlternatives.
    from_email = models.CharField(max_length=320)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    bcc = models.JSONField(default=list, blank=True)
    reply_to = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    # Assigned at enqueue: a retry (or a re-send after a lost worker) keeps the same id.
    message_id = models.CharField(max_length=255, unique=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # What the message is about (a ticket, a reply...), so its page can show the deliveries.
    about_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    about_id = models.CharField(max_length=64, blank=True)
    about = GenericForeignKey("about_type", "about_id")
    # Send the files of `about` (core.attachments) with the email, read when it is delivered:
    # an agent's reply or a composed email adds its files in the same transaction, after
    # the row is written.
    attach_about_files = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["about_type", "about_id"], name="outbox_about"),
        ]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {', '.join(self.to)}: {self.subject}"

    @property
    def recipients_display(self) -> str:
        return ", ".join([*self.to, *self.cc, *self.bcc])


class AuditEvent(models.Model):
    """Who did what to the customers' data, when and from where (issue 13).

    Append-only: the admin shows and exports it and nobody edits it. It names objects by
    type and id and records filters, counts and addresses, never a customer's personal
    values, so an erasure has nothing to scrub here and the log still says it happened.
    """

    class Action(models.TextChoices):
        SIGN_IN = "sign_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
        SIGN_OUT = "sign_out", _("Signed out")
        EXPORT = "export", _("Export")
        BULK_CHANGE = "bulk_change", _("Bulk change")
        MERGE = "merge", _("Merge")
        ERASE = "erase", _("Erasure")
        ACCESS = "access", _("Access request")
        API_TOKEN = "api_token", _("API token use")
        IMPORT = "import", _("Import")
        TWO_FACTOR_ON = "two_factor_on", _("Two-factor sign-in turned on")
        TWO_FACTOR_RESET = "two_factor_reset", _("Two-factor device removed")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("who"),
    )
    # Kept when the user is deleted later, and set for failed sign-ins (no user).
    actor_name = models.CharField(_("who (name)"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    # What was acted on: "customers.customer", and its id when it is one object.
    target_type = models.CharField(_("object type"), max_length=100, blank=True)
    target_id = models.CharField(_("object id"), max_length=64, blank=True)
    # The filter, the fields, the options: whatever says which rows (no personal values).
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("from address"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["action", "-at"], name="audit_action_at"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.get_action_display()}"


class IdempotencyKey(models.Model):
    """A request that must take effect once (core.idempotency).

    Today: the one-time token of every form that creates something (scope "form:<view
    name>"), so a double click shows the first result instead of doing the work twice.
    Made to serve the API's `Idempotency-Key` header too: its scope names the caller (for
    example "api:<user id>"), and `response_body` can hold the JSON answer to replay.

    A row is "pending" while the first request runs and "done" once it succeeded; a
    request that failed removes its row, so the same token may be submitted again. Rows
    older than CRM_IDEMPOTENCY_KEY_HOURS are deleted by beat.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("In progress")
        DONE = "done", _("Done")

    scope = models.CharField(_("scope"), max_length=150)
    key = models.CharField(_("key"), max_length=255)
    # Whose key it is (null for a public form); another user's key is never replayed.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    # The first result, replayed to every later request with the same key.
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_location = models.CharField(_("redirected to"), max_length=2000, blank=True)
    response_body = models.JSONField(_("response body"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_once")
        ]
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class PeriodicTaskRun(models.Model):
    """The last run of each periodic task of Celery beat, recorded by Celery's signals in
    the worker (core.job_runs) for the admins' jobs page. One row per task."""

    class Outcome(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        RETRYING = "retrying", _("Retrying")

    task = models.CharField(_("task"), max_length=200, unique=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    started_at = models.DateTimeField(_("last started"))
    finished_at = models.DateTimeField(_("last finished"), null=True, blank=True)
    duration_seconds = models.FloatField(_("duration (s)"), null=True, blank=True)
    error = models.TextField(_("last error"), blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_failure_at = models.DateTimeField(_("last failure"), null=True, blank=True)
    failures_in_a_row = models.PositiveIntegerField(_("failures in a row"), default=0)

    class Meta:
        ordering = ["task"]
        verbose_name = _("periodic task run")
        verbose_name_plural = _("periodic task runs")

    def __str__(self) -> str:
        return f"{self.task}: {self.get_outcome_display()}"


class ExportFile(models.Model):
    """A large CSV export written by a background job, downloaded once (issue 13).

    The file (personal data) lives in Django's storage under an unguessable name only until
    its owner downloads it or it expires (CRM_EXPORT_KEEP_HOURS); the beat sweep deletes what
    is left. The row stays as a record of the job; the audit log records the export itself.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Being written")
        READY = "ready", _("Ready to download")
        DOWNLOADED = "downloaded", _("Downloaded")
        EXPIRED = "expired", _("Expired")
        FAILED = "failed", _("Failed")

    STATUS_BADGES: ClassVar[dict[str, str]] = {
        "queued": "text-bg-secondary",
        "running": "text-bg-info",
        "ready": "text-bg-success",
        "failed": "text-bg-danger",
    }
    ACTIVE = (Status.QUEUED, Status.RUNNING)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("owner"),
    )
    source = models.CharField(_("export"), max_length=40)
    params = models.TextField(_("filter"), blank=True)  # the query string it was built from
    filename = models.CharField(_("file name"), max_length=200)
    file = models.FileField(_("file"), upload_to="exports/", blank=True, max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now, db_index=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    downloaded_at = models.DateTimeField(_("downloaded"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="export_owner_created")]
        verbose_name = _("export file")
        verbose_name_plural = _("export files")

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        return round(100 * self.rows_done / self.rows_total) if self.rows_total else 0


class ApiToken(models.Model):
    """A personal API token (core.api_tokens, core.api_auth): `crm_<prefix>_<secret>`.

    Only the SHA-256 hash of the whole token is stored: a leaked database cannot be used
    to call the API. The prefix is shown so its owner recognises it in the list. A token
    acts as its user, with the user's role; read-only tokens cannot write (core.api).
    """

    class Scope(models.TextChoices):
        READ = "read", _("Read only")
        READ_WRITE = "read_write", _("Read and write")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    scope = models.CharField(_("scope"), max_length=10, choices=Scope.choices, default=Scope.READ)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"], name="api_token_user_created")]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def read_only(self) -> bool:
        return self.scope != self.Scope.READ_WRITE

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now


class DomainEvent(models.Model):
    """Something other systems care about happened (core.events): a customer was created,
    a deal won, a ticket resolved. Written in the transaction of the change, so a rolled-back
    change records nothing and a committed one is never lost; `integrations` fans it out to
    webhook endpoints. Append-only.

    The primary key is the order of events (a service records its event after locking the
    object, so two events of one object are numbered in the order they happened); `uuid` is
    the stable id receivers see. `data` holds ids, codes and the names of changed fields,
    never personal values (a receiver reads those through the API, under its rules), so an
    erasure has nothing to scrub here.
    """

    uuid = models.UUIDField(_("event id"), default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(_("type"), max_length=64, db_index=True)
    occurred_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    # The object the event is about ("sales.deal", "42"): deliveries keep its order.
    object_type = models.CharField(_("object type"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="event_object")]
        verbose_name = _("domain event")
        verbose_name_plural = _("domain events")

    def __str__(self) -> str:
        return f"{self.type} {self.object_type}#{self.object_id}"

    @property
    def object_key(self) -> str:
        return f"{self.object_type}:{self.object_id}"


def attachment_path(attachment: "Attachment", filename: str) -> str:
    # A random name: the user's file name is kept in `name`, never used as a path.
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file that belongs to a record of any app (a ticket message, an email interaction,
    a customer, a deal, a quote): one model and one download view for all of them
    (core.attachments). The owning app registers who may see its records; a download
    asks that rule for this attachment's owner. Deleting the owner deletes its files.
    """

    owner_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    owner_id = models.CharField(max_length=64)
    owner = GenericForeignKey("owner_type", "owner_id")
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    # The name the user or the mail client gave it, cleaned of any path: shown, never opened.
    name = models.CharField(_("name"), max_length=255)
    # Sniffed from the content, not taken from the upload's claim.
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    # An image a message shows in its body (cid: in the HTML), not listed as a file.
    content_id = models.CharField(max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["owner_type", "owner_id"], name="attachment_owner")]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.name


class ExchangeRate(models.Model):
    """What one unit of `currency` was worth in the reporting currency (CRM_CURRENCY) from
    `day` on, until the next rate of that currency (core.exchange). Admins keep them."""

    currency = models.CharField(
        _("currency"), max_length=3, choices=currency_choices, validators=[validate_currency]
    )
    day = models.DateField(_("valid from"))
    rate = models.DecimalField(_("rate"), max_digits=20, decimal_places=10)
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        ordering = ["currency", "-day"]
        constraints = [
            models.UniqueConstraint(fields=["currency", "day"], name="exchange_rate_unique_day"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchange_rate_positive"),
        ]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")

    def __str__(self) -> str:
        return f"{self.currency} {self.day}: {self.rate}"


from core.notification_models import Notification as Notification  # noqa: E402
from core.notification_models import NotificationPreference as NotificationPreference  # noqa: E402
from core.profile_models import UserProfile as UserProfile  # noqa: E402
