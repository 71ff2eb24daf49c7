"""RFM quintile scores and the segment table, checked by hand and against the chunked path."""

import json
import re

import numpy as np
import pytest

from analytics import rfm
from analytics.models import Segment

# Ten customers, ids deliberately out of order. Scores written out by hand below: with
# n = 10, ranks 0-1 score 1, 2-3 score 2, 4-5 score 3, 6-7 score 4, 8-9 score 5, in
# "goodness" order (worst first), equal values ordered by id (smaller id ranks lower).
#        id  recency freq monetary   R  F  M  FM  segment
HAND = [
    (11, 5, 8, 900, 5, 5, 5, 5, "champions"),
    (3, 5, 8, 400, 5, 5, 3, 4, "champions"),  # ties A on R and F: id 3 < 11, both still 5
    (7, 40, 3, 400, 3, 3, 3, 3, "need_attention"),  # recency tie with id 30: 7 ranks lower
    (20, 200, 1, 50, 2, 2, 1, 2, "hibernating"),  # freq tie 1 with ids 5, 14: id 20 ranks 2
    (5, 400, 1, 30, 1, 1, 1, 1, "lost"),
    (14, 10, 1, 60, 4, 1, 2, 2, "potential_loyalist"),
    (9, 90, 6, 700, 3, 4, 4, 4, "loyal"),
    (2, 300, 5, 800, 1, 4, 5, 5, "cannot_lose"),
    (30, 40, 2, 120, 4, 3, 2, 3, "potential_loyalist"),
    (8, 150, 2, 400, 2, 2, 4, 3, "at_risk"),  # monetary tie 400 with ids 3, 7: spans M 3-4
]


def hand_columns():
    ids, recency, freq, monetary, r, f, m, fm, segments = (
        np.array(c) for c in zip(*HAND, strict=True)
    )
    return ids, recency, freq, monetary, r, f, m, fm, segments


def test_hand_checked_scores_and_segments():
    ids, recency, freq, monetary, r, f, m, fm, segments = hand_columns()
    got_r = rfm.quintile_scores(recency, ids, higher_is_better=False)
    got_f = rfm.quintile_scores(freq, ids, higher_is_better=True)
    got_m = rfm.quintile_scores(monetary, ids, higher_is_better=True)
    assert got_r.tolist() == r.tolist()
    assert got_f.tolist() == f.tolist()
    assert got_m.tolist() == m.tolist()
    assert got_r.dtype == np.int8
    assert rfm.fm_scores(got_f, got_m).tolist() == fm.tolist()
    assert rfm.assign_segments(got_r, got_f, got_m).tolist() == segments.tolist()


def test_hand_checked_scores_do_not_depend_on_row_order():
    ids, recency, *_ = hand_columns()
    expected = dict(
        zip(ids, rfm.quintile_scores(recency, ids, higher_is_better=False), strict=True)
    )
    shuffled = np.random.default_rng(3).permutation(len(ids))
    scores = rfm.quintile_scores(recency[shuffled], ids[shuffled], higher_is_better=False)
    assert dict(zip(ids[shuffled], scores, strict=True)) == expected


def test_hand_checked_breakpoints():
    ids, recency, *_ = hand_columns()
    points = rfm.quintile_breakpoints(recency, ids, higher_is_better=False)
    # Worst first: 400(5) 300(2) | 200(20) 150(8) | 90(9) 40(7) | 40(30) 10(14) | 5(3) 5(11)
    assert points.values == (200.0, 90.0, 40.0, 5.0)
    assert points.ids == (20, 9, 30, 3)


@pytest.mark.parametrize("higher_is_better", [True, False])
@pytest.mark.parametrize("n", [*range(1, 13), 97, 1000, 4321])
def test_chunked_scores_equal_whole_set_scores_with_many_ties(n, higher_is_better):
    rng = np.random.default_rng(n)
    values = rng.integers(0, 4, n).astype(float)  # at most four distinct values: ties
    ids = rng.permutation(10 * n)[:n] + 1
    whole = rfm.quintile_scores(values, ids, higher_is_better=higher_is_better)
    points = rfm.quintile_breakpoints(values, ids, higher_is_better=higher_is_better)
    # The breakpoints travel to the chunk workers as JSON.
    points = rfm.Breakpoints.from_dict(json.loads(json.dumps(points.to_dict())))
    cuts = np.sort(rng.integers(0, n + 1, 3))
    chunks = np.split(np.arange(n), cuts)
    chunked = np.concatenate(
        [rfm.score_with_breakpoints(values[c], ids[c], points) for c in chunks]
    )
    assert chunked.tolist() == whole.tolist()
    # Quintiles are balanced whatever the ties: each holds floor or ceil of n / 5.
    counts = np.bincount(whole, minlength=6)[1:]
    assert counts.sum() == n
    assert counts.max() - counts.min() <= 1 or n < 5


