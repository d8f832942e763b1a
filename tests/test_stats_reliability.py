"""survey.stats.reliability against pingouin and R's psych.

Reference data: tests/data/stats/reliability_synthetic.csv, three synthetic one-factor scales
made by make_reliability_data.py (seed 20261125). R's numbers for it are in
reliability_reference.json, produced by (psych 2.2.9, R 4.x):

    Rscript tests/data/stats/reliability_reference.R tests/data/stats/reliability_synthetic.csv \
        "a=a1,a2,a3,a4,a5,a6;b=b1,b2,b3,b4;c=c1,c2,c3" > tests/data/stats/reliability_reference.json

When Rscript with psych is installed, test_bfi_against_live_r also runs the same script on
psych's bfi data (not stored here), keyed by psych's bfi.keys.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from survey.stats import CannotCompute, Coefficient, FlagLevel, Interval
from survey.stats.reliability import (
    cronbach_alpha,
    dimension_reliability,
    mcdonald_omega,
    one_factor_minres,
)

DATA = Path(__file__).parent / "data" / "stats"
SCALES = {"a": [f"a{i}" for i in range(1, 7)], "b": [f"b{i}" for i in range(1, 5)], "c": ["c1", "c2", "c3"]}


@pytest.fixture(scope="module")
def synthetic() -> pd.DataFrame:
    return pd.read_csv(DATA / "reliability_synthetic.csv")


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads((DATA / "reliability_reference.json").read_text())


def test_generator_reproduces_the_stored_csv(synthetic):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_data", DATA / "make_reliability_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pd.testing.assert_frame_equal(module.make().reset_index(drop=True), synthetic, check_dtype=False, atol=1e-4)


@pytest.mark.parametrize("scale", SCALES)
def test_matches_psych(synthetic, reference, scale):
    ref = reference[scale]
    result = dimension_reliability(synthetic[SCALES[scale]], dimension=scale, n_boot=200)
    assert result.n_complete == ref["n"]
    assert isinstance(result.alpha, Coefficient) and isinstance(result.omega, Coefficient)
    assert result.alpha.n == result.omega.n == ref["n"]
    assert result.alpha.value == pytest.approx(ref["alpha"], abs=1e-8)
    assert (result.alpha.interval.low, result.alpha.interval.high) == pytest.approx(ref["feldt"], abs=1e-8)
    # minres loadings: psych's optimiser stops at its own tolerance, hence 1e-4
    assert [i.loading for i in result.items] == pytest.approx(ref["loadings"], abs=1e-4)
    assert result.omega.value == pytest.approx(ref["omega_formula"], abs=1e-5)
    # psych::omega's omega.tot divides by the observed total variance instead of the model's
    # ((sum l)^2 + sum u2), so it differs by a few ten-thousandths when the fit is not exact
    assert result.omega.value == pytest.approx(ref["omega_tot"], abs=2e-3)
    rest = [i.item_rest.value for i in result.items]
    assert rest == pytest.approx(ref["r_drop"], abs=1e-8)
    assert result.omega.interval.contains(result.omega.value)


def test_alpha_matches_pingouin(synthetic):
    pingouin = pytest.importorskip("pingouin")
    for cols in SCALES.values():
        complete = synthetic[cols].dropna()
        expected, ci = pingouin.cronbach_alpha(complete)
        got = cronbach_alpha(complete.to_numpy())
        assert got.value == pytest.approx(expected, abs=1e-10)
        assert got.interval.low == pytest.approx(ci[0], abs=6e-4)  # pingouin rounds to 3 decimals
        assert got.interval.high == pytest.approx(ci[1], abs=6e-4)
        assert got.interval.method == "Feldt"


def test_alpha_matches_pingouin_on_random_likert():
    pingouin = pytest.importorskip("pingouin")
    rng = np.random.default_rng(7)
    latent = rng.normal(size=(60, 1))
    answers = np.clip(np.round(3 + latent + rng.normal(size=(60, 4))), 1, 5)
    expected, ci = pingouin.cronbach_alpha(pd.DataFrame(answers))
    got = cronbach_alpha((answers - 1) / 4 * 100)  # linear rescaling leaves alpha unchanged
    assert got.value == pytest.approx(expected, abs=1e-10)
    assert (got.interval.low, got.interval.high) == pytest.approx(tuple(ci), abs=6e-4)


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
def test_bfi_against_live_r(tmp_path):
    check = subprocess.run(["Rscript", "-e", "library(psych)"], capture_output=True)
    if check.returncode != 0:
        pytest.skip("R package psych is not installed")
    csv = tmp_path / "bfi.csv"
    subprocess.run(["Rscript", str(DATA / "bfi_export.R"), str(csv)], check=True, capture_output=True)
    scales = {name: [f"{name[0].upper()}{i}" for i in range(1, 6)] for name in
              ("agree", "conscientious", "extraversion", "neuroticism", "openness")}
    spec = ";".join(f"{k}={','.join(v)}" for k, v in scales.items())
    out = subprocess.run(["Rscript", str(DATA / "reliability_reference.R"), str(csv), spec],
                         check=True, capture_output=True, text=True)
    reference = json.loads(out.stdout)
    data = pd.read_csv(csv)
    for name, cols in scales.items():
        ref = reference[name]
        result = dimension_reliability(data[cols], dimension=name, n_boot=0)
        assert result.n_complete == ref["n"]
        assert result.alpha.value == pytest.approx(ref["alpha"], abs=1e-8)
        assert [i.loading for i in result.items] == pytest.approx(ref["loadings"], abs=1e-4)
        assert result.omega.value == pytest.approx(ref["omega_formula"], abs=1e-5)
        assert result.omega.value == pytest.approx(ref["omega_tot"], abs=3e-3)
        assert [i.item_rest.value for i in result.items] == pytest.approx(ref["r_drop"], abs=1e-8)


def test_exact_one_factor_matrix_is_recovered():
    loadings = np.array([0.8, 0.7, 0.6, 0.5, 0.4])
    corr = np.outer(loadings, loadings)
    np.fill_diagonal(corr, 1.0)
    model = one_factor_minres(corr)
    assert model.loadings == pytest.approx(loadings, abs=1e-6)
    common = loadings.sum() ** 2
    assert model.omega_total == pytest.approx(common / (common + (1 - loadings**2).sum()), abs=1e-8)
    assert model.converged and not model.heywood


def test_two_statements_take_the_symmetric_solution():
    model = one_factor_minres(np.array([[1.0, 0.49], [0.49, 1.0]]))
    assert model.loadings == pytest.approx((0.7, 0.7))


def test_omega_bootstrap_is_deterministic(synthetic):
    complete = synthetic[SCALES["a"]].dropna().to_numpy()
    first, _ = mcdonald_omega(complete, n_boot=300, seed=3)
    again, _ = mcdonald_omega(complete, n_boot=300, seed=3)
    other, _ = mcdonald_omega(complete, n_boot=300, seed=4)
    assert first.interval == again.interval
    assert first.interval != other.interval
    assert "bootstrap percentile" in first.interval.method and "seed 3" in first.interval.method


def test_flags_and_rates():
    rng = np.random.default_rng(11)
    n = 120
    f = rng.normal(size=n)
    raw = pd.DataFrame({f"s{i}": np.clip(np.round(3 + 1.1 * f + rng.normal(size=n)), 1, 5) for i in range(1, 5)})
    raw["s5"] = np.clip(np.round(3 - 1.1 * f + rng.normal(size=n)), 1, 5)  # keyed the wrong way round
    dont_know = pd.DataFrame(False, index=raw.index, columns=raw.columns)
    dont_know.loc[:9, "s2"] = True  # ten "don't know"
    raw.loc[10:14, "s3"] = np.nan  # five left empty
    scores = (raw - 1) / 4 * 100
    result = dimension_reliability(scores, dont_know, raw.mask(dont_know),
                                   {c: [1, 2, 3, 4, 5] for c in raw.columns}, dimension="d", n_boot=100)
    by_item = {i.item: i for i in result.items}
    assert by_item["s2"].dont_know_rate == pytest.approx(10 / n)
    assert by_item["s2"].missing_rate == 0
    assert by_item["s2"].n_answers == n - 10
    assert by_item["s3"].missing_rate == pytest.approx(5 / n)
    assert result.n_complete == n - 15
    assert [f.code for f in by_item["s5"].flags] == ["item_negative"]
    assert not by_item["s1"].flags
    dist = by_item["s2"].distribution
    assert [c.value for c in dist] == [1, 2, 3, 4, 5, "dont_know", "missing"]
    assert sum(c.count for c in dist) == n
    assert sum(c.share for c in dist) == pytest.approx(1.0)
    assert result.verdict in (FlagLevel.weak, FlagLevel.questionable)


def test_strong_scale_has_no_flags(synthetic):
    result = dimension_reliability(synthetic[SCALES["c"]], n_boot=50)
    assert result.flags == () and result.verdict is None


def test_few_complete_cases_are_flagged_then_refused(synthetic):
    small = synthetic[SCALES["a"]].dropna().iloc[:20]
    result = dimension_reliability(small, n_boot=50)
    assert "few_cases" in [f.code for f in result.flags]
    assert isinstance(result.alpha, Coefficient)
    tiny = small.iloc[:7]  # k + 2 = 8 needed
    refused = dimension_reliability(tiny, n_boot=50)
    assert isinstance(refused.alpha, CannotCompute) and isinstance(refused.omega, CannotCompute)
    assert refused.alpha.n == 7 and "at least 8" in refused.alpha.reason


def test_degenerate_inputs_give_reasons_not_nan():
    same = pd.DataFrame({"x": [50.0] * 40, "y": [50.0] * 40, "z": [50.0] * 40})
    result = dimension_reliability(same, n_boot=20)
    assert isinstance(result.alpha, CannotCompute) and "same" in result.alpha.reason
    assert isinstance(result.omega, CannotCompute)
    assert all(isinstance(i.item_rest, CannotCompute) for i in result.items)
    one = dimension_reliability(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), n_boot=20)
    assert isinstance(one.alpha, CannotCompute) and "two statements" in one.alpha.reason
    empty = dimension_reliability(pd.DataFrame({"x": [np.nan] * 5, "y": [np.nan] * 5}), n_boot=20)
    assert isinstance(empty.alpha, CannotCompute) and empty.n_complete == 0
    assert all(i.missing_rate == 1.0 for i in empty.items)


def test_flat_statement_blocks_omega_but_not_alpha():
    rng = np.random.default_rng(2)
    data = pd.DataFrame(rng.integers(0, 5, size=(50, 3)) * 25.0, columns=["p", "q", "r"])
    data["flat"] = 50.0
    result = dimension_reliability(data, n_boot=20)
    assert isinstance(result.alpha, Coefficient)
    assert isinstance(result.omega, CannotCompute) and "same way" in result.omega.reason
    assert math.isfinite(result.alpha.value)
    assert isinstance(result.alpha.interval, Interval)


def test_block_bootstrap_of_large_samples_agrees_with_the_case_bootstrap(monkeypatch):
    """Above BOOT_CASES the omega bootstrap resamples blocks of cases (memory stays small at a
    million respondents); its interval must be the case bootstrap's."""
    from survey.stats import reliability

    rng = np.random.default_rng(11)
    n = 3000
    data = np.clip(np.round(3 + 0.8 * rng.normal(size=(n, 1)) + 0.9 * rng.normal(size=(n, 5))), 1, 5)
    blocks, _ = reliability.mcdonald_omega(data, n_boot=400, seed=3)
    monkeypatch.setattr(reliability, "BOOT_CASES", n)
    cases, _ = reliability.mcdonald_omega(data, n_boot=400, seed=3)
    assert blocks.value == cases.value
    assert blocks.interval.low == pytest.approx(cases.interval.low, abs=0.006)
    assert blocks.interval.high == pytest.approx(cases.interval.high, abs=0.006)
    assert blocks.interval.high - blocks.interval.low == pytest.approx(cases.interval.high - cases.interval.low,
                                                                       rel=0.2)


