"""Sign-ins, failed sign-ins and sign-outs in the audit log (Django's auth signals), and a
removed two-factor device (an admin's reset; Django admin's own log names the admin)."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import two_factor
from core.audit import audit_record
from core.models import AuditEvent
from core.profiles import remember_sign_in_language


@receiver(user_logged_in, dispatch_uid="audit-sign-in")
def _signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(AuditEvent.Action.SIGN_IN, request=request, actor=user)


@receiver(user_logged_in, dispatch_uid="two-factor-state")
def _two_factor_state(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Whether this sign-in still needs a code or an enrolment (core/two_factor.py)."""
    if request is not None and hasattr(request, "session"):
        two_factor.remember_state(request, user)


@receiver(user_logged_in, dispatch_uid="sign-in-language")
def _sign_in_language(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """The language chosen in the user's profile follows them to any browser."""
    if request is not None:
        remember_sign_in_language(request, user)


@receiver(user_logged_out, dispatch_uid="audit-sign-out")
def _signed_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(AuditEvent.Action.SIGN_OUT, request=request, actor=user)


@receiver(user_login_failed, dispatch_uid="audit-sign-in-failed")
def _sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # The username that was tried (credentials hold no password: Django masks it).
    audit_record(
        AuditEvent.Action.SIGN_IN_FAILED,
        request=request,
        actor_name=str(credentials.get("username", "")),
    )


@receiver(post_delete, sender=TOTPDevice, dispatch_uid="audit-two-factor-reset")
def _device_removed(sender: Any, instance: TOTPDevice, **kwargs: Any) -> None:
    if instance.confirmed:  # an abandoned enrolment's spare secret is not worth a line
        audit_record(AuditEvent.Action.TWO_FACTOR_RESET, target=instance.user)
