"""Property-based tests (hypothesis) for survey.stats: whatever the data, no NaN or infinity
leaves a result (a `CannotCompute` with a reason comes instead), intervals hold their
estimate, shares stay in 0-1, Holm never lowers a p-value and keeps the order."""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.stats import (
    CannotCompute,
    Coefficient,
    Interval,
    RelativeWeights,
    claims,
    group_vs_rest,
    holm,
    mean_interval,
    paired_difference,
    relative_weights,
    share_difference,
    welch_difference,
    wilson_interval,
)
from survey.stats.reliability import dimension_reliability

SETTINGS = settings(max_examples=int(os.environ.get("STATS_EXAMPLES", 60)), deadline=None, suppress_health_check=[HealthCheck.too_slow])
answer = st.sampled_from([0.0, 25.0, 50.0, 75.0, 100.0, math.nan])
mark = st.one_of(st.floats(0, 100, allow_nan=False), st.just(math.nan))


def assert_clean(obj, path="result"):
    """Every float anywhere in a result is finite; CannotCompute carries a reason."""
    if isinstance(obj, CannotCompute):
        assert obj.reason, path
        return
    if isinstance(obj, float):
        assert math.isfinite(obj), f"{path} = {obj}"
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            assert_clean(getattr(obj, f.name), f"{path}.{f.name}")
    elif isinstance(obj, (tuple, list)):
        for i, v in enumerate(obj):
            assert_clean(v, f"{path}[{i}]")
    if isinstance(obj, Interval):
        assert obj.low <= obj.high, path


@st.composite
def answer_tables(draw):
    n = draw(st.integers(0, 40))
    k = draw(st.integers(1, 5))
    cells = draw(st.lists(answer, min_size=n * k, max_size=n * k))
    frame = pd.DataFrame(np.array(cells, dtype=float).reshape(n, k), columns=[f"i{j}" for j in range(k)])
    dont_know = pd.DataFrame(np.array(draw(st.lists(st.booleans(), min_size=n * k, max_size=n * k)),
                                      dtype=bool).reshape(n, k) & frame.isna().to_numpy(),
                             columns=frame.columns)
    return frame, dont_know


@SETTINGS
@given(answer_tables())
def test_reliability_never_leaks_nan(table):
    scores, dont_know = table
    result = dimension_reliability(scores, dont_know, scores / 25 + 1, {c: [1, 2, 3, 4, 5] for c in scores},
                                   n_boot=20, min_complete=5)
    assert_clean(result)
    for coefficient in (result.alpha, result.omega):
        if isinstance(coefficient, Coefficient):
            assert coefficient.n == result.n_complete
            assert coefficient.interval is None or coefficient.interval.low <= coefficient.interval.high
    if isinstance(result.alpha, Coefficient):
        assert result.alpha.interval.contains(result.alpha.value)  # Feldt always holds alpha
        assert result.alpha.value <= 1 + 1e-12
    if isinstance(result.omega, Coefficient):
        assert 0 <= result.omega.value < 1
    for item in result.items:
        assert 0 <= item.missing_rate <= 1 and 0 <= item.dont_know_rate <= 1
        assert item.missing_rate + item.dont_know_rate <= 1 + 1e-12
        if isinstance(item.item_rest, Coefficient):
            assert -1 - 1e-9 <= item.item_rest.value <= 1 + 1e-9
        if item.distribution:
            assert sum(c.count for c in item.distribution) == result.n_respondents


@SETTINGS
@given(st.lists(mark, max_size=30), st.sampled_from([(0.0, 100.0), (1.0, 10.0)]))
def test_mean_interval_stays_on_the_scale(values, scale):
    low, high = scale
    values = [low + v / 100 * (high - low) for v in values]
    result = mean_interval(values, low, high)
    assert_clean(result)
    if not isinstance(result, CannotCompute):
        assert low <= result.interval.low <= result.mean <= result.interval.high <= high
        assert result.n == sum(1 for v in values if not math.isnan(v))


@SETTINGS
@given(st.lists(mark, max_size=25), st.lists(mark, max_size=25))
def test_welch_contains_its_estimate(first, second):
    result = welch_difference(first, second)
    assert_clean(result)
    if not isinstance(result, CannotCompute):
        assert result.interval.contains(result.estimate)
        assert 0 <= result.p <= 1 and result.df > 0
    values = first + second
    in_group = [True] * len(first) + [False] * len(second)
    assert group_vs_rest(values, in_group) == result


@SETTINGS
@given(st.lists(st.tuples(mark, mark), max_size=25))
def test_paired_contains_its_estimate(pairs):
    current = [c for c, _ in pairs]
    desired = [d for _, d in pairs]
    result = paired_difference(current, desired)
    assert_clean(result)
    if not isinstance(result, CannotCompute):
        assert result.interval.contains(result.estimate) and 0 <= result.p <= 1


@SETTINGS
@given(st.integers(0, 2000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
       st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_wilson_within_zero_one(counts, level):
    x, n = counts
    result = wilson_interval(x, n, level)
    assert_clean(result)
    if n == 0:
        assert isinstance(result, CannotCompute)
    else:
        assert 0 <= result.interval.low <= result.share <= result.interval.high <= 1


@SETTINGS
@given(st.integers(0, 60).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
       st.integers(0, 60).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_share_difference_bounds(first, second):
    result = share_difference(*first, *second)
    assert_clean(result)
    if not isinstance(result, CannotCompute):
        assert -1 <= result.interval.low <= result.estimate <= result.interval.high <= 1
        assert 0 <= result.p <= 1


@SETTINGS
@given(st.lists(st.floats(0, 1, allow_nan=False), max_size=30))
def test_holm_is_monotone_and_not_below_raw(pvalues):
    adjusted = holm(pvalues)
    assert len(adjusted) == len(pvalues)
    for p, q in zip(pvalues, adjusted, strict=True):
        assert p <= q <= 1
    for i in range(len(pvalues)):
        for j in range(len(pvalues)):
            if pvalues[i] <= pvalues[j]:
                assert adjusted[i] <= adjusted[j]


@SETTINGS
@given(st.lists(st.tuples(st.lists(mark, max_size=12), st.lists(mark, max_size=12)), max_size=6))
def test_claims_follow_the_adjusted_p(pairs):
    family = [(f"g{i}", welch_difference(a, b)) for i, (a, b) in enumerate(pairs)]
    for claim in claims(family):
        assert_clean(claim)
        assert claim.claimed == (claim.p_adjusted is not None and claim.p_adjusted < 0.05)
        if claim.p is not None:
            assert claim.p <= claim.p_adjusted


@st.composite
def driver_frames(draw):
    n = draw(st.integers(0, 30))
    p = draw(st.integers(2, 4))
    level = st.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0, math.nan])
    cells = draw(st.lists(level, min_size=n * (p + 1), max_size=n * (p + 1)))
    return pd.DataFrame(np.array(cells, dtype=float).reshape(n, p + 1),
                        columns=["y"] + [f"x{j}" for j in range(p)])


@SETTINGS
@given(driver_frames())
def test_relative_weights_never_leak_nan(frame):
    predictors = [c for c in frame.columns if c != "y"]
    result = relative_weights(frame, "y", predictors, min_n=5, n_boot=20)
    assert_clean(result)
    if isinstance(result, RelativeWeights):
        assert -1e-9 <= result.r_squared <= 1 + 1e-9
        assert math.isclose(sum(w.raw for w in result.weights), result.r_squared, abs_tol=1e-9)
        assert all(w.raw >= -1e-12 for w in result.weights)
        assert result.n >= 5
