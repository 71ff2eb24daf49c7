"""The audit log's one writer: `audit_record(...)` in the caller's transaction.

    audit_record(AuditEvent.Action.EXPORT, request=request, target=Customer,
                 rows=count, detail={"filter": request.GET.dict()})

An audited action that rolls back leaves no entry; one that commits always has one.
"""

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import models
from django.http import HttpRequest

from core.models import AuditEvent
from crm.lib.personal_data import mentioning, scrub
from crm.lib.ratelimit import client_ip

DETAIL_VALUE_MAX = 500  # characters per value: a filter is short, a pasted essay is not


def audit_record(
    action: str,
    *,
    request: HttpRequest | None = None,
    actor: User | AnonymousUser | None = None,
    actor_name: str = "",
    target: models.Model | type[models.Model] | None = None,
    rows: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record `action` by `actor` (default: the request's user) on `target` (an object, or a
    model class for an action on many rows)."""
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    user = actor if actor is not None and actor.is_authenticated else None
    target_type, target_id = _target(target)
    return AuditEvent.objects.create(
        action=action,
        actor=user,
        actor_name=(user.get_username() if user else actor_name).replace("\x00", "")[:150],
        target_type=target_type,
        target_id=target_id,
        rows=rows,
        detail=_bounded(detail or {}),
        ip_address=_address(request),
    )


def _target(target: models.Model | type[models.Model] | None) -> tuple[str, str]:
    if target is None:
        return "", ""
    label = target._meta.label_lower
    if isinstance(target, models.Model):
        return label, str(target.pk)
    return label, ""


def _address(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    address = client_ip(request)
    return None if address == "unknown" else address


def _bounded(detail: dict[str, Any]) -> dict[str, Any]:
    """Long strings cut, NULs dropped (PostgreSQL's jsonb refuses \\u0000)."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("\x00", "")[:DETAIL_VALUE_MAX]
        if isinstance(value, dict):
            return {str(k)[:100]: clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value][:100]
        return value

    return clean(detail)


def audit_scrub(values: list[str]) -> int:
    """An erasure: the values (a search for the customer's email in an export's filter)
    are scrubbed from the details; the events themselves stay. Returns how many changed."""
    changed = 0
    for event in AuditEvent.objects.filter(mentioning("detail", values)):
        event.detail = _scrubbed(event.detail, values)
        event.save(update_fields=["detail"])
        changed += 1
    return changed


def _scrubbed(value: Any, values: list[str]) -> Any:
    if isinstance(value, str):
        return scrub(value, values)
    if isinstance(value, dict):
        return {scrub(k, values): _scrubbed(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, values) for v in value]
    return value
