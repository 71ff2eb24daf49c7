"""SLA arithmetic: pure functions over datetimes, no ORM.

A policy counts either every minute (24x7: plain elapsed time, so DST changes nothing) or
only business hours. Business-hours arithmetic is done on the local wall clock of
settings.TIME_ZONE, so a 09:00-18:00 day is nine hours on the days the clocks change too.
Long targets skip whole weeks at once instead of walking day by day.
"""

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings

PRIORITY_ORDER = ("low", "normal", "high", "urgent")


def raised_priority(priority: str) -> str:
    """One step up; urgent stays urgent."""
    index = PRIORITY_ORDER.index(priority)
    return PRIORITY_ORDER[min(index + 1, len(PRIORITY_ORDER) - 1)]


@dataclass(frozen=True)
class BusinessCalendar:
    """When the SLA clock runs. always_open means 24x7 (the other fields are then unused)."""

    always_open: bool = True
    day_start: time = time(9, 0)
    day_end: time = time(18, 0)
    weekdays: frozenset[int] = frozenset(range(5))
    holidays: frozenset[date] = frozenset()
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo(settings.TIME_ZONE))

    @property
    def day_minutes(self) -> int:
        return max(0, _minutes_of(self.day_end) - _minutes_of(self.day_start))

    @property
    def is_closed_forever(self) -> bool:
        return not self.always_open and (self.day_minutes == 0 or not self.weekdays)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.holidays

    def holidays_between(self, first: date, last: date) -> int:
        """Holidays on business weekdays in [first, last)."""
        return sum(1 for h in self.holidays if first <= h < last and h.weekday() in self.weekdays)


def calendar_for(policy, holidays=()) -> BusinessCalendar:
    """The calendar of an SLAPolicy (any object with its fields)."""
    if not policy.business_hours_only:
        return BusinessCalendar(always_open=True)
    weekdays = frozenset(
        int(part) for part in str(policy.business_weekdays).split(",") if part.strip().isdigit()
    )
    return BusinessCalendar(
        always_open=False,
        day_start=_as_time(policy.business_day_start),
        day_end=_as_time(policy.business_day_end),
        weekdays=frozenset(d for d in weekdays if 0 <= d <= 6),
        holidays=frozenset(holidays),
    )


def _as_time(value) -> time:
    return value if isinstance(value, time) else time.fromisoformat(str(value))


def _minutes_of(value: time) -> int:
    return value.hour * 60 + value.minute


def _local(moment: datetime, calendar: BusinessCalendar) -> datetime:
    """The naive local wall-clock time of an aware datetime."""
    return moment.astimezone(calendar.tz).replace(tzinfo=None)


def _aware(wall: datetime, calendar: BusinessCalendar) -> datetime:
    return wall.replace(tzinfo=calendar.tz)


def _next_business_day(day: date, calendar: BusinessCalendar) -> date:
    day += timedelta(days=1)
    while not calendar.is_business_day(day):
        day += timedelta(days=1)
    return day


def _opening_at_or_after(wall: datetime, calendar: BusinessCalendar) -> datetime:
    """The first business moment at or after a local wall-clock time."""
    day = wall.date()
    if calendar.is_business_day(day):
        if wall.time() < calendar.day_start:
            return datetime.combine(day, calendar.day_start)
        if wall.time() < calendar.day_end:
            return wall
    return datetime.combine(_next_business_day(day, calendar), calendar.day_start)


