"""The webhook endpoint form: validation only (the service saves and checks the URL again)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.events import EVENT_TYPES
from integrations.webhook_http import UnsafeURLError, check_url


class WebhookEndpointForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        required=False,
        help_text=_("What receives the events, for example “Web shop”."),
    )
    url = forms.URLField(
        label=_("URL"),
        max_length=2000,
        assume_scheme="https",
        help_text=_("Where the events are posted: an https:// address on the internet."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=list(EVENT_TYPES.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event.")},
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            check_url(url)
        except UnsafeURLError as error:
            raise forms.ValidationError(str(error)) from error
        return url
