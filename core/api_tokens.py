"""Personal API tokens (core.models.ApiToken): made, found and revoked here only.

A token reads `crm_<prefix>_<secret>`: the prefix (8 hex characters) is stored in clear so
its owner recognises it; the database keeps only the SHA-256 of the whole token, so the
token is shown once, when it is made. A lookup hashes what the client sent and finds the
row by that hash (unique index): no secret to compare, nothing to time.
"""

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from core.audit import audit_record
from core.models import ApiToken, AuditEvent

TOKEN_PREFIX = "crm_"  # noqa: S105 - the public start of every token, not a secret
MAX_TOKEN_LENGTH = 100
# last_used_at is written at most this often per token: a busy integration does not
# turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
EXPIRY_DAYS = (30, 90, 365)  # the form's choices, and "never"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *,
    user: User,
    name: str,
    scope: str,
    expires_in_days: int | None,
    request: HttpRequest | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `user` and its secret text, which is never stored nor shown again."""
    prefix = secrets.token_hex(4)
    while ApiToken.objects.filter(prefix=prefix).exists():  # 1 in 4 billion
        prefix = secrets.token_hex(4)
    text = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    now = timezone.now()
    token = ApiToken(
        user=user,
        name=name,
        prefix=prefix,
        secret_hash=token_hash(text),
        scope=scope,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
        created_at=now,
    )
    token.full_clean()
    token.save()
    _audit(token, "created", user=user, request=request)
    return token, text


@transaction.atomic
def api_token_revoke(*, token: ApiToken, by: User, request: HttpRequest | None = None) -> ApiToken:
    """Refuse the token from now on; the row stays, so the list says when it was revoked."""
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        _audit(locked, "revoked", user=by, request=request)
    return locked


def _audit(token: ApiToken, event: str, *, user: User, request: HttpRequest | None) -> None:
    audit_record(
        AuditEvent.Action.API_TOKEN,
        request=request,
        actor=user,
        target=token,
        detail={
            "event": event,
            "name": token.name,
            "prefix": token.prefix,
            "scope": token.scope,
            "owner": token.user.get_username(),
        },
    )


def api_token_find(text: str) -> ApiToken | None:
    """The usable token the client sent (with its user), or None: unknown, revoked or
    expired. The user's own state (inactive) is the caller's to check."""
    if not text.startswith(TOKEN_PREFIX) or len(text) > MAX_TOKEN_LENGTH:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(secret_hash=token_hash(text), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.is_usable():
        return None
    return token


def api_token_touch(token: ApiToken) -> None:
    """Record the use, at most once a minute: an UPDATE only when the stored time is older
    (a conditional update, so concurrent requests write it once)."""
    now = timezone.now()
    stale = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at > stale:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)
    ).update(last_used_at=now)
    token.last_used_at = now


def api_tokens_of(user: User | AnonymousUser) -> QuerySet[ApiToken]:
    """The user's own tokens, newest first (revoked ones included, marked as such)."""
    if not user.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")
