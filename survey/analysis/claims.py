"""Claims: for every difference the report may put into words, whether the data support it.

Intervals are for showing; a difference is *claimed* (said in words) only by these rules:

- **Department against the rest of the organisation** (headline score and each dimension):
  Welch's t-test on the person-level scores of the department's employees against all other
  employees who have that score (`stats.group_vs_rest`, from per-department sums). One Holm family (`stats.claims`)
  over every department and every score: claimed when the adjusted p is below `ALPHA`.
- **Shares of a pace situation** ("brakes me", "speeds me up"), department against the rest:
  Fisher's exact test with Newcombe's interval (`stats.share_difference`), one Holm family
  over every situation, both shares and every department. Fisher's test is the exact
  permutation test of the 2 x 2 table: it needs no large-sample rule and is deterministic (a
  Monte-Carlo permutation test would give another p on every run), which matters for a report
  that must say the same thing every time.
- **Managers against employees** (headline and each dimension): Welch's test on person-level
  scores, one Holm family over the scores; the gap shown is the difference of the two shown
  scores with the width of Welch's interval around it, claimed when the test holds, the
  interval excludes 0 and the shown gap points the same way as the test.
- **Current against desired** per statement and group: the paired test of desired minus
  current over the people who answered both (`stats.paired_difference`), one Holm family over
  every statement and group; a claim's interval excludes 0.

So on data without any real difference, a report makes a false claim of a kind at most at
about the level `ALPHA` (families per variable made one in a third of such reports).
The report words a department claim only when the shown scores point the same way and differ
once rounded; where a test holds but the shown scores do not agree, it says nothing.

Disclosure: a test over a new set of people registers that set as a figure (`claims:<var>`
for person-level scores, `gap:<item>` for the people who answered both halves) and is
computed only when the decision allows it; the share tests use exactly the members of the
published pace figures (the rest being the organisation's figure minus the department's).
Intervals are published under the 2k rule (`model.shown_interval`, on the smaller group).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from survey import disclosure
from survey.analysis.core import SUBJECTS, Subject
from survey.analysis.model import AnalysisResult, Estimate, GroupResult, shown_interval
from survey.disclosure import MANAGERS, ORGANISATION
from survey.questionnaire import model as m
from survey.stats import CannotCompute, claims, paired_difference, share_difference, welch_difference
from survey.stats._types import LEVEL
from survey.stats.inference import ALPHA, Difference, MeanDifference, welch_from_moments

if TYPE_CHECKING:
    from survey.analysis.core import Analysis

SHARE_OUTCOMES = ("brakes", "speeds_up")


@dataclass(frozen=True)
class Verdict:
    """One judged difference, first minus second (department - rest, managers - employees,
    desired - current; shares as 0-1). `holds` is the rule's verdict; `low`/`high` the 95 %
    interval (None when it could not be computed, with `reason`)."""

    estimate: float | None
    low: float | None
    high: float | None
    p: float | None
    p_adjusted: float | None  # Holm-adjusted over `family`; None where the rule is the interval
    holds: bool
    first: float | None  # the two means (or shares) compared
    second: float | None
    n_first: int
    n_second: int
    family: int = 1
    reason: str = ""

    @property
    def direction(self) -> int:
        """+1 / -1 when the claim holds (first higher / lower), else 0."""
        if not self.holds or self.estimate is None:
            return 0
        return 1 if self.estimate > 0 else -1

    def shown(self, threshold: int) -> tuple[float | None, float | None]:
        """The interval as it may be published: from 2k answers in each compared group."""
        if self.estimate is None or self.low is None or self.high is None:
            return None, None
        return shown_interval(Estimate(self.estimate, self.low, self.high, min(self.n_first, self.n_second)),
                              threshold)


@dataclass
class Claims:
    alpha: float = ALPHA
    level: float = LEVEL
    headline: str | None = None
    # 'derived:<id>' / 'dim:<name>' -> department -> department minus the rest (one Holm family)
    versus_rest: dict[str, dict[str, Verdict]] = field(default_factory=dict)
    # '<situation>.<brakes|speeds_up>' -> department -> share minus the rest's (one Holm family)
    shares_versus_rest: dict[str, dict[str, Verdict]] = field(default_factory=dict)
    # 'derived:<id>' / 'dim:<name>' -> managers minus employees (one Holm family)
    managers: dict[str, Verdict] = field(default_factory=dict)
    # group key -> item id -> desired minus current, paired (one Holm family)
    desired: dict[str, dict[str, Verdict]] = field(default_factory=dict)


def _holm_verdicts(family: list[tuple[str, Difference | CannotCompute]], alpha: float) -> dict[str, Verdict]:
    """Judge a family (label, difference) with Holm's correction."""
    judged = claims(family, alpha)
    out = {}
    for (label, d), c in zip(family, judged, strict=True):
        if isinstance(d, CannotCompute):
            out[label] = Verdict(None, None, None, None, None, False, None, None, d.n, d.n, c.family_size, c.reason)
            continue
        first = getattr(d, "mean_first", getattr(d, "share_first", None))
        second = getattr(d, "mean_second", getattr(d, "share_second", None))
        out[label] = Verdict(d.estimate, d.interval.low, d.interval.high, d.p, c.p_adjusted, c.claimed, first, second,
                             d.n_first, d.n_second, c.family_size, c.reason)
    return out


