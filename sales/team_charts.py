"""The team view's chart: per rep, won and weighted open against the quota. Every bar opens
the deal list behind it (the rep's deals won in the month, or open and expected to close
in it)."""

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from sales.selectors import rep_name
from sales.team import RepFigures, TeamView


def deals_link(rep_figures: RepFigures, month_param: str, **params: str) -> str:
    query = {"owner": rep_figures.rep.pk, **params}
    return f"{reverse('sales:deal-list')}?{urlencode(query)}"


def won_link(row: RepFigures, month: str) -> str:
    return deals_link(row, month, status="won", closed_month=month)


def open_link(row: RepFigures, month: str) -> str:
    return deals_link(row, month, status="open", close_month=month)


def stale_link(row: RepFigures) -> str:
    return deals_link(row, "", stale="true")


def overdue_link(row: RepFigures) -> str:
    return (
        f"{reverse('customers:my-tasks')}?{urlencode({'assignee': row.rep.pk, 'overdue': 'true'})}"
    )


def team_chart(team: TeamView) -> dict[str, Any]:
    """Chart.js data (static/js/team_view.js draws it); `links[dataset][rep]` is a bar's list."""
    month = f"{team.month:%Y-%m}"
    reps = team.reps
    return {
        "canvas": "team-chart",
        "labels": [rep_name(row.rep) for row in reps],
        "datasets": [
            {"label": _("Won"), "data": [float(row.won.amount) for row in reps], "stack": "f"},
            {
                "label": _("Weighted open"),
                "stack": "f",
                "data": [float(row.weighted_open.amount) for row in reps],
            },
            {
                "label": _("Quota"),
                "type": "line",
                "data": [None if row.quota is None else float(row.quota) for row in reps],
            },
        ],  # fmt: skip
        "links": [
            [won_link(row, month) for row in reps],
            [open_link(row, month) for row in reps],
            [None for _row in reps],
        ],
    }
