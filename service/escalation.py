"""The SLA escalation job (Celery beat): at-risk and breached tickets get one escalation row
per target and level, breached ones a higher priority, and the team managers a digest."""

from datetime import datetime

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from service import emails, sla
from service.models import (
    SLA_RUNNING,
    Escalation,
    Priority,
    SLAPolicy,
    Ticket,
)
from service.notices import sla_at_risk_notify
from service.selectors import escalation_digests
from service.services import apply_due_times, holidays

# (target, level, due column, condition): disjoint, so a ticket gets at most one row per target.
_FR, _RES = Escalation.Target.FIRST_RESPONSE, Escalation.Target.RESOLUTION
_RISK, _BREACH = Escalation.Level.AT_RISK, Escalation.Level.BREACHED
_ESCALATION_RULES = [
    (_FR, _RISK, "first_response_due", "first_responded_at IS NULL AND "
     "first_response_at_risk_at <= %s AND first_response_due > %s"),
    (_FR, _BREACH, "first_response_due", "first_responded_at IS NULL AND "
     "first_response_at_risk_at <= %s AND first_response_due <= %s"),
    (_RES, _RISK, "resolution_due", "resolution_at_risk_at <= %s AND resolution_due > %s"),
    (_RES, _BREACH, "resolution_due", "resolution_at_risk_at <= %s AND resolution_due <= %s"),
]  # fmt: skip
# The at-risk bound on breaches is implied (at risk comes first) but lets the partial
# indexes on the at-risk times (migration 0003) serve every rule.
_BATCH = 2000


def _ticket_condition_sql(condition: Q) -> tuple[str, list]:
    """`condition` as a WHERE fragment over the ticket table, compiled by the ORM."""
    query = Ticket.objects.filter(condition).query
    sql, params = query.where.as_sql(query.get_compiler(connection=connection), connection)
    return sql, list(params)


def _insert_escalations(now: datetime) -> list[tuple[int, int, str]]:
    """Insert the escalations due now; returns (id, ticket_id, level) of the rows THIS run
    inserted. The unique constraint makes a second or concurrent run insert (and so notify)
    nothing: a concurrent INSERT waits for the first to commit, then skips the conflict."""
    ticket_table = Ticket._meta.db_table
    table = Escalation._meta.db_table
    at = connection.ops.adapt_datetimefield_value(now)
    running, running_params = _ticket_condition_sql(SLA_RUNNING)
    inserted = []
    with connection.cursor() as cursor:
        for target, level, due_column, condition in _ESCALATION_RULES:
            cursor.execute(
                f"INSERT INTO {table} (ticket_id, target, level, due_at, created_at) "  # noqa: S608
                f"SELECT id, %s, %s, {due_column}, %s FROM {ticket_table} "
                f"WHERE {running} AND {condition} "
                "ON CONFLICT (ticket_id, target, level) DO NOTHING "
                "RETURNING id, ticket_id, level",
                [target, level, at, *running_params] + [at] * condition.count("%s"),
            )
            inserted += cursor.fetchall()
    return inserted


def _raise_priorities(ticket_ids: set[int]) -> int:
    """Raise breached tickets one priority step where their policy says so."""
    policies = {p.priority: p for p in SLAPolicy.objects.all()}
    raising = [p for p, policy in policies.items() if policy.raise_priority_on_breach]
    dates = holidays()
    ids = sorted(ticket_ids)
    raised = 0
    for start in range(0, len(ids), _BATCH):
        batch = list(
            Ticket.objects.select_for_update()
            .filter(pk__in=ids[start : start + _BATCH], priority__in=raising)
            .exclude(priority=Priority.URGENT)
            .only(*_DUE_FIELDS, "version", "created_at", "sla_paused_minutes", "first_responded_at")
            .order_by("pk")
        )
        for ticket in batch:
            ticket.priority = sla.raised_priority(ticket.priority)
            ticket.version += 1
            apply_due_times(ticket, policy=policies.get(ticket.priority), holiday_dates=dates)
        _save_due_times(batch)
        raised += len(batch)
    return raised


_DUE_FIELDS = [
    "priority",
    "first_response_due",
    "first_response_at_risk_at",
    "resolution_due",
    "resolution_at_risk_at",
]


def _save_due_times(tickets: list[Ticket]) -> None:
    """Write priority, due times and version of many tickets: one UPDATE ... FROM (VALUES)
    on PostgreSQL (bulk_update's CASE per row is quadratic), bulk_update elsewhere."""
    if connection.vendor != "postgresql":
        Ticket.objects.bulk_update(tickets, [*_DUE_FIELDS, "version"], batch_size=500)
        return
    sets = ", ".join(f"{name} = v.{name}" for name in _DUE_FIELDS)
    row = "(%s::bigint, %s::varchar, " + ", ".join(["%s::timestamptz"] * 4) + ")"
    for start in range(0, len(tickets), 1000):
        chunk = tickets[start : start + 1000]
        params = [value for t in chunk for value in (t.pk, *(getattr(t, f) for f in _DUE_FIELDS))]
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Ticket._meta.db_table} AS t SET {sets}, version = t.version + 1 "  # noqa: S608
                f"FROM (VALUES {', '.join([row] * len(chunk))}) AS v(id, {', '.join(_DUE_FIELDS)}) "
                "WHERE t.id = v.id",
                params,
            )


def _notify(escalation_ids: list[int]) -> tuple[int, int]:
    """A digest per recipient of the escalations this run created; returns (escalations
    that reached someone, emails queued)."""
    by_recipient, notified = escalation_digests(escalation_ids)
    sent = sum(
        emails.send_escalation_digest(address, rows)
        for address, rows in sorted(by_recipient.items())
    )
    return notified, sent


def escalate_tickets(*, now: datetime | None = None) -> dict:
    """Escalate running tickets that are at risk or breached; safe to run any number of times.

    The digests are queued in the outbox in the same transaction as the escalations: both
    are committed, or neither.
    """
    now = now or timezone.now()
    with transaction.atomic():
        inserted = _insert_escalations(now)
        breached = {tid for _id, tid, level in inserted if level == Escalation.Level.BREACHED}
        raised = _raise_priorities(breached) if breached else 0
        notified, sent = _notify([row[0] for row in inserted]) if inserted else (0, 0)
        sla_at_risk_notify([row[0] for row in inserted if row[2] == _RISK])
    return {
        "at_risk": sum(1 for row in inserted if row[2] == Escalation.Level.AT_RISK),
        "breached": sum(1 for row in inserted if row[2] == Escalation.Level.BREACHED),
        "notified": notified,
        "raised": raised,
        "emails": sent,
    }
