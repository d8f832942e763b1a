"""The analysis' fast paths (issue 10, point 5: a million respondents) against the
straightforward computations they replace, on small random scans with missing answers, ties,
identical answers and a tiny department (one person) and an empty one: per-department sums
added up over a group's departments must give the group's figure itself."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.analysis import quality
from survey.analysis.claims import unit_sums, welch_from_sums
from survey.analysis.core import counted_estimate, unit_value_counts
from survey.analysis.frame import _row_mean, estimate
from survey.questionnaire import model as m
from survey.stats import CannotCompute, group_vs_rest


def random_scan(seed: int, n: int = 300, units: int = 6, items: int = 5, values: int = 5):
    """Answers 1..values (NaN: a fifth missing), a unit per person: unit 0 has one person,
    the last unit nobody; one statement answered identically by everyone."""
    rng = np.random.default_rng(seed)
    unit = np.concatenate([[0], rng.integers(1, units - 1, n - 1)])
    answers = rng.integers(1, values + 1, (n, items)).astype(float)
    answers[:, -1] = 3.0  # ties: everyone gives the same answer
    answers[rng.random((n, items)) < 0.2] = np.nan
    return unit, answers


def groups(units: int) -> list[list[int]]:
    """Groups as lists of units: each unit alone, the tiny and the empty one together, all."""
    return [[u] for u in range(units)] + [[0, units - 1], list(range(units))]


@pytest.mark.parametrize("seed", range(4))
def test_person_scores_are_pandas_row_means_exactly(seed):
    _, answers = random_scan(seed)
    columns = [(answers[:, j] - 1) / 4 * 100 for j in range(answers.shape[1])]
    columns[1] = (answers[:, 1] - 1) / 6 * 100  # a 7-point scale: not whole numbers
    for least in (1, 3, 5):
        frame = pd.concat([pd.Series(c) for c in columns], axis=1)
        expected = frame.mean(axis=1).where(frame.notna().sum(axis=1) >= least).to_numpy()
        assert np.array_equal(_row_mean(columns, least), expected, equal_nan=True)  # bit for bit


@pytest.mark.parametrize("seed", range(4))
def test_item_shares_from_department_counts_equal_the_count_over_the_group(seed):
    unit, answers = random_scan(seed, values=10)
    units = 6
    agree = m.Scale(kind=m.ScaleKind.ordinal, options=[m.ScaleOption(code=c, label={"en": str(c)}) for c in range(1, 11)])
    mark = m.Scale(kind=m.ScaleKind.score, min=1, max=10)
    for pole in (m.Pole.partnership, m.Pole.traditional):
        item = m.StatementItem(type="statement", id="s", text={"en": "s"}, scale="x", dimension="d", pole=pole)
        for scale in (agree, mark):
            for j in range(answers.shape[1]):
                distinct, per_unit = unit_value_counts(unit, units, answers[:, j].astype(np.float32))
                for g in groups(units):
                    values = answers[np.isin(unit, g), j]
                    values = values[~np.isnan(values)]
                    counts = per_unit[g].sum(axis=0)
                    assert quality.counted_shares(item, scale, distinct, counts) == \
                        quality.item_shares(item, scale, values)


@pytest.mark.parametrize("seed", range(4))
def test_statement_figures_from_department_counts_equal_the_estimate_over_the_group(seed):
    unit, answers = random_scan(seed, values=10)
    for j in range(answers.shape[1]):
        distinct, per_unit = unit_value_counts(unit, 6, answers[:, j].astype(np.float32))
        for g in groups(6):
            values = answers[np.isin(unit, g), j]
            expected = estimate(values, (1.0, 10.0))
            found = counted_estimate(distinct, per_unit[g].sum(axis=0), (1.0, 10.0))
            if expected is None or expected.n < 2:
                assert found == expected  # none, or the mean alone: the same numbers
                continue
            assert (found.mean, found.n) == (expected.mean, expected.n)  # exact: whole answers
            assert (found.ci_low, found.ci_high) == pytest.approx((expected.ci_low, expected.ci_high), rel=1e-13)


@pytest.mark.parametrize("seed", range(6))
def test_dimension_interval_from_department_sums_equals_the_one_over_the_people(seed):
    unit, answers = random_scan(seed)
    units = 6
    scale = (1.0, 5.0)
    # statement 2 keyed to the traditional end, statement 3 on a 1-7 scale
    lines = np.array([[-25.0, 25.0], [-25.0, 25.0], [125.0, -25.0], [-100 / 6, 100 / 6], [-25.0, 25.0]])
    lines[3] = [-scale[0] * 100 / 6, 100 / 6]
    per_unit = np.stack([quality.pair_sums([answers[unit == u, j] for j in range(5)]) for u in range(units)])
    for g in groups(units):
        inside = np.isin(unit, g)
        scores = [lines[j, 0] + lines[j, 1] * answers[inside, j] for j in range(5)]
        expected = quality.composite_interval(scores)
        found = quality.composite_interval_from_sums(per_unit[g].sum(axis=0), lines[:, 1], lines[:, 0])
        if expected is None:
            assert found is None
        else:
            assert found == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_dimension_interval_with_everyone_answering_alike_has_width_zero():
    answers = [np.full(10, 4.0), np.full(10, 2.0)]
    found = quality.composite_interval_from_sums(quality.pair_sums(answers), np.array([25.0, 25.0]),
                                                 np.array([-25.0, -25.0]))
    assert found == quality.composite_interval([a * 25 - 25 for a in answers]) == (50.0, 50.0, 50.0)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), size=st.integers(1, 40), spread=st.sampled_from([0.0, 1.0, 20.0]))
def test_department_against_the_rest_from_sums_equals_welch_over_the_people(seed, size, spread):
    rng = np.random.default_rng(seed)
    unit = np.concatenate([np.zeros(size, dtype=np.int64), rng.integers(1, 5, 200)])
    values = np.round(50 + spread * rng.normal(size=len(unit)), 1)  # ties from rounding
    sums = unit_sums(values, unit, 6)
    for g in ([0], [1], [0, 2], [5]):
        inside, rest = sums.split(g)
        expected = group_vs_rest(values, np.isin(unit, g))
        found = welch_from_sums(inside, rest, sums.shift)
        if isinstance(expected, CannotCompute):
            assert isinstance(found, CannotCompute) and found.reason == expected.reason
            continue
        assert not isinstance(found, CannotCompute)
        assert (found.n_first, found.n_second, found.kind) == (expected.n_first, expected.n_second, expected.kind)
        for name in ("estimate", "t", "df", "p", "mean_first", "mean_second"):
            assert getattr(found, name) == pytest.approx(getattr(expected, name), rel=1e-8, abs=1e-9), name
        assert (found.interval.low, found.interval.high) == pytest.approx(
            (expected.interval.low, expected.interval.high), rel=1e-8, abs=1e-9)
        assert math.isclose(found.p, expected.p, rel_tol=1e-8, abs_tol=1e-12)
