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


def factor_scan(seed: int, n: int = 400, units: int = 6, items: int = 5):
    """Answers 1..5 driven by one common factor (so the coefficients are not all about 0),
    a fifth missing, unit 0 one person, the last unit nobody."""
    rng = np.random.default_rng(seed)
    unit = np.concatenate([[0], rng.integers(1, units - 1, n - 1)])
    factor = rng.normal(size=(n, 1))
    answers = np.clip(np.round(3 + factor + rng.normal(size=(n, items))), 1, 5)
    answers[rng.random((n, items)) < 0.2] = np.nan
    return unit, answers


def straightforward_reliability(complete: np.ndarray):
    """Alpha, item-rest correlations, alpha if deleted and omega as computed before the
    covariance-matrix path: variances and correlations over the people themselves."""
    from survey.stats.reliability import one_factor_minres

    n, k = complete.shape
    total = complete.sum(axis=1)
    alpha = k / (k - 1) * (1 - np.var(complete, axis=0, ddof=1).sum() / np.var(total, ddof=1))
    rest, deleted = [], []
    for j in range(k):
        others = total - complete[:, j]
        spread = complete[:, j].std() > 1e-12 and (others / (k - 1)).std() > 1e-12
        rest.append(float(np.corrcoef(complete[:, j], others)[0, 1]) if spread else None)
        var = np.var(np.delete(complete, j, axis=1), axis=0, ddof=1).sum()
        deleted.append((k - 1) / (k - 2) * (1 - var / np.var(others, ddof=1)) if k > 2 else None)
    sd = complete.std(axis=0, ddof=1)
    model = one_factor_minres(np.corrcoef(complete, rowvar=False)) if (sd > 1e-12).all() else None
    return alpha, rest, deleted, model


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("flat", [False, True])
def test_reliability_from_department_sums_equals_the_computation_over_the_people(seed, flat):
    from survey.stats import reliability as rel

    unit, answers = factor_scan(seed)
    if flat:
        answers[~np.isnan(answers[:, 2]), 2] = 3.0  # ties: one statement answered alike by all
    units, k = 6, answers.shape[1]
    slopes = np.array([25.0, 25.0, -25.0, 100 / 6, 25.0])  # statement 2 traditional-keyed, 3 on 1-7
    offsets = np.array([-25.0, -25.0, 125.0, -100 / 6, -25.0])
    per_unit = np.stack([quality.complete_sums(answers[unit == u]) for u in range(units)])
    for g in groups(units):
        rows = answers[np.isin(unit, g)]
        complete = offsets + slopes * rows[~np.isnan(rows).any(axis=1)]
        gram = per_unit[g].sum(axis=0)
        moments = rel.moments_from_sums(int(gram[k, k]), gram[:k, k], gram[:k, :k], slopes)
        assert moments.n == len(complete)
        from_sums = rel.reliability_from_moments([f"s{j}" for j in range(k)], moments, n_boot=0)
        over_people = rel.dimension_reliability(pd.DataFrame(offsets + slopes * rows), n_boot=0)
        if len(complete) < k + 2:
            for found in (from_sums, over_people):
                assert isinstance(found.alpha, CannotCompute) and isinstance(found.omega, CannotCompute)
            continue
        alpha, rest, deleted, model = straightforward_reliability(complete)
        for found in (from_sums, over_people):
            assert found.n_complete == len(complete)
            assert found.alpha.value == pytest.approx(alpha, rel=1e-9, abs=1e-12)
            for j, r in enumerate(found.items):
                if rest[j] is None:
                    assert isinstance(r.item_rest, CannotCompute)
                else:
                    assert r.item_rest.value == pytest.approx(rest[j], rel=1e-9, abs=1e-12)
                assert r.alpha_if_deleted.value == pytest.approx(deleted[j], rel=1e-9, abs=1e-12)
            if model is None:
                assert isinstance(found.omega, CannotCompute)
            else:
                assert found.omega.value == pytest.approx(model.omega_total, rel=1e-8)
                assert [r.loading for r in found.items] == pytest.approx(model.loadings, rel=1e-6, abs=1e-9)
                assert [f.code for f in found.flags] == [f.code for f in over_people.flags]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("order", ["stretches", "positions"])
