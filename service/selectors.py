"""Reads, with the access rules: who may see and work which tickets."""

from collections import defaultdict
from datetime import datetime
from typing import TypedDict

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    CharField,
    Count,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.utils import timezone

from core.models import OutboxMessage
from core.selectors import outbox_about, outbox_about_any, outbox_troubled
from customers.models import Customer
from service.models import (
    SLA_RUNNING,
    Escalation,
    SatisfactionResponse,
    Ticket,
    TicketMessage,
)

_OPEN = list(Ticket.OPEN_STATUSES)


def tickets_visible_to(user: User | AnonymousUser) -> QuerySet[Ticket]:
    """Agents and managers see every ticket; reps the tickets of customers they own."""
    if user.has_perm("service.view_any_ticket"):
        return Ticket.objects.all()
    if user.is_authenticated and user.has_perm("service.view_ticket"):
        return Ticket.objects.filter(customer__owner=user)
    return Ticket.objects.none()


def tickets_workable_by(user: User | AnonymousUser) -> QuerySet[Ticket]:
    if user.has_perm("service.work_ticket"):
        return Ticket.objects.all()
    return Ticket.objects.none()


def can_work_ticket(user: User | AnonymousUser, ticket: Ticket) -> bool:
    return user.has_perm("service.work_ticket")


def _flag(condition: Q) -> Case:
    # Case rather than a bare Q: a NULL due time gives False, not None.
    return Case(
        When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
    )


def sla_flag_conditions(now: datetime) -> dict[str, Q]:
    """The breach and at-risk rules as Q objects (also usable as list filters).

    A closed or resolved ticket is judged by when it was answered or resolved; a running
    one by now. A ticket waiting on the customer is never flagged while paused.
    """
    unpaused = Q(sla_paused_at__isnull=True)
    fr_late = Q(first_responded_at__isnull=True, first_response_due__lte=now) | Q(
        first_responded_at__gt=F("first_response_due")
    )
    res_late = Q(status__in=_OPEN, resolution_due__lte=now) | Q(resolved_at__gt=F("resolution_due"))
    fr_risk = Q(
        first_responded_at__isnull=True,
        first_response_at_risk_at__lte=now,
        first_response_due__gt=now,
    )
    res_risk = Q(resolution_at_risk_at__lte=now, resolution_due__gt=now)
    return {
        "first_response_breached": unpaused & fr_late,
        "resolution_breached": unpaused & res_late,
        "at_risk": SLA_RUNNING & (fr_risk | res_risk) & ~(fr_late | res_late),
    }


def with_sla_flags(queryset: QuerySet[Ticket], *, now: datetime | None = None) -> QuerySet:
    """Annotate first_response_breached, resolution_breached and at_risk (booleans)."""
    conditions = sla_flag_conditions(now or timezone.now())
    return queryset.annotate(**{name: _flag(q) for name, q in conditions.items()})


def customer_service_summary(customer: Customer, *, user: User | AnonymousUser) -> dict:
    """Open and past ticket counts and the average CSAT score, in two queries: of the
    customer's tickets `user` may see, so a summary never tells of tickets it hides."""
    tickets = tickets_visible_to(user).filter(customer=customer)
    counts = tickets.aggregate(
        open=Count("pk", filter=Q(status__in=_OPEN)),
        past=Count("pk", filter=~Q(status__in=_OPEN)),
    )
    csat = SatisfactionResponse.objects.filter(ticket__in=tickets).aggregate(
        average=Avg("score"), responses=Count("pk")
    )
    return {
        "open_tickets": counts["open"],
        "past_tickets": counts["past"],
        "csat_average": round(csat["average"], 1) if csat["average"] is not None else None,
        "csat_responses": csat["responses"],
    }


def ticket_conversation(ticket: Ticket, *, include_internal: bool) -> list[TicketMessage]:
    """The thread, oldest first; the customer's view never includes internal notes."""
    messages = ticket.messages.select_related("author").order_by("created_at", "pk")
    if not include_internal:
        messages = messages.filter(kind=TicketMessage.Kind.REPLY)
    return list(messages)


class EscalationDigestRow(TypedDict):
    """What a digest email reads of one escalation (the rows carry more keys)."""

    target: str
    level: str
    due_at: datetime
    ticket_id: int
    ticket__subject: str


def escalation_digests(
    escalation_ids: list[int],
) -> tuple[dict[str, list[EscalationDigestRow]], int]:
    """Group escalations by who hears of them (the assignee, the team's manager).

    Returns ({address: [row, ...]}, how many escalations have at least one recipient);
    rows are dicts, read in batches without model instances (a first run may find many).
    """
    by_recipient: dict[str, list[EscalationDigestRow]] = defaultdict(list)
    notified = 0
    for start in range(0, len(escalation_ids), 2000):
        rows = Escalation.objects.filter(pk__in=escalation_ids[start : start + 2000]).values(
            "target",
            "level",
            "due_at",
            "ticket_id",
            "ticket__subject",
            "ticket__priority",
            "ticket__assignee__email",
            "ticket__team__manager__email",
        )
        for row in rows:
            recipients = {row["ticket__assignee__email"], row["ticket__team__manager__email"]}
            recipients -= {None, ""}
            notified += bool(recipients)
            for address in recipients:
                by_recipient[address].append(row)
    return dict(by_recipient), notified


def ticket_email_problems(ticket: Ticket) -> list[OutboxMessage]:
    """Emails about the ticket or its replies that failed or wait for a retry, newest first."""
    replies = TicketMessage.objects.filter(ticket=ticket).annotate(
        key=Cast("pk", output_field=CharField())
    )
    about = outbox_about(ticket) | outbox_about_any(TicketMessage, replies.values("key"))
    return list(outbox_troubled(about).order_by("-created_at", "-pk")[:10])
