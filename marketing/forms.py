"""Validation and normalisation of marketing input; forms never save."""

from datetime import date
from decimal import Decimal

from django import forms
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from analytics.models import Segment
from crm.lib.forms import DateInput, VersionField, reject_nul
from crm.lib.money import MONEY_MAX
from crm.lib.params import BoundedModelMultipleChoiceField
from customers.models import Channel, Customer, Tag
from marketing.audience_rule import MAX_LIST, AudienceRule
from marketing.lead_questions import MAX_QUESTIONS, QUESTION_MAX, questions_from_text
from marketing.models import Campaign, CampaignChannel, LoyaltyTier
from marketing.personalise import FIELD_HELP
from marketing.services.campaigns import MANUAL_TRANSITIONS, NEW_CAMPAIGN_STATUSES
from marketing.services.loyalty import MAX_POINTS

_EARLIEST = date(2000, 1, 1)
_LATEST = date(2200, 12, 31)
AUDIENCE_FIELDS = [
    "segments",
    "stages",
    "tags",
    "regions",
    "key_accounts_only",
    "ltv_min",
    "ltv_max",
    "alive_min",
    "alive_max",
    "purchased_within_days",
    "points_min",
    "tiers",
]


def _percent_field(label):
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=1,
        help_text=_("In percent, 0 to 100."),
    )


