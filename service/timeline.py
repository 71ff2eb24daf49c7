"""Service events on the customer's timeline (crm.lib.timeline): tickets opened and
resolved, satisfaction ratings. Each reads the tickets the viewer may see."""

from django.utils.translation import gettext_lazy as _

from crm.lib.timeline import Cursor, TimelineEvent, TimelineSource, older_than, register_source
from customers.models import Customer
from service.models import SatisfactionResponse
from service.selectors import tickets_visible_to


def _username(user) -> str:
    return user.get_username() if user is not None else ""


def _ticket_events(user, customer, cursor, limit, *, kind: str, time_field: str, line):
    tickets = tickets_visible_to(user).filter(customer=customer).select_related("assignee")
    return [
        TimelineEvent(
            when=getattr(ticket, time_field),
            kind=kind,
            pk=ticket.pk,
            text=line % {"ticket": str(ticket)},
            url=ticket.get_absolute_url(),
            who=_username(ticket.assignee),
        )
        for ticket in older_than(tickets, time_field, kind, cursor, limit)
    ]


def ticket_opened_events(user, customer: Customer, cursor: Cursor | None, limit: int):
    line = _("Ticket %(ticket)s opened")
    return _ticket_events(
        user, customer, cursor, limit, kind="ticket_opened", time_field="created_at", line=line
    )


def ticket_resolved_events(user, customer: Customer, cursor: Cursor | None, limit: int):
    line = _("Ticket %(ticket)s resolved")
    return _ticket_events(
        user, customer, cursor, limit, kind="ticket_resolved", time_field="resolved_at", line=line
    )


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
    for source in (
        TimelineSource("ticket_opened", _("Tickets opened"), "✉", "service.view_ticket",
                       ticket_opened_events, order=60),
        TimelineSource("ticket_resolved", _("Tickets resolved"), "✔", "service.view_ticket",
                       ticket_resolved_events, order=61),
        TimelineSource("csat", _("Satisfaction"), "★", "service.view_satisfactionresponse",
                       csat_events, order=62),
    ):  # fmt: skip
        register_source(source)
