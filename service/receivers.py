"""How the service desk reacts to what the customers app tells it."""

import importlib.util

from django.dispatch import receiver

from customers.demo import demo_data_seeded
from customers.signals import customers_merged
from service.models import Ticket


@receiver(demo_data_seeded, dispatch_uid="service-demo-data")
def add_service_demo_data(sender, *, rng, users, customer_ids, today, **kwargs):
    from service.demo import seed_service

    seed_service(rng=rng, users=users, customer_ids=customer_ids, today=today)
    if importlib.util.find_spec("service.knowledge_demo") is not None:
        from service.knowledge_demo import seed_articles

        seed_articles(rng=rng, users=users)


@receiver(customers_merged, dispatch_uid="service-follow-merge")
def move_tickets(sender, *, kept, duplicate, **kwargs):
    """A merged duplicate's tickets belong to the customer that is kept (tickets protect
    their customer from deletion, so the merge needs this)."""
    Ticket.objects.filter(customer=duplicate).update(customer=kept)
