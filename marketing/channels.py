"""Channel actions: composing and transporting messages (email, SMS), call tasks for the
phone list, the direct-mail address file, and recording each recipient's outcome."""

import contextlib
import smtplib
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape, linebreaks, urlize
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from customers.services import task_create
from marketing.audience import CONSENT_CHANNEL
from marketing.consent import unsubscribe_url
from marketing.models import Campaign, CampaignChannel, CampaignRecipient, SubjectTest
from marketing.personalise import (
    Personalisation,
    compile_template,
    personalisation_for,
    recommended_products,
    render,
    render_subject,
)
from marketing.services.feedback import campaign_message_id
from marketing.sms import SmsMessage, get_sms_backend
from marketing.tracking import pixel_html, track_links, tracking_enabled

# --- composing messages --------------------------------------------------------------

B_VARIANTS = ("b", "rb")  # the sample's B half, and the rest when B won


class Composer:
    """Builds each recipient's message from the campaign's compiled templates."""

    def __init__(self, campaign: Campaign, customer_ids: list[int]):
        self.campaign = campaign
        self.subject = compile_template(campaign.subject)
        test = SubjectTest.objects.filter(campaign=campaign).first()
        # Subject B of a subject-line test, for the recipients whose variant says so.
        self.subject_b = compile_template(test.subject_b) if test else self.subject
        self.body = compile_template(campaign.body)
        uses = "recommended_products" in campaign.subject + campaign.body
        self.recommended = recommended_products(customer_ids) if uses else {}

    def fields(self, customer, coupon_code: str) -> Personalisation:
        link = unsubscribe_url(
            customer_id=customer.pk, channel=CONSENT_CHANNEL[self.campaign.channel]
        )
        return personalisation_for(
            customer,
            coupon_code=coupon_code,
            offer=self.campaign.offer,
            unsubscribe_link=link,
            recommended=self.recommended.get(customer.pk, ""),
        )

    def texts(self, customer, coupon_code: str, variant: str = "") -> tuple[str, str, str]:
        """(subject, body, unsubscribe link); the link is added to a body that lacks it."""
        fields = self.fields(customer, coupon_code)
        subject = self.subject_b if variant in B_VARIANTS else self.subject
        body = render(self.body, fields).rstrip()
        if fields.unsubscribe_link not in body:
            body += "\n\n-- \n" + _("Unsubscribe: %(link)s") % {"link": fields.unsubscribe_link}
        return render_subject(subject, fields), body, fields.unsubscribe_link

    def message(self, row: CampaignRecipient, connection):
        return self.build(row.customer, row.coupon_code, connection=connection, recipient=row)

    def build(
        self,
        customer,
        coupon_code: str,
        *,
        connection=None,
        to: str | None = None,
        recipient: CampaignRecipient | None = None,
    ):
        """The message for `customer`; a real `recipient` row (not a preview or a test
        send) gets its Message-ID and, with tracking on, the open pixel and click links."""
        variant = recipient.variant if recipient is not None else ""
        subject, body, link = self.texts(customer, coupon_code, variant)
        if self.campaign.channel == CampaignChannel.SMS and to is None:
            return SmsMessage(to=customer.phone, body=body)
        return email_message(
            subject=subject,
            body=body,
            to=to or customer.email,
            link=link,
            connection=connection,
            recipient=recipient,
        )


def email_message(
    *,
    subject: str,
    body: str,
    to: str,
    link: str,
    connection=None,
    recipient: CampaignRecipient | None = None,
) -> EmailMultiAlternatives:
    """One campaign email: the plain text, its HTML alternative, and the RFC 2369 /
    RFC 8058 one-click unsubscribe headers. A recipient's email carries a Message-ID
    that names the recipient, so a bounce quoting it finds them (marketing.services.feedback)."""
    headers = {
        "List-Unsubscribe": f"<{link}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    if recipient is not None:
        headers["Message-ID"] = campaign_message_id(
            campaign_id=recipient.campaign_id, recipient_id=recipient.pk, domain=_sender_domain()
        )
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        connection=connection,
        headers=headers,
    )
    tracked = recipient.pk if recipient is not None and tracking_enabled() else None
    message.attach_alternative(html_body(body, link, tracked_recipient_id=tracked), "text/html")
    return message


def _sender_domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"


def html_body(body: str, link: str, *, tracked_recipient_id: int | None = None) -> str:
    """The HTML version of a rendered plain-text message.

    The text holds customer data (names, products), so it is escaped before anything
    else; then its URLs become links and its lines paragraphs. The template is rendered
    with autoescape on, so the unsubscribe link is escaped too. With a recipient to
    track, the body's links go through signed redirects and an open pixel ends the body
    (marketing.tracking).
    """
    paragraphs = linebreaks(urlize(escape(body), nofollow=True, autoescape=True))
    pixel = ""
    if tracked_recipient_id is not None:
        paragraphs = track_links(paragraphs, tracked_recipient_id, keep=link)
        pixel = pixel_html(tracked_recipient_id)
    return render_to_string(
        "marketing/email/campaign.html",
        {
            "body": mark_safe(paragraphs),  # noqa: S308 - escaped above
            "pixel": mark_safe(pixel),  # noqa: S308 - built from an escaped URL
            "unsubscribe_link": link,
        },
    )


