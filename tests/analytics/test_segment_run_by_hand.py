"""The nightly segment run on a shop of ten customers, checked against figures worked out
by hand: R/F/M scores and segments from the quintile rule, historic value from the orders,
and the predicted value from the closed-form formulas of the papers, evaluated here with
scipy.special on the parameters the run stored.

- BG/NBD: Fader, Hardie and Lee (2005), "Counting your customers the easy way", eq. 6
  (likelihood), eq. 10 (expected purchases) and P(alive) from their technical note.
- Gamma-Gamma: Fader and Hardie (2013), "The Gamma-Gamma model of monetary value".

The run is started the way beat starts it (the beat entry's task), so a nightly run as of
yesterday, a spend model fed total revenue, or an M score taken from the repeat value each
change a figure below.
"""

import math
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.conf import settings
from django.utils import timezone
from scipy import optimize, special

from analytics.models import CustomerValue, SegmentRun
from crm.celery import app
from tests.factories import CustomerFactory, OrderFactory

# Each customer's orders as (days before today, total); several orders on one day make one
# purchase day. Customers are created in this order, so their ids ascend A..H (the
# quintile rule breaks ties by id, the smaller id ranking lower).
SHOP: dict[str, list[tuple[int, str]]] = {
    "A": [(200, "100.00"), (120, "40.00"), (60, "50.00"), (5, "60.00"), (-1, "999.00")],
    "B": [(300, "500.00"), (10, "20.00")],
    "C": [(360, "80.00")],
    "D": [(250 - 20 * k, "30.00") for k in range(13)]
    + [(170, "5.00"), (130, "-5.00"), (0, "30.00")],
    "E": [(340, "70.00"), (335, "90.00"), (330, "80.00"), (325, "60.00"), (320, "70.00")],
    "F": [(330, "200.00"), (200, "10.00"), (40, "15.00")],
    "G": [(20, "300.00")],
    "H": [(150, "45.00"), (149, "55.00"), (30, "55.00"), (30, "10.00")],
    "I": [(350, "45.00"), (340, "55.00"), (300, "35.00")],
    "J": [(300, "45.00")],
}
# A's order tomorrow (-1) is after the as-of date and counts nowhere; D bought today. Two
# more orders of D fall on days it already bought on (a top-up and a refund).

# Worked out by hand (rank i of 10, worst first, scores 1 + floor(5 i / 10) = 1 + i // 2):
#   recency days  A 5, B 10, C 360, D 0, E 320, F 40, G 20, H 30, I 300, J 300
#       worst first (ties by id): C E I J F H G B A D  -> R
#   purchase days A 4, B 2, C 1, D 14, E 5, F 3, G 1, H 3, I 3, J 1
#       worst first (ties by id): C G J B F H I A E D  -> F
#   revenue       A 250, B 520, C 80, D 420, E 370, F 225, G 300, H 165, I 135, J 45
#       worst first: J C I H F A G E D B               -> M
#   (by repeat value, A 150 B 20 C 0 D 390 E 300 F 25 G 0 H 120 I 90 J 0, M would differ)
# FM = (F + M + 1) // 2; the segment from the (R, FM) table in analytics/rfm.py.
EXPECTED = {
    #     R  F  M  FM  segment
    "A": (5, 4, 3, 4, "champions"),
    "B": (4, 2, 5, 4, "loyal"),
    "C": (1, 1, 1, 1, "lost"),
    "D": (5, 5, 5, 5, "champions"),
    "E": (1, 5, 4, 5, "cannot_lose"),
    "F": (3, 3, 3, 3, "need_attention"),
    "G": (4, 1, 4, 3, "potential_loyalist"),
    "H": (3, 3, 2, 3, "need_attention"),
    "I": (2, 4, 2, 3, "at_risk"),
    "J": (2, 2, 1, 2, "hibernating"),
}
HISTORIC = {  # name: (orders, revenue, purchase days, days since first, since last)
    "A": (4, "250.00", 4, 200, 5),
    "B": (2, "520.00", 2, 300, 10),
    "C": (1, "80.00", 1, 360, 360),
    "D": (16, "420.00", 14, 250, 0),
    "E": (5, "370.00", 5, 340, 320),
    "F": (3, "225.00", 3, 330, 40),
    "G": (1, "300.00", 1, 20, 20),
    "H": (4, "165.00", 3, 150, 30),
    "I": (3, "135.00", 3, 350, 300),
    "J": (1, "45.00", 1, 300, 300),
}

