"""Reliability of a dimension: do its statements measure one thing consistently?

Input per dimension: a respondents x statements table of keyed scores on 0-100 (partnership
end high, traditional-keyed statements already mirrored; NaN = no score), an optional table of
the same shape that marks "don't know" answers, and optionally the raw answers on each
statement's own scale (for the answer distributions).

Figures and the cases behind them:

- Cronbach's alpha and McDonald's omega total are computed on the *complete cases*: the
  respondents who gave a scored answer to every statement of the dimension. Both state that n.
  Using the same respondents for both keeps them comparable.
- Item figures (missing rate, "don't know" rate, distribution) use every respondent; the
  item-rest correlation and "alpha if deleted" use the complete cases, like alpha.

Rules for the plain-language flags (chosen, with the usual conventions behind them):

- Dimension: *weak* when the lower of alpha and omega is below 0.60, *questionable* when it is
  0.60-0.70, otherwise *acceptable*. 0.70 is Nunnally's (1978) often-quoted minimum for group
  research; 0.60 is the commonly used "questionable" floor. Cortina (1993) shows alpha rises with
  the number of statements and does not prove that they measure one thing; Dunn, Baguley &
  Brunsden (2014) recommend reporting omega with a confidence interval next to (or instead of)
  alpha, which is why both are given and the lower one decides.
- Statement: *weak* when its item-rest correlation is below 0.30 (the usual rule of thumb,
  e.g. Nunnally & Bernstein 1994); *negative* when below 0, which almost always means a
  statement keyed the wrong way round or misunderstood.
- Too few complete cases: flagged when fewer than max(30, 5 x number of statements)
  respondents answered all statements. 30 is the common minimum for a stable alpha; 5 per
  statement is the usual floor for a factor model (e.g. Gorsuch 1983), which omega rests on.
  Below k + 2 complete cases (k = number of statements) nothing is computed: the correlation
  matrix cannot be full rank and Feldt's interval has no degrees of freedom to speak of.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd
from scipy import stats

from survey.stats._types import LEVEL, CannotCompute, Interval

WEAK = 0.60
QUESTIONABLE = 0.70
ITEM_REST_WEAK = 0.30
MIN_COMPLETE = 30
MIN_COMPLETE_PER_ITEM = 5
_HEYWOOD_BOUND = 0.005  # smallest uniqueness allowed, as psych::fa does


class FlagLevel(StrEnum):
    weak = "weak"
    questionable = "questionable"
    warning = "warning"


@dataclass(frozen=True)
class Flag:
    """A plain-language remark about a dimension or statement."""

    level: FlagLevel
    code: str  # stable id: dimension_weak, dimension_questionable, item_weak, item_negative, few_cases, ...
    message: str


@dataclass(frozen=True)
class Coefficient:
    """A reliability coefficient, its interval and the complete cases it rests on."""

    value: float
    n: int  # complete cases used
    method: str
    interval: Interval | None = None


@dataclass(frozen=True)
class Category:
    """One answer option of a statement with its count and share of all respondents."""

    value: int | float | str  # the code on the statement's own scale, or "dont_know" / "missing"
    count: int
    share: float  # of all respondents (0-1)


@dataclass(frozen=True)
class ItemReliability:
    item: str
    n_respondents: int  # rows in the table
    n_answers: int  # scored answers
    missing_rate: float  # left empty (neither scored nor "don't know"), share of respondents
    dont_know_rate: float  # "don't know", share of respondents
    item_rest: Coefficient | CannotCompute  # r(statement, mean of the others), complete cases
    alpha_if_deleted: Coefficient | CannotCompute
    loading: float | None  # one-factor loading (standardised), when omega could be computed
    distribution: tuple[Category, ...] = ()
    flags: tuple[Flag, ...] = ()


@dataclass(frozen=True)
class DimensionReliability:
    dimension: str
    n_items: int
    n_respondents: int
    n_complete: int  # respondents with a scored answer to every statement
    alpha: Coefficient | CannotCompute
    omega: Coefficient | CannotCompute
    items: tuple[ItemReliability, ...]
    flags: tuple[Flag, ...] = ()

    @property
    def verdict(self) -> FlagLevel | None:
        """weak / questionable, or None when acceptable or not computable."""
        for level in (FlagLevel.weak, FlagLevel.questionable):
            if any(f.level is level and f.code.startswith("dimension_") for f in self.flags):
                return level
        return None


@dataclass(frozen=True)
class OneFactor:
    """A one-factor model fitted by minimum residuals (minres) on a correlation matrix."""

    loadings: tuple[float, ...]
    uniquenesses: tuple[float, ...]
    omega_total: float
    converged: bool
    heywood: bool  # a uniqueness hit its lower bound (a loading of about 1)


# --------------------------------------------------------------------------- alpha


def cronbach_alpha(complete: np.ndarray, level: float = LEVEL) -> Coefficient | CannotCompute:
    """Cronbach's alpha with Feldt's analytic confidence interval.

    Method: alpha = k/(k-1) * (1 - sum of item variances / variance of the sum score), on the
    complete cases (rows x statements, no missing values). The interval is Feldt's (1965):
    (1 - alpha) follows an F distribution with n-1 and (n-1)(k-1) degrees of freedom, so the
    bounds are 1 - (1 - alpha) * F quantiles. It is exact under the classical assumptions
    and needs no resampling, so the same data always give the same interval; it is the
    interval pingouin and psych::alpha report as "Feldt"."""
    data = np.asarray(complete, dtype=float)
    if data.ndim != 2 or data.shape[1] < 2:
        return CannotCompute("alpha needs at least two statements", int(data.shape[0]) if data.ndim else 0)
    n, k = data.shape
    if n < 3 or np.isnan(data).any():
        return CannotCompute("alpha needs at least three respondents who answered every statement", n)
    return _alpha_of(complete_moments(data), level)


@dataclass(frozen=True)
class Moments:
    """The complete cases reduced to what alpha, item-rest and omega need: their number and
    their covariance matrix (k x k, ddof 1). Computed once per dimension with one matrix
    product (`complete_moments`), or added up from per-department sums (the analysis,
    `moments_from_sums`): no copy of the people's scores per coefficient."""

    n: int
    cov: np.ndarray


