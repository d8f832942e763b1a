"""Drivers: how much does each predictor contribute to explaining an outcome?

Johnson's (2000) relative weights split the explained variance (R^2) of a linear regression of
the outcome on the predictors into one share per predictor, also when predictors are
correlated (which dimensions of one questionnaire always are). The raw weights add up to R^2;
rescaled they add up to 100 %. Intervals come from a seeded bootstrap (Tonidandel, LeBreton &
Johnson 2009 recommend bootstrapping relative weights).

Cases: listwise, i.e. respondents with a value for the outcome and every predictor. Below a
minimum number of such respondents the analysis is refused with a typed reason; the caller
passes the minimum (`MIN_N_ORGANISATION` = 100, `MIN_N_DEPARTMENT` = 50), because with fewer
cases the weights of correlated predictors swing from sample to sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey.stats import reliability
from survey.stats._types import LEVEL, CannotCompute, Interval

MIN_N_ORGANISATION = 100
MIN_N_DEPARTMENT = 50


@dataclass(frozen=True)
class DriverWeight:
    predictor: str
    raw: float  # share of outcome variance (0..R^2)
    rescaled: float  # percent of R^2 (0..100)
    raw_interval: Interval | None
    rescaled_interval: Interval | None
    correlation: float  # zero-order correlation with the outcome, for reference


@dataclass(frozen=True)
class RelativeWeights:
    outcome: str
    n: int  # listwise complete cases used
    r_squared: float
    r_squared_interval: Interval | None
    weights: tuple[DriverWeight, ...]  # in the order of the predictors given
    n_boot: int  # bootstrap resamples that could be used
    seed: int


def _relative_weights(data: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Raw relative weights and R^2 for columns [outcome, predictors...]; None when singular."""
    return _weights_from_corr(np.corrcoef(data, rowvar=False))


def _weights_from_corr(corr: np.ndarray) -> tuple[np.ndarray, float] | None:
    """`_relative_weights` from the correlation matrix of [outcome, predictors...]."""
    rxx, rxy = corr[1:, 1:], corr[1:, 0]
    values, vectors = np.linalg.eigh(rxx)
    if values.min() <= 1e-10 * max(1.0, values.max()):
        return None
    lam = vectors @ np.diag(np.sqrt(values)) @ vectors.T  # correlations of X with orthogonal Z
    beta = np.linalg.solve(lam, rxy)  # regression of y on Z
    raw = (lam**2) @ (beta**2)
    return raw, float((beta**2).sum())


# Resampled values held in memory at once (resamples x respondents x variables): bounds memory
# at any number of respondents while keeping numpy's batched linear algebra busy.
_CHUNK_VALUES = 4_000_000


