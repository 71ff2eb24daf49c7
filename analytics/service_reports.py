"""The service dashboard's queries (ticket volume, SLA compliance, CSAT), aggregated live in
the database over a reporting period; the weekly series are analytics.service_weeks."""

from datetime import datetime

from django.db.models import Avg, Count, F, Q
from django.db.models.functions import TruncWeek
from django.utils import timezone

from analytics.reports import Period, share
from service.models import SatisfactionResponse, Ticket


def _tickets_in(period: Period):
    return Ticket.objects.filter(created_at__gte=period.start_at, created_at__lt=period.end_before)


def ticket_volume(period: Period) -> list[dict]:
    """Tickets created per week (weeks start on Monday) and category."""
    tz = timezone.get_current_timezone()
    groups = (
        _tickets_in(period)
        .annotate(week=TruncWeek("created_at", tzinfo=tz))
        .values("week", "category")
        .annotate(tickets=Count("pk"))
        .order_by("week")
    )
    weeks: dict = {}
    for g in groups:
        week = g["week"].date() if isinstance(g["week"], datetime) else g["week"]
        weeks.setdefault(week, dict.fromkeys(Ticket.Category.values, 0))[g["category"]] = g[
            "tickets"
        ]
    return [
        {"week": week, **counts, "total": sum(counts.values())}
        for week, counts in sorted(weeks.items())
    ]


def sla_compliance(period: Period, now: datetime | None = None) -> list[dict]:
    """Per category: tickets that met and breached the first-response and resolution SLA.

    A ticket met a target when it was answered (resolved) by the due time; it breached
    it when answered later, or not yet answered and the due time has passed. Tickets
    without a due time, or still within it, count in neither.
    """
    now = now or timezone.now()
    aggregates = {}
    for name, done, due in (
        ("first_response", "first_responded_at", "first_response_due"),
        ("resolution", "resolved_at", "resolution_due"),
    ):
        has_due = Q(**{f"{due}__isnull": False})
        met = has_due & Q(**{f"{done}__lte": F(due)})
        late = Q(**{f"{done}__gt": F(due)}) | Q(**{f"{done}__isnull": True, f"{due}__lt": now})
        aggregates[f"{name}_met"] = Count("pk", filter=met)
        aggregates[f"{name}_breached"] = Count("pk", filter=has_due & late)
    groups = {
        g["category"]: g
        for g in _tickets_in(period).values("category").annotate(**aggregates).order_by()
    }
    rows = []
    for key, label in Ticket.Category.choices:
        if key in groups:
            rows.append(_sla_row(label, groups[key]))
    if rows:
        total = {name: sum(g[name] for g in groups.values()) for name in aggregates}
        rows.append(_sla_row(None, total))  # None: the total row
    return rows


def _sla_row(label, counts: dict) -> dict:
    row = {"category": label, **{name: counts[name] for name in counts if name != "category"}}
    for name in ("first_response", "resolution"):
        met, breached = counts[f"{name}_met"], counts[f"{name}_breached"]
        row[f"{name}_compliance"] = share(met, met + breached) if met + breached else None
    return row


def csat_by(period: Period, field: str) -> list[dict]:
    """CSAT average and count per `field` ("ticket__category" or "ticket__assignee__username")."""
    groups = (
        SatisfactionResponse.objects.filter(
            created_at__gte=period.start_at, created_at__lt=period.end_before
        )
        .values(field)
        .annotate(average=Avg("score"), responses=Count("pk"))
        .order_by(field)
    )
    return [
        {"key": g[field], "average": float(g["average"]), "responses": g["responses"]}
        for g in groups
    ]
