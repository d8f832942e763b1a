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

from survey.analysis.core import SUBJECTS, Analysis, Subject
from survey.analysis.model import AnalysisResult, DriverResult, DriverSetup, DriverWeight, GroupResult
from survey.disclosure import ORGANISATION, Figure
from survey.questionnaire import model as m
from survey.stats import MIN_N_DEPARTMENT, MIN_N_ORGANISATION, RelativeWeights
from survey.stats.drivers import weights_from_moments
from survey.stats.reliability import Moments

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


def unit_moments(unit_rows: list[slice | np.ndarray], columns: list[np.ndarray], complete: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Per unit (department, managers; `unit_rows`: each unit's rows, `Analysis.unit_rows`) the
    sums of the complete cases' values of `columns`, shifted by the columns' means over everyone
    complete (a covariance ignores a shift; it keeps the sums small, so little is lost to
    cancellation): (units x (P+1) x (P+1)), per unit the matrix of [x, 1] with itself (cross
    products, sums in the last column, the count in the corner); and (units x 3 x P) each
    column's largest absolute value, largest and smallest value (for the "no spread" rule).
    A group's complete cases are those of its units, so their sums add up
    (`moments_from_shifted`). One pass over everyone, a unit's people at a time."""
    width = len(columns)
    shift = np.array([float(c[complete].mean()) if complete.any() else 0.0 for c in columns])
    gram = np.zeros((len(unit_rows), width + 1, width + 1))
    ends = np.zeros((len(unit_rows), 3, width))
    ends[:, 1], ends[:, 2] = -np.inf, np.inf
    for u, rows in enumerate(unit_rows):
        keep = complete[rows]
        count = int(keep.sum())
        if not count:
            continue
        block = np.empty((count, width + 1))
        for j, c in enumerate(columns):
            block[:, j] = c[rows][keep]
        values = block[:, :width]
        ends[u] = np.abs(values).max(axis=0), values.max(axis=0), values.min(axis=0)
        values -= shift
        block[:, width] = 1.0
        gram[u] = block.T @ block
    return gram, ends


def moments_from_shifted(n: int, sums: np.ndarray, cross: np.ndarray) -> Moments:
    """`Moments` (count and covariance matrix) from the sums and cross products of shifted
    values (`unit_moments`)."""
    if n < 2:
        return Moments(n, np.full(cross.shape, np.nan))
    return Moments(n, (cross - np.outer(sums, sums) / n) / (n - 1))


class Drivers(Subject):
    def __init__(self) -> None:
        # outcome -> per unit the complete cases' sums and extremes (`unit_moments`)
        self.sums: dict[str, tuple[np.ndarray, np.ndarray]] = {}
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
            self.sums[outcome.id] = unit_moments([a.unit_rows(u) for u in range(len(a.unit_names))],
                                                 list(frame.values()), complete)
            per_unit = self.sums[outcome.id][0][:, -1, -1].astype(np.int64)  # complete cases per unit
            for key in keys:
                units = a._group_units[key]
                need = max(MIN_ORGANISATION if key == ORGANISATION else MIN_DEPARTMENT, a.k)
                if per_unit[units].sum() >= need:
                    rows = a.rows_where(key, complete)
                    counts = {str(a.unit_names[u]): int(per_unit[u]) for u in units if per_unit[u]}
                    self.figures[(outcome.id, key)] = a.register.add(
                        f"drivers:{outcome.id}", key, "mean", rows, counts, ("report", "workbook"))
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
            # the complete cases' moments from their departments' sums (`unit_moments`): the
            # weights are a function of the correlation matrix; only the bootstrap reads people
            names = [c for c in self.frames[outcome] if c != "outcome"]
            units = a._group_units[key]
            gram = self.sums[outcome][0][units].sum(axis=0)
            ends = self.sums[outcome][1][units]
            width = len(names) + 1
            n = int(gram[width, width])
            assert n == figure.n  # the registered set is the set used
            moments = moments_from_shifted(n, gram[:width, width], gram[:width, :width])
            largest = max(1.0, float(ends[:, 0].max()))
            constant = ends[:, 1].max(axis=0) == ends[:, 2].min(axis=0)
            values = (np.column_stack([v[figure.members] for v in self.frames[outcome].values()])
                      if a.bootstrap else None)
            got = weights_from_moments("outcome", names, moments, largest, values, constant=constant, min_n=1,
                                       n_boot=resamples(n) if a.bootstrap else 0, seed=seed_for(outcome, key))
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
