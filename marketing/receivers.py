"""How marketing reacts to what sales and customers tell it."""

import logging

from django.dispatch import receiver

from core.exchange_rates import exchange_rates_changed
from crm.lib.tasks import publish
from customers.signals import customer_erasing, customers_merged
from marketing.erasure import marketing_erase
from marketing.services.campaigns import coupon_redeem, marketing_merge
from marketing.services.loyalty import imported_orders_queue, loyalty_earn, loyalty_merge
from marketing.tasks import converted_orders
from sales.signals import order_placed, orders_imported

logger = logging.getLogger(__name__)


@receiver(order_placed, dispatch_uid="marketing-order-placed")
def order_earns_points_and_redeems_coupon(sender, *, order, **kwargs):
    """Sent after commit: loyalty points by the rule, and a campaign coupon's conversion.

    The order is already saved, so a failure here is logged rather than turned into an
    error page for the person who placed it; each step is idempotent and can be replayed.
    """
    for step in (loyalty_earn, coupon_redeem):
        try:
            step(order=order)
        except Exception:
            logger.exception("marketing: %s failed for order %s", step.__name__, order.pk)


@receiver(orders_imported, dispatch_uid="marketing-orders-imported")
def imported_orders_earn_points_and_redeem_coupons(
    sender: type, *, first_id: int, last_id: int, **kwargs: object
) -> None:
    """In the background: an import may bring a million orders."""
    imported_orders_queue(first_id=first_id, last_id=last_id)


@receiver(exchange_rates_changed, dispatch_uid="marketing-converted-orders")
def converted_orders_earn_points(sender, *, changes, **kwargs) -> None:
    """In the background: the orders a new rate converted earn the points they could not.
    (Sales converts them in its own receiver first: it is connected first, as sales is
    installed before marketing.)"""
    publish(converted_orders, {currency: day.isoformat() for currency, day in changes.items()})


@receiver(customers_merged, dispatch_uid="marketing-follow-merge")
def move_marketing_rows(sender, *, kept, duplicate, **kwargs):
    """Inside the merge transaction: recipients and the loyalty ledger follow the customer."""
    marketing_merge(kept=kept, duplicate=duplicate)
    loyalty_merge(kept=kept, duplicate=duplicate)


@receiver(customer_erasing, dispatch_uid="marketing-erase")
def erase_marketing_texts(sender, *, customer, values, **kwargs) -> int:
    """Inside the erasure transaction: recipients' bounce reasons and notes, ledger reasons."""
    return marketing_erase(customer=customer, values=values)
