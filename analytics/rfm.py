"""RFM scores (1-5 by quintile) and the named segments. Pure numpy: no Django imports.

Scores
------
Each of recency, frequency and monetary value is scored 1..5 by the quintile of the
customer's rank, 5 being best: the most recent purchase (smallest recency), the most
purchase days, the most revenue. Customers are put in "goodness" order, worst first, and
the customer at 0-based rank ``i`` of ``n`` scores ``1 + floor(5 * i / n)``, so every
quintile holds n/5 customers (give or take one) even when many values are equal.

Ties are broken by customer id: among equal values the customer with the SMALLER id ranks
lower (gets the lower or equal score). The order is the pair (value, id) with the value
negated when lower is better, so it is a strict total order and the result does not depend
on the order in which rows arrive, which is what makes the chunked path exact.

The chunked path (several workers, each scoring a slice of customers) computes
:func:`quintile_breakpoints` once over all customers: the (value, id) of the first
customer of quintiles 2..5. :func:`score_with_breakpoints` then scores any slice by
comparing with those four pairs, and gives exactly the scores :func:`quintile_scores`
gives on the whole set.

Segments
--------
The segment comes from R and an FM score: ``FM = (F + M + 1) // 2``, the mean of F and M
rounded half up (F=3, M=4 gives FM=4). The ordered rules in :data:`SEGMENT_RULES` are read
first-match-wins; together they cover all 25 (R, FM) cells, so every one of the 125
(R, F, M) combinations gets exactly one segment::

    R \\ FM |  1               2                   3                   4          5
    -------+--------------------------------------------------------------------------------
      5    |  new             potential_loyalist  potential_loyalist  champions  champions
      4    |  promising       potential_loyalist  potential_loyalist  loyal      loyal
      3    |  about_to_sleep  about_to_sleep      need_attention      loyal      loyal
      2    |  hibernating     hibernating         at_risk             at_risk    cannot_lose
      1    |  lost            lost                at_risk             at_risk    cannot_lose

The keys are the values of ``analytics.models.Segment`` (copied, not imported).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

QUINTILES = 5

CHAMPIONS = "champions"
LOYAL = "loyal"
POTENTIAL_LOYALIST = "potential_loyalist"
NEW = "new"
PROMISING = "promising"
NEED_ATTENTION = "need_attention"
ABOUT_TO_SLEEP = "about_to_sleep"
AT_RISK = "at_risk"
CANNOT_LOSE = "cannot_lose"
HIBERNATING = "hibernating"
LOST = "lost"

SEGMENTS = (
    CHAMPIONS,
    LOYAL,
    POTENTIAL_LOYALIST,
    NEW,
    PROMISING,
    NEED_ATTENTION,
    ABOUT_TO_SLEEP,
    AT_RISK,
    CANNOT_LOSE,
    HIBERNATING,
    LOST,
)

# (segment, (R min, R max), (FM min, FM max)), bounds inclusive, first match wins.
SEGMENT_RULES: tuple[tuple[str, tuple[int, int], tuple[int, int]], ...] = (
    (CHAMPIONS, (5, 5), (4, 5)),
    (LOYAL, (3, 4), (4, 5)),
    (NEW, (5, 5), (1, 1)),
    (PROMISING, (4, 4), (1, 1)),
    (POTENTIAL_LOYALIST, (4, 5), (2, 3)),
    (NEED_ATTENTION, (3, 3), (3, 3)),
    (ABOUT_TO_SLEEP, (3, 3), (1, 2)),
    (CANNOT_LOSE, (1, 2), (5, 5)),
    (AT_RISK, (1, 2), (3, 4)),
    (HIBERNATING, (2, 2), (1, 2)),
    (LOST, (1, 1), (1, 2)),
)


@dataclass(frozen=True)
class Breakpoints:
    """Where quintiles 2..5 start in (value, id) order, computed once over all customers.

    ``values[k]``/``ids[k]`` is the first customer scoring ``k + 2``; ``None`` when no
    customer reaches that score (fewer than five customers). Plain floats and ints, so
    ``to_dict()`` can travel to Celery workers as JSON.
    """

    higher_is_better: bool
    values: tuple[float | None, ...]
    ids: tuple[int | None, ...]

    def to_dict(self) -> dict:
        return {
            "higher_is_better": self.higher_is_better,
            "values": list(self.values),
            "ids": list(self.ids),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Breakpoints:
        return cls(bool(data["higher_is_better"]), tuple(data["values"]), tuple(data["ids"]))


def _prepare(values, ids) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(values, dtype=np.float64)
    ids = np.asarray(ids, dtype=np.int64)
    if values.shape != ids.shape or values.ndim != 1:
        raise ValueError("values and ids must be one-dimensional arrays of the same length")
    if not np.isfinite(values).all():
        raise ValueError("values must be finite")
    sorted_ids = np.sort(ids)  # np.unique is a slow hash on a million distinct ids
    if (sorted_ids[1:] == sorted_ids[:-1]).any():
        raise ValueError("ids must be unique")
    return values, ids


def _goodness(values: np.ndarray | np.float64, higher_is_better: bool) -> np.ndarray | np.float64:
    # + 0.0 turns -0.0 into 0.0 so that equal values stay equal after negation.
    return (values if higher_is_better else -values) + 0.0


def quintile_scores(values, ids, *, higher_is_better: bool) -> np.ndarray:
    """Scores 1..5 (int8) by quintile of the (value, id) rank over the whole set."""
    values, ids = _prepare(values, ids)
    n = len(values)
    order = np.lexsort((ids, _goodness(values, higher_is_better)))
    scores = np.empty(n, dtype=np.int8)
    scores[order] = 1 + (QUINTILES * np.arange(n, dtype=np.int64)) // max(n, 1)
    return scores


def quintile_breakpoints(values, ids, *, higher_is_better: bool) -> Breakpoints:
    """The (value, id) where each of quintiles 2..5 starts, over ALL customers."""
    values, ids = _prepare(values, ids)
    n = len(values)
    goodness = _goodness(values, higher_is_better)
    order = np.lexsort((ids, goodness))
    starts = [-(-k * n // QUINTILES) for k in range(1, QUINTILES)]  # ceil(k n / 5)
    points = [order[s] if s < n else None for s in starts]
    return Breakpoints(
        higher_is_better,
        tuple(None if i is None else float(values[i]) for i in points),
        tuple(None if i is None else int(ids[i]) for i in points),
    )


def score_with_breakpoints(values, ids, breakpoints: Breakpoints) -> np.ndarray:
    """Scores for one chunk of customers; equal to quintile_scores on the whole set."""
    values, ids = _prepare(values, ids)
    goodness = _goodness(values, breakpoints.higher_is_better)
    scores = np.ones(len(values), dtype=np.int8)
    for value, id_ in zip(breakpoints.values, breakpoints.ids, strict=True):
        if value is None:
            continue
        start = _goodness(np.float64(value), breakpoints.higher_is_better)
        scores += (goodness > start) | ((goodness == start) & (ids >= id_))
    return scores


def fm_scores(f, m) -> np.ndarray:
    """The FM score: the mean of F and M rounded half up."""
    return (np.asarray(f, dtype=np.int64) + np.asarray(m, dtype=np.int64) + 1) // 2


def assign_segments(r, f, m) -> np.ndarray:
    """Segment keys (object array of str) from R, F and M scores, vectorised."""
    r = np.asarray(r, dtype=np.int64)
    fm = fm_scores(f, m)
    for name, scores in (("R", r), ("F", f), ("M", m)):
        scores = np.asarray(scores)
        if scores.size and (scores.min() < 1 or scores.max() > QUINTILES):
            raise ValueError(f"{name} scores must be between 1 and {QUINTILES}")
    conditions = [
        (r >= r_lo) & (r <= r_hi) & (fm >= fm_lo) & (fm <= fm_hi)
        for _, (r_lo, r_hi), (fm_lo, fm_hi) in SEGMENT_RULES
    ]
    choices = [np.array(name, dtype=object) for name, _, _ in SEGMENT_RULES]
    no_segment = np.array(None, dtype=object)
    return np.select(conditions, choices, default=no_segment).astype(object)
