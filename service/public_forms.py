"""The public self-service forms (/help/): validation only, every field limited."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.attachment_forms import MultipleFileField
from service.models import Ticket

DESCRIPTION_MAX = 20_000
# The public form takes fewer and smaller files than staff pages (anyone can send it).
PUBLIC_MAX_FILES = 5
PUBLIC_MAX_FILE_BYTES = 10 * 1024 * 1024
REPLY_MAX = 20_000


# Django fills in the limit and the text's length.
_TOO_LONG = _("Keep it under %(limit_value)s characters (this text has %(show_value)s).")


class HelpSearchForm(forms.Form):
    q = forms.CharField(label=_("Search the help articles"), required=False, max_length=200)


class SubmitForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Your email"), max_length=254)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("How can we help?"),
        max_length=DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 7}),
        help_text=_("Up to 20,000 characters. Please do not send passwords."),
    )
    category = forms.ChoiceField(
        label=_("Type of request"),
        choices=Ticket.Category.choices,
        initial=Ticket.Category.QUESTION,
    )
    # The honeypot: hidden from people by CSS, filled in by naive bots.
    website = forms.CharField(label=_("Leave this field empty"), required=False, max_length=200)
    # Last: the limits stop reading files while they stream in, and the fields sent before
    # them (what the visitor typed) still arrive to be shown again with the reason.
    attachments = MultipleFileField(
        max_files=PUBLIC_MAX_FILES,
        max_file_bytes=PUBLIC_MAX_FILE_BYTES,
        label=_("Photos or documents (optional)"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One wording for every field's limit, the length shown by the browser's maxlength too.
        for name in ("name", "email", "subject", "description"):
            self.fields[name].error_messages["max_length"] = _TOO_LONG
            self.fields[name].widget.attrs["maxlength"] = self.fields[name].max_length
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["name"].widget.attrs["autocomplete"] = "name"

    def clean_name(self):
        return _collapsed(self.cleaned_data["name"], _("Tell us your name."))

    def clean_subject(self):
        return _collapsed(self.cleaned_data["subject"], _("Give your request a subject."))

    def clean_description(self):
        text = self.cleaned_data["description"].strip()
        if not text:
            raise forms.ValidationError(_("Describe your request."))
        return text

    def clean_email(self):
        return self.cleaned_data["email"].strip()

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"),
        max_length=REPLY_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["body"].error_messages["max_length"] = _TOO_LONG
        self.fields["body"].widget.attrs["maxlength"] = REPLY_MAX

    def clean_body(self):
        text = self.cleaned_data["body"].strip()
        if not text:
            raise forms.ValidationError(_("Write a reply."))
        return text


class CsatForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How satisfied are you with how we handled your request?"),
        choices=[(n, str(n)) for n in range(1, 6)],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 5000}),
    )


def _collapsed(value: str, empty_message) -> str:
    text = " ".join(value.split())
    if not text:
        raise forms.ValidationError(empty_message)
    return text
