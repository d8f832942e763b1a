"""Quality of the measurement and the figures people expect beside a mean.

Per dimension and group (the organisation's employees; the managers when their group is
shown): Cronbach's alpha and McDonald's omega total with intervals, item-rest correlations,
and per statement how often it was left empty or answered "don't know". Per statement and
group: the answer distribution over the statement's own base, the share favourable (marks:
the share below 6 and the share 8 or higher) with Wilson intervals, and per dimension score
the people behind it and an interval. Everything here is defined once; the report's methods
section renders these constants and the thresholds, so text and code cannot drift apart.

Definitions (the methods section says the same in plain words):

- *Share favourable* of a statement: of those who answered it (its base, the same people as
  its mean), the share who gave one of the FAVOURABLE_ANSWERS answers at the partnership end
  after keying: the two highest answers for a statement that describes the partnership model
  (or has no pole), the two lowest for one that describes the traditional model. Marks on a
  1-10 scale: the share below MARK_INSUFFICIENT_BELOW ("onvoldoende") and the share of
  MARK_GOOD_FROM or higher. Intervals: Wilson's score interval (never outside 0-100 %).
- *Dimension score* of a group: the mean of its published statement figures (0-100), see
  survey/analysis/core.py. Its n is the number of people in the group who answered at least
  one of its statements (everyone whose answers are in it). Its interval treats the score as
  what it is, a mean of statement means, each on its own base: var = 1/J^2 * sum over
  statement pairs j, l of cov_jl * n_jl / (n_j * n_l), with cov_jl the covariance over the
  n_jl people who answered both (for j = l the variance over n_j). That is the exact sampling
  variance of a mean of means with overlapping bases; with no answers missing it is the
  variance of the mean of the people's own part scores, and the interval equals the usual
  t-interval of those. The t quantile uses min(n_j) - 1 degrees of freedom (the smallest
  base; conservative), and the interval is clipped to 0-100. n and interval are given only
  when every statement of the dimension is published for the group (they rest on exactly
  those statements), and the interval only from twice the anonymity threshold of answers to
  every statement (see `model.shown_interval`).
- *Reliability* (survey/stats/reliability.py): alpha (Feldt interval) and omega total from a
  one-factor model (bootstrap percentile interval, N_BOOT resamples, seed SEED, so the same
  data give the same report) on the complete cases, the people who answered every statement
  of the dimension: a new set of people, registered as its own figure `reliability:<dim>`
  and shown only when the disclosure decision allows it; intervals only from 2k cases.
- *Flags*: a dimension whose lower coefficient is below reliability.QUESTIONABLE (0.70, Nunnally 1978:
  the usual minimum for comparing groups) "does not measure one thing well enough"; below
  reliability.WEAK (0.60, the usual "poor" floor) it is weak. A statement whose item-rest
  correlation is below reliability.ITEM_REST_WEAK (0.30, Nunnally & Bernstein 1994) fits weakly, below 0
  it goes against the others. Left empty by more than MISSING_HIGH or "don't know" from more
  than DONT_KNOW_HIGH of the group: flagged too (rules of thumb of this tool: a tenth empty
  is unusual on a short questionnaire; "don't know" is a real answer, so its bar is higher).
  The Dutch COTAN rating system also grades reliability; its cut-offs were not checked for
  this tool, so it is not cited.
- "Don't know" (a scale's `not_applicable` answer, stored as the text code
  `collect.NOT_APPLICABLE`) is not scored: it counts as missing for every figure, and is
  counted separately in the item quality. A 'prefer not to say' answer (DECLINE_CODES) is
  counted the same way, in its own column.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from survey import collect, disclosure
from survey.analysis.core import SUBJECTS, Analysis, Subject
from survey.analysis.frame import _t975
from survey.analysis.model import (AnalysisResult, DimensionQuality, DimensionScore, Estimate, GroupResult,
                                   ItemQuality, ItemShares, Share)
from survey.disclosure import MANAGERS, ORGANISATION, Figure
from survey.questionnaire import model as m
from survey.stats import reliability as rel
from survey.stats._types import CannotCompute
from survey.stats.inference import wilson_interval

# The reliability thresholds are survey.stats.reliability's QUESTIONABLE (0.70), WEAK (0.60) and
# ITEM_REST_WEAK (0.30): read from there at every use, so the flags and the text share them.
MISSING_HIGH = 0.10
DONT_KNOW_HIGH = 0.20
FAVOURABLE_ANSWERS = 2
MARK_INSUFFICIENT_BELOW = 6
MARK_GOOD_FROM = 8
N_BOOT = 1000
SEED = 0
DONT_KNOW_CODES: tuple[str, ...] = (collect.NOT_APPLICABLE,)
# "prefer not to say" (the scale's decline answer), counted next to "don't know"
DECLINE_CODES: tuple[str, ...] = (m.DECLINED,)
RELIABILITY_GROUPS = (ORGANISATION, MANAGERS)


def favourable_values(item: m.StatementItem | m.ScoreItem, scale: m.Scale) -> tuple[float, ...] | None:
    """The answers that count as favourable: the FAVOURABLE_ANSWERS answers at the partnership
    end after keying (statements on an ordinal scale); None for other items."""
    if not isinstance(item, m.StatementItem) or scale.kind is not m.ScaleKind.ordinal:
        return None
    codes = sorted(float(o.code) for o in scale.options)  # type: ignore[arg-type]
    if len(codes) < 2 * FAVOURABLE_ANSWERS:
        return None
    return tuple(codes[:FAVOURABLE_ANSWERS] if item.pole == m.Pole.traditional else codes[-FAVOURABLE_ANSWERS:])


def is_mark(scale: m.Scale) -> bool:
    """A Dutch school mark: a score scale ending at 10."""
    return scale.kind is m.ScaleKind.score and scale.max == 10 and (scale.min or 0) < MARK_INSUFFICIENT_BELOW


def share(count: int, n: int) -> Share | None:
    result = wilson_interval(count, n)
    if isinstance(result, CannotCompute):
        return None
    return Share(count, n, result.share, result.interval.low, result.interval.high)


def on_0_100(e: Estimate | None, item: m.StatementItem | m.ScoreItem, scale: m.Scale) -> Estimate | None:
    """A statement's figure on 0-100, partnership end high: the same linear map as its
    answers' scores (`frame.Scorer.item_score`), so mean and interval map exactly (an interval
    clipped to the scale's ends maps to one clipped to 0 and 100)."""
    span = scale.numeric_range
    if e is None or span is None or not isinstance(item, m.StatementItem):
        return None
    low, high = span

    def score(v: float) -> float:
        s = (v - low) / (high - low) * 100
        return 100 - s if item.pole == m.Pole.traditional else s

    ends = sorted((score(e.ci_low), score(e.ci_high))) if not math.isnan(e.ci_low) else [math.nan, math.nan]
    return Estimate(score(e.mean), ends[0], ends[1], e.n)


