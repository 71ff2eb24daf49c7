"""How sales reacts to what the customers app tells it."""

from django.dispatch import receiver

from customers.demo import demo_data_seeded
from customers.signals import customers_merged
from sales.models import Deal, Order


@receiver(demo_data_seeded, dispatch_uid="sales-demo-data")
def add_sales_demo_data(sender, *, rng, users, customer_ids, today, **kwargs):
    from sales.demo import seed_sales

    seed_sales(rng=rng, users=users, customer_ids=customer_ids, today=today)


@receiver(customers_merged, dispatch_uid="sales-follow-merge")
def move_deals_and_orders(sender, *, kept, duplicate, **kwargs):
    """A merged duplicate's deals and orders belong to the customer that is kept."""
    Deal.objects.filter(customer=duplicate).update(customer=kept)
    Order.objects.filter(customer=duplicate).update(customer=kept)