def _interval_verdict(d: object) -> Verdict:
    """A verdict by the interval rule: claimed when the 95 % interval excludes 0."""
    if isinstance(d, CannotCompute):
        return Verdict(None, None, None, None, None, False, None, None, d.n, d.n, 1, f"not tested: {d.reason}")
    holds = d.interval.excludes_zero()  # type: ignore[attr-defined]
    return Verdict(d.estimate, d.interval.low, d.interval.high, d.p, None, holds,  # type: ignore[attr-defined]
                   d.mean_first, d.mean_second, d.n_first, d.n_second, 1,  # type: ignore[attr-defined]
                   "the 95% interval excludes 0" if holds else "the 95% interval includes 0")


@dataclass(frozen=True)
class UnitSums:
    """Per unit: how many scores, their sum and sum of squares after subtracting `shift`
    (the overall mean: it keeps the sums small, so the variances lose no precision)."""

    shift: float
    n: np.ndarray
    total: np.ndarray
    squares: np.ndarray

    def split(self, units: list[int]) -> tuple[tuple[int, float, float], tuple[int, float, float]]:
        """(n, sum, sum of squares) of `units` together, and of all other units."""
        inside = (int(self.n[units].sum()), float(self.total[units].sum()), float(self.squares[units].sum()))
        every = (int(self.n.sum()), float(self.total.sum()), float(self.squares.sum()))
        return inside, (every[0] - inside[0], every[1] - inside[1], every[2] - inside[2])


def unit_sums(values: np.ndarray, units: np.ndarray, n_units: int) -> UnitSums:
    """`UnitSums` of finite `values`, `units` the unit (position) of each."""
    shift = float(values.mean()) if len(values) else 0.0
    centred = values - shift
    return UnitSums(shift, np.bincount(units, minlength=n_units),
                    np.bincount(units, weights=centred, minlength=n_units),
                    np.bincount(units, weights=centred * centred, minlength=n_units))