@pytest.mark.parametrize("corr", [
    [[1.0, -0.101204, -0.091435], [-0.101204, 1.0, -0.145587], [-0.091435, -0.145587, 1.0]],
    [[1.0, -0.054453, 0.038025], [-0.054453, 1.0, 0.069635], [0.038025, 0.069635, 1.0]],
])
def test_minres_on_weak_statements_finds_the_best_fit_not_a_local_minimum(corr):
    # weakly related statements: from the principal axis alone the descent stopped with a
    # loading at the Heywood bound and a worse fit; the fit must equal the best of many
    # independent starts of a general optimiser (scipy's L-BFGS-B with the same bound)
    from scipy.optimize import minimize

    from survey.stats.reliability import _HEYWOOD_BOUND, one_factor_minres

    r = np.array(corr)

    def misfit(loadings):
        residual = r - np.outer(loadings, loadings)
        np.fill_diagonal(residual, 0.0)
        return float((residual ** 2).sum())

    bound = np.sqrt(1 - _HEYWOOD_BOUND)
    rng = np.random.default_rng(0)
    best = min(minimize(misfit, rng.uniform(-1, 1, 3), bounds=[(-bound, bound)] * 3, method="L-BFGS-B").fun
               for _ in range(40))
    fit = one_factor_minres(r)
    assert misfit(np.array(fit.loadings)) == pytest.approx(best, abs=1e-7)
