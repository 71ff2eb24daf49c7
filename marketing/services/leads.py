"""Lead capture: a campaign's public web form, and what a submission writes.

Double opt-in (issue 13). A submission writes only a pending LeadSubmission and emails,
through the outbox, a signed confirmation link that expires (marketing.lead_form_link).
Anyone may type anyone's address into a public form, so the form itself changes no
customer: it grants no consent, fills in no phone and creates no customer.

Following the link and pressing "Confirm" (lead_confirm) is the visitor's proof that
the mailbox is theirs. Only then is the customer matched by email (case-insensitive) or
created at the lead stage with the source "campaign", and only the channels ticked are
granted, through customers.services.consent_set. A confirmed click may grant a channel
the customer withdrew before: it is a fresh, explicit and informed opt-in by the address
owner, which GDPR (Art. 7) and PIPL accept, and the withdrawal stays in the consent
history. An existing customer's contact data (name, phone) is never changed: the typed
phone is used only for a customer created by the confirmation. An unticked box withdraws
nothing: not ticking is not an opt-out.

On confirmation, if the customer was already a recipient of the campaign, their outcome
becomes "responded"; a new lead is not made a recipient (a queued recipient would be
sent the campaign). The confirmation is logged as an inbound interaction naming the
campaign, which is how the customer's 360° page shows where the lead came from.
Unconfirmed submissions are deleted once their link has expired (lead_submissions_purge).
"""

from datetime import datetime

from django import forms
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.services import outbox_email_enqueue
from customers.models import Channel, Customer, Interaction
from customers.services import consent_set, customer_create, interaction_log
from marketing.lead_form_link import LEAD_CONFIRM_MAX_AGE, lead_confirm_token
from marketing.lead_questions import MAX_QUESTIONS, answer_fields
from marketing.models import Campaign, CampaignRecipient, LeadSubmission

# The channels a visitor may opt in to from the form.
LEAD_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PHONE)


class LeadForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=200)
    email = forms.EmailField(label=gettext_lazy("Your email"), max_length=254)
    phone = forms.CharField(label=gettext_lazy("Phone (optional)"), max_length=30, required=False)
    consent_email = forms.BooleanField(
        label=gettext_lazy("Send me offers by email"), required=False
    )
    consent_sms = forms.BooleanField(label=gettext_lazy("Send me offers by SMS"), required=False)
    consent_phone = forms.BooleanField(label=gettext_lazy("You may call me"), required=False)
    # The honeypot: hidden from people by CSS, filled in by naive bots.
    website = forms.CharField(
        label=gettext_lazy("Leave this field empty"), required=False, max_length=200
    )

    def __init__(self, *args, questions: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions or [])[:MAX_QUESTIONS]
        self.fields.update(answer_fields(self.questions))
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})
        self.fields["name"].widget.attrs.update({"autocomplete": "name", "maxlength": 200})
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["phone"].widget.attrs.update({"autocomplete": "tel", "maxlength": 30})

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Tell us your name."))
        return name

    def clean_email(self):
        return self.cleaned_data["email"].strip()

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if phone and not all(ch.isdigit() or ch in " +-()." for ch in phone):
            raise forms.ValidationError(_("Use digits, spaces and + - ( ) only."))
        return phone

    def channels(self) -> list[str]:
        return [c.value for c in LEAD_CHANNELS if self.cleaned_data.get(f"consent_{c.value}")]

    def answer_fields(self) -> list:
        return [self[f"answer_{i}"] for i in range(len(self.questions))]

    def answers(self) -> list[list[str]]:
        """[question, answer] for each question answered, as asked."""
        pairs = []
        for i, question in enumerate(self.questions):
            answer = " ".join(self.cleaned_data.get(f"answer_{i}", "").split())
            if answer:
                pairs.append([question, answer])
        return pairs