def item_shares(item: m.StatementItem | m.ScoreItem, scale: m.Scale, values: np.ndarray,
                figure: Estimate | None = None) -> ItemShares:
    """Counts per scale value and the conventional shares, over the answers given (`values`
    holds the answers of the item's base, no NaN; `figure` is the item's published mean)."""
    distinct, counts = np.unique(np.asarray(values, dtype=float), return_counts=True)
    return counted_shares(item, scale, distinct, counts, figure)


def counted_shares(item: m.StatementItem | m.ScoreItem, scale: m.Scale, distinct: np.ndarray,
                   counts: np.ndarray, figure: Estimate | None = None) -> ItemShares:
    """`item_shares` from how often each distinct answer was given (`distinct` ascending, its
    `counts`): the analysis counts per department once and adds the counts of a group's
    departments, instead of a pass over each group's answers per scale value."""
    distinct = np.asarray(distinct, dtype=float)
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())

    def count(where: np.ndarray) -> int:
        return int(counts[where].sum())

    per_value = {int(v): count(distinct == v) for v in scale.values}  # type: ignore[arg-type]
    favourable = insufficient = good = None
    top = favourable_values(item, scale)
    if top is not None:
        favourable = share(count(np.isin(distinct, top)), n)
    if is_mark(scale):
        insufficient = share(count(distinct < MARK_INSUFFICIENT_BELOW), n)
        good = share(count(distinct >= MARK_GOOD_FROM), n)
    return ItemShares(item.id, n, per_value, on_0_100(figure, item, scale), favourable, insufficient, good)