WEEKS_PER_MONTH = 52 / 12


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def shop(db):
    today = timezone.localdate()
    customers = {}
    for name, orders in SHOP.items():
        customers[name] = CustomerFactory(name=f"Customer {name}")
        for days_ago, total in orders:
            OrderFactory(
                customer=customers[name],
                ordered_at=noon(today - timedelta(days=days_ago)),
                total=Decimal(total),
            )
    return customers


def model_inputs(name: str) -> tuple[float, float, float, float]:
    """(x, t_x, T, m_x) in weeks, from the order table: repeat purchase days, first to last
    purchase day, first purchase day to today, and the average repeat-day value (the first
    purchase day excluded; 0 without repeat purchases)."""
    days: dict[int, Decimal] = {}
    for days_ago, total in SHOP[name]:
        if days_ago >= 0:
            days[days_ago] = days.get(days_ago, Decimal(0)) + Decimal(total)
    first, last = max(days), min(days)
    x = len(days) - 1
    repeat_value = sum(value for day, value in days.items() if day != first)
    m_x = float(repeat_value) / x if x else 0.0
    return float(x), (first - last) / 7, first / 7, m_x


# --- the papers' formulas -------------------------------------------------------------------


def bgnbd_log_likelihood(r, alpha, a, b, x, t_x, T) -> float:
    """FHL (2005) eq. 6."""
    A1 = special.gammaln(r + x) - special.gammaln(r) + r * math.log(alpha)
    A2 = (
        special.gammaln(a + b)
        + special.gammaln(b + x)
        - special.gammaln(b)
        - special.gammaln(a + b + x)
    )
    A3 = -(r + x) * math.log(alpha + T)
    if x == 0:
        return A1 + A2 + A3
    A4 = math.log(a) - math.log(b + x - 1) - (r + x) * math.log(alpha + t_x)
    return A1 + A2 + float(np.logaddexp(A3, A4))


def probability_alive(r, alpha, a, b, x, t_x, T) -> float:
    """FHL technical note: 1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))."""
    if x == 0:
        return 1.0
    return 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))


def expected_purchases(r, alpha, a, b, x, t_x, T, t) -> float:
    """FHL (2005) eq. 10: E[Y(t) | x, t_x, T]."""
    z = t / (alpha + T + t)
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    given_alive = (a + b + x - 1) / (a - 1) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp)
    return given_alive * probability_alive(r, alpha, a, b, x, t_x, T)


def gamma_gamma_log_likelihood(p, q, gamma, x, m_x) -> float:
    """Fader and Hardie (2013): the density of the mean repeat value m_x given x."""
    return (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * math.log(gamma)
        + (p * x - 1) * math.log(m_x)
        + p * x * math.log(x)
        - (p * x + q) * math.log(gamma + m_x * x)
    )


def expected_average_value(p, q, gamma, x, m_x) -> float:
    """Fader and Hardie (2013) eq. 5: (p (gamma + x m_x)) / (p x + q - 1)."""
    return p * (gamma + x * m_x) / (p * x + q - 1)


def predicted_ltv(
    bg: tuple[float, float, float, float],
    gg: tuple[float, float, float],
    x: int,
    t_x: float,
    T: float,
    m_x: float,
    *,
    months: int = 12,
    annual_rate: float = 0.10,
) -> float:
    """Month k's expected purchases, discounted by (1 + monthly rate)^k, times the expected
    value per purchase; the monthly rate compounds to the annual one."""
    monthly = (1 + annual_rate) ** (1 / 12) - 1
    purchases = [expected_purchases(*bg, x, t_x, T, k * WEEKS_PER_MONTH) for k in range(months + 1)]
    discounted = sum(
        (purchases[k] - purchases[k - 1]) / (1 + monthly) ** k for k in range(1, months + 1)
    )
    return discounted * expected_average_value(*gg, x, m_x)


