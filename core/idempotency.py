"""Idempotency keys: a request that carries a key takes effect once (the writes of
core.models.IdempotencyKey).

The first request with a key inserts it as "pending" (committed at once, outside the
view's transactions, so the view's own transactions and on-commit hooks behave as
always); the unique (scope, key) constraint makes a second insert fail. On PostgreSQL a
second insert racing the first waits for the first's tiny transaction, then fails.
The request that lost waits for the winner to finish (`idempotency_wait`) and answers
its stored result. When the winner did not succeed it removes the key, and the waiting
request takes its turn: a failed attempt never blocks a retry.

A key left "pending" by a process that died (killed mid-request) is taken over after
ABANDONED_AFTER, longer than any request may run (gunicorn's timeout).
"""

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.models import IdempotencyKey

ABANDONED_AFTER = timedelta(minutes=10)
POLL_SECONDS = 0.05


def _user_id(user: AbstractBaseUser | AnonymousUser | None) -> int | None:
    return user.pk if user is not None and user.is_authenticated else None


def idempotency_key_claim(
    *, scope: str, key: str, user: AbstractBaseUser | AnonymousUser | None
) -> IdempotencyKey | None:
    """Insert the key as pending and return it; None when the key exists already (a
    pending key abandoned by a dead process is replaced)."""
    for _attempt in range(2):
        try:
            with transaction.atomic():
                return IdempotencyKey.objects.create(scope=scope, key=key, user_id=_user_id(user))
        except IntegrityError:
            if not _drop_abandoned(scope=scope, key=key):
                return None
    return None


def _drop_abandoned(*, scope: str, key: str) -> int:
    deleted, _by_model = IdempotencyKey.objects.filter(
        scope=scope,
        key=key,
        state=IdempotencyKey.State.PENDING,
        created_at__lt=timezone.now() - ABANDONED_AFTER,
    ).delete()
    return deleted


def idempotency_key_complete(
    *, claimed: IdempotencyKey, status: int, location: str = "", body: object = None
) -> None:
    """Store the first request's successful result, for every later request to replay."""
    IdempotencyKey.objects.filter(pk=claimed.pk).update(
        state=IdempotencyKey.State.DONE,
        response_status=status,
        response_location=location[:2000],
        response_body=body,
        completed_at=timezone.now(),
    )


def idempotency_key_release(*, claimed: IdempotencyKey) -> None:
    """The first request did not succeed: forget the key, so it may be submitted again."""
    IdempotencyKey.objects.filter(pk=claimed.pk, state=IdempotencyKey.State.PENDING).delete()


def idempotency_wait(*, scope: str, key: str, seconds: float) -> IdempotencyKey | None:
    """The key's row once it is done, or still pending after `seconds`; None when it was
    released (the first request failed: the caller may claim it)."""
    deadline = time.monotonic() + seconds
    while True:
        row = IdempotencyKey.objects.filter(scope=scope, key=key).first()
        if row is None or row.state == IdempotencyKey.State.DONE:
            return row
        if time.monotonic() >= deadline:
            return row
        time.sleep(POLL_SECONDS)


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """The beat job: delete keys older than CRM_IDEMPOTENCY_KEY_HOURS. A form older than
    that submitted again runs again (it would be refused by its own checks or is new)."""
    cutoff = (now or timezone.now()) - timedelta(hours=settings.CRM_IDEMPOTENCY_KEY_HOURS)
    deleted, _by_model = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