def test_scores_are_monotone_in_value():
    rng = np.random.default_rng(0)
    values = rng.exponential(100, 500).round()
    ids = np.arange(500)
    scores = rfm.quintile_scores(values, ids, higher_is_better=True)
    order = np.lexsort((ids, values))
    assert (np.diff(scores[order]) >= 0).all()
    recency = rfm.quintile_scores(values, ids, higher_is_better=False)
    # Equal recencies: the smaller id still ranks lower, so walk ties by descending id.
    order = np.lexsort((-ids, values))
    assert (np.diff(recency[order]) <= 0).all()


def test_negative_zero_ties_with_zero():
    values = np.array([0.0, -0.0, 0.0, -0.0, 1.0])
    ids = np.array([1, 2, 3, 4, 5])
    for higher in (True, False):
        whole = rfm.quintile_scores(values, ids, higher_is_better=higher)
        points = rfm.quintile_breakpoints(values, ids, higher_is_better=higher)
        assert rfm.score_with_breakpoints(values, ids, points).tolist() == whole.tolist()


def test_single_customer_and_empty_set():
    assert rfm.quintile_scores([7.0], [1], higher_is_better=True).tolist() == [1]
    points = rfm.quintile_breakpoints([7.0], [1], higher_is_better=True)
    assert points.values == (None, None, None, None)
    assert rfm.score_with_breakpoints([7.0, 99.0], [1, 2], points).tolist() == [1, 1]
    assert rfm.quintile_scores([], [], higher_is_better=True).tolist() == []


@pytest.mark.parametrize(
    "values, ids",
    [([1.0, np.nan], [1, 2]), ([1.0, np.inf], [1, 2]), ([1.0, 2.0], [1, 1]), ([1.0], [1, 2])],
)
def test_bad_input_is_refused(values, ids):
    with pytest.raises(ValueError):
        rfm.quintile_scores(values, ids, higher_is_better=True)


def all_combinations():
    grid = np.array(np.meshgrid(*[np.arange(1, 6)] * 3, indexing="ij")).reshape(3, -1)
    return grid[0], grid[1], grid[2]


def test_every_combination_gets_exactly_one_segment_and_every_segment_is_reachable():
    r, f, m = all_combinations()
    assert len(r) == 125
    segments = rfm.assign_segments(r, f, m)
    assert all(isinstance(s, str) for s in segments)
    assert set(segments) == set(rfm.SEGMENTS)
    # The rules do not overlap either: every (R, FM) cell matches exactly one rule.
    fm = rfm.fm_scores(f, m)
    for r_score, fm_score in zip(r, fm, strict=True):
        matches = [
            name
            for name, (r_lo, r_hi), (fm_lo, fm_hi) in rfm.SEGMENT_RULES
            if r_lo <= r_score <= r_hi and fm_lo <= fm_score <= fm_hi
        ]
        assert len(matches) == 1


def test_segment_keys_are_the_model_choices():
    assert set(rfm.SEGMENTS) == set(Segment.values)
    assert {name for name, _, _ in rfm.SEGMENT_RULES} == set(Segment.values)


def test_docstring_table_matches_the_rules():
    rows = re.findall(r"^\s+([1-5])\s+\|\s+(.+)$", rfm.__doc__, flags=re.MULTILINE)
    assert [int(r) for r, _ in rows] == [5, 4, 3, 2, 1]
    for r_score, cells in rows:
        names = cells.split()
        r = np.full(5, int(r_score))
        fm = np.arange(1, 6)
        # F = M = FM gives that FM cell.
        assert rfm.assign_segments(r, fm, fm).tolist() == names


def test_fm_rounds_half_up():
    assert rfm.fm_scores([3, 3, 1, 5], [4, 3, 2, 4]).tolist() == [4, 3, 2, 5]


@pytest.mark.parametrize("bad", [0, 6])
def test_scores_outside_one_to_five_are_refused(bad):
    with pytest.raises(ValueError):
        rfm.assign_segments([bad], [3], [3])
    with pytest.raises(ValueError):
        rfm.assign_segments([3], [3], [bad])
