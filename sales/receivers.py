"""How sales reacts to what the customers app tells it."""

from django.dispatch import receiver

from customers.signals import customers_merged
from sales.models import Deal, Order


@receiver(customers_merged, dispatch_uid="sales-follow-merge")
def move_deals_and_orders(sender, *, kept, duplicate, **kwargs):
    """A merged duplicate's deals and orders belong to the customer that is kept."""
    Deal.objects.filter(customer=duplicate).update(customer=kept)
    Order.objects.filter(customer=duplicate).update(customer=kept)