def complete_moments(complete: np.ndarray) -> Moments:
    """`Moments` of complete cases (rows x statements, no NaN): centred on the column means,
    one matrix product."""
    data = np.asarray(complete, dtype=float)
    n = data.shape[0]
    if n < 2:
        return Moments(n, np.full((data.shape[1], data.shape[1]), np.nan))
    centred = data - data.mean(axis=0)
    return Moments(n, centred.T @ centred / (n - 1))


def moments_from_sums(n: int, sums: np.ndarray, cross: np.ndarray, slopes: np.ndarray | None = None) -> Moments:
    """`Moments` of scores slope_j * answer_j + offset_j from the answers' count, sums and
    cross products (sums add up over departments). cov = (n S_xy - S_x S_y) / (n (n - 1)):
    on whole answers n S_xy and S_x S_y are exact whole numbers, so one rounding; an offset
    does not change a covariance, a slope scales it."""
    sums = np.asarray(sums, dtype=float)
    if n < 2:
        return Moments(n, np.full((len(sums), len(sums)), np.nan))
    cov = (n * np.asarray(cross, dtype=float) - np.outer(sums, sums)) / (n * (n - 1.0))
    if slopes is not None:
        cov = cov * np.outer(slopes, slopes)
    return Moments(n, cov)


def _alpha_of(moments: Moments, level: float) -> Coefficient | CannotCompute:
    """Alpha from the covariance matrix: item variances on its diagonal, the sum score's
    variance the sum of all its entries."""
    cov = moments.cov
    return _alpha(moments.n, cov.shape[0], float(np.trace(cov)), float(cov.sum()), level)


