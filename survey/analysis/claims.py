"""Claims: for every difference the report may put into words, whether the data support it.

Intervals are for showing; a difference is *claimed* (said in words) only by these rules:

- **Department against the rest of the organisation** (headline score and each dimension):
  Welch's t-test on the person-level scores of the department's employees against all other
  employees who have that score (`stats.group_vs_rest`), Holm-corrected over the departments
  shown (`stats.claims`): claimed when the adjusted p is below `ALPHA`.
- **Shares of a pace situation** ("brakes me", "speeds me up"), department against the rest:
  Fisher's exact test with Newcombe's interval (`stats.share_difference`), Holm-corrected over
  the departments. Fisher's test is the exact permutation test of the 2 x 2 table: it needs no
  large-sample rule and is deterministic (a Monte-Carlo permutation test would give another p
  on every run), which matters for a report that must say the same thing every time.
- **Managers against employees** (headline and each dimension): Welch's interval of the
  difference of person-level scores; claimed when the 95 % interval excludes 0.
- **Current against desired** per statement and group: the paired interval of desired minus
  current over the people who answered both (`stats.paired_difference`); claimed when it
  excludes 0.

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

from survey.analysis.core import SUBJECTS, Subject
from survey.analysis.model import AnalysisResult, Estimate, GroupResult, shown_interval
from survey.disclosure import MANAGERS, ORGANISATION
from survey.questionnaire import model as m
from survey.stats import CannotCompute, claims, group_vs_rest, paired_difference, share_difference, welch_difference
from survey.stats._types import LEVEL
from survey.stats.inference import ALPHA, Difference

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
    # 'derived:<id>' / 'dim:<name>' -> department -> department minus the rest (Holm over departments)
    versus_rest: dict[str, dict[str, Verdict]] = field(default_factory=dict)
    # '<situation>.<brakes|speeds_up>' -> department -> share minus the rest's (Holm over departments)
    shares_versus_rest: dict[str, dict[str, Verdict]] = field(default_factory=dict)
    # 'derived:<id>' / 'dim:<name>' -> managers minus employees (interval rule)
    managers: dict[str, Verdict] = field(default_factory=dict)
    # group key -> item id -> desired minus current, paired (interval rule)
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
            both = ~np.isnan(a.raw[item.id]) & ~np.isnan(want)
            self.pairs[item.id] = (want, a._add(f"gap:{item.id}", both, "mean", a.employee_groups))

    def resolve(self, a: Analysis, results: dict[str, GroupResult]) -> None:
        ok = a.decision.ok
        found = Claims(headline=self.headline)
        departments = [key for key, g in a.groups.items() if g.kind == "department"]
        for var, values in self.person.items():
            figs = self.person_figs[var]
            org = figs.get(ORGANISATION)
            if ok(org):
                family = []
                org_values = values[org.members]
                org_units = a.unit_code[org.members]
                for d in departments:
                    f = figs.get(d)
                    if not ok(f):
                        continue
                    # the department's figure: its members with a score, all inside the
                    # organisation's figure (which holds everyone with a score)
                    in_dept = a.in_group(d, org.members, org_units)
                    test = group_vs_rest(org_values, in_dept)
                    family.append((d, test))
                found.versus_rest[var] = _holm_verdicts(family, ALPHA)
                mgr = figs.get(MANAGERS)
                if ok(mgr):
                    found.managers[var] = _interval_verdict(welch_difference(values[mgr.members],
                                                                             values[org.members]))
        for sid, (_, _, _, eff_figs) in a.pace_figs.items():
            org = eff_figs.get(ORGANISATION)
            if not ok(org):
                continue
            eff_at = a.pace_codes[sid][1]  # position in PACE_EFFECT_CODES, -1 none
            for outcome in SHARE_OUTCOMES:
                # who gave the outcome, counted per unit once; a department's figure holds its
                # members who answered, all inside the organisation's figure
                per_unit = a.unit_totals(org.members, eff_at[org.members] == m.PACE_EFFECT_CODES.index(outcome))
                total = int(per_unit.sum())
                family = []
                for d in departments:
                    f = eff_figs.get(d)
                    if not ok(f):
                        continue
                    x = a.group_total(d, per_unit)
                    family.append((d, share_difference(x, f.n, total - x, org.n - f.n)))
                found.shares_versus_rest[f"{sid}.{outcome}"] = _holm_verdicts(family, ALPHA)
        for item_id, (want, figs) in self.pairs.items():
            for key, f in figs.items():
                if ok(f):
                    found.desired.setdefault(key, {})[item_id] = _interval_verdict(
                        paired_difference(a.score.of(item_id, f.members), want[f.members]))
        self.found = found

    def finish(self, a: Analysis, result: AnalysisResult) -> None:
        result.claims = self.found


SUBJECTS.append(ClaimsSubject)

__all__ = ["Claims", "ClaimsSubject", "SHARE_OUTCOMES", "Verdict", "headline_id"]
