"""Orders that another system knows by its own number (the API's web shop): placed like
any order the first time, replaced when the number comes again (split from services.py)."""

import re
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from customers.models import Customer
from sales.models import Order, OrderLine
from sales.money import totals
from sales.services import clean_lines, order_create
from sales.signals import order_placed

# Numbers the CRM gives (sales.numbering.save_with_next_number): another system may not take one for a
# new order, or the CRM's next number would collide with it.
_CRM_NUMBER = re.compile(r"(?:SO|Q)-\d{4}-")


@transaction.atomic
def order_upsert(
    *,
    number: str,
    replaceable: QuerySet[Order],
    customer: Customer,
    ordered_at: datetime,
    lines: list[dict],
    channel: str = Order.Channel.WEB,
    coupon_code: str = "",
    currency: str | None = None,
) -> tuple[Order, bool]:
    """The order another system knows by `number`: placed like any order (order_create) the
    first time, replaced (its lines too) when that number comes again and the order is one
    of `replaceable` (the caller's). Returns the order and whether it was created. Two
    requests racing with one number make one order: the second waits on the unique
    constraint, then replaces it."""
    fields: dict[str, Any] = {
        "customer": customer,
        "ordered_at": ordered_at,
        "lines": lines,
        "channel": channel,
        "coupon_code": coupon_code,
        "currency": currency,
    }
    existing = Order.objects.select_for_update().filter(number=number).first()
    if existing is None:
        if _CRM_NUMBER.match(number):
            raise ValidationError({"number": _("Numbers like SO-2026-… are the CRM's own.")})
        try:
            with transaction.atomic():
                return order_create(number=number, **fields), True
        except IntegrityError:
            existing = Order.objects.select_for_update().filter(number=number).first()
            if existing is None:
                raise
    if not replaceable.filter(pk=existing.pk).exists():
        raise ValidationError(
            {"number": _("An order with this number exists and you may not change it.")}
        )
    return _order_replace(order=existing, **fields), False


def _order_replace(
    *,
    order: Order,
    customer: Customer,
    ordered_at: datetime,
    lines: list[dict],
    channel: str,
    coupon_code: str,
    currency: str | None,
) -> Order:
    """Everything of a (locked) order but its number, deal and quote, replaced; the
    receivers of order_placed run again (each is idempotent per order: points are earned
    once, a coupon newly on the order is redeemed, spend and tier are recounted)."""
    if order.quote_id is not None:
        raise ValidationError({"number": _("This order was made from a quote; it cannot change.")})
    order.customer, order.ordered_at, order.channel = customer, ordered_at, channel
    order.coupon_code = coupon_code.strip()
    if currency:
        order.currency = currency
    built = clean_lines(OrderLine, "order", order, lines)
    order.total = totals(built).total
    order.full_clean(validate_unique=False, validate_constraints=False)
    order.save()
    order.lines.all().delete()
    OrderLine.objects.bulk_create(built)
    transaction.on_commit(lambda: order_placed.send(sender=Order, order=order))
    return order