def add_business_minutes(start: datetime, minutes: int, *, calendar: BusinessCalendar) -> datetime:
    """The moment `minutes` of SLA time after `start` (aware in, aware out)."""
    if calendar.always_open:
        # In UTC: Python adds to an aware datetime on its wall clock, which DST would skew.
        return start.astimezone(UTC) + timedelta(minutes=minutes)
    if calendar.is_closed_forever:
        raise ValueError("The business calendar has no business hours.")
    wall = _opening_at_or_after(_local(start, calendar), calendar)
    remaining = max(0, int(minutes))
    day_end = datetime.combine(wall.date(), calendar.day_end)
    today = int((day_end - wall).total_seconds() // 60)
    if remaining <= today:
        return _aware(wall + timedelta(minutes=remaining), calendar)
    remaining -= today
    day = _next_business_day(wall.date(), calendar)
    day, remaining = _skip_weeks(day, remaining, calendar)
    while remaining > calendar.day_minutes:
        remaining -= calendar.day_minutes
        day = _next_business_day(day, calendar)
    return _aware(
        datetime.combine(day, calendar.day_start) + timedelta(minutes=remaining), calendar
    )


def _skip_weeks(day: date, remaining: int, calendar: BusinessCalendar) -> tuple[date, int]:
    """From the opening of `day`, jump whole weeks while more than a week of minutes is left;
    `remaining` stays positive so the result falls on a business day after the jump."""
    week = calendar.day_minutes * len(calendar.weekdays)
    while remaining > week:
        weeks = (remaining - 1) // week
        end = day + timedelta(weeks=weeks)
        lost = calendar.holidays_between(day, end) * calendar.day_minutes
        remaining -= weeks * week - lost
        day = end if calendar.is_business_day(end) else _next_business_day(end, calendar)
    return day, remaining


def business_minutes_between(start: datetime, end: datetime, *, calendar: BusinessCalendar) -> int:
    """Whole minutes of SLA time from `start` to `end` (0 when end is not after start)."""
    if end <= start:
        return 0
    if calendar.always_open:
        return int((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() // 60)
    if calendar.is_closed_forever:
        return 0
    first = _opening_at_or_after(_local(start, calendar), calendar)
    last = _local(end, calendar)
    if last <= first:
        return 0
    if first.date() == last.date():
        return _minutes_within_day(first, last, calendar)
    opening_day_minutes = _minutes_within_day(
        first, datetime.combine(first.date(), calendar.day_end), calendar
    )
    closing_day = datetime.combine(last.date(), time.min)
    closing_minutes = (
        _minutes_within_day(closing_day, last, calendar)
        if calendar.is_business_day(last.date())
        else 0
    )
    middle = _business_days_between(first.date() + timedelta(days=1), last.date(), calendar)
    return opening_day_minutes + middle * calendar.day_minutes + closing_minutes


def _minutes_within_day(frm: datetime, to: datetime, calendar: BusinessCalendar) -> int:
    """Business minutes between two wall times of one business day."""
    opens = datetime.combine(frm.date(), calendar.day_start)
    closes = datetime.combine(frm.date(), calendar.day_end)
    lo, hi = max(frm, opens), min(to, closes)
    return max(0, int((hi - lo).total_seconds() // 60))


def _business_days_between(first: date, last: date, calendar: BusinessCalendar) -> int:
    """Business days in [first, last), counting whole weeks arithmetically."""
    if last <= first:
        return 0
    span = (last - first).days
    weeks, rest = divmod(span, 7)
    count = weeks * len(calendar.weekdays)
    count += sum(
        1
        for offset in range(rest)
        if (first + timedelta(days=offset)).weekday() in calendar.weekdays
    )
    return count - calendar.holidays_between(first, last)


class DueTimes(NamedTuple):
    first_response_due: datetime
    resolution_due: datetime
    first_response_at_risk_at: datetime
    resolution_at_risk_at: datetime


def due_times(policy, created_at: datetime, paused_minutes: int = 0, *, holidays=()) -> DueTimes:
    """The policy's targets counted from `created_at`, extended by the time spent paused."""
    calendar = calendar_for(policy, holidays)
    if calendar.is_closed_forever:
        calendar = BusinessCalendar(always_open=True)
    paused = max(0, int(paused_minutes))
    percent = policy.at_risk_percent

    def due(minutes: int) -> datetime:
        return add_business_minutes(created_at, minutes + paused, calendar=calendar)

    def at_risk(minutes: int) -> datetime:
        return due(math.ceil(minutes * percent / 100))

    return DueTimes(
        first_response_due=due(policy.first_response_minutes),
        resolution_due=due(policy.resolution_minutes),
        first_response_at_risk_at=at_risk(policy.first_response_minutes),
        resolution_at_risk_at=at_risk(policy.resolution_minutes),
    )
