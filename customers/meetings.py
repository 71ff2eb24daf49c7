"""Meetings: interactions on the "meeting" channel with a start (occurred_at), an end and
attendees (colleagues and the customer's contacts); the calendar feed lists them."""

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction

from customers.models import MEETING, Contact, Customer, Interaction


@transaction.atomic
def meeting_schedule(
    *,
    customer: Customer,
    organizer: User,
    summary: str,
    starts_at: datetime,
    ends_at: datetime,
    attendees: Iterable[User] = (),
    contacts: Iterable[Contact] = (),
) -> Interaction:
    """The organizer attends too; contacts must be the customer's."""
    contacts = list(contacts)
    if any(contact.customer_id != customer.pk for contact in contacts):
        raise ValueError("a meeting's contacts are the customer's")
    meeting = Interaction(
        customer=customer,
        logged_by=organizer,
        channel=MEETING,
        direction=Interaction.Direction.OUTBOUND,
        summary=summary,
        occurred_at=starts_at,
        ends_at=ends_at,
        contact=contacts[0] if len(contacts) == 1 else None,
    )
    meeting.full_clean()
    meeting.save()
    meeting.attendees.set({organizer, *attendees})
    meeting.attendee_contacts.set(contacts)
    return meeting
