"""The agent's home panel: their queue counts, the unassigned count and what breaches soon."""

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db.models import Count, Q

from service.models import SLA_RUNNING, Ticket, next_due_expression
from service.selectors import tickets_workable_by

BREACH_WINDOW = timedelta(hours=1)
BREACHING_SHOWN = 10


def breaching_soon(now: datetime) -> Q:
    """Running tickets whose next SLA target falls due within the window and has not yet."""
    soon = now + BREACH_WINDOW
    first_response = Q(
        first_responded_at__isnull=True, first_response_due__gt=now, first_response_due__lte=soon
    )
    resolution = Q(resolution_due__gt=now, resolution_due__lte=soon)
    return SLA_RUNNING & (first_response | resolution)


def agent_queue_summary(user: User, now: datetime) -> dict:
    """Counts in one query; the breaching tickets (the agent's or nobody's) in a second."""
    open_tickets = tickets_workable_by(user).filter(status__in=Ticket.OPEN_STATUSES)
    mine = Q(assignee=user)
    counts = open_tickets.aggregate(
        new=Count("pk", filter=mine & Q(status=Ticket.Status.NEW)),
        open=Count("pk", filter=mine & Q(status=Ticket.Status.OPEN)),
        waiting=Count("pk", filter=mine & Q(status=Ticket.Status.WAITING)),
        unassigned=Count("pk", filter=Q(assignee__isnull=True)),
        breaching=Count("pk", filter=(mine | Q(assignee__isnull=True)) & breaching_soon(now)),
    )
    breaching = (
        open_tickets.filter(mine | Q(assignee__isnull=True))
        .filter(breaching_soon(now))
        .annotate(next_due=next_due_expression())
        .select_related("assignee")
        .order_by("next_due", "pk")[:BREACHING_SHOWN]
    )
    return {
        **counts,
        "mine": counts["new"] + counts["open"] + counts["waiting"],
        "breaching_tickets": list(breaching),
    }
