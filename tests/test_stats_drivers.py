"""survey.stats.drivers: Johnson's relative weights checked against independent computations."""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np
import pandas as pd
import pytest

from survey.stats import MIN_N_DEPARTMENT, MIN_N_ORGANISATION, CannotCompute, RelativeWeights, relative_weights


def r_squared(y: np.ndarray, x: np.ndarray) -> float:
    """R^2 of an ordinary least-squares fit with intercept (numpy lstsq)."""
    design = np.column_stack([np.ones(len(y)), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    return 1 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))


def general_dominance(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Budescu's general dominance weights: each predictor's R^2 gain averaged over all
    subsets of the others (Shapley value of R^2), by exhaustive enumeration."""
    p = x.shape[1]
    r2 = {(): 0.0}
    for size in range(1, p + 1):
        for subset in combinations(range(p), size):
            r2[subset] = r_squared(y, x[:, subset])
    weights = np.zeros(p)
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for size in range(p):
            for subset in combinations(others, size):
                with_j = tuple(sorted((*subset, j)))
                weights[j] += factorial(size) * factorial(p - size - 1) / factorial(p) * (r2[with_j] - r2[subset])
    return weights


def survey_like(n: int, seed: int) -> pd.DataFrame:
    """Six correlated dimension scores (0-100) and an outcome driven by some of them."""
    rng = np.random.default_rng(seed)
    common = rng.normal(size=(n, 1))
    x = 0.6 * common + 0.8 * rng.normal(size=(n, 6))
    y = x @ np.array([0.5, 0.3, 0.2, 0.1, 0.0, 0.05]) + rng.normal(size=n)
    frame = pd.DataFrame(50 + 15 * x, columns=[f"d{i}" for i in range(1, 7)])
    frame["outcome"] = 50 + 15 * y
    return frame


PREDICTORS = [f"d{i}" for i in range(1, 7)]


def test_raw_weights_sum_to_lstsq_r_squared():
    data = survey_like(400, 1)
    result = relative_weights(data, "outcome", PREDICTORS, min_n=MIN_N_ORGANISATION, n_boot=200)
    assert isinstance(result, RelativeWeights)
    expected = r_squared(data["outcome"].to_numpy(), data[PREDICTORS].to_numpy())
    assert result.r_squared == pytest.approx(expected, abs=1e-10)
    assert sum(w.raw for w in result.weights) == pytest.approx(expected, abs=1e-10)
    assert sum(w.rescaled for w in result.weights) == pytest.approx(100.0, abs=1e-8)
    assert result.n == 400 and result.n_boot == 200


def test_close_to_general_dominance():
    data = survey_like(600, 2)
    result = relative_weights(data, "outcome", PREDICTORS, min_n=MIN_N_ORGANISATION, n_boot=0)
    dominance = general_dominance(data["outcome"].to_numpy(), data[PREDICTORS].to_numpy())
    assert dominance.sum() == pytest.approx(result.r_squared, abs=1e-10)
    raw = np.array([w.raw for w in result.weights])
    # Johnson (2000) and later comparisons report near-identical values on such data
    assert raw == pytest.approx(dominance, abs=0.005)
    assert np.argsort(-raw)[:3].tolist() == np.argsort(-dominance)[:3].tolist()


def test_orthogonal_predictors_get_their_squared_correlations():
    rng = np.random.default_rng(3)
    n = 120
    raw = rng.normal(size=(n, 3))
    raw -= raw.mean(axis=0)
    q, _ = np.linalg.qr(raw)  # exactly uncorrelated, centred columns
    y = q @ np.array([3.0, 2.0, 1.0]) + rng.normal(size=n) * 0.05
    data = pd.DataFrame(q, columns=["a", "b", "c"]).assign(y=y)
    result = relative_weights(data, "y", ["a", "b", "c"], min_n=MIN_N_DEPARTMENT, n_boot=0)
    squared = [np.corrcoef(q[:, j], y)[0, 1] ** 2 for j in range(3)]
    assert [w.raw for w in result.weights] == pytest.approx(squared, abs=1e-12)
    assert [w.correlation**2 for w in result.weights] == pytest.approx(squared, abs=1e-12)


def test_bootstrap_is_seeded_and_orders_bounds():
    data = survey_like(250, 4)
    first = relative_weights(data, "outcome", PREDICTORS, min_n=100, n_boot=300, seed=9)
    again = relative_weights(data, "outcome", PREDICTORS, min_n=100, n_boot=300, seed=9)
    other = relative_weights(data, "outcome", PREDICTORS, min_n=100, n_boot=300, seed=10)
    assert first == again and first != other
    for w in first.weights:
        assert 0 <= w.raw_interval.low <= w.raw_interval.high <= 1
        assert 0 <= w.rescaled_interval.low <= w.rescaled_interval.high <= 100
        assert "seed 9" in w.raw_interval.method
    assert first.r_squared_interval.contains(first.r_squared)
    strong = first.weights[0]
    assert strong.raw_interval.contains(strong.raw)


def test_listwise_and_minimum_n():
    data = survey_like(130, 5)
    data.loc[:39, "d3"] = np.nan
    refused = relative_weights(data, "outcome", PREDICTORS, min_n=MIN_N_ORGANISATION)
    assert isinstance(refused, CannotCompute) and refused.n == 90
    assert "at least 100" in refused.reason
    allowed = relative_weights(data, "outcome", PREDICTORS, min_n=MIN_N_DEPARTMENT, n_boot=50)
    assert isinstance(allowed, RelativeWeights) and allowed.n == 90


def test_refusals_name_the_reason():
    data = survey_like(200, 6)
    flat = data.assign(d2=50.0)
    got = relative_weights(flat, "outcome", PREDICTORS, min_n=50)
    assert isinstance(got, CannotCompute) and "d2" in got.reason
    twin = data.assign(d6=data["d1"] * 2 + 1)
    got = relative_weights(twin, "outcome", PREDICTORS, min_n=50)
    assert isinstance(got, CannotCompute) and "perfectly related" in got.reason
    assert isinstance(relative_weights(data, "outcome", ["d1"], min_n=50), CannotCompute)
    with pytest.raises(ValueError):
        relative_weights(data, "outcome", ["d1", "missing_column"], min_n=50)


def test_batched_bootstrap_equals_one_resample_at_a_time(monkeypatch):
    """The bootstrap computes its resamples in batches; every resample must give what the
    plain computation gives on the same respondents, also across batch boundaries."""
    from survey.stats import drivers

    data = survey_like(150, 7)
    values = data[["outcome", *PREDICTORS]].to_numpy()
    monkeypatch.setattr(drivers, "_CHUNK_VALUES", 150 * 7 * 16)  # batches of 16 resamples
    raw, r2 = drivers._bootstrap(values, 40, seed=3)
    rng = np.random.default_rng(3)
    picks = np.concatenate([rng.integers(0, 150, (size, 150)) for size in (16, 16, 8)])
    assert raw.shape == (40, 6)
    for b, rows in enumerate(picks):
        expected_raw, expected_r2 = drivers._relative_weights(values[rows])
        assert raw[b] == pytest.approx(expected_raw, abs=1e-10)
        assert r2[b] == pytest.approx(expected_r2, abs=1e-10)


def test_block_bootstrap_of_large_groups_agrees_with_the_case_bootstrap(monkeypatch):
    """Above reliability.BOOT_CASES complete cases the drivers' bootstrap resamples blocks of
    cases (a million respondents take seconds, not minutes); its intervals must be the case
    bootstrap's on the same data."""
    from survey.stats import reliability

    data = survey_like(3000, 21)
    blocks = relative_weights(data, "outcome", PREDICTORS, min_n=50, n_boot=400, seed=5)
    monkeypatch.setattr(reliability, "BOOT_CASES", 3000)
    cases = relative_weights(data, "outcome", PREDICTORS, min_n=50, n_boot=400, seed=5)
    assert blocks.n_boot == cases.n_boot == 400
    assert blocks.r_squared == cases.r_squared
    for b, c in zip(blocks.weights, cases.weights, strict=True):
        assert b.rescaled == c.rescaled  # the estimate itself is not resampled
        width = c.rescaled_interval.high - c.rescaled_interval.low
        assert b.rescaled_interval.low == pytest.approx(c.rescaled_interval.low, abs=0.15 * width + 0.3)
        assert b.rescaled_interval.high == pytest.approx(c.rescaled_interval.high, abs=0.15 * width + 0.3)
        assert b.rescaled_interval.high - b.rescaled_interval.low == pytest.approx(width, rel=0.25)
    assert blocks.r_squared_interval.low == pytest.approx(cases.r_squared_interval.low, abs=0.01)
    assert blocks.r_squared_interval.high == pytest.approx(cases.r_squared_interval.high, abs=0.01)
