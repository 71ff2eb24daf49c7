"""The outbox: messages are written in the caller's transaction and delivered by Celery.

Delivery is at-least-once: a worker killed after the SMTP server accepted a message but
before the row was marked sent leaves a claim that the sweep releases, and the message is
sent again, with the same Message-ID (mail clients and servers can drop the duplicate). A
worker that lives renews its claims after each message, so a long batch to a slow server
is never taken for a dead worker's (which would send its tail twice).

A row moves pending -> sending (claimed) -> sent, or back to pending with a later
`next_attempt_at` after an error (exponential backoff), or to failed once
CRM_OUTBOX_MAX_ATTEMPTS attempts failed. Inline (no REDIS_URL) the delivery task runs when
the transaction commits, in-process, and an SMTP error is recorded on the row, not raised.
"""

import logging
import smtplib
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from core import tasks
from core.claims import claim_due, renew_claims, unclaim
from core.models import Attachment, OutboxMessage
from crm.lib.personal_data import ERASED, mentioning, scrub
from crm.lib.tasks import queue_on_commit

logger = logging.getLogger(__name__)

# Errors of the connection rather than of one message: the rest of the batch waits for the
# next attempt instead of each waiting out EMAIL_TIMEOUT against the same dead server.
CONNECTION_ERRORS = (ConnectionError, TimeoutError, OSError)
RETRY_GROWTH = 3  # each retry waits three times longer than the one before


def _message_id(from_email: str) -> str:
    domain = parseaddr(from_email)[1].rpartition("@")[2] or "localhost"
    return make_msgid(domain=domain)


@transaction.atomic
def outbox_email_enqueue(
    *, message: EmailMessage, about: models.Model | None = None, attach_about_files: bool = False
) -> OutboxMessage:
    """Store `message` for delivery (in the caller's transaction) and queue its delivery
    for when that transaction commits. Files travel as attachments of `about`
    (`attach_about_files`), not inside `message`, which must carry none."""
    if message.attachments:
        raise ValueError("the outbox carries files as attachments of `about`")
    if attach_about_files and about is None:
        raise ValueError("attach_about_files needs the record the files belong to")
    html = next(
        (
            content
            for content, mimetype in getattr(message, "alternatives", [])
            if mimetype == "text/html"
        ),
        "",
    )
    from_email = message.from_email or settings.DEFAULT_FROM_EMAIL
    headers = {str(k): str(v) for k, v in message.extra_headers.items()}
    message_id = headers.pop("Message-ID", "") or _message_id(from_email)
    row = OutboxMessage.objects.create(
        kind=OutboxMessage.Kind.EMAIL,
        from_email=from_email,
        to=list(message.to),
        cc=list(message.cc),
        bcc=list(message.bcc),
        reply_to=list(message.reply_to),
        subject=str(message.subject),
        text=str(message.body),
        html=str(html),
        headers=headers,
        message_id=message_id,
        about_type=ContentType.objects.get_for_model(about) if about is not None else None,
        about_id=str(about.pk) if about is not None else "",
        attach_about_files=attach_about_files,
    )
    queue_on_commit(tasks.deliver_outbox_message, row.pk)
    return row


def email_from_row(
    row: OutboxMessage, *, connection: BaseEmailBackend | None = None
) -> EmailMultiAlternatives:
    """The stored message as Django sends it, with its Message-ID."""
    email = EmailMultiAlternatives(
        subject=row.subject,
        body=row.text,
        from_email=row.from_email,
        to=row.to,
        cc=row.cc,
        bcc=row.bcc,
        reply_to=row.reply_to,
        headers={**row.headers, "Message-ID": row.message_id},
        connection=connection,
    )
    if row.html:
        email.attach_alternative(row.html, "text/html")
    if row.attach_about_files and row.about_type_id:
        _attach_files(email, row)
    return email