def is_maximum(log_likelihood, params: Sequence[float]) -> bool:
    """No nearby parameters (searched in log space from the stored ones) fit better."""

    def negative(log_params):
        return -log_likelihood(*np.exp(log_params))

    start = np.log(params)
    best = optimize.minimize(
        negative,
        start,
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000},
    )
    return negative(start) <= best.fun + 1e-4 * abs(best.fun) + 1e-6


# --- the test -------------------------------------------------------------------------------


def run_the_nightly_beat_entry(django_capture_on_commit_callbacks) -> SegmentRun:
    entry = settings.CELERY_BEAT_SCHEDULE["nightly-segments"]
    app.loader.import_default_modules()
    with django_capture_on_commit_callbacks(execute=True):
        app.tasks[entry["task"]].apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
    run = SegmentRun.objects.get()
    assert run.status == SegmentRun.Status.SUCCEEDED, run.error
    return run


def test_the_nightly_run_scores_every_customer_as_worked_out_by_hand(
    shop, django_capture_on_commit_callbacks
):
    run = run_the_nightly_beat_entry(django_capture_on_commit_callbacks)
    assert run.as_of == timezone.localdate()
    assert run.is_current and run.customers == len(SHOP)
    values = {v.customer_id: v for v in CustomerValue.objects.filter(run=run)}

    scored = {
        name: (v.r_score, v.f_score, v.m_score, (v.f_score + v.m_score + 1) // 2, v.segment)
        for name, v in ((name, values[c.pk]) for name, c in shop.items())
    }
    assert scored == EXPECTED

    today = timezone.localdate()
    for name, (orders, revenue, purchase_days, since_first, since_last) in HISTORIC.items():
        v = values[shop[name].pk]
        assert (v.orders, v.revenue, v.purchase_days) == (orders, Decimal(revenue), purchase_days)
        assert (v.first_purchase, v.last_purchase, v.recency_days) == (
            today - timedelta(days=since_first),
            today - timedelta(days=since_last),
            since_last,
        ), name
        assert v.average_order_value == (Decimal(revenue) / orders).quantize(Decimal("0.01"))

    p = run.parameters
    bg = (p["r"], p["alpha"], p["a"], p["b"])
    gg = (p["p"], p["q"], p["gamma"])
    assert p["discount_rate"] == settings.CRM_LTV_DISCOUNT_PERCENT / 100 == 0.10
    inputs = {name: model_inputs(name) for name in SHOP}

    # The stored parameters are the maximum-likelihood fit of the inputs worked out above:
    # BG/NBD on everyone's (x, t_x, T), Gamma-Gamma on the repeat buyers' (x, m_x).
    assert is_maximum(
        lambda *bg_: sum(bgnbd_log_likelihood(*bg_, x, t_x, T) for x, t_x, T, _ in inputs.values()),
        bg,
    )
    assert is_maximum(
        lambda *gg_: sum(
            gamma_gamma_log_likelihood(*gg_, x, m_x) for x, _, _, m_x in inputs.values() if x > 0
        ),
        gg,
    )

    for name, (x, t_x, T, m_x) in inputs.items():
        v = values[shop[name].pk]
        alive = probability_alive(*bg, x, t_x, T)
        expected = expected_purchases(*bg, x, t_x, T, 52)
        ltv = predicted_ltv(bg, gg, x, t_x, T, m_x)
        assert v.probability_alive == pytest.approx(alive, abs=2e-6), name
        assert v.expected_purchases == pytest.approx(expected, abs=2e-6), name
        assert float(v.predicted_ltv) == pytest.approx(ltv, abs=0.011), name
        assert ltv > 0, name
