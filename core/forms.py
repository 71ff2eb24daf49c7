"""Forms of Django's own flows whose email goes through the outbox."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.translation import gettext, gettext_lazy

from core.api_tokens import EXPIRY_DAYS
from core.models import ApiToken, NotificationPreference, UserProfile
from core.notifications import NOTIFICATION_KINDS
from core.services import outbox_email_enqueue


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's password reset, its email queued in the outbox instead of sent in the request
    (a mail server that refuses or hangs must not answer the user with an error or a wait)."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        body = render_to_string(email_template_name, context)
        message = EmailMultiAlternatives(subject, body, from_email, [to_email])
        if html_email_template_name is not None:
            message.attach_alternative(
                render_to_string(html_email_template_name, context), "text/html"
            )
        outbox_email_enqueue(message=message, about=context.get("user"))


class OneTimeCodeForm(forms.Form):
    """The six digits an authenticator app shows (spaces allowed, as some apps group them)."""

    code = forms.CharField(
        label=gettext_lazy("Code from your authenticator app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            raise forms.ValidationError(gettext_lazy("Enter the 6 digits your app shows."))
        return code


class ApiTokenForm(forms.Form):
    """A new personal API token: its name, scope and lifetime (core.api_tokens)."""

    NEVER = "never"

    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("What uses it, e.g. “Web shop”."),
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("Scope"), choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ
    )
    expires = forms.ChoiceField(label=gettext_lazy("Expires"), initial="90")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Built per form, in the request's language (a lazy string formatted at import is not).
        self.fields["expires"].choices = [  # type: ignore[attr-defined]
            *((str(days), gettext("In %(days)d days") % {"days": days}) for days in EXPIRY_DAYS),
            (self.NEVER, gettext("Never")),
        ]

    def clean_name(self) -> str:
        return self.cleaned_data["name"].replace("\x00", "").strip()

    def expires_in_days(self) -> int | None:
        value = self.cleaned_data["expires"]
        return None if value == self.NEVER else int(value)


class NotificationPreferencesForm(forms.Form):
    """One choice per kind of notification: in the app only, by email at once, or a digest."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind, label in NOTIFICATION_KINDS.items():
            self.fields[kind] = forms.ChoiceField(
                label=label,
                choices=NotificationPreference.Delivery.choices,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )


class UserProfileForm(forms.ModelForm):
    """A user's own language, phone and job title (core.profiles)."""

    class Meta:
        model = UserProfile
        fields = ["language", "phone", "job_title"]
        widgets = {
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "job_title": forms.TextInput(attrs={"autocomplete": "organization-title"}),
        }
        help_texts = {
            "language": gettext_lazy(
                "Pages after you sign in, and the emails the CRM sends you, are in this language."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [  # type: ignore[attr-defined]
            ("", gettext_lazy("As my browser asks")),
            *settings.LANGUAGES,
        ]

    def clean_phone(self) -> str:
        return " ".join(self.cleaned_data["phone"].split())

    def clean_job_title(self) -> str:
        return " ".join(self.cleaned_data["job_title"].split())
