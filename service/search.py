"""What the global search finds among tickets (crm.lib.search): the number ("T-000042" or
"42"), the subject, or the customer's or requester's name."""

import re

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.lib.search import (
    SearchHit,
    SearchSource,
    User,
    matching_any,
    register_search_source,
    search_words,
)
from service.models import Ticket
from service.selectors import tickets_visible_to

_NUMBER = re.compile(r"^(?:T-?)?0*(\d{1,9})$", re.IGNORECASE)


def _holding(word: str):
    """Tickets whose subject, requester, number or customer's name holds the word."""
    own = (
        Q(subject__icontains=word)
        | Q(requester_name__icontains=word)
        | Q(requester_email__icontains=word)
    )
    number = _NUMBER.match(word)
    if number and number.group(1).isascii():
        own |= Q(pk=int(number.group(1)))
    return matching_any(
        Ticket.objects.filter(own).values("pk"),
        Ticket.objects.filter(customer__name__icontains=word).values("pk"),
    )


def _tickets(user: User, text: str, limit: int) -> list[SearchHit]:
    tickets = tickets_visible_to(user)
    for word in search_words(text):
        tickets = tickets.filter(pk__in=_holding(word))
    tickets = tickets.select_related("customer").order_by("-created_at", "-id")
    return [
        SearchHit(
            title=f"{ticket.number} {ticket.subject}",
            detail=" · ".join(
                filter(
                    None,
                    [
                        ticket.customer.name if ticket.customer else ticket.requester_name,
                        ticket.get_status_display(),
                    ],
                )
            ),
            url=ticket.get_absolute_url(),
        )
        for ticket in tickets[:limit]
    ]


def register_ticket_search() -> None:
    register_search_source(
        SearchSource("tickets", _("Tickets"), "service.view_ticket", _tickets, order=40)
    )