_ROWS = 1 << 17  # rows per block in composite_interval


def composite_interval(columns: list[np.ndarray], low: float = 0.0, high: float = 100.0,
                       level: float = 0.95) -> tuple[float, float, float] | None:
    """(mean, low, high) of the mean of statement means, each over the people who answered it
    (NaN = not answered); see the module docstring. None when a statement has fewer than two
    answers."""
    columns = [np.asarray(c, dtype=float) for c in columns]
    j_count = len(columns)
    n_j = np.array([int((~np.isnan(c)).sum()) for c in columns])
    if (n_j < 2).any():
        return None
    means = np.array([np.nanmean(c) for c in columns])
    # every pair at once (a loop over pairs would pass over all people J^2 / 2 times): with
    # x the answers shifted by their column mean (a covariance does not change with a shift;
    # the shift keeps the sums small) and 0 where missing, p the answered indicators, the
    # pair's n, its sums over those who answered both, and its cross products are one matrix
    # product of [x, p] with itself; cov_jk = (sum xy - sum x * sum y / n_jk) / (n_jk - 1).
    # In blocks of rows: a million people need no copy of all their answers at once.
    gram = np.zeros((2 * j_count, 2 * j_count))
    for start in range(0, len(columns[0]), _ROWS):
        block = np.column_stack([c[start:start + _ROWS] for c in columns])
        present = ~np.isnan(block)
        both = np.concatenate([np.where(present, block - means, 0.0), present], axis=1)
        gram += both.T @ both
    cross, sums, n_jk = gram[:j_count, :j_count], gram[:j_count, j_count:], gram[j_count:, j_count:]
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = (cross - sums * sums.T / n_jk) / (n_jk - 1)
    terms = np.where(n_jk >= 2, cov * n_jk / np.outer(n_j, n_j), 0.0)
    variance = float(terms.sum())
    variance /= j_count**2
    mean = float(means.mean())
    df = int(n_j.min()) - 1
    quantile = _t975(df) if level == 0.95 else float(stats.t.ppf(0.5 + level / 2, df))
    half = quantile * math.sqrt(max(variance, 0.0))
    return mean, max(low, mean - half), min(high, mean + half)


def pair_sums(columns: list[np.ndarray]) -> np.ndarray:
    """The (2J x 2J) matrix of [x, p] with itself, x the answers with 0 where missing, p the
    answered indicators: per pair of statements the people who answered both (p'p), the sums
    of each one's answers over them (x'p) and their cross products (x'x). Sums add up over
    disjoint sets of people, so a group's matrix is the sum of its departments'. On whole
    answers every entry is a whole number, exact in float64 in any order of summation."""
    block = np.column_stack([np.asarray(c, dtype=float) for c in columns]) if columns else np.zeros((0, 0))
    present = ~np.isnan(block)
    both = np.concatenate([np.where(present, block, 0.0), present], axis=1)
    return both.T @ both


def composite_interval_from_sums(gram: np.ndarray, slopes: np.ndarray, offsets: np.ndarray, low: float = 0.0,
                                 high: float = 100.0) -> tuple[float, float, float] | None:
    """`composite_interval` of the scores offset_j + slope_j * answer_j from `pair_sums` of the
    answers: the same definition (see the module docstring), computed from sums instead of a
    pass over the people per group. A covariance scales with the slopes and ignores the
    offsets; from whole-number sums cov_jk = (n S_xy - S_x S_y) / (n (n - 1)) has a single
    rounding. Equal to `composite_interval` up to floating-point rounding (tested)."""
    j_count = len(slopes)
    cross, sums, n_jk = gram[:j_count, :j_count], gram[:j_count, j_count:], gram[j_count:, j_count:]
    n_j = np.diag(n_jk).astype(np.int64)
    if (n_j < 2).any():
        return None
    means = offsets + slopes * (np.diag(sums) / n_j)
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = (n_jk * cross - sums * sums.T) / (n_jk * (n_jk - 1)) * np.outer(slopes, slopes)
    terms = np.where(n_jk >= 2, cov * n_jk / np.outer(n_j, n_j), 0.0)
    variance = float(terms.sum()) / j_count**2
    mean = float(means.mean())
    half = _t975(int(n_j.min()) - 1) * math.sqrt(max(variance, 0.0))
    return mean, max(low, mean - half), min(high, mean + half)


