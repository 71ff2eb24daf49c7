"""`manage.py compute_segments`: the summary it prints, and its refusals."""

import re
from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from analytics.models import CustomerValue, SegmentRun
from tests.analytics.test_runs import order
from tests.factories import CustomerFactory

NUMBER = r"(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)"


@pytest.fixture
def customers(db):
    for i in range(12):
        customer = CustomerFactory()
        for k in range(1 + i % 4):
            order(customer, f"2026-0{1 + k}-{10 + i}", f"{15 + 3 * i}.00")


def compute(*args) -> str:
    out = StringIO()
    call_command("compute_segments", *args, stdout=out)
    return out.getvalue()


def test_it_prints_counts_timings_and_the_fitted_parameters(customers):
    out = compute("--as-of", "2026-06-30")
    run = SegmentRun.objects.get()
    assert run.is_current and run.as_of == date(2026, 6, 30)
    assert f"Segment run {run.pk} as of 2026-06-30: 12 customers" in out
    counts = re.findall(r"^  (\S.*?)\s+(\d+)$", out, flags=re.MULTILINE)
    assert len(counts) == 11 and sum(int(n) for _name, n in counts) == 12
    assert "Champions" in dict(counts) and "Cannot lose them" in dict(counts)
    assert re.search(r"aggregate=\d+\.\d\ds .*fit=\d+\.\d\ds .*total=\d+\.\d\ds", out)
    bg = re.search(
        rf"r={NUMBER} alpha={NUMBER} a={NUMBER} b={NUMBER} \(alpha in weeks\)", out
    ).groups()
    gg = re.search(rf"p={NUMBER} q={NUMBER} gamma={NUMBER}", out).groups()
    printed = dict(
        zip(["r", "alpha", "a", "b", "p", "q", "gamma"], map(float, bg + gg), strict=True)
    )
    for name, value in printed.items():  # the stored parameters, to the printed precision
        assert value == pytest.approx(run.parameters[name], rel=1e-3, abs=1e-4), name
    assert CustomerValue.objects.filter(run=run).count() == 12


def test_without_as_of_it_runs_as_of_today(customers):
    from django.utils import timezone

    compute()
    assert SegmentRun.objects.get().as_of == timezone.localdate()


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "2026-02-30", "\x00", "9999-12-31"])
def test_a_bad_date_is_a_clear_error(db, bad):
    with pytest.raises(CommandError, match="--as-of"):
        compute("--as-of", bad)
    assert not SegmentRun.objects.exists()


def test_it_refuses_while_a_run_is_going(db):
    SegmentRun.objects.create(as_of=date(2026, 6, 30), status="queued")
    with pytest.raises(CommandError, match="already queued"):
        compute()
    assert SegmentRun.objects.count() == 1


def test_an_empty_database_gives_an_empty_run(db):
    out = compute()
    assert ": 0 customers" in out and "No model fitted" in out
