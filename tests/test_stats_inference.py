"""survey.stats.inference against scipy, statsmodels and pingouin (when installed)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from survey.stats import (
    CannotCompute,
    MeanDifference,
    claims,
    group_vs_rest,
    holm,
    mean_interval,
    paired_difference,
    share_difference,
    welch_difference,
    wilson_interval,
)


@pytest.fixture
def groups():
    rng = np.random.default_rng(42)
    return rng.normal(62, 12, size=23), rng.normal(55, 20, size=140)


def test_welch_matches_scipy(groups):
    a, b = groups
    got = welch_difference(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert got.t == pytest.approx(ref.statistic, rel=1e-10)
    assert got.p == pytest.approx(ref.pvalue, rel=1e-10)
    assert got.df == pytest.approx(ref.df, rel=1e-10)
    assert (got.interval.low, got.interval.high) == pytest.approx((ci.low, ci.high), rel=1e-10)
    assert got.estimate == pytest.approx(a.mean() - b.mean())
    assert (got.n_first, got.n_second) == (23, 140)


def test_welch_matches_pingouin(groups):
    pingouin = pytest.importorskip("pingouin")
    a, b = groups
    got = welch_difference(a, b)
    row = pingouin.ttest(a, b, correction=True).iloc[0]
    p_column = "p_val" if "p_val" in row.index else "p-val"
    assert got.t == pytest.approx(row["T"], rel=1e-8)
    assert got.df == pytest.approx(row["dof"], rel=1e-8)
    assert got.p == pytest.approx(row[p_column], rel=1e-6)
    assert (got.interval.low, got.interval.high) == pytest.approx(tuple(row["CI95"]), abs=6e-3)  # rounded


def test_welch_matches_statsmodels(groups):
    sm = pytest.importorskip("statsmodels.stats.weightstats")
    a, b = groups
    got = welch_difference(a, b)
    cm = sm.CompareMeans(sm.DescrStatsW(a), sm.DescrStatsW(b))
    t, p, df = cm.ttest_ind(usevar="unequal")
    low, high = cm.tconfint_diff(usevar="unequal")
    assert (got.t, got.p, got.df) == pytest.approx((t, p, df), rel=1e-10)
    assert (got.interval.low, got.interval.high) == pytest.approx((low, high), rel=1e-10)


def test_group_vs_rest_compares_with_the_others(groups):
    a, b = groups
    values = np.concatenate([a, b, [np.nan, np.nan]])
    in_group = np.array([True] * len(a) + [False] * len(b) + [True, False])
    assert group_vs_rest(values, in_group) == welch_difference(a, b)


def test_paired_matches_scipy_and_pingouin():
    rng = np.random.default_rng(5)
    current = rng.normal(50, 15, size=40)
    desired = current + rng.normal(8, 10, size=40)
    current[3] = np.nan  # dropped as a pair
    got = paired_difference(current, desired)
    keep = ~np.isnan(current)
    ref = stats.ttest_rel(desired[keep], current[keep])
    ci = ref.confidence_interval(0.95)
    assert got.n_first == got.n_second == 39 and got.kind == "paired"
    assert (got.t, got.p, got.df) == pytest.approx((ref.statistic, ref.pvalue, ref.df), rel=1e-10)
    assert (got.interval.low, got.interval.high) == pytest.approx((ci.low, ci.high), rel=1e-10)
    pingouin = pytest.importorskip("pingouin")
    row = pingouin.ttest(desired[keep], current[keep], paired=True).iloc[0]
    assert got.t == pytest.approx(row["T"], rel=1e-8)
    assert (got.interval.low, got.interval.high) == pytest.approx(tuple(row["CI95"]), abs=6e-3)


def test_mean_interval_is_the_t_interval_and_clips_to_the_scale():
    values = np.array([40.0, 55, 60, 75, 80, 62.5])
    got = mean_interval(values)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    assert (got.interval.low, got.interval.high) == pytest.approx((low, high), rel=1e-12)
    assert not got.interval.clipped and got.n == 6
    top = mean_interval([100.0, 100, 100, 75, 100])
    assert top.interval.clipped and top.interval.high == 100.0
    assert top.interval.low < top.mean <= 100
    marks = mean_interval([9, 10, 10, 10], low=1, high=10)
    assert marks.interval.high == 10 and marks.interval.clipped


def test_wilson_matches_scipy_and_statsmodels():
    for x, n in [(0, 7), (1, 7), (6, 7), (7, 7), (13, 40), (250, 1000)]:
        got = wilson_interval(x, n)
        ref = stats.binomtest(x, n).proportion_ci(0.95, method="wilson")
        assert (got.interval.low, got.interval.high) == pytest.approx((ref.low, ref.high), abs=1e-12)
        assert 0 <= got.interval.low <= got.share <= got.interval.high <= 1
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    low, high = proportion.proportion_confint(13, 40, alpha=0.05, method="wilson")
    got = wilson_interval(13, 40)
    assert (got.interval.low, got.interval.high) == pytest.approx((low, high), abs=1e-12)


def test_share_difference_newcombe_and_fisher():
    got = share_difference(18, 30, 40, 120)
    fisher = stats.fisher_exact([[18, 12], [40, 80]])
    assert got.p == pytest.approx(fisher.pvalue, rel=1e-12)
    assert got.estimate == pytest.approx(18 / 30 - 40 / 120)
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    for counts in [(18, 30, 40, 120), (0, 8, 5, 9), (8, 8, 1, 20)]:
        got = share_difference(*counts)
        low, high = proportion.confint_proportions_2indep(counts[0], counts[1], counts[2], counts[3],
                                                          method="newcomb", compare="diff")
        assert (got.interval.low, got.interval.high) == pytest.approx((low, high), abs=1e-10)
        assert -1 <= got.interval.low <= got.estimate <= got.interval.high <= 1


def test_fisher_is_the_exact_permutation_test():
    # enumerate every way of dealing the 9 "yes" answers over groups of 6 and 10
    from math import comb

    x1, n1, x2, n2 = 5, 6, 4, 10
    total, yes = n1 + n2, x1 + x2
    prob = {k: comb(n1, k) * comb(n2, yes - k) / comb(total, yes) for k in range(0, min(n1, yes) + 1)}
    observed = prob[x1]
    exact = sum(p for p in prob.values() if p <= observed * (1 + 1e-7))
    assert share_difference(x1, n1, x2, n2).p == pytest.approx(exact, rel=1e-9)


def test_holm_matches_statsmodels_and_pingouin():
    p = [0.01, 0.04, 0.03, 0.005, 0.20, 0.04]
    got = holm(p)
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    _, expected, _, _ = multitest.multipletests(p, method="holm")
    assert got == pytest.approx(list(expected), abs=1e-15)
    pingouin = pytest.importorskip("pingouin")
    _, expected_pg = pingouin.multicomp(p, method="holm")
    assert got == pytest.approx(list(expected_pg), abs=1e-15)
    assert holm([]) == []
    with pytest.raises(ValueError):
        holm([0.5, float("nan")])


def test_claims_use_holm_and_explain():
    rng = np.random.default_rng(1)
    base = rng.normal(50, 10, size=300)
    big = welch_difference(base[:30] + 15, base[30:])
    small = welch_difference(base[:30] + 3.2, base[30:])  # p = .034; Holm: x 2 (second smallest)
    none = welch_difference(base[:30], base[30:])
    alone = claims([("small", small)])[0]
    assert alone.claimed == alone.interval_excludes_zero == (small.p < 0.05)
    family = claims([("big", big), ("small", small), ("none", none), ("empty", CannotCompute("no answers"))])
    assert [c.family_size for c in family] == [3, 3, 3, 3]
    assert family[0].claimed and "real difference" in family[0].reason
    assert family[1].p_adjusted >= family[1].p
    assert not family[3].claimed and family[3].reason == "not tested: no answers"
    # a difference whose own interval excludes 0 but does not survive the correction
    assert small.p < 0.05 <= 2 * small.p
    assert family[1].interval_excludes_zero and not family[1].claimed
    assert "comparisons" in family[1].reason


def test_degenerate_inputs():
    assert isinstance(mean_interval([]), CannotCompute)
    assert isinstance(mean_interval([np.nan, 3.0]), CannotCompute)
    flat = mean_interval([70.0, 70.0, 70.0])
    assert (flat.interval.low, flat.interval.high) == (70.0, 70.0)
    assert isinstance(welch_difference([50.0, 50.0], [50.0, 50.0, 50.0]), CannotCompute)
    assert isinstance(welch_difference([1.0], [1.0, 2.0]), CannotCompute)
    shifted = welch_difference([60.0, 60.0], [50.0, 50.0])
    assert isinstance(shifted, CannotCompute)  # no spread at all: no test, not an infinite t
    assert isinstance(paired_difference([1.0, 2.0, 3.0], [2.0, 3.0, 4.0]), CannotCompute)
    assert isinstance(wilson_interval(0, 0), CannotCompute)
    assert isinstance(share_difference(0, 0, 1, 2), CannotCompute)
    both_zero = share_difference(0, 5, 0, 9)
    assert both_zero.p == 1.0 and both_zero.interval.contains(0.0)
    assert isinstance(welch_difference([1.0, 2.0, 3.0], [2.0, 2.5, 4.0]), MeanDifference)


def test_fisher_for_large_tables_matches_scipy():
    """Above FISHER_SCIPY_UP_TO people the p comes from the probabilities' ratios: the same p
    as scipy's (department against the rest of an organisation of 20,000 to a million)."""
    from survey.stats.inference import FISHER_SCIPY_UP_TO, fisher_two_sided

    rng = np.random.default_rng(11)
    for total in (20_000, 150_000, 1_000_000):
        assert total > FISHER_SCIPY_UP_TO
        for _ in range(8):
            n1 = int(rng.integers(50, total // 5))
            share = rng.uniform(0.02, 0.6)
            x1 = int(rng.binomial(n1, share * rng.uniform(0.9, 1.1)))
            x2 = int(rng.binomial(total - n1, share))
            want = stats.fisher_exact([[x1, n1 - x1], [x2, total - n1 - x2]]).pvalue
            assert fisher_two_sided(x1, n1 - x1, x2, total - n1 - x2) == pytest.approx(want, rel=1e-8, abs=1e-300)
            assert share_difference(x1, n1, x2, total - n1).p == pytest.approx(want, rel=1e-8, abs=1e-300)
    assert fisher_two_sided(0, 30_000, 0, 40_000) == 1.0  # nobody gave the answer
