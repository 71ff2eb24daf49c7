"""Claiming due rows for delivery: one pattern for the outbox and the webhook deliveries.

A row that waits for a worker is "pending" with a `next_attempt_at`; a worker claims a
batch (status "sending", `claimed_at`, a fresh `claim_token`), renews its claims after
each item (its sign of life), and gives back what it did not try. Each model keeps its
own rules for success, failure and stale claims; only the claim itself is shared.

The model needs the fields `status`, `next_attempt_at`, `claimed_at` and `claim_token`.
"""

import uuid
from datetime import datetime

from django.db import connection, models, transaction
from django.utils import timezone

PENDING, SENDING = "pending", "sending"


def claim_due(
    due: models.QuerySet, *, now: datetime, limit: int, order_by: tuple[str, ...] = ("pk",)
) -> tuple[uuid.UUID, list[int]]:
    """Mark up to `limit` rows of `due` (already filtered to what may go now) as sending
    under a fresh token; returns the token and the ids actually claimed."""
    token = uuid.uuid4()
    model = due.model
    with transaction.atomic():
        due = due.filter(status=PENDING).order_by(*order_by)
        if connection.features.has_select_for_update_skip_locked:
            # of=self: the rows of joined tables (an endpoint) are not locked with them.
            due = due.select_for_update(skip_locked=True, of=("self",))
        claimed = list(due.values_list("pk", flat=True)[:limit])
        # The status condition keeps a plain claim (SQLite) from taking a row twice.
        model.objects.filter(pk__in=claimed, status=PENDING).update(
            status=SENDING, claimed_at=now, claim_token=token
        )
    taken = model.objects.filter(pk__in=claimed, claim_token=token)
    return token, list(taken.values_list("pk", flat=True))


def renew_claims(model: type[models.Model], ids: list[int], token: uuid.UUID) -> None:
    """The worker's sign of life: its remaining claims are not stale."""
    if ids:
        model._default_manager.filter(pk__in=ids, claim_token=token).update(
            claimed_at=timezone.now()
        )


def unclaim(model: type[models.Model], ids: list[int], token: uuid.UUID) -> None:
    """Give rows back without counting an attempt (none was made)."""
    if ids:
        model._default_manager.filter(pk__in=ids, claim_token=token).update(
            status=PENDING, claimed_at=None, claim_token=None
        )