def _attach_files(email: EmailMultiAlternatives, row: OutboxMessage) -> None:
    """The files of the record the email is about, as they are now (one erased since is
    not sent)."""
    files = Attachment.objects.filter(owner_type_id=row.about_type_id, owner_id=row.about_id)
    for attachment in files.filter(content_id=""):
        try:
            with attachment.file.open("rb") as stream:
                data = stream.read()
        except FileNotFoundError:
            continue
        email.attach(attachment.name, data, attachment.content_type)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 1, 3, 9, 27, 81 minutes, ... (seven
    retries of the default eight attempts span about 18 hours)."""
    return timedelta(seconds=settings.CRM_OUTBOX_RETRY_SECONDS * RETRY_GROWTH ** (attempts - 1))


def _claim(*, now: datetime, limit: int, ids: list[int] | None) -> tuple[uuid.UUID, list[int]]:
    """Mark up to `limit` due pending rows as sending under a fresh token; their ids."""
    due = OutboxMessage.objects.filter(next_attempt_at__lte=now)
    if ids is not None:
        due = due.filter(pk__in=ids)
    return claim_due(due, now=now, limit=limit, order_by=("next_attempt_at", "pk"))


def _mark_sent(row: OutboxMessage, token: uuid.UUID) -> None:
    OutboxMessage.objects.filter(pk=row.pk, claim_token=token).update(
        status=OutboxMessage.Status.SENT,
        attempts=F("attempts") + 1,
        sent_at=timezone.now(),
        last_error="",
        claimed_at=None,
        claim_token=None,
    )


def _mark_failed_attempt(row: OutboxMessage, token: uuid.UUID, error: str) -> None:
    """Count the attempt: retry later with backoff, or give up after the last one."""
    attempts = row.attempts + 1
    gave_up = attempts >= settings.CRM_OUTBOX_MAX_ATTEMPTS
    OutboxMessage.objects.filter(pk=row.pk, claim_token=token).update(
        status=OutboxMessage.Status.FAILED if gave_up else OutboxMessage.Status.PENDING,
        attempts=attempts,
        next_attempt_at=timezone.now() + retry_delay(attempts),
        last_error=error[:2000],
        claimed_at=None,
        claim_token=None,
    )


def _renew_claims(ids: list[int], token: uuid.UUID) -> None:
    renew_claims(OutboxMessage, ids, token)


def _unclaim(ids: list[int], token: uuid.UUID) -> None:
    unclaim(OutboxMessage, ids, token)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".strip().rstrip(":")


def outbox_deliver_due(
    *, now: datetime | None = None, limit: int = 100, ids: list[int] | None = None
) -> dict:
    """Send the due pending messages (only `ids` when given) through Django's email
    backend; returns counts of sent, retrying and failed."""
    now = now or timezone.now()
    token, claimed = _claim(now=now, limit=limit, ids=ids)
    counts = {"sent": 0, "retrying": 0, "failed": 0, "postponed": 0}
    if not claimed:
        return counts
    mail = get_connection(fail_silently=False)
    rows = list(OutboxMessage.objects.filter(pk__in=claimed).order_by("next_attempt_at", "pk"))
    try:
        for index, row in enumerate(rows):
            try:
                if not mail.send_messages([email_from_row(row, connection=mail)]):
                    raise RuntimeError("the email backend accepted no message")
            except Exception as error:  # every failure is recorded on the row, none raised
                logger.warning("outbox message %s not delivered: %s", row.pk, _describe(error))
                _mark_failed_attempt(row, token, _describe(error))
                gave_up = row.attempts + 1 >= settings.CRM_OUTBOX_MAX_ATTEMPTS
                counts["failed" if gave_up else "retrying"] += 1
                if _is_connection_error(error):
                    rest = [later.pk for later in rows[index + 1 :]]
                    _unclaim(rest, token)
                    counts["postponed"] += len(rest)
                    break
            else:
                _mark_sent(row, token)
                counts["sent"] += 1
            _renew_claims([later.pk for later in rows[index + 1 :]], token)
    finally:
        try:
            mail.close()
        except Exception:  # closing a broken connection may fail too
            logger.debug("closing the email connection failed", exc_info=True)
    return counts


def _is_connection_error(error: BaseException) -> bool:
    per_message = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused)
    return isinstance(error, CONNECTION_ERRORS) and not isinstance(error, per_message)


def outbox_release_stale_claims(*, now: datetime | None = None) -> int:
    """Rows left "sending" by a worker that died: the attempt counts, and they are due at
    once (or failed after the last attempt). The message may have left already: it is
    re-sent with the same Message-ID (at-least-once)."""
    now = now or timezone.now()
    stale = OutboxMessage.objects.filter(
        status=OutboxMessage.Status.SENDING,
        claimed_at__lt=now - timedelta(seconds=settings.CRM_OUTBOX_CLAIM_SECONDS),
    )
    error = "the worker stopped during delivery"
    last = settings.CRM_OUTBOX_MAX_ATTEMPTS - 1
    common = {"claimed_at": None, "claim_token": None, "last_error": error}
    with transaction.atomic():
        failed = stale.filter(attempts__gte=last).update(
            status=OutboxMessage.Status.FAILED, attempts=F("attempts") + 1, **common
        )
        released = stale.filter(attempts__lt=last).update(
            status=OutboxMessage.Status.PENDING,
            attempts=F("attempts") + 1,
            next_attempt_at=now,
            **common,
        )
    return failed + released


def outbox_sweep(*, now: datetime | None = None) -> dict:
    """The beat job: release stale claims, then deliver what is due."""
    released = outbox_release_stale_claims(now=now)
    return {"released": released, **outbox_deliver_due(now=now)}


@transaction.atomic
def outbox_retry_now(*, ids: list[int]) -> int:
    """Make pending or failed rows due now (the admin's action); failed ones get one more
    round of attempts. Returns how many were rescheduled."""
    rows = OutboxMessage.objects.filter(
        pk__in=ids, status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.FAILED]
    )
    count = rows.update(status=OutboxMessage.Status.PENDING, next_attempt_at=timezone.now())
    OutboxMessage.objects.filter(
        pk__in=ids,
        status=OutboxMessage.Status.PENDING,
        attempts__gte=settings.CRM_OUTBOX_MAX_ATTEMPTS,
    ).update(attempts=settings.CRM_OUTBOX_MAX_ATTEMPTS - 1)
    for pk in ids:
        queue_on_commit(tasks.deliver_outbox_message, pk)
    return count


@transaction.atomic
def outbox_erase(*, addresses: Iterable[str], values: Iterable[str]) -> int:
    """An erasure (customers.erasure): messages to these addresses lose their recipients and
    contents (one still waiting is not sent), and the values are scrubbed from the others.
    Returns how many messages changed."""
    addresses, values = list(addresses), list(values)
    to_them = OutboxMessage.objects.select_for_update().filter(
        mentioning("to", addresses) | mentioning("cc", addresses) | mentioning("bcc", addresses)
    )
    changed = 0
    for row in to_them:
        row.to, row.cc, row.bcc, row.reply_to, row.headers = [], [], [], [], {}
        row.subject, row.text, row.html = ERASED, ERASED, ""
        if row.status in (OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING):
            row.status, row.last_error = OutboxMessage.Status.FAILED, "erased before delivery"
        row.save()
        changed += 1
    mentions = mentioning("subject", values) | mentioning("text", values)
    for row in OutboxMessage.objects.select_for_update().filter(
        mentions | mentioning("html", values)
    ):
        row.subject, row.text = scrub(row.subject, values), scrub(row.text, values)
        row.html = scrub(row.html, values)
        row.save(update_fields=["subject", "text", "html"])
        changed += 1
    return changed
