"""What the customers app tells people (core.notifications): a customer assigned to you by
someone else, and a mention of you (`@username`) in an interaction's summary."""

from django.contrib.auth.models import User
from django.urls import reverse
from django.utils.translation import gettext_noop

from core.notifications import notify, notify_mentions
from customers.models import Customer, Interaction


def customer_assigned_notify(*, customer: Customer, by: User | None) -> None:
    """Tell the new owner, unless they gave it to themselves (or nobody did: an import)."""
    owner = customer.owner
    if owner is None or by is None:
        return
    notify(
        recipient=owner,
        kind="assigned",
        message=gettext_noop("%(user)s assigned you the customer %(name)s"),
        params={"user": by.get_username(), "name": customer.name},
        url=customer.get_absolute_url(),
        actor=by,
    )


def customers_assigned_notify(*, owner: User, count: int, by: User) -> None:
    """One notification for a bulk assignment, however many customers it moved."""
    if count:
        notify(
            recipient=owner,
            kind="assigned",
            message=gettext_noop("%(user)s assigned you %(count)d customers"),
            params={"user": by.get_username(), "count": count},
            url=f"{reverse('customers:customer-list')}?owner={owner.pk}",
            actor=by,
        )


def interaction_mentions_notify(*, interaction: Interaction) -> None:
    customer = interaction.customer
    notify_mentions(
        text=interaction.summary,
        author=interaction.logged_by,
        message=gettext_noop("%(name)s mentioned you in a note on %(customer)s"),
        params={"customer": customer.name},
        url=customer.get_absolute_url(),
        key=f"mention:interaction:{interaction.pk}",
    )
