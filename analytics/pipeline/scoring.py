"""Steps 2 and 3 of a run, in numpy: fit once over everyone, then score chunk by chunk.

The fit step stores everything a chunk needs (model parameters and quintile breakpoints)
as JSON on the run, so chunks may run in other processes or on other machines.
"""

import logging
from dataclasses import asdict
from datetime import date

import numpy as np

from analytics import clv, rfm

logger = logging.getLogger(__name__)

WEEKS_AHEAD = 52  # "the next 12 months" of expected purchases, in the model's unit (weeks)
LTV_MONTHS = 12
# Customers are fitted on a random sample of at most this many (clv.fit_sample).
FIT_SAMPLE = 200_000
# numeric(16, 2) holds less than 1e14: a predicted value beyond that is meaningless anyway.
MAX_MONEY = 9.9e13


def derived(stats: dict[str, np.ndarray], as_of: date) -> dict[str, np.ndarray]:
    """Day counts, RFM inputs and the models' (x, t_x, T, m_x) from staging columns."""
    as_of_day = np.datetime64(as_of, "D")
    first, last = stats["first_day"], stats["last_day"]
    age_days = (as_of_day - first).astype(np.int64)
    span_days = (last - first).astype(np.int64)
    x, t_x, T, m_x = clv.model_inputs(
        stats["purchase_days"], span_days, age_days, stats["repeat_value"]
    )
    return {
        "ids": stats["customer_id"],
        "recency": (as_of_day - last).astype(np.int64),
        "frequency": stats["purchase_days"],
        "monetary": stats["revenue"],
        "x": x,
        "t_x": t_x,
        "T": T,
        "m_x": m_x,
    }


def fit(d: dict[str, np.ndarray], *, discount_rate: float) -> tuple[dict, dict]:
    """(parameters, quintile breakpoints) as JSON-ready dicts."""
    revenue, orders = d["monetary"], np.maximum(d["frequency"], 1)
    fallback = float(revenue.sum() / orders.sum()) if len(revenue) else 0.0
    bg, gg = clv.fit_sample(
        d["x"], d["t_x"], d["T"], d["m_x"], max_customers=FIT_SAMPLE, fallback_mean=fallback
    )
    parameters = {
        **asdict(bg),
        **asdict(gg),
        "time_unit": "weeks",
        "discount_rate": discount_rate,
        "fitted_on": int(min(len(d["x"]), FIT_SAMPLE)),
    }
    quintiles = {
        "r": rfm.quintile_breakpoints(d["recency"], d["ids"], higher_is_better=False).to_dict(),
        "f": rfm.quintile_breakpoints(d["frequency"], d["ids"], higher_is_better=True).to_dict(),
        "m": rfm.quintile_breakpoints(d["monetary"], d["ids"], higher_is_better=True).to_dict(),
    }
    return parameters, quintiles


def chunk_ranges(ids: np.ndarray, chunk_size: int) -> list[tuple[int, int]]:
    """Inclusive customer-id ranges of about chunk_size customers each (ids sorted)."""
    starts = range(0, len(ids), chunk_size)
    return [(int(ids[s]), int(ids[min(s + chunk_size, len(ids)) - 1])) for s in starts]


def score(d: dict[str, np.ndarray], parameters: dict, quintiles: dict) -> dict[str, np.ndarray]:
    """Scores, segment, probability alive, expected purchases and predicted value."""
    bg = clv.BGNBDParams(*(parameters[k] for k in ("r", "alpha", "a", "b")))
    gg = clv.GammaGammaParams(*(parameters[k] for k in ("p", "q", "gamma")))
    ids = d["ids"]
    r, f, m = (
        rfm.score_with_breakpoints(d[key], ids, rfm.Breakpoints.from_dict(quintiles[name]))
        for key, name in (("recency", "r"), ("frequency", "f"), ("monetary", "m"))
    )
    x, t_x, T, m_x = d["x"], d["t_x"], d["T"], d["m_x"]
    # A degenerate fit (a handful of customers) may overflow: see _finite.
    with np.errstate(all="ignore"):
        alive = clv.probability_alive(bg, x, t_x, T)
        expected = clv.expected_purchases(bg, WEEKS_AHEAD, x, t_x, T)
        ltv = clv.predicted_value(
            bg,
            gg,
            x,
            t_x,
            T,
            m_x,
            months=LTV_MONTHS,
            annual_discount_rate=parameters["discount_rate"],
        )
    return {
        "r": r,
        "f": f,
        "m": m,
        "segment": rfm.assign_segments(r, f, m),
        "alive": _finite(alive, "probability alive"),
        "expected": _finite(expected, "purchases"),
        "ltv": np.clip(np.round(_finite(ltv, "predicted value"), 2), 0, MAX_MONEY),
    }


def _finite(values: np.ndarray, what: str) -> np.ndarray:
    """A degenerate fit (a handful of customers) can leave NaN: store 0 rather than fail."""
    bad = ~np.isfinite(values)
    if bad.any():
        logger.warning("%s: %d non-finite values stored as 0", what, int(bad.sum()))
        return np.where(bad, 0.0, values)
    return values


def value_columns(run_id: int, stats: dict[str, np.ndarray], d: dict, s: dict) -> dict:
    """CustomerValue columns {attname: numpy array} for analytics.pipeline.copying."""
    n = len(d["ids"])
    return {
        "run_id": np.full(n, run_id, dtype=np.int64),
        "customer_id": d["ids"],
        "first_purchase": stats["first_day"],
        "last_purchase": stats["last_day"],
        "recency_days": d["recency"],
        "purchase_days": stats["purchase_days"],
        "orders": stats["orders"],
        "revenue": np.round(stats["revenue"], 2),
        "average_order_value": np.round(stats["revenue"] / np.maximum(stats["orders"], 1), 2),
        "r_score": s["r"],
        "f_score": s["f"],
        "m_score": s["m"],
        "segment": s["segment"],
        "probability_alive": np.round(s["alive"], 6),
        "expected_purchases": np.round(s["expected"], 6),
        "predicted_ltv": s["ltv"],
    }
