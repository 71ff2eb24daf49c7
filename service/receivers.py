"""How the service desk reacts to what the customers app tells it."""

from django.dispatch import receiver
from django.utils.translation import gettext_noop

from customers.signals import customer_erasing, customers_merged
from service.erasure import service_erase
from service.models import Ticket


@receiver(customers_merged, dispatch_uid="service-follow-merge")
def move_tickets(sender, *, kept, duplicate, **kwargs) -> dict[str, int]:
    """A merged duplicate's tickets belong to the customer that is kept (tickets protect
    their customer from deletion, so the merge needs this)."""
    return {
        gettext_noop("tickets"): Ticket.objects.filter(customer=duplicate).update(customer=kept)
    }


@receiver(customer_erasing, dispatch_uid="service-erase")
def erase_ticket_texts(sender, *, customer, values, **kwargs) -> int:
    """Inside the erasure transaction: ticket texts, requesters, messages and CSAT comments
    go."""
    return service_erase(customer=customer, values=values)
