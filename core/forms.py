"""Forms of Django's own flows whose email goes through the outbox."""

from typing import Any

from django.contrib.auth.forms import PasswordResetForm
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

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