def test_driver_weights_from_department_sums_equal_the_weights_over_the_people(seed, order):
    from survey.analysis.drivers import moments_from_shifted, unit_moments
    from survey.stats import RelativeWeights, relative_weights
    from survey.stats.drivers import weights_from_moments

    rng = np.random.default_rng(seed)
    units, n = 6, 500
    unit = np.sort(np.concatenate([[0], rng.integers(1, units - 1, n - 1)]))  # unit 0: one person; 5: nobody
    if order == "positions":  # people in any order: each unit's rows as positions
        unit = rng.permutation(unit)
        rows = [np.flatnonzero(unit == u) for u in range(units)]
    else:  # each unit one stretch of rows (`load_frame(grouped=True)`)
        rows = [slice(int(np.searchsorted(unit, u)), int(np.searchsorted(unit, u, side="right"))) for u in range(units)]
    factor = rng.normal(size=n)
    # person scores on 0-100 (means of statement scores: ties) and a pace code -1/0/1
    columns = [np.round(np.clip(50 + 15 * factor + 10 * rng.normal(size=n), 0, 100) / 12.5) * 12.5
               for _ in range(4)] + [rng.integers(-1, 2, n).astype(float)]
    columns[0] = columns[0] + 0.3 * columns[4]  # the outcome goes with the others
    for c in columns:
        c[rng.random(n) < 0.1] = np.nan
    columns[3][unit == 2] = 37.5  # no spread in one department
    complete = np.isfinite(np.column_stack(columns)).all(axis=1)
    gram, ends = unit_moments(rows, columns, complete)
    names = ["outcome", "a", "b", "c", "d"]
    for g in groups(units):
        inside = np.isin(unit, g)
        frame = pd.DataFrame({name: c[inside] for name, c in zip(names, columns)})
        expected = relative_weights(frame, "outcome", names[1:], min_n=3, n_boot=0)
        summed = gram[g].sum(axis=0)
        count = int(summed[-1, -1])
        assert count == int((complete & inside).sum())
        found = weights_from_moments("outcome", names[1:], moments_from_shifted(count, summed[:-1, -1], summed[:-1, :-1]),
                                     max(1.0, float(ends[g, 0].max())),
                                     constant=ends[g, 1].max(axis=0) == ends[g, 2].min(axis=0), min_n=3, n_boot=0)
        if not isinstance(expected, RelativeWeights):
            assert isinstance(found, CannotCompute) and found.reason == expected.reason
            continue
        assert isinstance(found, RelativeWeights) and found.n == expected.n
        assert found.r_squared == pytest.approx(expected.r_squared, rel=1e-9)
        for w, e in zip(found.weights, expected.weights, strict=True):
            assert (w.raw, w.rescaled, w.correlation) == pytest.approx((e.raw, e.rescaled, e.correlation),
                                                                       rel=1e-8, abs=1e-12)


def test_ids_of_positions_are_sorted_whatever_the_frame_order():
    from survey.analysis.core import _sorted_ids

    rng = np.random.default_rng(4)
    ids = rng.permutation(np.arange(1, 5001) * 3).astype(np.int64)  # any order, gaps
    ids_of = _sorted_ids(ids)
    for size in (0, 1, 100, 4000):  # a sort, or the mask over everyone
        positions = np.sort(rng.choice(len(ids), size, replace=False)).astype(np.int32)
        assert np.array_equal(ids_of(positions), np.sort(ids[positions]))
    ascending = np.sort(ids)
    assert _sorted_ids(ascending)(np.arange(10)) is not None
    assert np.array_equal(_sorted_ids(ascending)(np.arange(10)), ascending[:10])


def _same(found, expected, where: str = "") -> None:
    """Two result models equal, floats up to rounding (recursively through dataclasses)."""
    import dataclasses

    if dataclasses.is_dataclass(found) and not isinstance(found, type):
        assert type(found) is type(expected), where
        for f in dataclasses.fields(found):
            _same(getattr(found, f.name), getattr(expected, f.name), f"{where}.{f.name}")
    elif isinstance(found, dict):
        assert set(found) == set(expected), where
        for key in found:
            _same(found[key], expected[key], f"{where}[{key}]")
    elif isinstance(found, (list, tuple)):
        assert len(found) == len(expected), where
        for i, (a, b) in enumerate(zip(found, expected)):
            _same(a, b, f"{where}[{i}]")
    elif isinstance(found, float) and isinstance(expected, float):
        assert (math.isnan(found) and math.isnan(expected)) or found == pytest.approx(expected, rel=1e-9, abs=1e-9), where
    else:
        assert found == expected, where


