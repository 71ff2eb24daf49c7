"""Forms of meetings (interactions with a start, an end and attendees) and of snoozing a task."""

from datetime import timedelta

from django import forms
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.lib.forms import DateTimeInput
from customers.models import Contact, Customer
from customers.reminders import SNOOZE_CHOICES

MAX_MEETING = timedelta(days=1)


class MeetingForm(forms.Form):
    summary = forms.CharField(label=_("Subject"), max_length=500)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=DateTimeInput())
    ends_at = forms.DateTimeField(label=_("Ends"), widget=DateTimeInput())
    attendees = forms.ModelMultipleChoiceField(
        label=_("Colleagues"), queryset=User.objects.none(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )  # fmt: skip
    contacts = forms.ModelMultipleChoiceField(
        label=_("Contacts"), queryset=Contact.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip

    def __init__(self, *args, customer: Customer, colleagues: QuerySet[User], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attendees"].queryset = colleagues  # type: ignore[attr-defined]
        self.fields["contacts"].queryset = customer.contacts.all()  # type: ignore[attr-defined]
        start = timezone.localtime().replace(minute=0, second=0, microsecond=0)
        self.fields["starts_at"].initial = start + timedelta(days=1)
        self.fields["ends_at"].initial = start + timedelta(days=1, hours=1)

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and not (2000 <= starts.year <= 2100):
            self.add_error("starts_at", _("Enter a date between 2000 and 2100."))
        elif starts and ends and not (starts < ends <= starts + MAX_MEETING):
            self.add_error("ends_at", _("A meeting ends after it starts, within a day."))
        return data


class SnoozeForm(forms.Form):
    until = forms.ChoiceField(choices=[(choice, choice) for choice in SNOOZE_CHOICES])
