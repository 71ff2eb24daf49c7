"""How sales reacts to what the customers app tells it."""

from django.dispatch import receiver
from django.utils.translation import gettext_noop

from customers.signals import customer_erasing, customers_merged
from sales.erasure import sales_erase
from sales.models import Deal, Order


@receiver(customers_merged, dispatch_uid="sales-follow-merge")
def move_deals_and_orders(sender, *, kept, duplicate, **kwargs) -> dict[str, int]:
    """A merged duplicate's deals and orders belong to the customer that is kept; the
    counts go on the merge's record (English names, translated when shown)."""
    return {
        gettext_noop("deals"): Deal.objects.filter(customer=duplicate).update(customer=kept),
        gettext_noop("orders"): Order.objects.filter(customer=duplicate).update(customer=kept),
    }


@receiver(customer_erasing, dispatch_uid="sales-erase")
def erase_sales_texts(sender, *, customer, values, **kwargs) -> int:
    """Inside the erasure transaction: deal, quote and order texts lose the customer's data."""
    return sales_erase(customer=customer, values=values)
