"""Who may see and add the files of a customer and of its interactions (core.attachments).

Reading a customer's profile is open to every role (DESIGN.md, Roles), but the files held on
a customer (contracts, scans, emails' attachments) are not: they are for whoever works the
customer (its owner, managers, service agents), so another rep's customer's file is 404."""

from typing import Any

from django.contrib.auth.models import AnonymousUser, User

from core.attachments import register_attachment_owner
from customers.models import Customer, Interaction
from customers.selectors import can_edit_customer, can_work_customer


def may_see_customer_files(user: User | AnonymousUser, customer: Customer) -> bool:
    return can_work_customer(user, customer) or can_edit_customer(user, customer)


def _interaction_files(user: Any, interaction: Any) -> bool:
    return may_see_customer_files(user, interaction.customer)


def _interaction_page(interaction: Any) -> str:
    return interaction.customer.get_absolute_url()


def register_customer_attachments() -> None:
    register_attachment_owner(Customer, can_view=may_see_customer_files)  # type: ignore[arg-type]
    register_attachment_owner(Interaction, can_view=_interaction_files, page_url=_interaction_page)
