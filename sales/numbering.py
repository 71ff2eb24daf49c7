"""Quote and order numbers the CRM gives: Q-2026-000042 style, per prefix and year."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from sales.models import Order, Quote


def next_number(prefix: str, model: type[Quote] | type[Order]) -> str:
    """Q-2026-000042 style numbers, counting per prefix and year."""
    year = timezone.localdate().year
    stem = f"{prefix}-{year}-"
    last = (
        model.objects.filter(number__startswith=stem)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{stem}{sequence:06d}"


def save_with_next_number(instance: Quote | Order, *, prefix: str, attempts: int = 5) -> None:
    """Save with the next free number; two users saving at once both get one (unique index)."""
    for attempt in range(attempts):
        instance.number = next_number(prefix, type(instance))
        instance.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                instance.save()
            return
        except IntegrityError:
            if attempt == attempts - 1:
                raise
