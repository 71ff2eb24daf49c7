"""Lead capture: a campaign's public web form, and what a submission writes.

The form's URL is a signed link (marketing.lead_form_link). A submission matches an
existing customer by email
(case-insensitive): it fills their blank phone, keeps their stage and source, and records
the consent ticked; otherwise it creates a customer at the lead stage with the source
"campaign". An unticked box withdraws nothing: not ticking is not an opt-out.
If the customer was already a recipient of the campaign, their outcome becomes
"responded". A new lead is not made a recipient: a queued recipient would be sent the
campaign by the sender. Every submission is logged as an inbound interaction naming the
campaign, which is how the customer's 360° page shows where the lead came from.
"""

from django import forms
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.lib.concurrency import NOT_A_USER_EDIT
from customers.models import Channel, Customer, Interaction
from customers.services import consent_set, customer_create, customer_update, interaction_log
from marketing.models import Campaign, CampaignRecipient

# The channels a visitor may opt in to from the form.
LEAD_CHANNELS = (Channel.EMAIL, Channel.SMS, Channel.PHONE)
# Campaigns whose form no longer takes leads.
CLOSED_STATUSES = (Campaign.Status.CANCELLED, Campaign.Status.COMPLETED)


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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
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


@transaction.atomic
def lead_capture(
    *, campaign: Campaign, name: str, email: str, phone: str, channels: list[str]
) -> tuple[Customer, bool]:
    """Record a submission; returns the customer and whether they are new."""
    customer = (
        Customer.objects.select_for_update().filter(email__iexact=email).order_by("id").first()
    )
    created = customer is None
    if customer is None:
        data = {
            "name": name,
            "email": email,
            "phone": phone,
            "stage": Customer.Stage.LEAD,
            "source": Customer.Source.CAMPAIGN,
        }
        customer = customer_create(data=data)
    elif phone and not customer.phone:
        # The visitor fills a blank: no one edited a form showing the customer's version.
        customer = customer_update(
            customer=customer, expected_version=NOT_A_USER_EDIT, data={"phone": phone}
        )
    source = _lead_source(campaign)
    for channel in channels:
        consent_set(customer=customer, channel=channel, granted=True, source=source, by=None)
    _mark_responded(campaign, customer)
    _log_interaction(campaign, customer)
    return customer, created


def _lead_source(campaign: Campaign) -> str:
    return f"lead form: {campaign.name}"[:100]


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
        summary=_("Filled in the lead form of the campaign “%(name)s”.") % {"name": campaign.name},
    )