def welch_from_sums(first: tuple[int, float, float], second: tuple[int, float, float], shift: float = 0.0,
                    level: float = LEVEL) -> MeanDifference | CannotCompute:
    """`stats.group_vs_rest` / `stats.welch_difference` (Welch's test and interval, first minus
    second) from each group's (n, sum, sum of squares) of the scores minus `shift`: the same
    rule and arithmetic on the sums (mean = shift + sum / n, variance = (squares - sum^2 / n) /
    (n - 1)), equal to it up to floating-point rounding (tested)."""
    (n1, s1, q1), (n2, s2, q2) = first, second
    if n1 < 2 or n2 < 2:
        return CannotCompute("each group needs at least two answers to compare", min(n1, n2))
    var1, var2 = max(q1 - s1 * s1 / n1, 0.0) / (n1 - 1), max(q2 - s2 * s2 / n2, 0.0) / (n2 - 1)
    return welch_from_moments((n1, shift + s1 / n1, var1), (n2, shift + s2 / n2, var2), level)


def headline_id(q: m.Questionnaire) -> str | None:
    """The derived score that heads the report (as in core): the first made of dimensions."""
    return next((d.id for d in q.derived if d.of and all(ref in q.dimensions for ref in d.of)), None)


class ClaimsSubject(Subject):
    def register(self, a: Analysis) -> None:
        q = a.q
        self.headline = headline_id(q)
        person: dict[str, np.ndarray] = {f"dim:{name}": a.scorer.dimension(name).to_numpy(dtype=float)
                                         for name in q.dimensions}
        if self.headline:
            person[f"derived:{self.headline}"] = a.scorer.derived()[self.headline].to_numpy(dtype=float)
        self.person = person
        keys = [key for key, g in a.groups.items() if key == ORGANISATION or g.kind in ("department", "managers")]
        self.person_figs = {var: a._add(f"claims:{var}", ~np.isnan(values), "mean", keys, ("report",))
                            for var, values in person.items()}
        self.pairs = {}
        for item in (i for i in a.numeric if i.desired):
            want = a.desired[item.id][3]  # the 'how it should be' scores (the core's)
            now_given, want_given = ~np.isnan(a.raw[item.id]), ~np.isnan(want)
            both = now_given & want_given
            # the gap over those who answered both, beside 'now' and 'desired' each over its own
            # people, gives away whoever answered one half only unless they are 0 or at least k
            def separate(members: np.ndarray) -> bool:
                paired = int(both[members].sum())
                return all(disclosure.apart(paired, int(given[members].sum()), a.k) for given in (now_given, want_given))

            keys = [key for key in a.employee_groups if not a.protection or separate(a.groups[key].members)]
            self.pairs[item.id] = (want, a._add(f"gap:{item.id}", both, "mean", keys))

    def resolve(self, a: Analysis, results: dict[str, GroupResult]) -> None:
        """Each kind of claim is one Holm family over everything of that kind the report may
        say: departments against the rest on every score; every situation, outcome and
        department for the pace shares; managers against employees on every score; every
        statement of every group for now against desired. So a report of data without any
        real difference makes a false claim of a kind at most at the stated level (a family per
        variable made a false claim in a third of such reports)."""
        ok = a.decision.ok
        found = Claims(headline=self.headline)
        departments = [key for key, g in a.groups.items() if g.kind == "department"]
        versus: list[tuple[tuple[str, str], object]] = []
        managers: list[tuple[str, object]] = []
        for var, values in self.person.items():
            figs = self.person_figs[var]
            org = figs.get(ORGANISATION)
            if not ok(org):
                continue
            org_values = values[org.members]
            # per unit the count, sum and sum of squares of the scores: a department and the
            # rest of the organisation from those (`welch_from_sums`), not a pass over
            # everyone per department
            sums = unit_sums(org_values, a.unit_code[org.members], len(a.unit_names))
            for d in departments:
                f = figs.get(d)
                if ok(f):
                    # the department's figure: its members with a score, all inside the
                    # organisation's figure (which holds everyone with a score)
                    inside, rest = sums.split(a._group_units[d])
                    assert inside[0] == f.n
                    versus.append(((var, d), welch_from_sums(inside, rest, sums.shift)))
            mgr = figs.get(MANAGERS)
            if ok(mgr):
                managers.append((var, welch_difference(values[mgr.members], values[org.members])))
        for (var, d), verdict in _holm_verdicts(versus, ALPHA).items():
            found.versus_rest.setdefault(var, {})[d] = verdict
        for var, verdict in _holm_verdicts(managers, ALPHA).items():
            found.managers[var] = self._manager_gap(var, results, verdict)
        shares: list[tuple[tuple[str, str], object]] = []
        for sid, (_, _, _, eff_figs) in a.pace_figs.items():
            org = eff_figs.get(ORGANISATION)
            if not ok(org):
                continue
            eff_at = a.pace_codes[sid][1]  # position in PACE_EFFECT_CODES, -1 none
            for outcome in SHARE_OUTCOMES:
                # who gave the outcome, counted per unit once; a department's figure holds its
                # members who answered, all inside the organisation's figure
                if sid in a.pace_unit_counts:  # the core's counts per unit and code: the organisation's units
                    per_unit = np.zeros(len(a.unit_names), dtype=np.int64)
                    units = a._group_units[ORGANISATION]
                    per_unit[units] = a.pace_unit_counts[sid][1][units, m.PACE_EFFECT_CODES.index(outcome)]
                else:
                    per_unit = a.unit_totals(org.members, eff_at[org.members] == m.PACE_EFFECT_CODES.index(outcome))
                total = int(per_unit.sum())
                for d in departments:
                    f = eff_figs.get(d)
                    if ok(f):
                        x = a.group_total(d, per_unit)
                        shares.append(((f"{sid}.{outcome}", d), share_difference(x, f.n, total - x, org.n - f.n)))
        for (label, d), verdict in _holm_verdicts(shares, ALPHA).items():
            found.shares_versus_rest.setdefault(label, {})[d] = verdict
        for label in (f"{sid}.{outcome}" for sid in a.pace_figs for outcome in SHARE_OUTCOMES):
            found.shares_versus_rest.setdefault(label, {})
        gaps: list[tuple[tuple[str, str], object]] = []
        for item_id, (want, figs) in self.pairs.items():
            for key, f in figs.items():
                if ok(f):
                    gaps.append(((key, item_id), paired_difference(a.score.of(item_id, f.members), want[f.members])))
        for (key, item_id), verdict in _holm_verdicts(gaps, ALPHA).items():
            found.desired.setdefault(key, {})[item_id] = verdict
        self.found = found

    @staticmethod
    def _manager_gap(var: str, results: dict[str, GroupResult], verdict: Verdict) -> Verdict:
        """Managers minus employees as the report shows them (the difference of the two shown
        scores, each a mean of statement figures), with the width of Welch's interval on
        people's own scores around it. Centred on the people's own scores instead, the gap
        beside the shown scores gave away an employee's answer to a skipped statement. Claimed
        when the Holm-corrected test holds and the shown gap points the same way."""
        kind, key = var.split(":", 1)
        shown = [(results[g].derived if kind == "derived" else results[g].dimensions).get(key)
                 if g in results else None for g in (MANAGERS, ORGANISATION)]
        if verdict.estimate is None or verdict.low is None or verdict.high is None or None in shown:
            return Verdict(None, None, None, None, None, False, None, None, verdict.n_first, verdict.n_second, 1,
                           "not tested: no shown score for both groups")
        gap = shown[0].mean - shown[1].mean
        half = (verdict.high - verdict.low) / 2
        holds = verdict.holds and gap * verdict.estimate > 0 and (gap - half > 0 or gap + half < 0)
        return Verdict(gap, gap - half, gap + half, verdict.p, verdict.p_adjusted, holds, shown[0].mean,
                       shown[1].mean, verdict.n_first, verdict.n_second, verdict.family, verdict.reason)

    def finish(self, a: Analysis, result: AnalysisResult) -> None:
        result.claims = self.found


SUBJECTS.append(ClaimsSubject)

__all__ = ["Claims", "ClaimsSubject", "SHARE_OUTCOMES", "Verdict", "headline_id"]
