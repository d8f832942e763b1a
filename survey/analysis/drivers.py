"""Drivers: what goes together with each outcome (werkgeluk, intent to stay)?

Outcomes are the derived scores the questionnaire declares with `outcome: true`; never ids
written into the code. Predictors are every dimension score (0-100, partnership end high) and
every pace situation's effect, coded +1 'speeds me up', 0 'no effect', -1 'brakes me'
('does not happen' and no answer are missing), except what the outcome itself is made of.

Per outcome and group (the organisation's employees, each shown department) the complete
cases are the people with a value for the outcome and every predictor (a score counts when at
least half of its parts were answered, as everywhere). From `MIN_ORGANISATION` complete cases
for the organisation and `MIN_DEPARTMENT` for a department, Johnson's relative weights split the
explained variance over the predictors, with seeded bootstrap intervals
(`survey.stats.relative_weights`; above 2,000 complete cases a bootstrap of blocks of cases,
as for omega). Relative importance is association, not cause.

Disclosure: the complete cases of a group are a new set of people, so each gets its own figure
`drivers:<outcome>` in the register; the weights are computed only when the one decision
allows that figure. The current score beside each weight is the group's published dimension
score or pace balance (50 + balance / 2), so it adds no figure of its own.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from survey.analysis.core import SUBJECTS, Analysis, Subject
from survey.analysis.model import AnalysisResult, DriverResult, DriverSetup, DriverWeight, GroupResult
from survey.disclosure import ORGANISATION, Figure
from survey.questionnaire import model as m
from survey.stats import MIN_N_DEPARTMENT, MIN_N_ORGANISATION, RelativeWeights, relative_weights

MIN_ORGANISATION = MIN_N_ORGANISATION  # complete cases needed for the organisation's drivers
MIN_DEPARTMENT = MIN_N_DEPARTMENT  # ... and for a department's
N_BOOT = 1000  # bootstrap resamples (the analysis' bootstrap=False: none, and no intervals)
PACE_CODING = {"speeds_up": 1.0, "no_effect": 0.0, "brakes": -1.0}


def resamples(n: int) -> int:
    """Bootstrap resamples for `n` complete cases: N_BOOT at every n. Above
    `reliability.BOOT_CASES` cases the bootstrap resamples blocks of cases (see
    `survey.stats.drivers._bootstrap`), so its time does not grow with resamples x people
    and a million respondents get all N_BOOT resamples too."""
    return N_BOOT


def outcomes(q: m.Questionnaire) -> list[m.DerivedScore]:
    return [d for d in q.derived if d.outcome]


def predictors(q: m.Questionnaire, outcome: m.DerivedScore) -> list[tuple[str, str]]:
    """(kind, id) of every predictor of `outcome`: dimensions, then pace situations; what the
    outcome is made of (through earlier derived scores too) is left out."""
    derived = {d.id: d for d in q.derived}
    used: set[str] = set()
    todo = list(outcome.of)
    while todo:
        ref = todo.pop()
        if ref not in used:
            used.add(ref)
            todo.extend(derived[ref].of if ref in derived else [])
    found = [("dimension", name) for name in q.dimensions if name not in used]
    found += [("pace", s.id) for grid in q.grids for s in grid.situations]
    return found


def pace_coded(codes: np.ndarray) -> np.ndarray:
    """+1 speeds up, 0 no effect, -1 brakes; NaN for 'does not happen' and no answer."""
    out = np.full(len(codes), np.nan)
    for code, value in PACE_CODING.items():
        out[codes == code] = value
    return out


def seed_for(outcome: str, group: str) -> int:
    """A fixed seed per outcome and group: the same intervals every run."""
    return zlib.crc32(f"drivers:{outcome}:{group}".encode("utf-8"))


class Drivers(Subject):
    def __init__(self) -> None:
        # outcome -> person-level columns (outcome, then predictors): shared arrays, a frame
        # is made of a figure's members only
        self.frames: dict[str, dict[str, np.ndarray]] = {}
        self.figures: dict[tuple[str, str], Figure] = {}  # (outcome, group) -> drivers:<outcome> figure
        self.setup: DriverSetup | None = None
        self.refused: dict[str, str] = {}

    def register(self, a: Analysis) -> None:
        wanted = outcomes(a.q)
        if not wanted:
            return
        derived = {k: v.to_numpy(dtype=float) for k, v in a.scorer.derived().items()}
        columns: dict[tuple[str, str], np.ndarray] = {}
        for name in a.q.dimensions:
            columns[("dimension", name)] = a.scorer.dimension(name).to_numpy(dtype=float)
        coding = np.array([PACE_CODING.get(c, np.nan) for c in m.PACE_EFFECT_CODES] + [np.nan])
        for sid in a.pace_figs:
            columns[("pace", sid)] = coding[a.pace_codes[sid][1]]  # = pace_coded(effect), on integer codes
        keys = [ORGANISATION] + [key for key, g in a.groups.items() if g.kind == "department"]
        chosen = {}
        for outcome in wanted:
            chosen[outcome.id] = tuple(predictors(a.q, outcome))
            frame = {"outcome": derived[outcome.id],
                     **{f"{kind}:{pid}": columns[(kind, pid)] for kind, pid in chosen[outcome.id]}}
            self.frames[outcome.id] = frame
            complete = np.ones(len(a.responses), dtype=bool)
            for values in frame.values():
                complete &= np.isfinite(values)
            for key in keys:
                g = a.groups[key]
                rows = g.members[complete[g.members]]
                need = max(MIN_ORGANISATION if key == ORGANISATION else MIN_DEPARTMENT, a.k)
                if len(rows) >= need:
                    self.figures[(outcome.id, key)] = a.register.add(
                        f"drivers:{outcome.id}", key, "mean", rows, a._unit_counts(rows), ("report", "workbook"))
                elif key == ORGANISATION:
                    self.refused[outcome.id] = "too_few"
        self.setup = DriverSetup(tuple(o.id for o in wanted), chosen, MIN_ORGANISATION, MIN_DEPARTMENT,
                                 N_BOOT if a.bootstrap else 0)

    def resolve(self, a: Analysis, results: dict[str, GroupResult]) -> None:
        for (outcome, key), figure in self.figures.items():
            if not a.decision.ok(figure):
                if key == ORGANISATION:
                    self.refused[outcome] = "withheld"
                continue
            frame = pd.DataFrame({name: values[figure.members] for name, values in self.frames[outcome].items()})
            names = [c for c in frame.columns if c != "outcome"]
            got = relative_weights(frame, "outcome", names, min_n=1, n_boot=resamples(len(frame)) if a.bootstrap else 0,
                                   seed=seed_for(outcome, key))
            if not isinstance(got, RelativeWeights):
                if key == ORGANISATION:
                    self.refused[outcome] = got.reason
                continue
            results[key].drivers[outcome] = self._result(a, results[key], outcome, got)

    def _result(self, a: Analysis, g: GroupResult, outcome: str, got: RelativeWeights) -> DriverResult:
        # an interval together with n narrows down the answers in a small group (model.shown_interval)
        intervals = got.n >= 2 * a.k
        weights = []
        for w in got.weights:
            kind, pid = w.predictor.split(":", 1)
            if kind == "dimension":
                current = g.dimensions[pid].mean if pid in g.dimensions else None
            else:
                cell = g.pace.get(pid)
                current = 50 + cell.balance / 2 if cell is not None and cell.balance is not None else None
            iv = w.rescaled_interval if intervals else None
            weights.append(DriverWeight(pid, kind, w.rescaled, iv.low if iv else None, iv.high if iv else None,
                                        w.raw, current))
        weights.sort(key=lambda w: -w.importance)
        r2 = got.r_squared_interval if intervals else None
        return DriverResult(outcome, got.n, got.r_squared, r2.low if r2 else None, r2.high if r2 else None,
                            tuple(weights), got.n_boot, got.seed)

    def finish(self, a: Analysis, result: AnalysisResult) -> None:
        if self.setup is not None:
            result.drivers = DriverSetup(self.setup.outcomes, self.setup.predictors, self.setup.min_organisation,
                                         self.setup.min_department, self.setup.n_boot, dict(self.refused))


SUBJECTS.append(Drivers)
