"""Intervals for showing, tests for claiming.

The report shows every group figure with a 95 % interval; it says a difference is *real*
only when a test over the whole family of comparisons made on that page allows it (Holm's
correction). This module gives the building blocks:

- `mean_interval`: a mean on a bounded scale with its t-interval, clipped to the scale.
- `welch_difference` / `group_vs_rest`: difference of two independent means (Welch).
- `paired_difference`: current versus desired, same respondents (paired t).
- `wilson_interval`: a share with Wilson's score interval (never outside 0-1).
- `share_difference`: two independent shares: Newcombe's interval, Fisher's exact test.
- `holm`: Holm's step-down adjustment of a family of p-values.
- `claims`: per difference, may it be claimed (Holm-adjusted p < .05)?

Every function returns a typed result or a `CannotCompute` saying why; no NaN leaves.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from survey.stats._types import LEVEL, CannotCompute, Interval

ALPHA = 0.05


def _clean(values: Sequence[float] | np.ndarray) -> np.ndarray:
    data = np.asarray(values, dtype=float).ravel()
    return data[np.isfinite(data)]


# --------------------------------------------------------------------------- means


@dataclass(frozen=True)
class MeanEstimate:
    """A mean, its interval and the number of answers it rests on."""

    mean: float
    interval: Interval
    n: int
    sd: float


def mean_interval(values: Sequence[float] | np.ndarray, low: float = 0.0, high: float = 100.0,
                  level: float = LEVEL) -> MeanEstimate | CannotCompute:
    """The mean of the answers with a t-interval, clipped to the ends of the scale.

    Method: the usual Student t-interval, mean +/- t(n-1) * sd / sqrt(n). When it reaches past
    the ends of the scale (`low`, `high`; 0-100 for keyed scores, 1-10 for marks) it is cut
    back to them and marked `clipped`, so the report can say "limited to the scale".

    Why this and not a transformed (logit) or bootstrap interval: it is the same method as the
    Welch and paired tests that decide claims, so what is shown and what is claimed agree; it
    is what a reader can check by hand; a logit interval breaks down exactly where clipping is
    needed (everyone at the top or bottom of the scale), and a bootstrap interval is too narrow
    in the small groups this report shows (n of 5 to 20). Clipping only ever happens when
    answers pile up at one end, and then the clipped bound is the honest statement: the mean
    cannot lie outside the scale. NaN answers are left out; n counts the answers used. With a
    single answer there is no interval; when all answers are the same the interval is that
    value (width 0), which is what the data show."""
    data = _clean(values)
    n = len(data)
    if n == 0:
        return CannotCompute("no answers", 0)
    if n < 2:
        return CannotCompute("an interval needs at least two answers", n)
    mean = float(data.mean())
    sd = float(data.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
    lo, hi = mean - half, mean + half
    clipped = lo < low or hi > high
    return MeanEstimate(mean, Interval(max(lo, low), min(hi, high), level, "Student t", clipped), n, sd)


@dataclass(frozen=True)
class MeanDifference:
    """A difference of means (first minus second) with its interval and test.

    `kind` is "independent (Welch)" or "paired"; for paired differences `n_first` and
    `n_second` are both the number of complete pairs."""

    estimate: float
    interval: Interval
    t: float
    df: float
    p: float
    mean_first: float
    mean_second: float
    n_first: int
    n_second: int
    kind: str


def welch_difference(first: Sequence[float] | np.ndarray, second: Sequence[float] | np.ndarray,
                     level: float = LEVEL) -> MeanDifference | CannotCompute:
    """Difference of two independent means, Welch's t-test and interval.

    Method: mean(first) - mean(second); standard error sqrt(s1^2/n1 + s2^2/n2); degrees of
    freedom by the Welch-Satterthwaite formula; two-sided p. Welch's test does not assume equal
    spreads in the two groups, which is the safe choice for, e.g., managers versus employees or
    a department versus the rest (Delacre, Lakens & Leys 2017). NaN answers are left out."""
    return _welch(_clean(first), _clean(second), level)


def _welch(a: np.ndarray, b: np.ndarray, level: float) -> MeanDifference | CannotCompute:
    """`welch_difference` of two arrays of finite values."""
    n1, n2 = len(a), len(b)
    if n1 < 2 or n2 < 2:
        return CannotCompute("each group needs at least two answers to compare", min(n1, n2))
    return welch_from_moments((n1, float(a.mean()), float(a.var(ddof=1))),
                              (n2, float(b.mean()), float(b.var(ddof=1))), level)


def welch_from_moments(first: tuple[int, float, float], second: tuple[int, float, float],
                       level: float = LEVEL) -> MeanDifference | CannotCompute:
    """Welch's test and interval (first minus second) from each group's (n >= 2, mean,
    variance with ddof 1): the arithmetic `welch_difference` and the analysis's per-department
    sums (`analysis.claims.welch_from_sums`) share."""
    (n1, m1, var1), (n2, m2, var2) = first, second
    v1, v2 = var1 / n1, var2 / n2
    se = math.sqrt(v1 + v2)
    if not se > 1e-12 * max(1.0, abs(m1), abs(m2)):
        return CannotCompute("everyone in both groups gave the same answer, so there is no spread to "
                             "test against", min(n1, n2))
    df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    diff = m1 - m2
    t = diff / se
    p = float(min(1.0, 2 * stats.t.sf(abs(t), df)))
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    return MeanDifference(diff, Interval(diff - half, diff + half, level, "Welch t"), t, df, p,
                          m1, m2, n1, n2, "independent (Welch)")


def group_vs_rest(values: Sequence[float] | np.ndarray, in_group: Sequence[bool] | np.ndarray,
                  level: float = LEVEL) -> MeanDifference | CannotCompute:
    """A group against the rest of the organisation (everyone not in the group), Welch.

    The group is compared with the others, not with the whole organisation that contains it:
    a comparison with a total that includes the group itself is biased towards no difference
    and its two samples are not independent. Positive = the group scores higher."""
    data = np.asarray(values, dtype=float).ravel()
    mask = np.asarray(in_group, dtype=bool).ravel()
    if data.shape != mask.shape:
        raise ValueError("values and in_group must have the same length")
    if np.isfinite(data).all():  # no copy to leave out missing values: there are none
        return _welch(data[mask], data[~mask], level)
    return welch_difference(data[mask], data[~mask], level)


def paired_difference(current: Sequence[float] | np.ndarray, desired: Sequence[float] | np.ndarray,
                      level: float = LEVEL) -> MeanDifference | CannotCompute:
    """Desired minus current for the same respondents: paired t-interval and test.

    Method: per respondent the difference desired - current; respondents who left either
    empty are left out (n = complete pairs); the mean difference with a t-interval on n-1
    degrees of freedom, and the paired t-test against 0. Positive = people want more of it
    than they see now."""
    cur = np.asarray(current, dtype=float).ravel()
    des = np.asarray(desired, dtype=float).ravel()
    if cur.shape != des.shape:
        raise ValueError("current and desired must have the same length (one pair per respondent)")
    both = np.isfinite(cur) & np.isfinite(des)
    d = des[both] - cur[both]
    n = len(d)
    if n < 2:
        return CannotCompute("a paired comparison needs at least two respondents who answered both", n)
    diff = float(d.mean())
    se = float(d.std(ddof=1)) / math.sqrt(n)
    m_des, m_cur = float(des[both].mean()), float(cur[both].mean())
    if not se > 1e-12 * max(1.0, abs(m_des), abs(m_cur)):
        return CannotCompute("every respondent has the same gap between current and desired, so there "
                             "is no spread to test against", n)
    t = diff / se
    p = float(min(1.0, 2 * stats.t.sf(abs(t), n - 1)))
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * se
    return MeanDifference(diff, Interval(diff - half, diff + half, level, "paired t"), t, float(n - 1),
                          p, m_des, m_cur, n, n, "paired")


# --------------------------------------------------------------------------- shares


@dataclass(frozen=True)
class ShareEstimate:
    share: float  # 0-1
    successes: int
    n: int
    interval: Interval


@functools.lru_cache(maxsize=16)
def _z(level: float) -> float:
    """The normal quantile of a level, once (an analysis asks for thousands of shares)."""
    return float(stats.norm.ppf(0.5 + level / 2))


def _wilson(x: int, n: int, level: float) -> tuple[float, float]:
    z = _z(level)
    p = x / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # guard rounding: the exact bounds are 0 at x = 0 and 1 at x = n
    low = 0.0 if x == 0 else max(0.0, centre - half)
    high = 1.0 if x == n else min(1.0, centre + half)
    return low, high


def wilson_interval(successes: int, n: int, level: float = LEVEL) -> ShareEstimate | CannotCompute:
    """A share with Wilson's score interval.

    Method: the interval of all shares p0 that a score test would not reject (Wilson 1927),
    without continuity correction. Unlike the textbook "p +/- 1.96 * SE" interval it never
    leaves 0-1, is not zero-width at 0 % or 100 %, and keeps close to its stated 95 % coverage
    in small groups (Brown, Cai & DasGupta 2001; Newcombe 1998)."""
    if n < 0 or successes < 0 or successes > n:
        raise ValueError("need 0 <= successes <= n")
    if n == 0:
        return CannotCompute("no answers", 0)
    low, high = _wilson(successes, n, level)
    return ShareEstimate(successes / n, successes, n, Interval(low, high, level, "Wilson score"))


@dataclass(frozen=True)
class ShareDifference:
    """Difference of two independent shares (first minus second, -1..1)."""

    estimate: float
    interval: Interval
    p: float
    share_first: float
    share_second: float
    n_first: int
    n_second: int
    test: str


# Tables of more people than this get Fisher's p from `fisher_two_sided`: scipy's hypergeometric
# probabilities take about 0.3 ms each between ten thousand and a hundred thousand people, and a
# test needs a dozen of them (5 ms per department and outcome).
FISHER_SCIPY_UP_TO = 10_000


def fisher_two_sided(a: int, b: int, c: int, d: int) -> float:
    """Fisher's exact two-sided p of the 2 x 2 table [[a, b], [c, d]], as scipy defines it: the
    probability, given the margins, of every table at most as probable as the observed one
    (a relative slack of 1e-7 for ties, as R's fisher.test).

    The hypergeometric probabilities of the first cell are built up from one value by their
    ratio, p(x + 1) / p(x) = (r1 - x)(c1 - x) / ((x + 1)(r2 - c1 + x + 1)), summed in logs,
    and normalised by their total: no factorials of large numbers, so no loss of precision.
    Only the cells within 40 standard deviations of the mode are needed (the rest hold less
    than 1e-300 of the probability), unless the observed cell lies further out."""
    r1, r2, c1 = a + b, c + d, a + c
    total = r1 + r2
    if c1 == 0 or c1 == total or r1 == 0 or r2 == 0:
        return 1.0
    low, high = max(0, c1 - r2), min(c1, r1)
    mode = int((c1 + 1) * (r1 + 1) / (total + 2))
    sd = math.sqrt(c1 * (r1 / total) * (r2 / total) * (total - c1) / max(total - 1, 1))
    width = int(40 * sd) + 10
    start, end = max(low, mode - width), min(high, mode + width)
    if not start <= a <= end:
        start, end = low, high
    x = np.arange(start, end, dtype=float)
    steps = np.log((r1 - x) * (c1 - x)) - np.log((x + 1) * (r2 - c1 + x + 1))
    logp = np.concatenate([[0.0], np.cumsum(steps)])
    pmf = np.exp(logp - logp.max())
    as_likely = pmf <= pmf[a - start] * (1 + 1e-7)
    return float(min(1.0, pmf[as_likely].sum() / pmf.sum()))


def share_difference(successes_first: int, n_first: int, successes_second: int, n_second: int,
                     level: float = LEVEL) -> ShareDifference | CannotCompute:
    """Difference of two independent shares: Newcombe's interval and Fisher's exact test.

    Interval: Newcombe's (1998, method 10) hybrid score interval, built from the two Wilson
    intervals; it stays within -1..1 and behaves well at small n and at 0 % or 100 %.
    Test: Fisher's exact test on the 2 x 2 table, two-sided. It is the exact permutation test
    of the two groups given the totals (every way of dealing the "yes" answers over the groups
    is counted), so it needs no rule about expected counts of five, as chi-square would, and it
    is deterministic. It is used at every n: up to FISHER_SCIPY_UP_TO people by scipy, above
    it by `fisher_two_sided` (the same p to about 1e-10, in a fraction of the time)."""
    for x, n in ((successes_first, n_first), (successes_second, n_second)):
        if n < 0 or x < 0 or x > n:
            raise ValueError("need 0 <= successes <= n for both groups")
    if n_first == 0 or n_second == 0:
        return CannotCompute("one of the groups has no answers", min(n_first, n_second))
    p1, p2 = successes_first / n_first, successes_second / n_second
    l1, u1 = _wilson(successes_first, n_first, level)
    l2, u2 = _wilson(successes_second, n_second, level)
    diff = p1 - p2
    low = diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    if n_first + n_second <= FISHER_SCIPY_UP_TO:
        table = [[successes_first, n_first - successes_first], [successes_second, n_second - successes_second]]
        p = float(stats.fisher_exact(table, alternative="two-sided").pvalue)
    else:
        p = fisher_two_sided(successes_first, n_first - successes_first, successes_second, n_second - successes_second)
    return ShareDifference(diff, Interval(max(-1.0, low), min(1.0, high), level, "Newcombe hybrid score"),
                           min(1.0, p), p1, p2, n_first, n_second, "Fisher's exact test")


# --------------------------------------------------------------------------- claiming


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's (1979) step-down adjusted p-values, in the order given.

    Method: sort the m p-values from small to large; the i-th smallest (i = 1..m) is multiplied
    by m - i + 1; a running maximum keeps the adjusted values in the same order as the raw
    ones; values above 1 become 1. A comparison may be claimed when its adjusted p is below
    .05: this keeps the chance of claiming any difference that is not there at 5 % for the
    whole family, while being less strict than Bonferroni."""
    p = np.asarray(pvalues, dtype=float)
    if p.size == 0:
        return []
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise ValueError("p-values must be numbers between 0 and 1")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = p[order] * (m - np.arange(m))
    adjusted_sorted = np.minimum(1.0, np.maximum.accumulate(scaled))
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return [float(v) for v in np.maximum(adjusted, p)]


@dataclass(frozen=True)
class Claim:
    """Whether a difference may be claimed, and why, in plain words.

    `claimed` follows the test (Holm-adjusted p below the level) over the family it was
    judged in; the interval is for showing. `interval_excludes_zero` is the unadjusted 95 %
    interval's verdict, given for information: in a family of several comparisons it can
    exclude 0 while the adjusted test still says no claim."""

    label: str
    claimed: bool
    reason: str
    estimate: float | None
    interval: Interval | None
    p: float | None
    p_adjusted: float | None
    family_size: int
    interval_excludes_zero: bool | None


Difference = MeanDifference | ShareDifference


def claims(differences: Sequence[tuple[str, Difference | CannotCompute]], alpha: float = ALPHA) -> list[Claim]:
    """Judge a family of differences together (e.g. all departments against the rest on one
    dimension, or all dimensions managers versus employees).

    Holm's correction runs over the differences that could be computed (the family size is
    stated); a `CannotCompute` is never claimed and keeps its reason."""
    computed = [(i, d) for i, (_, d) in enumerate(differences) if not isinstance(d, CannotCompute)]
    adjusted = dict(zip((i for i, _ in computed), holm([d.p for _, d in computed]), strict=True))
    m = len(computed)
    result = []
    for i, (label, d) in enumerate(differences):
        if isinstance(d, CannotCompute):
            result.append(Claim(label, False, f"not tested: {d.reason}", None, None, None, None, m, None))
            continue
        q = adjusted[i]
        shown = "p < 0.001" if q < 0.001 else f"p = {q:.3f}"
        if q < alpha:
            reason = (f"a real difference: {shown} after correcting for {m} comparisons"
                      if m > 1 else f"a real difference: {shown}")
        elif d.interval.excludes_zero():
            reason = (f"not claimed: the difference could be chance once {m} comparisons are taken "
                      f"into account (corrected {shown})")
        else:
            reason = f"not claimed: the difference could be chance ({shown})"
        result.append(Claim(label, q < alpha, reason, d.estimate, d.interval, d.p, q, m,
                            d.interval.excludes_zero()))
    return result
