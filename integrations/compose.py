"""Writing email from the CRM: who may write to whom about what, the form, and the sending.

The email leaves through the outbox (never SMTP from the request) with Reply-To the sales
drop-box, so the customer's answer comes back through the drop-box and joins the same
conversation (integrations.mail.sales threads it by the Message-ID logged here).
Subject and body are templates in marketing.personalise's sandbox ({{ first_name }}...).
"""

from dataclasses import dataclass
from email.utils import formataddr, parseaddr

from django import forms
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext_lazy

from core.attachment_forms import CheckedUpload, MultipleFileField
from core.attachments import attachment_add
from core.services import outbox_email_enqueue
from crm.lib.forms import reject_nul
from customers.email_log import interaction_log_email, interaction_set_message_id
from customers.models import Contact, Customer, Interaction
from integrations.models import EmailTemplate, Mailbox
from marketing.personalise import (
    FIELDS,
    check_template,
    compile_template,
    personalisation_for,
    render,
    render_subject,
)

MAX_FILES = 10


@dataclass(frozen=True)
class ComposeTarget:
    """What the email is about: always a customer, and maybe one of its deals or tickets."""

    customer: Customer
    about: Model  # the customer, the deal or the ticket: where "Cancel" and "Sent" go back
    note: str = ""  # "Deal: …" / "Ticket T-000042: …" on the logged interaction
    preferred: str = ""  # the address to tick first (a ticket's contact)


def email_templates_for(user: User | AnonymousUser) -> QuerySet[EmailTemplate]:
    if not user.is_authenticated:
        return EmailTemplate.objects.none()
    return EmailTemplate.objects.filter(Q(owner=user) | Q(shared=True)).select_related("owner")


def addresses_of(customer: Customer) -> list[tuple[str, str]]:
    """(address, label) of the customer and its contacts, each address once."""
    found: dict[str, str] = {}
    if customer.email:
        found[customer.email.lower()] = f"{customer.name} <{customer.email}>"
    for contact in customer.contacts.exclude(email="").order_by("-is_primary", "name", "pk"):
        found.setdefault(contact.email.lower(), f"{contact.name} <{contact.email}>")
    return list(found.items())


# The personalisation fields that mean something in a one-to-one email (a campaign's coupon,
# offer and unsubscribe link render as nothing here).
ONE_TO_ONE_FIELDS = [
    name for name in FIELDS if name not in ("coupon_code", "offer", "unsubscribe_link")
]


def field_names() -> list[str]:
    return ["{{ %s }}" % name for name in ONE_TO_ONE_FIELDS]  # noqa: UP031 - braces


def _template_text(value: str) -> None:
    check_template(value)


class ComposeForm(forms.Form):
    to = forms.MultipleChoiceField(
        label=gettext_lazy("To"), widget=forms.CheckboxSelectMultiple, choices=()
    )
    subject = forms.CharField(
        label=gettext_lazy("Subject"), max_length=250, validators=[reject_nul, _template_text]
    )
    body = forms.CharField(
        label=gettext_lazy("Message"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 12}),
        validators=[reject_nul, _template_text],
    )
    # The shared field: limits checked as the upload streams in (compose_views), every
    # refused file named in a message while the typed email is shown again.
    attachments = MultipleFileField(
        max_files=MAX_FILES,
        label=gettext_lazy("Attachments"),
        help_text=gettext_lazy("Sent with the email and kept with it on the customer's timeline."),
    )
    save_as = forms.CharField(
        label=gettext_lazy("Save as a template named"),
        max_length=100,
        required=False,
        validators=[reject_nul],
    )
    template_shared = forms.BooleanField(
        label=gettext_lazy("Share the template with everyone"), required=False
    )

    def __init__(self, *args, addresses: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = addresses  # type: ignore[attr-defined]


def reply_address(sender: User) -> str:
    """The sales drop-box's address, so that replies are logged; else the sender's own."""
    mailbox = (
        Mailbox.objects.filter(purpose=Mailbox.Purpose.SALES, is_active=True).order_by("pk").first()
    )
    return mailbox.address if mailbox else sender.email


def from_address(sender: User) -> str:
    """The CRM's sending address, with the rep's name."""
    name = sender.get_full_name() or sender.get_username()
    return formataddr((name, parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))


@transaction.atomic
def customer_email_send(
    *,
    sender: User,
    target: ComposeTarget,
    to: list[str],
    subject: str,
    body: str,
    files: list[CheckedUpload] | None = None,
) -> Interaction:
    """Queue the email in the outbox and log it on the customer's timeline, with its
    Message-ID (the thread's root) and its files."""
    fields = personalisation_for(target.customer, coupon_code="", offer="", unsubscribe_link="")
    subject_text = render_subject(compile_template(subject), fields)
    body_text = render(compile_template(body), fields)
    interaction = interaction_log_email(
        customer=target.customer,
        logged_by=sender,
        direction=Interaction.Direction.OUTBOUND,
        subject=subject_text,
        body=body_text,
        message_id="",
        contact=_contact_for(target.customer, to),
        note=target.note,
    )
    reply_to = reply_address(sender)
    message = EmailMultiAlternatives(
        subject=subject_text,
        body=body_text,
        from_email=from_address(sender),
        to=to,
        reply_to=[reply_to] if reply_to else [],
    )
    row = outbox_email_enqueue(message=message, about=interaction, attach_about_files=True)
    interaction_set_message_id(interaction=interaction, message_id=row.message_id)
    for checked in files or []:
        attachment_add(
            owner=interaction, content=checked.upload, name=checked.name, uploaded_by=sender
        )
    return interaction


def _contact_for(customer: Customer, to: list[str]) -> Contact | None:
    wanted = {a.lower() for a in to}
    for contact in customer.contacts.exclude(email=""):
        if contact.email.lower() in wanted and (customer.email or "").lower() not in wanted:
            return contact
    return None


@transaction.atomic
def email_template_save(
    *, owner: User, name: str, subject: str, body: str, shared: bool
) -> EmailTemplate:
    """Save (or replace, by name) one of the owner's templates."""
    template, _created = EmailTemplate.objects.update_or_create(
        owner=owner, name=name, defaults={"subject": subject, "body": body, "shared": shared}
    )
    template.full_clean()
    return template