def test_analysis_of_people_ordered_by_department_equals_the_one_in_id_order(demo_run):
    """`analyse_scan` reads the people ordered by role and department (each department one
    stretch of rows: figures are slices); every figure, its people and every result must be
    those of the analysis of the same people in the order of their ids."""
    from survey.analysis import analyse_frame
    from survey.analysis.core import _sorted_ids
    from survey.analysis.frame import load_frame
    from survey.scan import load_scan

    scan = load_scan(demo_run.folder)
    responses, wide = load_frame(scan)
    # load_frame(grouped=True): the same rows, each role's department one stretch, ids ascending in it
    g_responses, g_wide = load_frame(scan, grouped=True)
    assert sorted(g_responses.index) == list(responses.index)
    pd.testing.assert_frame_equal(g_wide.loc[responses.index], wide)
    pd.testing.assert_frame_equal(g_responses.loc[responses.index], responses)
    key = g_responses["role"].astype(str) + "/" + g_responses["department"].astype(str)
    assert (key != key.shift()).sum() == key.nunique()  # one stretch each
    assert all((np.diff(group.index.to_numpy()) > 0).all() for _, group in g_responses.groupby(key.to_numpy()))
    # the demo's ids follow its departments: renumber the people in a random order, so that the
    # departments interleave in id order, then order them as load_frame(grouped=True) does
    order = np.random.default_rng(7).permutation(len(responses))
    ids = pd.Index(np.arange(1, len(responses) + 1) * 2, name="id")
    responses, wide = responses.iloc[order].set_axis(ids), wide.iloc[order].set_axis(ids)
    by_id = analyse_frame(scan, responses, wide, bootstrap=False)
    grouping = np.lexsort((responses["department"].cat.codes.to_numpy(), responses["role"].cat.codes.to_numpy()))
    responses, wide = responses.iloc[grouping], wide.iloc[grouping]
    assert not (np.diff(responses.index.to_numpy()) > 0).all()  # another order indeed
    grouped = analyse_frame(scan, responses, wide, bootstrap=False)
    assert len(grouped.register.figures) == len(by_id.register.figures)
    ids_of = _sorted_ids(grouped.ids)
    for f, g in zip(by_id.register.figures, grouped.register.figures, strict=True):
        assert (g.variable, g.group, g.kind, g.n, g.unit_counts, g.parts) == \
            (f.variable, f.group, f.kind, f.n, f.unit_counts, f.parts)
        if f.members is not None:
            assert (np.diff(g.members) > 0).all()  # positions ascending, as everywhere
            assert np.array_equal(ids_of(g.members), by_id.ids[f.members]), (f.variable, f.group)
    assert grouped.decision.allowed == by_id.decision.allowed
    for name in ("organisation_result", "managers", "departments", "hidden", "others", "breakdowns", "suppressed",
                 "reliability", "item_quality", "claims", "drivers"):
        _same(getattr(grouped, name), getattr(by_id, name), name)
    assert grouped.drivers.refused == {} and grouped.organisation_result.drivers  # the drivers were computed
    assert any(r.alpha is not None for r in grouped.reliability)


@pytest.mark.parametrize("values", [[3.0, 1.0, 3.0, 7.0, 1.0], [2.0], [0.5, 0.5, -1.0], [-4.0, 5000.0, 2.0],
                                    [1e6, 1e6 + 2]])
def test_distinct_answer_codes_are_numpys_unique(values):
    from survey.analysis.frame import _distinct

    for dtype in (np.float32, np.float64):
        data = np.array(values, dtype=dtype)
        expected, inverse = np.unique(data, return_inverse=True)
        found, at = _distinct(data)
        assert np.array_equal(found, expected) and found.dtype == expected.dtype
        assert np.array_equal(at, inverse)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("strength", [0.0, 0.3, 1.0])
def test_one_factor_fit_of_one_matrix_equals_the_batched_fit(seed, strength):
    """omega's point estimate fits its one matrix in plain Python numbers; the bootstrap fits
    batches with numpy: the same coordinate steps, the same loadings (weakly related
    statements included, which take thousands of sweeps)."""
    from survey.stats.reliability import _minres_batch, _minres_one

    rng = np.random.default_rng(seed)
    data = strength * rng.normal(size=(300, 1)) + rng.normal(size=(300, 6))
    corr = np.corrcoef(data, rowvar=False)
    batch, converged = _minres_batch(corr[None])
    one, one_converged = _minres_one(corr)
    assert one_converged == bool(converged[0])
    assert one == pytest.approx(batch[0], abs=1e-9)
