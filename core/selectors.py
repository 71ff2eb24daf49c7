"""Reads of the outbox and of the exports."""

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet

from core.models import ExportFile, OutboxMessage


def outbox_about(about: models.Model) -> QuerySet[OutboxMessage]:
    """The messages about one object, newest first."""
    return OutboxMessage.objects.filter(
        about_type=ContentType.objects.get_for_model(about), about_id=str(about.pk)
    )


def outbox_about_any(model: type[models.Model], ids: QuerySet | list) -> QuerySet[OutboxMessage]:
    """The messages about any of `ids` (a list, or a queryset of ids as strings) of `model`."""
    return OutboxMessage.objects.filter(
        about_type=ContentType.objects.get_for_model(model), about_id__in=ids
    )


def outbox_troubled(messages: QuerySet[OutboxMessage]) -> QuerySet[OutboxMessage]:
    """Those that failed, or are waiting for a retry after a failed attempt."""
    return messages.filter(
        Q(status=OutboxMessage.Status.FAILED)
        | Q(status=OutboxMessage.Status.PENDING, attempts__gt=0)
    )


EXPORTS_SHOWN = 20


def exports_of(user) -> QuerySet[ExportFile]:
    """The user's own background exports, newest first (nobody sees another's files)."""
    if not user.is_authenticated:
        return ExportFile.objects.none()
    return ExportFile.objects.filter(owner=user)[:EXPORTS_SHOWN]
