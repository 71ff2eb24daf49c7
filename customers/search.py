"""What the global search finds among customers and contacts (crm.lib.search)."""

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.lib.search import SearchHit, SearchSource, User, register_search_source, search_words
from customers.models import Contact
from customers.selectors import customers_visible_to, search_customers


def _customers(user: User, text: str, limit: int) -> list[SearchHit]:
    customers = search_customers(customers_visible_to(user), text).order_by("name", "id")
    return [
        SearchHit(
            title=customer.name,
            detail=" · ".join(
                filter(None, [customer.organization, customer.email, customer.phone])
            ),
            url=customer.get_absolute_url(),
        )
        for customer in customers[:limit]
    ]


def _contacts(user: User, text: str, limit: int) -> list[SearchHit]:
    condition = Q()
    for word in search_words(text):
        condition &= Q(name__icontains=word) | Q(email__icontains=word) | Q(phone__icontains=word)
    contacts = (
        Contact.objects.filter(customer__in=customers_visible_to(user))
        .filter(condition)
        .select_related("customer")
        .order_by("name", "id")
    )
    return [
        SearchHit(
            title=contact.name,
            detail=" · ".join(filter(None, [contact.customer.name, contact.email, contact.phone])),
            url=reverse("customers:customer-detail", args=[contact.customer_id]),
        )
        for contact in contacts[:limit]
    ]


def register_customer_search() -> None:
    register_search_source(
        SearchSource("customers", _("Customers"), "customers.view_customer", _customers, order=10)
    )
    register_search_source(
        SearchSource("contacts", _("Contacts"), "customers.view_customer", _contacts, order=20)
    )
