"""The manager's team view: per rep, a month's won and weighted open pipeline against the
rep's quota, this week's activity, overdue tasks and stale deals.

A fixed number of queries whatever the number of reps and deals: each figure is one
grouped query (per rep, and per currency for money), and the sums are converted to the
reporting currency through core.exchange, each rate looked up once.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import Count, DecimalField, QuerySet, Sum
from django.utils import timezone

from core.exchange import Converted, reporting_currency, sums_in_reporting
from customers.models import Interaction, Task
from sales.converted import weighted_amount
from sales.models import Deal, Quota
from sales.selectors import DealScope, _add_months, deal_owners, stale_deal_condition

MONEY = DecimalField(max_digits=20, decimal_places=2)


@dataclass
class RepFigures:
    rep: User
    quota: Decimal | None = None
    won: Converted = field(default_factory=Converted)
    weighted_open: Converted = field(default_factory=Converted)
    interactions: int = 0
    tasks_done: int = 0
    overdue_tasks: int = 0
    stale_deals: int = 0

    @property
    def forecast(self) -> Decimal:
        """Won plus weighted open, in the reporting currency (what could be converted)."""
        return self.won.amount + self.weighted_open.amount

    @property
    def attainment(self) -> int | None:
        """The forecast as a percentage of the quota."""
        if not self.quota:
            return None
        return int(self.forecast * 100 / self.quota)

    @property
    def missing(self) -> dict[str, Decimal]:
        """Per currency, what has no rate and is left out of the forecast."""
        missing: dict[str, Decimal] = defaultdict(Decimal)
        for converted in (self.won, self.weighted_open):
            for currency, amount in converted.missing.items():
                missing[currency] += amount
        return dict(missing)


@dataclass
class TeamView:
    month: date
    week_start: date
    currency: str
    reps: list[RepFigures]

    @property
    def quota_total(self) -> Decimal:
        return sum((r.quota or Decimal(0) for r in self.reps), Decimal("0.00"))

    @property
    def won_total(self) -> Decimal:
        return sum((r.won.amount for r in self.reps), Decimal("0.00"))

    @property
    def forecast_total(self) -> Decimal:
        return sum((r.forecast for r in self.reps), Decimal("0.00"))

    @property
    def incomplete(self) -> bool:
        return any(r.missing for r in self.reps)


def team_reps() -> QuerySet[User]:
    """The people on the team view and the quota page: everyone who may own deals."""
    return deal_owners()


def month_bounds(month: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = month.replace(day=1)
    end = _add_months(start, 1)
    return datetime.combine(start, time.min, tzinfo=tz), datetime.combine(end, time.min, tzinfo=tz)


def team_view(scope: DealScope, *, month: date, today: date | None = None) -> TeamView:
    """The figures of `month` (won deals closed in it, open deals expected to close in it)
    for the deals of `scope` (the manager's visible deals)."""
    today = today or timezone.localdate()
    month = month.replace(day=1)
    week_start = today - timedelta(days=today.weekday())
    rows = {rep.pk: RepFigures(rep) for rep in team_reps()}
    for owner_id, amount in Quota.objects.filter(month=month).values_list("owner_id", "amount"):
        if owner_id in rows:
            rows[owner_id].quota = amount
    day = min(today, _add_months(month, 1) - timedelta(days=1))
    for (kind, owner_id), converted in sums_in_reporting(_money_by_rep(scope, month), day).items():
        if owner_id in rows:
            setattr(rows[owner_id], kind, converted)
    _add_counts(rows, scope.deals(), today=today, week_start=week_start)
    return TeamView(month, week_start, reporting_currency(), list(rows.values()))


def _money_by_rep(scope: DealScope, month: date) -> dict[tuple[str, int], dict[str, Decimal]]:
    """Per ("won" or "weighted_open", rep) and currency: the won amount, and the open
    amount × probability (from the open deals' totals that the triggers keep)."""
    start, end = month_bounds(month)
    won_rows = (
        scope.deals()
        .filter(status=Deal.Status.WON, closed_at__gte=start, closed_at__lt=end)
        .values("owner_id", "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    open_rows = (
        scope.open_totals()
        .filter(expected_close_date__gte=start.date(), expected_close_date__lt=end.date())
        .values("owner_id", "currency")
        .annotate(total=Sum(weighted_amount()))
        .order_by()
    )
    grouped: dict[tuple[str, int], dict[str, Decimal]] = defaultdict(dict)
    for kind, rows in (("won", won_rows), ("weighted_open", open_rows)):
        for row in rows:
            grouped[kind, row["owner_id"]][row["currency"]] = Decimal(row["total"])
    return grouped


def _add_counts(rows: dict[int, RepFigures], deals, *, today: date, week_start: date) -> None:
    tz = timezone.get_current_timezone()
    since = datetime.combine(week_start, time.min, tzinfo=tz)
    counts = {
        "interactions": Interaction.objects.filter(occurred_at__gte=since)
        .values_list("logged_by_id")
        .annotate(n=Count("pk")),
        "tasks_done": Task.objects.filter(done=True, done_at__gte=since)
        .values_list("assignee_id")
        .annotate(n=Count("pk")),
        "overdue_tasks": Task.objects.filter(done=False, due_date__lt=today)
        .values_list("assignee_id")
        .annotate(n=Count("pk")),
        "stale_deals": deals.filter(stale_deal_condition())  # from the partial index alone
        .values_list("owner_id")
        .annotate(n=Count("*")),
    }
    for name, grouped in counts.items():
        for rep_id, n in grouped.order_by():
            if rep_id in rows:
                setattr(rows[rep_id], name, n)