def score_line(item: m.StatementItem | m.ScoreItem, scale: m.Scale) -> tuple[float, float]:
    """(offset, slope) of the item's 0-100 score as a line in its answer (`Scorer.item_score`)."""
    low, high = scale.numeric_range  # type: ignore[misc]
    slope = 100 / (high - low)
    if getattr(item, "pole", None) == m.Pole.traditional:
        return 100 + low * slope, -slope
    return -low * slope, slope


# --------------------------------------------------------------------------- plain words
# The report and the results workbook word the flags with these, from the same constants.


def methods_values(number, percent) -> dict[str, str]:
    """The thresholds and conventions as the methods text shows them (`number` formats a
    coefficient, `percent` a share): the wording's placeholders are filled from here."""
    return {"threshold": number(rel.QUESTIONABLE), "weak": number(rel.WEAK),
            "item_rest": number(rel.ITEM_REST_WEAK), "missing": percent(MISSING_HIGH),
            "dont_know": percent(DONT_KNOW_HIGH), "count": str(FAVOURABLE_ANSWERS),
            "insufficient": str(MARK_INSUFFICIENT_BELOW), "good": str(MARK_GOOD_FROM)}


def dimension_flag_lines(d: DimensionQuality, name: str, w: dict[str, str], number) -> list[str]:
    """Plain sentences for a dimension's reliability (none when all is well)."""
    lines = []
    values = [v for v in (d.alpha, d.omega) if v is not None]
    if not values:
        return [w["quality_not_computed"].format(name=name)]
    lowest = min(values)
    if d.verdict == "weak":
        lines.append(w["quality_dimension_weak"].format(name=name, value=number(lowest),
                                                        threshold=number(rel.WEAK)))
    elif d.verdict == "questionable":
        lines.append(w["quality_dimension_questionable"].format(name=name, value=number(lowest),
                                                                threshold=number(rel.QUESTIONABLE)))
    if "few_cases" in d.flags:
        needed = max(rel.MIN_COMPLETE, rel.MIN_COMPLETE_PER_ITEM * d.n_items)
        lines.append(w["quality_few_cases"].format(name=name, n=d.n_complete, needed=needed))
    if "heywood" in d.flags or "not_converged" in d.flags:
        lines.append(w["quality_model_warning"].format(name=name))
    return lines


def item_flag_lines(iq: ItemQuality, item: str, name: str, w: dict[str, str], number, percent) -> list[str]:
    """Plain sentences for a statement's flags (none when all is well)."""
    lines = []
    if "item_negative" in iq.flags and iq.item_rest is not None:
        lines.append(w["quality_item_negative"].format(item=item, name=name, value=number(iq.item_rest)))
    elif "item_weak" in iq.flags and iq.item_rest is not None:
        lines.append(w["quality_item_weak"].format(item=item, name=name, value=number(iq.item_rest),
                                                   threshold=number(rel.ITEM_REST_WEAK)))
    if "missing_high" in iq.flags:
        lines.append(w["quality_missing_high"].format(item=item, share=percent(iq.n_missing / iq.n_group),
                                                      threshold=percent(MISSING_HIGH)))
    if "dont_know_high" in iq.flags:
        lines.append(w["quality_dont_know_high"].format(
            item=item, share=percent((iq.n_dont_know + iq.n_declined) / iq.n_group), threshold=percent(DONT_KNOW_HIGH)))
    return lines


