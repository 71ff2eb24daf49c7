"""Forms of Django's own flows whose email goes through the outbox."""

from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy

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
