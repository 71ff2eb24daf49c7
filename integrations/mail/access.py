"""Who may read an inbound email (its original, headers and all): whoever may see the record
it became, through that record's attachment rule (core.attachments), as its files are; staff
and managers (integrations.view_inboundemail) every message that became something or was
ignored. A quarantined message (nobody has checked what it holds) only admins; an unfiled or
discarded one the rep it belongs to as well. Anyone else gets a 404, like a missing id."""

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, PermissionsMixin
from django.db import models

from core.attachments import can_view_attachments
from integrations.models import InboundEmail

User = AbstractBaseUser | AnonymousUser

ADMINS_ONLY = {InboundEmail.Status.QUARANTINED}
OWNER_OR_ADMINS = {InboundEmail.Status.UNFILED, InboundEmail.Status.DISCARDED}


def inbound_result(inbound: InboundEmail) -> models.Model | None:
    """The record the message became (a ticket, a ticket message, an interaction), if any."""
    if not (inbound.result_type and inbound.result_id):
        return None
    try:
        model = apps.get_model(inbound.result_type)
        return model._default_manager.filter(pk=inbound.result_id).first()
    except (LookupError, ValueError, TypeError):  # a label or id that no longer fits
        return None


def can_view_inbound(user: User, inbound: InboundEmail) -> bool:
    if not (user.is_authenticated and isinstance(user, PermissionsMixin)):
        return False
    if user.is_superuser:
        return True
    if inbound.status in ADMINS_ONLY:
        return False
    if inbound.status in OWNER_OR_ADMINS:
        return inbound.owner_id is not None and inbound.owner_id == user.pk
    if getattr(user, "is_staff", False) or user.has_perm("integrations.view_inboundemail"):
        return True
    return can_view_attachments(user, inbound_result(inbound))
