"""SLA arithmetic (pure) and the due times tickets get from it."""

import random
from datetime import date, datetime, time, timedelta, tzinfo
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from service.sla import (
    BusinessCalendar,
    add_business_minutes,
    business_minutes_between,
    calendar_for,
    due_times,
    raised_priority,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")


def office(tz=SHANGHAI, holidays=(), **kwargs) -> BusinessCalendar:
    return BusinessCalendar(always_open=False, tz=tz, holidays=frozenset(holidays), **kwargs)


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, tz: tzinfo = SHANGHAI
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def test_minutes_inside_one_business_day():
    # Wednesday 10:00 + 90 minutes.
    assert add_business_minutes(at(2025, 6, 4, 10, 0), 90, calendar=office()) == at(
        2025, 6, 4, 11, 30
    )


def test_overflow_continues_next_morning():
    assert add_business_minutes(at(2025, 6, 4, 17, 0), 120, calendar=office()) == at(
        2025, 6, 5, 10, 0
    )


def test_start_before_opening_and_after_closing():
    cal = office()
    assert add_business_minutes(at(2025, 6, 4, 6, 0), 30, calendar=cal) == at(2025, 6, 4, 9, 30)
    assert add_business_minutes(at(2025, 6, 4, 22, 0), 30, calendar=cal) == at(2025, 6, 5, 9, 30)


def test_friday_evening_skips_the_weekend():
    assert add_business_minutes(at(2025, 6, 6, 17, 30), 60, calendar=office()) == at(
        2025, 6, 9, 9, 30
    )


def test_start_on_a_weekend_or_holiday_moves_to_next_opening():
    cal = office(holidays={date(2025, 6, 9)})  # Monday holiday
    assert add_business_minutes(at(2025, 6, 7, 12, 0), 60, calendar=cal) == at(2025, 6, 10, 10, 0)
    assert add_business_minutes(at(2025, 6, 9, 12, 0), 60, calendar=cal) == at(2025, 6, 10, 10, 0)


def test_holiday_in_the_middle_is_skipped():
    cal = office(holidays={date(2025, 6, 5)})
    assert add_business_minutes(at(2025, 6, 4, 17, 0), 120, calendar=cal) == at(2025, 6, 6, 10, 0)


def test_business_hours_follow_the_local_clock_across_dst():
    # US clocks go forward on Sunday 9 March 2025: Monday 10:00 is UTC-4, Friday was UTC-5.
    cal = office(tz=NEW_YORK)
    due = add_business_minutes(at(2025, 3, 7, 17, 0, tz=NEW_YORK), 120, calendar=cal)
    assert due == at(2025, 3, 10, 10, 0, tz=NEW_YORK)
    assert due.utcoffset() == timedelta(hours=-4)
    assert business_minutes_between(at(2025, 3, 7, 17, 0, tz=NEW_YORK), due, calendar=cal) == 120


def test_24x7_counts_real_minutes_across_dst():
    cal = BusinessCalendar(always_open=True, tz=NEW_YORK)
    start = at(2025, 3, 9, 1, 30, tz=NEW_YORK)  # the clocks jump 02:00 -> 03:00
    due = add_business_minutes(start, 60, calendar=cal)
    assert due - start == timedelta(hours=1)
    assert due.astimezone(NEW_YORK).hour == 3


def test_huge_target_is_bounded_and_exact():
    cal = office(holidays={date(2026, 1, 1), date(2026, 10, 1)})
    start = at(2025, 12, 31, 12, 0)
    due = add_business_minutes(start, 5_256_000, calendar=cal)
    assert due.year > 2060
    assert business_minutes_between(start, due, calendar=cal) == 5_256_000


def _brute_force_add(start: datetime, minutes: int, cal: BusinessCalendar) -> datetime:
    """Walk minute by minute over the local clock: the reference for the fast version."""
    wall = start.astimezone(cal.tz).replace(tzinfo=None, second=0, microsecond=0)
    while True:
        open_now = cal.is_business_day(wall.date()) and cal.day_start <= wall.time() < cal.day_end
        if minutes == 0 and open_now:
            return wall.replace(tzinfo=cal.tz)
        if open_now:
            minutes -= 1
            if minutes == 0:
                return (wall + timedelta(minutes=1)).replace(tzinfo=cal.tz)
        wall += timedelta(minutes=1)


def test_fast_arithmetic_matches_minute_by_minute_walk():
    rng = random.Random(4)
    cal = office(
        holidays={date(2025, 1, 8), date(2025, 1, 9), date(2025, 1, 20)},
        weekdays=frozenset({0, 1, 2, 4, 5}),
        day_start=time(8, 30),
        day_end=time(17, 15),
    )
    for _ in range(40):
        start = at(2025, 1, 1) + timedelta(minutes=rng.randrange(0, 20 * 24 * 60))
        minutes = rng.randrange(1, 6000)
        due = add_business_minutes(start, minutes, calendar=cal)
        assert due == _brute_force_add(start, minutes, cal), (start, minutes)
        assert business_minutes_between(start, due, calendar=cal) == minutes


def test_minutes_between_ignores_nights_weekends_and_reversed_ranges():
    cal = office()
    assert (
        business_minutes_between(at(2025, 6, 6, 17, 0), at(2025, 6, 9, 10, 0), calendar=cal) == 120
    )
    assert business_minutes_between(at(2025, 6, 7, 10, 0), at(2025, 6, 8, 10, 0), calendar=cal) == 0
    assert business_minutes_between(at(2025, 6, 9, 10, 0), at(2025, 6, 6, 10, 0), calendar=cal) == 0


def _policy(**overrides):
    values = {
        "first_response_minutes": 60,
        "resolution_minutes": 540,
        "business_hours_only": True,
        "business_day_start": time(9),
        "business_day_end": time(18),
        "business_weekdays": "0,1,2,3,4",
        "at_risk_percent": 75,
    }
    return SimpleNamespace(**(values | overrides))


def test_due_times_and_at_risk_thresholds(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    due = due_times(_policy(), at(2025, 6, 6, 17, 0))  # Friday 17:00
    assert due.first_response_due == at(2025, 6, 6, 18, 0)
    assert due.first_response_at_risk_at == at(2025, 6, 6, 17, 45)
    assert due.resolution_due == at(2025, 6, 9, 17, 0)  # 1 h Friday + 8 h Monday
    assert due.resolution_at_risk_at == at(2025, 6, 9, 14, 45)  # 405 minutes


def test_paused_minutes_push_the_due_times(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    due = due_times(_policy(), at(2025, 6, 6, 17, 0), paused_minutes=60)
    assert due.first_response_due == at(2025, 6, 9, 10, 0)


def test_holidays_reach_the_policy_calendar(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    due = due_times(_policy(), at(2025, 6, 6, 17, 30), holidays=[date(2025, 6, 9)])
    assert due.first_response_due == at(2025, 6, 10, 9, 30)


def test_24x7_policy_and_a_calendar_without_hours(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    due = due_times(_policy(business_hours_only=False), at(2025, 6, 7, 23, 0))
    assert due.first_response_due == at(2025, 6, 8, 0, 0)
    # A misconfigured policy with no weekdays falls back to 24x7 instead of looping forever.
    closed = _policy(business_weekdays="")
    assert calendar_for(closed).is_closed_forever
    assert due_times(closed, at(2025, 6, 7, 23, 0)).first_response_due == at(2025, 6, 8, 0, 0)


def test_raised_priority_stops_at_urgent():
    assert raised_priority("low") == "normal"
    assert raised_priority("high") == "urgent"
    assert raised_priority("urgent") == "urgent"


@pytest.mark.parametrize("minutes", [0, 1, 539, 540, 541, 2700, 2701, 100_000])
def test_round_trip(minutes):
    cal = office(holidays={date(2025, 6, 12)})
    start = at(2025, 6, 4, 13, 7)
    assert (
        business_minutes_between(
            start, add_business_minutes(start, minutes, calendar=cal), calendar=cal
        )
        == minutes
    )
