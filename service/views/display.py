"""How a ticket's SLA clock reads on the page: badges and relative due times."""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _


def relative(due: datetime | None, now: datetime) -> str:
    """“in 2 h” before the due time, “3 h late” after it (minutes, hours, then days)."""
    if due is None:
        return ""
    seconds = (due - now).total_seconds()
    minutes = int(abs(seconds) // 60)
    if minutes < 60:
        amount = _("%(n)d min") % {"n": max(minutes, 1)}
    elif minutes < 48 * 60 - 30:
        amount = _("%(n)d h") % {"n": (minutes + 30) // 60}
    else:
        amount = _("%(n)d d") % {"n": (minutes + 12 * 60) // (24 * 60)}
    if seconds >= 0:
        return _("in %(time)s") % {"time": amount}
    return _("%(time)s late") % {"time": amount}


_CSS = {"breached": "text-bg-danger", "at_risk": "text-bg-warning", "paused": "text-bg-secondary"}
PRIORITY_CSS = {
    "urgent": "text-bg-danger",
    "high": "bg-warning-subtle text-warning-emphasis",
    "normal": "bg-primary-subtle text-primary-emphasis",
    "low": "text-bg-light border",
}


@dataclass(frozen=True)
class SlaState:
    """One ticket's clock, from the flags `with_sla_flags` annotates; computed once per row
    so a page of 25 rows renders without per-row template includes or translations."""

    state: str  # "breached", "at_risk", "on_track", "paused", "stopped" (closed), "none"
    due: datetime | None
    due_text: str
    css: str = ""
    label: str = ""

    @classmethod
    def make(cls, state: str, due=None, due_text: str = "") -> "SlaState":
        labels = {
            "breached": _("Breached"),
            "at_risk": _("At risk"),
            "paused": _("Paused"),
        }
        return cls(state, due, due_text, _CSS.get(state, ""), labels.get(state, ""))


def next_due(ticket) -> datetime | None:
    if ticket.first_responded_at is None and ticket.first_response_due is not None:
        return ticket.first_response_due
    return ticket.resolution_due


def sla_state(ticket, now: datetime) -> SlaState:
    due = next_due(ticket)
    if not ticket.is_open:
        return SlaState.make("stopped")
    if ticket.sla_paused_at is not None:
        return SlaState.make("paused", due)
    if getattr(ticket, "first_response_breached", False) or getattr(
        ticket, "resolution_breached", False
    ):
        state = "breached"
    elif getattr(ticket, "at_risk", False):
        state = "at_risk"
    elif due is None:
        return SlaState.make("none")
    else:
        state = "on_track"
    return SlaState.make(state, due, relative(due, now))


def target_state(due, done_at, breached: bool, now: datetime) -> dict:
    """One target on the ticket page: its due time and whether it was met, missed or runs."""
    if due is None:
        return {"due": None}
    if done_at is not None:
        return {"due": due, "done_at": done_at, "met": done_at <= due}
    return {"due": due, "breached": breached, "text": relative(due, now)}


def attach_sla(tickets, now: datetime):
    """Give each ticket of a page its `sla` (SlaState); returns the same list."""
    tickets = list(tickets)
    for ticket in tickets:
        ticket.sla = sla_state(ticket, now)
        ticket.priority_css = PRIORITY_CSS.get(ticket.priority, "")
    return tickets


def queue_row_shown(ticket, can_work: bool) -> tuple:
    """Every value a queue row (service/partials/ticket_row.html, with ticket_sender.html
    and take_button.html) shows: the key it is kept rendered under. A value the row shows
    must be named here. `ticket` has its `sla` (attach_sla)."""
    customer, team, assignee = ticket.customer, ticket.team, ticket.assignee
    return (
        ticket.pk, ticket.subject, ticket.status, ticket.priority, ticket.category,
        ticket.channel, ticket.sla, ticket.created_at, ticket.updated_at,
        (customer.pk, customer.name) if customer else None,
        ticket.requester_name, ticket.requester_email, ticket.sender_unverified,
        team.name if team else "", assignee.get_username() if assignee else "", can_work,
    )  # fmt: skip