class _EmailTransport:
    """One connection for a batch: opened before the first message (else Django's SMTP
    backend would connect and quit around every message), reopened after an error."""

    def __init__(self, connection=None):
        self.connection = connection or get_connection(fail_silently=False)
        self.is_open = False

    def send(self, message: EmailMessage) -> None:
        if not self.is_open:
            self.connection.open()
            self.is_open = True
        if not self.connection.send_messages([message]):
            raise smtplib.SMTPException("the email backend accepted no message")

    def reset(self) -> None:
        self.is_open = False
        with contextlib.suppress(Exception):  # closing a broken connection may fail too
            self.connection.close()

    close = reset


class _SmsTransport:
    connection = None

    def __init__(self):
        self.backend = get_sms_backend()

    def send(self, message: SmsMessage) -> None:
        self.backend.send(message)

    def reset(self) -> None:
        pass

    close = reset


def transport_for(campaign: Campaign, connection=None):
    if campaign.channel == CampaignChannel.SMS:
        return _SmsTransport()
    return _EmailTransport(connection)


# --- phone: call tasks ---------------------------------------------------------------


def call_tasks_create(*, campaign: Campaign, by) -> int:
    """A call task per queued recipient for the customer's owner, else the campaign's.

    Called inside campaign_send's transaction, through customers' task service.
    """
    due = max(campaign.starts_on or date.min, timezone.localdate())
    title = _("Call for campaign “%(name)s”") % {"name": campaign.name}
    rows = (
        CampaignRecipient.objects.filter(campaign=campaign, status=CampaignRecipient.Status.QUEUED)
        .select_related("customer__owner")
        .order_by("id")
    )
    count = 0
    for row in rows.iterator(chunk_size=1000):
        task_create(
            customer=row.customer,
            title=title[:200],
            due_date=due,
            assignee=row.customer.owner or campaign.owner,
            created_by=by,
        )
        count += 1
    return count


# --- direct mail: the address file ---------------------------------------------------

MAIL_COLUMNS = ["name", "organization", "address", "city", "region", "country", "coupon_code"]


def mail_rows(campaign: Campaign) -> Iterator[Sequence[object]]:
    """The header, then one row per recipient (the CSV writer makes the cells safe)."""
    yield MAIL_COLUMNS
    fields = [f"customer__{c}" for c in MAIL_COLUMNS[:-1]] + ["coupon_code"]
    rows = (
        CampaignRecipient.objects.filter(campaign=campaign)
        .order_by("customer__name", "id")
        .values_list(*fields)
    )
    yield from rows.iterator(chunk_size=2000)


# --- outcomes ------------------------------------------------------------------------


def _outcome_changes(*, outcome: str, note: str, now: datetime) -> dict[str, str | Coalesce]:
    """The fields one outcome writes, validated: the rules every outcome write shares.

    The first response's time is kept, and so is the first conversion's.
    """
    if outcome not in CampaignRecipient.Outcome.values:
        raise ValidationError({"outcome": _("Unknown outcome.")})
    if "\x00" in note:
        raise ValidationError({"outcome_note": _("Null characters are not allowed.")})
    CampaignRecipient._meta.get_field("outcome_note").clean(note, None)  # max length
    changes: dict[str, str | Coalesce] = {"outcome": outcome, "outcome_note": note}
    if outcome:
        changes["responded_at"] = Coalesce("responded_at", Value(now))
    if outcome == CampaignRecipient.Outcome.CONVERTED:
        changes["converted_at"] = Coalesce("converted_at", Value(now))
    return changes


@transaction.atomic
def recipient_outcomes_set(
    *, campaign: Campaign, recipient_ids: Iterable[int], outcome: str, note: str = ""
) -> int:
    """Record one outcome for several of `campaign`'s recipients; returns how many.

    Ids of another campaign's recipients are ignored. The rows are locked in id order
    (so two overlapping bulk writes cannot deadlock) and written in one statement.
    """
    changes = _outcome_changes(outcome=outcome, note=note, now=timezone.now())
    ids = list(
        CampaignRecipient.objects.filter(campaign=campaign, pk__in=list(recipient_ids))
        .select_for_update()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        return 0
    return CampaignRecipient.objects.filter(pk__in=ids).update(**changes)


def recipient_outcome_set(*, recipient: CampaignRecipient, outcome: str, note: str = "") -> None:
    """Record how a recipient responded; the first response's time is kept."""
    recipient_outcomes_set(
        campaign=recipient.campaign, recipient_ids=[recipient.pk], outcome=outcome, note=note
    )