def _alpha(n: int, k: int, item_var_sum: float, total_var: float, level: float) -> Coefficient | CannotCompute:
    """Alpha and Feldt's interval from the sum of the item variances and the variance of the sum
    score (see `cronbach_alpha`)."""
    if not total_var > 1e-12:
        return CannotCompute("everyone gave the same total score, so consistency cannot be measured", n)
    alpha = k / (k - 1) * (1 - item_var_sum / total_var)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    tail = (1 - level) / 2
    low = 1 - (1 - alpha) * float(stats.f.isf(tail, df1, df2))
    high = 1 - (1 - alpha) * float(stats.f.isf(1 - tail, df1, df2))
    low, high = min(low, high), max(low, high)
    return Coefficient(alpha, n, "Cronbach's alpha", Interval(low, high, level, "Feldt"))


# --------------------------------------------------------------------------- omega


def _minres_batch(corr: np.ndarray, tol: float = 1e-11, max_iter: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    """One-factor minres loadings for a stack of correlation matrices (B x k x k), k >= 3.

    Coordinate descent: with the other loadings fixed, the off-diagonal residual sum of squares
    is a quadratic in l_i, minimised by l_i = sum_j r_ij l_j / sum_j l_j^2 (j != i), clipped to
    the Heywood bound. Each step lowers the criterion, so the sweeps converge; all resamples of
    a bootstrap are fitted at once. Returns (loadings B x k, converged B)."""
    b, k, _ = corr.shape
    bound = math.sqrt(1 - _HEYWOOD_BOUND)
    values, vectors = np.linalg.eigh(corr)
    load = vectors[:, :, -1] * np.sqrt(np.maximum(values[:, -1:], 1e-6))
    load *= np.where(load.sum(axis=1, keepdims=True) < 0, -1.0, 1.0)
    load = np.clip(load, -bound, bound)
    off = corr * (1 - np.eye(k))
    converged = np.zeros(b, dtype=bool)
    active = np.arange(b)
    for _ in range(max_iter):
        sub, sub_off = load[active], off[active]
        before = sub.copy()
        for i in range(k):
            denom = (sub**2).sum(axis=1) - sub[:, i] ** 2
            numer = (sub_off[:, i, :] * sub).sum(axis=1)
            sub[:, i] = np.clip(numer / np.maximum(denom, 1e-12), -bound, bound)
        load[active] = sub
        done = np.abs(sub - before).max(axis=1) < tol
        converged[active[done]] = True
        active = active[~done]
        if not len(active):
            break
    return load, converged


def one_factor_minres(corr: np.ndarray) -> OneFactor | CannotCompute:
    """Fit one common factor to a correlation matrix by minimum residuals (minres).

    Method: choose loadings l so that the off-diagonal correlations are reproduced as well as
    possible: minimise the sum of (r_ij - l_i * l_j)^2 over i != j. This is the criterion of
    psych::fa(fm = "minres") (unweighted least squares on the off-diagonal); like psych, each
    uniqueness 1 - l_i^2 is kept at or above 0.005. Fitted by coordinate descent from several
    starts, keeping the best fit (`_minres_one`). Loadings are signed so that their sum is positive. With two statements
    the model is not identified (any l1 * l2 = r12 fits); the symmetric solution
    l1 = l2 = sqrt(r12) is taken. omega total = (sum l)^2 / ((sum l)^2 + sum(1 - l^2))
    (McDonald 1999)."""
    r = np.asarray(corr, dtype=float)
    if r.ndim != 2 or r.shape[0] < 2 or not np.isfinite(r).all():
        return CannotCompute("a factor model needs at least two statements with spread in their answers")
    k = r.shape[0]
    if k == 2:
        lam = math.sqrt(min(abs(r[0, 1]), 1 - _HEYWOOD_BOUND))
        loadings = np.array([lam, lam if r[0, 1] >= 0 else -lam])
        converged = True
    else:
        loadings, converged = _minres_one(r)
    return _one_factor(loadings, converged)


def _minres_one(corr: np.ndarray, tol: float = 1e-11, max_iter: int = 20_000) -> tuple[np.ndarray, bool]:
    """`_minres_batch` for one matrix, from several starts, keeping the best fit.

    On weakly related statements the criterion has local minima (a loading stuck at the
    Heywood bound): from the first principal axis alone, 2 in 42 random weak sets stopped in
    one. So the point estimate also starts from the square roots of the squared multiple
    correlations, from one equal loading, and from the principal axis with each loading in
    turn shrunk, and keeps the lowest off-diagonal residual sum of squares. (The bootstrap,
    `_minres_batch`, keeps the one start: its resamples only set the interval's width.)"""
    k = corr.shape[0]
    values, vectors = np.linalg.eigh(corr)
    axis = vectors[:, -1] * math.sqrt(max(float(values[-1]), 1e-6))
    if axis.sum() < 0:
        axis = -axis
    sign = np.where(axis < 0, -1.0, 1.0)
    smc = np.clip(1 - 1 / np.maximum(np.diag(np.linalg.pinv(corr)), 1e-12), 0.01, 0.99)
    mean_r = float(np.abs(corr[np.triu_indices(k, 1)]).mean())
    starts = [axis, sign * np.sqrt(smc), sign * math.sqrt(max(mean_r, 0.01))]
    starts += [axis * np.where(np.arange(k) == i, 0.3, 1.0) for i in range(k)]
    best: tuple[float, np.ndarray, bool] | None = None
    for start in starts:
        load, converged = _minres_descent(corr, start, tol, max_iter)
        residual = corr - np.outer(load, load)
        np.fill_diagonal(residual, 0.0)
        fit = float((residual ** 2).sum())
        if best is None or fit < best[0] - 1e-12:
            best = (fit, load, converged)
    return best[1], best[2]


def _minres_descent(corr: np.ndarray, start: np.ndarray, tol: float, max_iter: int) -> tuple[np.ndarray, bool]:
    """Coordinate descent from `start` in plain Python numbers (a dozen statements: numpy's
    per-call cost would be most of the time, and weakly related statements take thousands of
    sweeps)."""
    k = corr.shape[0]
    bound = math.sqrt(1 - _HEYWOOD_BOUND)
    load = [min(max(float(x), -bound), bound) for x in start]
    off = [[0.0 if i == j else float(corr[i, j]) for j in range(k)] for i in range(k)]
    for _ in range(max_iter):
        change = 0.0
        for i in range(k):
            denom = sum(map(operator.mul, load, load)) - load[i] ** 2
            numer = sum(map(operator.mul, off[i], load))
            new = min(max(numer / max(denom, 1e-12), -bound), bound)
            change = max(change, abs(new - load[i]))
            load[i] = new
        if change < tol:
            return np.array(load), True
    return np.array(load), False


def _one_factor(loadings: np.ndarray, converged: bool) -> OneFactor:
    if loadings.sum() < 0:
        loadings = -loadings
    uniq = np.maximum(1 - loadings**2, _HEYWOOD_BOUND)
    common = loadings.sum() ** 2
    omega = float(common / (common + uniq.sum()))
    heywood = bool((uniq <= _HEYWOOD_BOUND + 1e-9).any())
    return OneFactor(tuple(map(float, loadings)), tuple(map(float, uniq)), omega, converged, heywood)


def _corr(data: np.ndarray) -> np.ndarray | None:
    return _corr_of(complete_moments(data).cov)


def _corr_of(cov: np.ndarray) -> np.ndarray | None:
    """The correlation matrix of a covariance matrix (as `np.corrcoef`: clipped to +-1); None
    when a statement has no spread."""
    sd = np.sqrt(np.maximum(np.diag(cov), 0.0))
    if (sd <= 1e-12).any():
        return None
    return np.clip(cov / sd[:, None] / sd[None, :], -1.0, 1.0)


def mcdonald_omega(complete: np.ndarray, level: float = LEVEL, n_boot: int = 1000, seed: int = 0,
                   moments: Moments | None = None) -> tuple[Coefficient | CannotCompute, OneFactor | None]:
    """McDonald's omega total from a one-factor minres model, with a bootstrap interval.

    Method: the Pearson correlation matrix of the complete cases is fitted with one factor
    (see `one_factor_minres`); omega total = (sum of loadings)^2 / ((sum of loadings)^2 + sum
    of uniquenesses), the share of the sum score's variance that the common factor explains
    (McDonald 1999; recommended by Dunn, Baguley & Brunsden 2014). The interval is a bootstrap
    percentile interval: the respondents are resampled with replacement `n_boot` times with a
    fixed seed (so the same data always give the same interval), omega is refitted each time,
    and the 2.5th and 97.5th percentiles are the bounds. Resamples in which a statement has no
    spread are skipped; the interval is left out when fewer than half of them succeed. A
    percentile interval follows the resamples, not the estimate: with few respondents or a
    weak scale it can sit a little to one side of omega (it is not forced to contain it).

    `moments`: the complete cases' `Moments` when the caller has them (the estimate comes from
    their covariance matrix; `complete` is then read only by the bootstrap, and may be None
    without one)."""
    if moments is None:
        data = np.asarray(complete, dtype=float)
        n, k = data.shape
        if n >= 3 and not np.isnan(data).any():
            moments = complete_moments(data)
    else:
        data = None if complete is None else np.asarray(complete, dtype=float)
        n, k = moments.n, moments.cov.shape[0]
    if k < 2:
        return CannotCompute("omega needs at least two statements", n), None
    if n < 3 or moments is None:
        return CannotCompute("omega needs at least three respondents who answered every statement", n), None
    corr = _corr_of(moments.cov)
    if corr is None:
        return CannotCompute("a statement was answered the same way by everyone, so omega cannot be "
                             "computed", n), None
    model = one_factor_minres(corr)
    if isinstance(model, CannotCompute):
        return CannotCompute(model.reason, n), None
    interval = None
    if n_boot > 0:
        if data is None:
            raise ValueError("a bootstrap interval needs the complete cases themselves")
        rng = np.random.default_rng(seed)
        cov = _bootstrap_covariances(data, n_boot, rng)
        sd = np.sqrt(np.maximum(np.einsum("bii->bi", cov), 0.0))  # cancellation can leave -0.0
        usable = (sd > 1e-9 * max(1.0, float(np.abs(data).max()))).all(axis=1)
        draws: list[float] = []
        if usable.any():
            sd_u = sd[usable]
            corrs = cov[usable] / sd_u[:, :, None] / sd_u[:, None, :]
            if k == 2:
                fits = [one_factor_minres(c) for c in corrs]
                draws = [f.omega_total for f in fits if isinstance(f, OneFactor)]
            else:
                loads, _ = _minres_batch(corrs, tol=1e-9)  # far below the percentiles' precision
                loads *= np.where(loads.sum(axis=1, keepdims=True) < 0, -1.0, 1.0)
                common = loads.sum(axis=1) ** 2
                uniq = np.maximum(1 - loads**2, _HEYWOOD_BOUND).sum(axis=1)
                draws = list(common / (common + uniq))
        if len(draws) >= n_boot / 2:
            tail = (1 - level) / 2 * 100
            low, high = np.percentile(draws, [tail, 100 - tail])
            interval = Interval(float(low), float(high), level,
                                f"bootstrap percentile ({len(draws)} resamples, seed {seed})")
    return Coefficient(model.omega_total, n, "McDonald's omega total (one factor, minres)", interval), model


BOOT_CASES = 2000  # above this many complete cases the bootstrap resamples blocks of cases
BOOT_BLOCKS = 1000


def _bootstrap_covariances(data: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Sums of squares and cross products (n_boot x k x k, centred) of bootstrap resamples.

    Up to BOOT_CASES cases the cases themselves are resampled. Above it, materialising
    n_boot resamples would take n_boot x n x k numbers (gigabytes at a million respondents),
    so the cases are dealt at random into BOOT_BLOCKS blocks, each block is reduced to its
    count, sums and cross products, and the blocks are resampled with replacement: the blocks
    are independent and identically distributed, and a statistic of all cases is the same
    function of the blocks' sums, so this bootstrap estimates the same sampling distribution
    (with 1000 blocks the difference is negligible; tested against the case bootstrap)."""
    n, k = data.shape
    shifted = data - data.mean(axis=0)  # numerically kinder cross products
    if n <= BOOT_CASES:
        samples = shifted[rng.integers(0, n, (n_boot, n))]  # n_boot x n x k
        s1 = samples.sum(axis=1)
        return np.matmul(samples.transpose(0, 2, 1), samples) - s1[:, :, None] * s1[:, None, :] / n
    block = rng.permutation(n) % BOOT_BLOCKS
    counts = np.bincount(block, minlength=BOOT_BLOCKS).astype(float)
    sums = np.stack([np.bincount(block, shifted[:, i], BOOT_BLOCKS) for i in range(k)], axis=1)
    cross = np.empty((BOOT_BLOCKS, k, k))
    for i in range(k):
        for j in range(i, k):
            cross[:, i, j] = cross[:, j, i] = np.bincount(block, shifted[:, i] * shifted[:, j], BOOT_BLOCKS)
    weights = rng.multinomial(BOOT_BLOCKS, np.full(BOOT_BLOCKS, 1 / BOOT_BLOCKS), size=n_boot).astype(float)
    total = weights @ counts
    s1 = weights @ sums
    s2 = (weights @ cross.reshape(BOOT_BLOCKS, k * k)).reshape(n_boot, k, k)  # one matrix product
    return s2 - s1[:, :, None] * s1[:, None, :] / total[:, None, None]


# --------------------------------------------------------------------------- dimension


def dimension_reliability(
    scores: pd.DataFrame,
    dont_know: pd.DataFrame | None = None,
    answers: pd.DataFrame | None = None,
    scale_values: Mapping[str, Sequence[int | float]] | None = None,
    *,
    dimension: str = "",
    level: float = LEVEL,
    n_boot: int = 1000,
    seed: int = 0,
    min_complete: int = MIN_COMPLETE,
) -> DimensionReliability:
    """Reliability of one dimension, with per-statement figures and plain-language flags.

    `scores`: respondents x statements, keyed 0-100 (NaN = no score). `dont_know`: same shape,
    True where the respondent answered "don't know" (such a cell counts as not scored even if
    `scores` holds a value). `answers` and `scale_values`: the raw answers on each statement's
    own scale and the values that scale offers, for the answer distributions.

    Alpha (Feldt interval) and omega total (bootstrap interval) use the complete cases; see
    the module docstring for the flag rules. The result states the n behind every figure.
    Every coefficient comes from the complete cases' covariance matrix (`complete_moments`,
    one matrix product; see `reliability_from_moments`)."""
    items = [str(c) for c in scores.columns]
    # numpy, not frames: a million respondents' scores are copied as few times as possible
    data = scores.to_numpy(dtype=float, copy=True)
    n_resp, k = data.shape
    if dont_know is not None:
        dk = dont_know.reindex(index=scores.index, columns=scores.columns).fillna(False).to_numpy(dtype=bool)
        data[dk] = np.nan
        dk_counts = dk.sum(axis=0)
    else:
        dk_counts = np.zeros(k, dtype=int)
    scored = ~np.isnan(data)
    answered_counts = scored.sum(axis=0)
    complete = data[scored.all(axis=1)]
    del data, scored
    return reliability_from_moments(
        items, complete_moments(complete), complete if n_boot > 0 else None, n_respondents=n_resp,
        answered=answered_counts, dont_know=dk_counts, answers=answers, scale_values=scale_values,
        dimension=dimension, level=level, n_boot=n_boot, seed=seed, min_complete=min_complete)


def reliability_from_moments(
    items: Sequence[str],
    moments: Moments,
    complete: np.ndarray | None = None,
    *,
    n_respondents: int | None = None,
    answered: Sequence[int] | None = None,
    dont_know: Sequence[int] | None = None,
    answers: pd.DataFrame | None = None,
    scale_values: Mapping[str, Sequence[int | float]] | None = None,
    dimension: str = "",
    level: float = LEVEL,
    n_boot: int = 1000,
    seed: int = 0,
    min_complete: int = MIN_COMPLETE,
) -> DimensionReliability:
    """`dimension_reliability` from the complete cases' `Moments` (count and covariance
    matrix of their keyed scores): alpha = k/(k-1) (1 - trace C / sum C); a statement's
    item-rest correlation is that of x_j with the rest score R_j = total - x_j, with
    cov(x_j, R_j) = sum_l C_jl - C_jj and var(R_j) = sum C - 2 sum_l C_jl + C_jj; alpha if
    deleted from C without row and column j; omega from the correlation matrix of C. The same
    numbers as the computation over the people, up to floating-point rounding (tested). The
    analysis adds the moments up from per-department sums (no copy of the people's scores).
    `complete`: the complete cases themselves, needed only for omega's bootstrap
    (`n_boot` > 0). Without `n_respondents` the table is the complete cases alone."""
    items = [str(i) for i in items]
    k = len(items)
    n_complete = moments.n
    n_resp = n_complete if n_respondents is None else n_respondents
    answered_counts = np.full(k, n_complete) if answered is None else np.asarray(answered)
    dk_counts = np.zeros(k, dtype=int) if dont_know is None else np.asarray(dont_know)
    needed = max(min_complete, MIN_COMPLETE_PER_ITEM * k)
    flags: list[Flag] = []
    cov = moments.cov

    if k < 2:
        alpha: Coefficient | CannotCompute = CannotCompute("reliability needs at least two statements",
                                                           n_complete)
        omega: Coefficient | CannotCompute = alpha
        model = None
    elif n_complete < k + 2:
        alpha = omega = CannotCompute(
            f"only {n_complete} respondents answered all {k} statements; at least {k + 2} are needed",
            n_complete)
        model = None
    else:
        alpha = _alpha_of(moments, level)
        omega, model = mcdonald_omega(complete, level, n_boot, seed, moments=moments)

    if k >= 2 and n_complete < needed:
        flags.append(Flag(FlagLevel.warning, "few_cases",
                          f"only {n_complete} respondents answered all {k} statements (fewer than "
                          f"{needed}); the reliability figures are uncertain"))
    computed = [c.value for c in (alpha, omega) if isinstance(c, Coefficient)]
    if computed:
        lowest = min(computed)
        if lowest < WEAK:
            flags.append(Flag(FlagLevel.weak, "dimension_weak",
                              f"the statements hang together weakly (reliability {lowest:.2f}, below "
                              f"{WEAK:.2f}); read the dimension score with care and look at the statements"))
        elif lowest < QUESTIONABLE:
            flags.append(Flag(FlagLevel.questionable, "dimension_questionable",
                              f"the statements hang together moderately (reliability {lowest:.2f}, "
                              f"between {WEAK:.2f} and {QUESTIONABLE:.2f})"))
    if model is not None and not model.converged:
        flags.append(Flag(FlagLevel.warning, "not_converged",
                          "the factor model behind omega did not settle on a solution; treat omega "
                          "as approximate"))
    if model is not None and model.heywood:
        flags.append(Flag(FlagLevel.warning, "heywood",
                          "one statement explains almost everything the factor does (a loading of "
                          "about 1); omega may be overstated"))

    item_results = []
    if k >= 2 and n_complete >= 3:
        # per statement the rest score R_j = total - x_j, all from the covariance matrix
        row = cov.sum(axis=1)
        total_var = float(cov.sum())
        item_var = np.diag(cov)
        rest_var = total_var - 2 * row + item_var
        rest_cov = row - item_var
        # spreads as np.std (ddof 0) gives them, for the same "no spread" rule as before
        shrink = (n_complete - 1) / n_complete
        x_sd = np.sqrt(np.maximum(item_var * shrink, 0.0))
        rest_sd = np.sqrt(np.maximum(rest_var * shrink, 0.0)) / (k - 1)
    for j, item in enumerate(items):
        answered_j = int(answered_counts[j])
        n_dk = int(dk_counts[j])
        n_missing = n_resp - answered_j - n_dk
        rest: Coefficient | CannotCompute
        deleted: Coefficient | CannotCompute
        if k < 2 or n_complete < 3:
            rest = deleted = CannotCompute("too few respondents answered all statements", n_complete)
        else:
            if x_sd[j] <= 1e-12 or rest_sd[j] <= 1e-12:
                rest = CannotCompute("no spread in this statement or in the others", n_complete)
            else:
                r = float(np.clip(rest_cov[j] / math.sqrt(item_var[j] * rest_var[j]), -1.0, 1.0))
                rest = Coefficient(r, n_complete, "item-rest correlation (Pearson)")
            if k - 1 >= 2:
                a = _alpha(n_complete, k - 1, float(np.trace(cov) - item_var[j]), float(rest_var[j]), level)
                deleted = a if isinstance(a, CannotCompute) else Coefficient(
                    a.value, a.n, "Cronbach's alpha without this statement")
            else:
                deleted = CannotCompute("alpha needs at least two statements left", n_complete)
        item_flags = []
        if isinstance(rest, Coefficient):
            if rest.value < 0:
                item_flags.append(Flag(FlagLevel.weak, "item_negative",
                                       f"this statement goes against the others (item-rest r = "
                                       f"{rest.value:.2f}); check its wording and keying"))
            elif rest.value < ITEM_REST_WEAK:
                item_flags.append(Flag(FlagLevel.weak, "item_weak",
                                       f"this statement fits weakly with the others (item-rest r = "
                                       f"{rest.value:.2f}, below {ITEM_REST_WEAK:.2f})"))
        item_results.append(ItemReliability(
            item=item, n_respondents=n_resp, n_answers=answered_j,
            missing_rate=n_missing / n_resp if n_resp else 0.0,
            dont_know_rate=n_dk / n_resp if n_resp else 0.0,
            item_rest=rest, alpha_if_deleted=deleted,
            loading=model.loadings[j] if model is not None else None,
            distribution=_distribution(item, answers, scale_values, n_resp, n_dk, n_missing),
            flags=tuple(item_flags)))
    return DimensionReliability(dimension, k, n_resp, n_complete, alpha, omega, tuple(item_results),
                                tuple(flags))


def _distribution(item: str, answers: pd.DataFrame | None, scale_values: Mapping[str, Sequence] | None,
                  n_resp: int, n_dk: int, n_missing: int) -> tuple[Category, ...]:
    """Counts per value of the statement's own scale (every value listed, zeros included),
    then "dont_know" and "missing"; shares are of all respondents, so they sum to 1."""
    if answers is None or item not in answers.columns or n_resp == 0:
        return ()
    column = answers[item]
    values = list(scale_values.get(item, ())) if scale_values else []
    if not values:
        values = sorted(column.dropna().unique().tolist())
    counts = []
    for v in values:
        c = int((column == v).sum())
        counts.append(Category(v, c, c / n_resp))
    counts.append(Category("dont_know", n_dk, n_dk / n_resp))
    counts.append(Category("missing", n_missing, n_missing / n_resp))
    return tuple(counts)