def _bootstrap(values: np.ndarray, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw weights (resamples x predictors) and R^2 of `n_boot` seeded resamples, computed in
    batches (one eigen-decomposition call per batch instead of one per resample). Resamples
    with a variable without spread or (almost) perfectly correlated predictors are left out.

    Up to `reliability.BOOT_CASES` cases the cases are resampled. Above it the weights are a
    function of the correlation matrix alone, so the block bootstrap of omega serves here too
    (`reliability._bootstrap_covariances`): the cases are dealt at random into blocks, each
    block reduced to its count, sums and cross products, and the blocks resampled. Time then
    no longer grows with resamples x people (about 53 s per group of 200,000 people with
    1,000 case resamples; a pass over the people and a fraction of a second with blocks); it
    estimates the same sampling distribution (tested against the case bootstrap)."""
    n, width = values.shape
    rng = np.random.default_rng(seed)
    scale = max(1.0, float(np.abs(values).max()))
    if n > reliability.BOOT_CASES:
        cov = reliability._bootstrap_covariances(values, n_boot, rng)
        found = _weights_of(cov, scale, n)
        return found if found is not None else (np.empty((0, width - 1)), np.empty(0))
    per_chunk = max(1, min(n_boot, _CHUNK_VALUES // max(1, n * width)))
    raws, r2s = [], []
    done = 0
    while done < n_boot:
        size = min(per_chunk, n_boot - done)
        done += size
        sample = values[rng.integers(0, n, (size, n))]  # (size, n, width)
        centred = sample - sample.mean(axis=1, keepdims=True)
        found = _weights_of(np.swapaxes(centred, 1, 2) @ centred, scale, n)
        if found is not None:
            raws.append(found[0])
            r2s.append(found[1])
    if not raws:
        return np.empty((0, width - 1)), np.empty(0)
    return np.concatenate(raws), np.concatenate(r2s)


def _weights_of(cov: np.ndarray, scale: float, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Raw weights and R^2 from a stack of centred cross-product matrices (resamples x
    [outcome, predictors]^2), leaving out resamples without spread or with (almost) perfectly
    correlated predictors; None when none is left."""
    sd = np.sqrt(np.maximum(np.einsum("bii->bi", cov), 0.0))
    spread = (sd > 1e-12 * scale * np.sqrt(n)).all(axis=1)
    sd = np.where(sd > 0, sd, 1.0)
    corr = cov / sd[:, :, None] / sd[:, None, :]
    eig, vec = np.linalg.eigh(corr[:, 1:, 1:])
    good = spread & (eig.min(axis=1) > 1e-10 * np.maximum(1.0, eig.max(axis=1)))
    if not good.any():
        return None
    eig, vec, rxy = eig[good], vec[good], corr[good, 1:, 0]
    lam = (vec * np.sqrt(eig)[:, None, :]) @ np.swapaxes(vec, 1, 2)
    beta = np.linalg.solve(lam, rxy[:, :, None])[:, :, 0]
    return np.einsum("bjk,bk->bj", lam**2, beta**2), (beta**2).sum(axis=1)


def relative_weights(
    data: pd.DataFrame,
    outcome: str,
    predictors: Sequence[str],
    *,
    min_n: int,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
) -> RelativeWeights | CannotCompute:
    """Johnson's relative weights of `predictors` for `outcome`, with bootstrap intervals.

    Method (Johnson 2000): the predictors are replaced by their closest orthogonal
    counterparts Z (via the eigen-decomposition of their correlation matrix, Z = X P L^-1/2 P'),
    the outcome is regressed on Z (betas b), and each predictor's raw weight is
    sum_k lambda_jk^2 * b_k^2, where lambda_jk are the correlations between predictor j and Z_k.
    The raw weights add up to the R^2 of the ordinary regression; rescaled weights are
    raw / R^2 * 100 %. Respondents missing any of the variables are left out (listwise).

    Intervals: percentile bootstrap. Respondents are resampled with replacement `n_boot` times
    with a fixed seed, the weights recomputed, and the 2.5th and 97.5th percentiles taken.
    Because weights cannot be negative, the interval of a predictor with (almost) no weight can
    lie slightly above its estimate; read it as "small". Resamples in which the predictors are
    perfectly correlated are skipped; intervals are left out when fewer than half succeed.

    Refuses (returns `CannotCompute`) with fewer than `min_n` complete cases, fewer than two
    predictors, an outcome or predictor without spread, or predictors that are perfectly
    correlated."""
    names = list(predictors)
    if len(names) < 2:
        return CannotCompute("relative weights need at least two predictors", 0)
    if len(set(names)) != len(names) or outcome in names:
        raise ValueError("predictors must be distinct and differ from the outcome")
    missing = [c for c in [outcome, *names] if c not in data.columns]
    if missing:
        raise ValueError(f"columns not in the data: {', '.join(missing)}")
    frame = data[[outcome, *names]]
    if not all(pd.api.types.is_float_dtype(t) for t in frame.dtypes):
        frame = frame.apply(pd.to_numeric, errors="coerce")
    values = frame.to_numpy(dtype=float)
    values = values[np.isfinite(values).all(axis=1)]
    n = len(values)
    moments = reliability.complete_moments(values)
    largest = max(1.0, float(np.abs(values).max())) if n else 1.0
    constant = (values.max(axis=0) == values.min(axis=0)) if n else None
    return weights_from_moments(outcome, names, moments, largest, values if n_boot > 0 else None,
                                constant=constant, min_n=min_n, n_boot=n_boot, seed=seed, level=level)


def weights_from_moments(
    outcome: str,
    predictors: Sequence[str],
    moments: reliability.Moments,
    largest: float,
    values: np.ndarray | None = None,
    *,
    constant: Sequence[bool] | None = None,
    min_n: int,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = LEVEL,
) -> RelativeWeights | CannotCompute:
    """`relative_weights` from the complete cases' `Moments` of [outcome, predictors...]
    (their number and covariance matrix): the weights are a function of the correlation
    matrix alone, so the people need not be copied; the analysis adds the moments up from
    per-department sums. `largest`: max(1, the largest absolute value among the complete
    cases), the scale of the "no spread" rule. `values`: the complete cases themselves, read
    only by the bootstrap (`n_boot` > 0). `constant`: per column, whether all its values are
    equal (a covariance from sums can leave rounding noise where there is no spread). The same
    numbers as over the people, up to floating-point rounding (tested)."""
    names = list(predictors)
    n = moments.n
    if n < min_n:
        return CannotCompute(f"only {n} respondents answered the outcome and every predictor; at least "
                             f"{min_n} are needed for a stable driver analysis", n)
    cov = moments.cov
    sd = np.sqrt(np.maximum(np.diag(cov) * ((n - 1) / n if n else 0.0), 0.0))  # as np.std: ddof 0
    same = [False] * len(sd) if constant is None else list(constant)
    flat = [c for c, s, f in zip([outcome, *names], sd, same, strict=True) if f or not s > 1e-12 * largest]
    if flat:
        return CannotCompute(f"no spread in {', '.join(flat)}: everyone gave the same answer", n)
    root = np.sqrt(np.diag(cov))
    corr = np.clip(cov / root[:, None] / root[None, :], -1.0, 1.0)  # as np.corrcoef
    fitted = _weights_from_corr(corr)
    if fitted is None:
        return CannotCompute("some predictors are (almost) perfectly related to each other, so their "
                             "contributions cannot be separated", n)
    raw, r2 = fitted
    corr_y = corr[0, 1:]

    raw_iv: list[Interval | None] = [None] * len(names)
    res_iv: list[Interval | None] = [None] * len(names)
    r2_iv = None
    used = 0
    if n_boot > 0:
        if values is None:
            raise ValueError("a bootstrap interval needs the complete cases themselves")
        b_raw, b_r2 = _bootstrap(values, n_boot, seed)
        used = len(b_raw)
        if used >= n_boot / 2:
            tail = (1 - level) / 2 * 100
            method = f"bootstrap percentile ({used} resamples, seed {seed})"
            b_res = b_raw / np.where(b_r2 > 0, b_r2, np.nan)[:, None] * 100
            lo, hi = np.percentile(b_raw, [tail, 100 - tail], axis=0)
            raw_iv = [Interval(float(a), float(b), level, method) for a, b in zip(lo, hi, strict=True)]
            ok = np.isfinite(b_res).all(axis=1)
            if ok.sum() >= n_boot / 2:
                lo, hi = np.percentile(b_res[ok], [tail, 100 - tail], axis=0)
                res_iv = [Interval(float(a), float(b), level, method) for a, b in zip(lo, hi, strict=True)]
            lo_r2, hi_r2 = np.percentile(b_r2, [tail, 100 - tail])
            r2_iv = Interval(float(lo_r2), float(hi_r2), level, method)
    rescaled = raw / r2 * 100 if r2 > 0 else np.zeros_like(raw)
    weights = tuple(DriverWeight(name, float(raw[j]), float(rescaled[j]), raw_iv[j], res_iv[j], float(corr_y[j]))
                    for j, name in enumerate(names))
    return RelativeWeights(outcome, n, r2, r2_iv, weights, used, seed)
