"""Service events on the customer's timeline (crm.lib.timeline): tickets opened and
resolved, satisfaction ratings. Each reads the tickets the viewer may see; tickets opened
and resolved are one group (two dates of a ticket), asked with one query."""

from django.utils.translation import gettext_lazy as _

from crm.lib.timeline import (
    Cursor,
    GroupMember,
    TimelineEvent,
    TimelineSource,
    grouped_older_than,
    older_than,
    register_group,
    register_source,
)
from customers.models import Customer
from service.models import SatisfactionResponse
from service.selectors import tickets_visible_to


def _username(user) -> str:
    return user.get_username() if user is not None else ""


TICKET_KINDS = {
    "ticket_opened": ("created_at", _("Ticket %(ticket)s opened")),
    "ticket_resolved": ("resolved_at", _("Ticket %(ticket)s resolved")),
}


def ticket_events(user, customer: Customer, cursor: Cursor | None, limit: int, kinds):
    tickets = tickets_visible_to(user).filter(customer=customer).select_related("assignee")
    members = [GroupMember(kind, TICKET_KINDS[kind][0]) for kind in TICKET_KINDS if kind in kinds]
    return [
        TimelineEvent(
            when=when,
            kind=kind,
            pk=ticket.pk,
            text=TICKET_KINDS[kind][1] % {"ticket": str(ticket)},
            url=ticket.get_absolute_url(),
            who=_username(ticket.assignee),
        )
        for kind, when, ticket in grouped_older_than(tickets, members, cursor, limit)
    ]


def csat_events(user, customer: Customer, cursor: Cursor | None, limit: int):
    visible = tickets_visible_to(user).filter(customer=customer).values("pk")
    responses = SatisfactionResponse.objects.filter(ticket__in=visible).select_related("ticket")
    return [
        TimelineEvent(
            when=response.created_at,
            kind="csat",
            pk=response.pk,
            text=_("Rated ticket %(ticket)s %(score)s of 5")
            % {"ticket": response.ticket.number, "score": response.score},
            url=response.ticket.get_absolute_url(),
            detail=response.comment,
            badge="★" * response.score,
            badge_class="text-bg-warning",
        )
        for response in older_than(responses, "created_at", "csat", cursor, limit)
    ]


def register_service_timeline() -> None:
    register_group("ticket", ticket_events, (
        TimelineSource("ticket_opened", _("Tickets opened"), "✉", "service.view_ticket",
                       order=60),
        TimelineSource("ticket_resolved", _("Tickets resolved"), "✔", "service.view_ticket",
                       order=61),
    ))  # fmt: skip
    register_source(
        TimelineSource("csat", _("Satisfaction"), "★", "service.view_satisfactionresponse",
                       csat_events, order=62)
    )  # fmt: skip
