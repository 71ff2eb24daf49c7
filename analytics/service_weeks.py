"""The service report's weeks and agents: every week of the period (a quiet week is a zero,
not a gap), first-reply and resolution medians, the backlog at each week's end, and what
each agent did, by name.

Durations are read as (created, first reply, resolved) triples of the period's tickets and
the medians taken in Python: one query, no database-specific percentile function (SQLite
has none), and a period's tickets are thousands, not millions.
"""

from datetime import date, datetime, time, timedelta
from statistics import median

from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone

from analytics.reports import Period
from service.models import Ticket, TicketMessage

HOUR = 3600.0


def period_weeks(period: Period) -> list[date]:
    """The Monday of every week that overlaps the period, in order."""
    monday = period.start - timedelta(days=period.start.weekday())
    weeks = []
    while monday <= period.end:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


def _at(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _hours_median(values: list[float]) -> float | None:
    """In hours; a reply stamped before its ticket (clock skew, imports) counts as 0."""
    return round(max(median(values), 0.0) / HOUR, 1) if values else None


def weekly_service(period: Period) -> list[dict]:
    """Per week: tickets created (by category), resolved, the medians of the tickets created
    that week, and the backlog (open tickets) when the week ended."""
    weeks = period_weeks(period)
    rows = {week: _empty_week(week) for week in weeks}
    tickets = Ticket.objects.filter(
        created_at__gte=_at(weeks[0]), created_at__lt=_at(weeks[-1] + timedelta(days=7))
    ).values_list("created_at", "category", "first_responded_at", "resolved_at")
    first_replies: dict[date, list[float]] = {week: [] for week in weeks}
    resolutions: dict[date, list[float]] = {week: [] for week in weeks}
    for created, category, replied, resolved in tickets:
        week = _monday(created)
        row = rows[week]
        row[category] = row.get(category, 0) + 1
        row["total"] += 1
        if replied is not None:
            first_replies[week].append((replied - created).total_seconds())
        if resolved is not None:
            resolutions[week].append((resolved - created).total_seconds())
    for week in weeks:
        rows[week]["first_reply_median_hours"] = _hours_median(first_replies[week])
        rows[week]["resolution_median_hours"] = _hours_median(resolutions[week])
    _add_resolved_and_backlog(rows, weeks)
    return [rows[week] for week in weeks]


def _monday(moment: datetime) -> date:
    day = timezone.localtime(moment).date()
    return day - timedelta(days=day.weekday())


def _empty_week(week: date) -> dict:
    return {"week": week, **dict.fromkeys(Ticket.Category.values, 0), "total": 0, "resolved": 0}


def _add_resolved_and_backlog(rows: dict[date, dict], weeks: list[date]) -> None:
    """Two counts per week, all weeks in one aggregate query."""
    aggregates = {}
    for index, week in enumerate(weeks):
        start, end = _at(week), _at(week + timedelta(days=7))
        aggregates[f"resolved_{index}"] = Count(
            "pk", filter=Q(resolved_at__gte=start, resolved_at__lt=end)
        )
        still_open = (Q(resolved_at__isnull=True) | Q(resolved_at__gte=end)) & (
            Q(closed_at__isnull=True) | Q(closed_at__gte=end)
        )
        aggregates[f"backlog_{index}"] = Count("pk", filter=Q(created_at__lt=end) & still_open)
    counts = Ticket.objects.aggregate(**aggregates)
    for index, week in enumerate(weeks):
        rows[week]["resolved"] = counts[f"resolved_{index}"]
        rows[week]["backlog"] = counts[f"backlog_{index}"]


def agent_output(period: Period) -> list[dict]:
    """Per agent, by name: public replies sent, tickets resolved, and the median time to
    their first reply on the tickets they were assigned."""
    start, end = period.start_at, period.end_before
    replies = dict(
        TicketMessage.objects.filter(
            kind=TicketMessage.Kind.REPLY,
            from_customer=False,
            author__isnull=False,
            created_at__gte=start,
            created_at__lt=end,
        )
        .values_list("author")
        .annotate(n=Count("pk"))
        .order_by()
    )
    resolved = dict(
        Ticket.objects.filter(resolved_at__gte=start, resolved_at__lt=end, assignee__isnull=False)
        .values_list("assignee")
        .annotate(n=Count("pk"))
        .order_by()
    )
    first_replies: dict[int, list[float]] = {}
    answered = Ticket.objects.filter(
        first_responded_at__gte=start, first_responded_at__lt=end, assignee__isnull=False
    ).values_list("assignee", "created_at", "first_responded_at")
    for agent, created, replied in answered:
        assert replied is not None  # filtered on above
        first_replies.setdefault(agent, []).append((replied - created).total_seconds())
    ids = set(replies) | set(resolved) | set(first_replies)
    users = get_user_model().objects.filter(pk__in=ids)
    rows = [
        {
            "agent": user.get_full_name() or user.get_username(),
            "replies": replies.get(user.pk, 0),
            "resolved": resolved.get(user.pk, 0),
            "first_reply_median_hours": _hours_median(first_replies.get(user.pk, [])),
        }
        for user in users
    ]
    return sorted(rows, key=lambda row: (-row["resolved"], -row["replies"], row["agent"]))