class Quality(Subject):
    def register(self, a: Analysis) -> None:
        q, reg = a.q, a.register
        self.numeric = [i for i in a.numeric if isinstance(i, (m.StatementItem, m.ScoreItem))]
        dont_know: dict[str, np.ndarray] = {}  # per person, only while registering (a million
        declined: dict[str, np.ndarray] = {}  # bytes per statement each)
        for item in self.numeric:
            dont_know[item.id] = a.scorer.text_in(item.id, DONT_KNOW_CODES)
            declined[item.id] = (a.scorer.text_in(item.id, DECLINE_CODES) if DECLINE_CODES
                                      else np.zeros(len(a.responses), bool))
        self.groups = [key for key in RELIABILITY_GROUPS if key in a.groups]
        outputs = ("report", "workbook")
        # counts of "don't know" (and declines) per item: indicators over the group (counts)
        self.dk_figs: dict[tuple[str, str], Figure] = {}
        self.declined_figs: dict[tuple[str, str], Figure] = {}
        self.reliability_figs: dict[tuple[str, str], Figure] = {}
        for key in self.groups:
            members = a.groups[key].members
            for item in self.numeric:
                rows = members[dont_know[item.id][members]]
                self.dk_figs[(item.id, key)] = reg.add(f"dont_know:{item.id}", key, "count", rows, n=len(rows),
                                                       outputs=("workbook",))
                if DECLINE_CODES:
                    rows = members[declined[item.id][members]]
                    self.declined_figs[(item.id, key)] = reg.add(f"declined:{item.id}", key, "count", rows,
                                                                 n=len(rows), outputs=("workbook",))
            for name in q.dimensions:
                items = q.dimension_items(name)
                if len(items) < 2:
                    continue
                complete = np.ones(len(members), dtype=bool)
                answered = []  # per statement, the people of its own figure
                for item in items:
                    given = ~np.isnan(a.raw[item.id][members])  # a score where an answer
                    answered.append(int(given.sum()))
                    complete &= given
                rows = members[complete]
                # beside each statement's own figure the complete cases must not leave out 1..k-1
                # people (alpha and item-rest give second moments over them: disclosure.apart)
                separate = not a.protection or all(disclosure.apart(len(rows), n, a.k) for n in answered)
                if len(rows) and separate:  # the complete cases: a new set of people, its own figure
                    self.reliability_figs[(name, key)] = reg.add(f"reliability:{name}", key, "mean", rows,
                                                                 a._unit_counts(rows), outputs)
        # the people behind a dimension score: everyone in the group who answered one of its statements
        self.base_figs: dict[tuple[str, str], Figure] = {}
        for name in q.dimensions:
            answered = np.zeros(len(a.responses), dtype=bool)
            for item in q.dimension_items(name):
                answered |= ~np.isnan(a.raw[item.id])
            for key, fig in a._add(f"dimension_n:{name}", answered, "mean").items():
                self.base_figs[(name, key)] = fig

    def resolve(self, a: Analysis, results: dict[str, GroupResult]) -> None:
        ok, q = a.decision.ok, a.q
        self._sums: dict[str, np.ndarray] = {}
        for item in self.numeric:
            scale = q.scales[item.scale]
            # a statement's figure of a group holds every member of the group's units who
            # answered it (`Analysis._add`): its counts are the sum of those units' counts
            distinct, per_unit = a.value_counts[item.id]  # the core's, per unit
            for key, f in a.item_figs[item.id].items():
                if ok(f):
                    counts = per_unit[a._group_units[key]].sum(axis=0)
                    assert counts.sum() == f.n  # the figure's people, no one else
                    results[key].item_shares[item.id] = counted_shares(item, scale, distinct, counts,
                                                                       results[key].items.get(item.id))
        for name in q.dimensions:
            items = q.dimension_items(name)
            for key, result in results.items():
                score = result.dimensions.get(name)
                if score is None:
                    continue
                parts = [i for i in items if ok(a.item_figs[i.id].get(key))]
                shares = [result.item_shares[i.id].favourable for i in parts if i.id in result.item_shares]
                favourable = (float(np.mean([s.share for s in shares if s is not None]))
                              if shares and all(s is not None for s in shares) else None)
                n = low = high = None
                base = self.base_figs.get((name, key))
                if len(parts) == len(items) and ok(base) and a.protection:
                    n = base.n
                    figs = [a.item_figs[i.id][key] for i in items]
                    if min(f.n for f in figs) >= 2 * a.k:  # the 2k rule, for every statement
                        # each statement's figure rests on the group's members who answered it
                        # (one base per variable): within the dimension's base, exactly those
                        # with a score for it, so its column is their scores (NaN elsewhere)
                        # from the sums of the group's departments (`pair_sums`): the same
                        # people (the base adds only people without an answer, who add 0)
                        gram = self._unit_sums(a, name)[a._group_units[key]].sum(axis=0)
                        assert int(gram[len(items):, len(items):].trace()) == sum(f.n for f in figs)
                        lines = np.array([score_line(i, q.scales[i.scale]) for i in items])
                        found = composite_interval_from_sums(gram, lines[:, 1], lines[:, 0])
                        if found is not None:
                            _, low, high = found
                result.dimension_scores[name] = DimensionScore(name, score.mean, n, low, high, favourable, len(parts))
        self.results = results

    def _unit_sums(self, a: Analysis, name: str) -> np.ndarray:
        """Per unit (department, managers) `pair_sums` of the dimension's answers: one pass over
        everyone per dimension, a department's people at a time (`Analysis._by_unit`)."""
        if name not in self._sums:
            items = a.q.dimension_items(name)
            starts = a._unit_start
            found = []
            for u in range(len(a.unit_names)):
                rows = a._by_unit[starts[u]:starts[u + 1]]
                found.append(pair_sums([a.raw[i.id][rows] for i in items]))
            self._sums[name] = np.stack(found)
        return self._sums[name]

    def finish(self, a: Analysis, result: AnalysisResult) -> None:
        ok, q = a.decision.ok, a.q
        for key in self.groups:
            members = a.groups[key].members
            items: dict[str, ItemQuality] = {}
            for item in self.numeric:
                f = a.item_figs[item.id].get(key)
                dk = self.dk_figs[(item.id, key)]
                declined = self.declined_figs.get((item.id, key))
                if not (ok(f) and ok(dk)) or (declined is not None and not ok(declined)):
                    continue
                n_declined = declined.n if declined is not None else 0
                missing = len(members) - f.n - dk.n - n_declined
                flags = []
                if missing > MISSING_HIGH * len(members):
                    flags.append("missing_high")
                if dk.n + n_declined > DONT_KNOW_HIGH * len(members):
                    flags.append("dont_know_high")
                items[item.id] = ItemQuality(item.id, getattr(item, "dimension", None), len(members), f.n, dk.n,
                                             n_declined, None, tuple(flags))
            for name in q.dimensions:
                dim_items = q.dimension_items(name)
                if len(dim_items) < 2:
                    continue
                quality = self._reliability(a, name, key, members, dim_items, items)
                result.reliability.append(quality)
            result.item_quality[key] = [items[i.id] for i in self.numeric if i.id in items]

    def _reliability(self, a: Analysis, name: str, key: str, members: np.ndarray,
                     dim_items: list, items: dict[str, ItemQuality]) -> DimensionQuality:
        fig = self.reliability_figs.get((name, key))
        if fig is None or not a.decision.ok(fig):
            n = 0 if fig is None else fig.n
            return DimensionQuality(name, key, len(dim_items), None, None, None, None, None, None, ("withheld",),
                                    f"fewer than {a.k} people answered all statements" if n < a.k else
                                    "withheld by the anonymity rules")
        # the complete cases alone (the registered figure's people, in the group's order):
        # alpha, omega and item-rest rest on exactly these rows, so the others need not be
        # copied (a million people's scores per dimension)
        scores = pd.DataFrame({i.id: a.score.of(i.id, fig.members) for i in dim_items})
        found = rel.dimension_reliability(scores, dimension=name, n_boot=N_BOOT if a.bootstrap else 0, seed=SEED)
        assert found.n_complete == fig.n  # the registered set is the set used
        with_ci = found.n_complete >= 2 * a.k

        def value(c) -> tuple[float | None, tuple[float, float] | None]:
            if not isinstance(c, rel.Coefficient):
                return None, None
            ci = (c.interval.low, c.interval.high) if c.interval is not None and with_ci else None
            return c.value, ci

        alpha, alpha_ci = value(found.alpha)
        omega, omega_ci = value(found.omega)
        reason = next((c.reason for c in (found.alpha, found.omega) if isinstance(c, CannotCompute)), "")
        for r in found.items:
            if r.item in items:
                rest = r.item_rest.value if isinstance(r.item_rest, rel.Coefficient) else None
                flags = tuple(f.code for f in r.flags) + items[r.item].flags
                items[r.item] = ItemQuality(**{**items[r.item].__dict__, "item_rest": rest, "flags": flags})
        verdict = found.verdict.value if found.verdict is not None else None
        return DimensionQuality(name, key, len(dim_items), found.n_complete, alpha, alpha_ci, omega, omega_ci,
                                verdict, tuple(f.code for f in found.flags), reason,
                                tuple(items[i.id] for i in dim_items if i.id in items))


SUBJECTS.append(Quality)