class AudienceForm(forms.Form):
    """The audience criteria; also posted alone by the live count (htmx)."""

    channel = forms.ChoiceField(label=_("Channel"), choices=CampaignChannel.choices)
    segments = forms.MultipleChoiceField(
        label=_("Segments"),
        choices=Segment.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    stages = forms.MultipleChoiceField(
        label=_("Lifecycle stages"),
        choices=Customer.Stage.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    tags = BoundedModelMultipleChoiceField(
        label=_("Tags"), queryset=Tag.objects.order_by("name"), required=False
    )
    regions = forms.CharField(
        label=_("Regions"),
        required=False,
        max_length=2000,
        validators=[reject_nul],
        help_text=_("Separate several with commas."),
    )
    key_accounts_only = forms.BooleanField(label=_("Key accounts only"), required=False)
    ltv_min = forms.DecimalField(
        label=_("Predicted value from"),
        required=False,
        min_value=0,
        max_value=MONEY_MAX,
        decimal_places=2,
    )
    ltv_max = forms.DecimalField(
        label=_("Predicted value up to"),
        required=False,
        min_value=0,
        max_value=MONEY_MAX,
        decimal_places=2,
    )
    alive_min = _percent_field(_("Probability alive from"))
    alive_max = _percent_field(_("Probability alive up to"))
    purchased_within_days = forms.IntegerField(
        label=_("Bought in the last (days)"), required=False, min_value=1, max_value=36500
    )

    points_min = forms.IntegerField(
        label=_("Loyalty points at least"), required=False, min_value=1, max_value=MAX_POINTS
    )
    tiers = BoundedModelMultipleChoiceField(
        label=_("Loyalty tiers"),
        queryset=LoyaltyTier.objects.order_by("-rank"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def clean_tags(self):
        tags = self.cleaned_data["tags"]
        if len(tags) > MAX_LIST:
            raise ValidationError(_("Choose at most %(n)s tags.") % {"n": MAX_LIST})
        return tags

    def clean_regions(self):
        names = [part.strip() for part in self.cleaned_data["regions"].split(",")]
        names = [name for name in names if name]
        if len(names) > MAX_LIST or any(len(name) > 100 for name in names):
            raise ValidationError(_("Give at most 100 regions of up to 100 characters each."))
        return names

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        raw = {
            "segments": data.get("segments") or [],
            "stages": data.get("stages") or [],
            "tags": [tag.pk for tag in data.get("tags") or []],
            "regions": data.get("regions") or [],
            "key_accounts_only": bool(data.get("key_accounts_only")),
            "ltv_min": data.get("ltv_min"),
            "ltv_max": data.get("ltv_max"),
            "alive_min": _fraction(data.get("alive_min")),
            "alive_max": _fraction(data.get("alive_max")),
            "purchased_within_days": data.get("purchased_within_days"),
            "points_min": data.get("points_min"),
            "tiers": [tier.pk for tier in data.get("tiers") or []],
        }
        try:
            data["rule"] = AudienceRule.from_dict(raw)
        except ValidationError as error:
            self.add_error(None, error)
        return data


def _fraction(percent: Decimal | None) -> float | None:
    return None if percent is None else float(percent) / 100


def audience_initial(campaign: Campaign) -> dict:
    """The form's initial values from a stored rule (percent for probabilities)."""
    rule = AudienceRule.from_dict(campaign.audience)
    initial = {
        "channel": campaign.channel,
        "segments": rule.segments,
        "stages": rule.stages,
        "tags": rule.tags,
        "regions": ", ".join(rule.regions),
        "key_accounts_only": rule.key_accounts_only,
        "ltv_min": rule.ltv_min,
        "ltv_max": rule.ltv_max,
        "purchased_within_days": rule.purchased_within_days,
        "points_min": rule.points_min,
        "tiers": rule.tiers,
    }
    for key in ("alive_min", "alive_max"):
        value = getattr(rule, key)
        initial[key] = None if value is None else round(Decimal(str(value)) * 100, 1)
    return initial


class CampaignForm(AudienceForm):
    """A campaign's fields and its audience; the owner comes from the caller's choices."""

    name = forms.CharField(label=_("Name"), max_length=200, validators=[reject_nul])
    objective = forms.CharField(
        label=_("Objective"),
        required=False,
        max_length=2000,
        validators=[reject_nul],
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    status = forms.ChoiceField(label=_("Status"), choices=[])
    owner: "forms.ModelChoiceField[User]" = forms.ModelChoiceField(
        label=_("Owner"), queryset=None, empty_label=None
    )
    budget = forms.DecimalField(
        label=_("Budget"), min_value=0, max_value=MONEY_MAX, decimal_places=2, initial=0
    )
    actual_cost = forms.DecimalField(
        label=_("Actual cost"), min_value=0, max_value=MONEY_MAX, decimal_places=2, initial=0
    )
    starts_on = forms.DateField(label=_("Starts"), required=False, widget=DateInput())
    ends_on = forms.DateField(label=_("Ends"), required=False, widget=DateInput())
    subject = forms.CharField(
        label=_("Email subject"), required=False, max_length=200, validators=[reject_nul]
    )
    body = forms.CharField(
        label=_("Message"),
        required=False,
        max_length=50000,
        validators=[reject_nul],
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    offer = forms.CharField(
        label=_("Offer"), required=False, max_length=300, validators=[reject_nul]
    )
    coupon_prefix = forms.CharField(
        label=_("Coupon code prefix"),
        required=False,
        max_length=10,
        help_text=_("Letters and digits; leave empty for a campaign without coupons."),
    )
    attribution_days = forms.IntegerField(
        label=_("Attribution window (days)"),
        min_value=1,
        max_value=365,
        initial=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    form_title = forms.CharField(
        label=_("Lead form title"),
        required=False,
        max_length=200,
        validators=[reject_nul],
        help_text=_("What visitors of the lead form see; the campaign's name stays internal."),
    )
    form_questions = forms.CharField(
        label=_("Extra questions on the lead form"),
        required=False,
        max_length=MAX_QUESTIONS * (QUESTION_MAX + 2),
        validators=[reject_nul],
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One question per line, at most five; answers are optional."),
    )
    version = VersionField(required=False)
    # Listed beside the message editor: what {{ field }} may be written, and what it holds.
    personalisation_fields = [("{{ %s }}" % name, text) for name, text in FIELD_HELP.items()]  # noqa: UP031

    field_order = ["name", "objective", "channel", "status", "owner", "budget", "actual_cost",
                   "starts_on", "ends_on", "subject", "body", "offer", "coupon_prefix",
                   "attribution_days", "form_title", "form_questions"]  # fmt: skip

    def __init__(self, *args, owners, campaign: Campaign | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        owner, status = self.fields["owner"], self.fields["status"]
        assert isinstance(owner, forms.ModelChoiceField)  # as declared above
        assert isinstance(status, forms.ChoiceField)
        owner.queryset = owners
        if campaign is None:
            wanted = NEW_CAMPAIGN_STATUSES
        else:
            wanted = {campaign.status, *MANUAL_TRANSITIONS[campaign.status]}
        allowed = [s for s in Campaign.Status if s in wanted]
        status.choices = [(s.value, s.label) for s in allowed]

    def clean_name(self):
        # One line: the name may become an email subject (a test send without one).
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError(_("Give the campaign a name."))
        return name

    def clean_form_title(self):
        return " ".join(self.cleaned_data["form_title"].split())

    def clean_form_questions(self):
        return questions_from_text(self.cleaned_data["form_questions"])

    def clean_coupon_prefix(self):
        prefix = self.cleaned_data["coupon_prefix"].strip().upper()
        if prefix and not (prefix.isascii() and prefix.isalnum()):
            raise ValidationError(_("Use only letters and digits."))
        return prefix

    def _clean_date(self, key):
        value = self.cleaned_data.get(key)
        if value and not _EARLIEST <= value <= _LATEST:
            raise ValidationError(_("Enter a date between 2000 and 2200."))
        return value

    def clean_starts_on(self):
        return self._clean_date("starts_on")

    def clean_ends_on(self):
        return self._clean_date("ends_on")

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The campaign cannot end before it starts."))
        return data

    def campaign_data(self) -> dict:
        """What the services take: the campaign's fields with the audience as JSON."""
        data = {
            key: self.cleaned_data[key] for key in self.cleaned_data if key not in AUDIENCE_FIELDS
        }
        data["audience"] = self.cleaned_data["rule"].to_dict()
        for key in ("rule", "status", "owner", "version"):
            data.pop(key, None)
        return data


class MatrixDatesForm(forms.Form):
    """The channel × segment matrix's period: recipients sent from / up to a day."""

    sent_from = forms.DateField(label=_("Sent from"), required=False, widget=DateInput())
    sent_to = forms.DateField(label=_("Sent up to"), required=False, widget=DateInput())

    def clean(self):
        data = super().clean()
        for key in ("sent_from", "sent_to"):
            value = data.get(key)
            if value and not _EARLIEST <= value <= _LATEST:
                self.add_error(key, _("Enter a date between 2000 and 2200."))
        start, end = data.get("sent_from"), data.get("sent_to")
        if start and end and end < start:
            self.add_error("sent_to", _("The end cannot be before the start."))
        return data


class LoyaltyForm(forms.Form):
    """A manual adjustment (±) or a redemption (+ points to spend)."""

    ADJUST = "adjust"
    REDEEM = "redeem"

    action = forms.ChoiceField(
        label=_("Action"),
        choices=[(ADJUST, _("Adjust the balance")), (REDEEM, _("Redeem points"))],
    )
    points = forms.IntegerField(
        label=_("Points"),
        min_value=-MAX_POINTS,
        max_value=MAX_POINTS,
        help_text=_("Adjustments may be negative; redemptions are positive."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, validators=[reject_nul])

    def clean_points(self):
        points = self.cleaned_data["points"]
        if points == 0:
            raise ValidationError(_("Enter a non-zero number of points."))
        return points

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Say why."))
        return reason

    def clean(self):
        data = super().clean()
        if data.get("action") == self.REDEEM and (data.get("points") or 0) < 0:
            self.add_error("points", _("Enter the points to redeem as a positive number."))
        return data


class PreferencesForm(forms.Form):
    """The customer's own choices on the public preferences page: withdraw only.

    A box per channel the customer has consented to, ticked; unticking withdraws it. A
    channel not granted has no box: this page cannot give consent (marketing.consent).
    """

    CHANNELS = [Channel.EMAIL, Channel.SMS, Channel.PHONE, Channel.MAIL, Channel.SOCIAL]

    def __init__(self, *args, granted: set[str], **kwargs):
        super().__init__(*args, **kwargs)
        for channel in self.CHANNELS:
            if channel.value in granted:
                self.fields[channel.value] = forms.BooleanField(
                    label=channel.label, required=False, initial=True
                )

    def withdrawn(self) -> list[str]:
        return [name for name in self.fields if not self.cleaned_data.get(name)]
