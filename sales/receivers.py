"""How sales reacts to what the customers app tells it."""

from django.dispatch import receiver

from core.exchange_rates import exchange_rates_changed
from customers.signals import customer_erasing, customers_merged
from sales.erasure import sales_erase
from sales.models import Deal, Order
from sales.reporting_totals import orders_reconvert


@receiver(customers_merged, dispatch_uid="sales-follow-merge")
def move_deals_and_orders(sender, *, kept, duplicate, **kwargs) -> dict[str, int]:
    """A merged duplicate's deals and orders belong to the customer that is kept (the
    answer counts them for the merge's record)."""
    return {
        "sales.deal": Deal.objects.filter(customer=duplicate).update(customer=kept),
        "sales.order": Order.objects.filter(customer=duplicate).update(customer=kept),
    }


@receiver(customer_erasing, dispatch_uid="sales-erase")
def erase_sales_texts(sender, *, customer, values, **kwargs) -> int:
    """Inside the erasure transaction: deal, quote and order texts lose the customer's data."""
    return sales_erase(customer=customer, values=values)


@receiver(exchange_rates_changed, dispatch_uid="sales-reconvert-orders")
def reconvert_orders(sender, *, changes, **kwargs) -> int:
    """New or changed rates: the orders they cover get their reporting total again (inline:
    rates change rarely, and it is one UPDATE per currency)."""
    return orders_reconvert(changes)