@transaction.atomic
def lead_submit(
    *,
    campaign: Campaign,
    name: str,
    email: str,
    phone: str,
    channels: list[str],
    answers: list[list[str]] | None = None,
) -> LeadSubmission:
    """Store a pending submission and email its confirmation link; changes no customer.

    A second submission of the same address to the same campaign while the first is
    pending replaces it (one pending row, a fresh link), so a form sent twice is one lead.
    """
    wanted = [c.value for c in LEAD_CHANNELS if c.value in channels]
    submission = (
        LeadSubmission.objects.select_for_update()
        .filter(campaign=campaign, email__iexact=email, confirmed_at__isnull=True)
        .order_by("-pk")
        .first()
    ) or LeadSubmission(campaign=campaign)
    submission.name, submission.email, submission.phone = name, email, phone
    submission.channels = wanted
    submission.answers = answers or []
    submission.submitted_at = timezone.now()
    submission.full_clean()
    submission.save()
    _email_confirmation(submission)
    return submission


def _email_confirmation(submission: LeadSubmission) -> None:
    link = settings.CRM_BASE_URL + reverse(
        "public-marketing:lead-confirm", args=[lead_confirm_token(submission)]
    )
    context = {
        "submission": submission,
        "campaign": submission.campaign,
        "link": link,
        "days": LEAD_CONFIRM_MAX_AGE.days,
        "channels": channel_labels(submission.channels),
    }
    # The form's title is the marketer's text: one line in a header.
    subject = _("Please confirm: %(name)s") % {
        "name": " ".join(submission.campaign.public_title.split())
    }
    message = EmailMultiAlternatives(
        subject=subject[:250],
        body=render_to_string("marketing/email/lead_confirm.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[submission.email],
    )
    message.attach_alternative(
        render_to_string("marketing/email/lead_confirm.html", context), "text/html"
    )
    outbox_email_enqueue(message=message, about=submission)


def channel_labels(channels: list[str]) -> list[str]:
    return [str(c.label) for c in LEAD_CHANNELS if c.value in channels]


@transaction.atomic
def lead_confirm(*, submission: LeadSubmission) -> Customer:
    """The address owner confirmed: match or create the customer and grant what was ticked.

    Confirming twice (a double click, a reload) changes nothing the second time.
    """
    locked = LeadSubmission.objects.select_for_update().get(pk=submission.pk)
    if locked.confirmed_at is not None and locked.customer is not None:
        return locked.customer
    campaign = locked.campaign
    customer = (
        Customer.objects.select_for_update()
        .filter(email__iexact=locked.email)
        .order_by("id")
        .first()
    )
    if customer is None:
        data = {
            "name": locked.name,
            "email": locked.email,
            "phone": locked.phone,
            "stage": Customer.Stage.LEAD,
            "source": Customer.Source.CAMPAIGN,
        }
        customer = customer_create(data=data)
    source = _lead_source(campaign)
    for channel in locked.channels:
        if channel in Channel.values:
            consent_set(customer=customer, channel=channel, granted=True, source=source, by=None)
    _mark_responded(campaign, customer)
    _log_interaction(campaign, customer)
    locked.confirmed_at, locked.customer = timezone.now(), customer
    locked.save(update_fields=["confirmed_at", "customer"])
    return customer


@transaction.atomic
def lead_submissions_purge(*, now: datetime | None = None) -> int:
    """Delete unconfirmed submissions whose link has expired (a stranger's typing)."""
    cutoff = (now or timezone.now()) - LEAD_CONFIRM_MAX_AGE
    deleted, _rows = LeadSubmission.objects.filter(
        confirmed_at__isnull=True, submitted_at__lt=cutoff
    ).delete()
    return deleted


def _lead_source(campaign: Campaign) -> str:
    return f"lead form, confirmed by email: {campaign.name}"[:100]


def _mark_responded(campaign: Campaign, customer: Customer) -> None:
    CampaignRecipient.objects.filter(campaign=campaign, customer=customer, outcome="").update(
        outcome=CampaignRecipient.Outcome.RESPONDED, responded_at=timezone.now()
    )


def _log_interaction(campaign: Campaign, customer: Customer) -> None:
    interaction_log(
        customer=customer,
        logged_by=None,  # nobody logged it: the customer did
        channel=Channel.EMAIL,
        direction=Interaction.Direction.INBOUND,
        summary=_("Confirmed the lead form of the campaign “%(name)s” by email.")
        % {"name": campaign.name},
    )
