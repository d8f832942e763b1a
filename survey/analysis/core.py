"""Analysis: from the store to a typed result model.

Scores: every statement answer is put on 0-100 where 100 is the partnership end
((value - min) / (max - min) * 100, mirrored for traditional-keyed items). Every figure of a
group rests on the group's members who answered that question (one base per question per
group). A group's dimension score is the mean of its published statement figures in that
dimension (at least half of them), a derived score the mean of its published parts: so a
score tells a reader nothing the statement figures do not (see survey/disclosure.py).
Employees make up the department figures; managers, who answer about their department, are
a separate group.

The analysis registers every candidate figure of every output in a `disclosure.Register`,
`disclosure.decide` rules over all of them together, and only allowed figures reach the
result model that the report, the results workbook and `survey status` render.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd

from survey import disclosure
from survey.analysis.frame import Scorer, _t975, estimate, load_frame
from survey.analysis.model import (MANAGER_UNIT, AnalysisResult, BreakdownRow, ChoiceShares, DesiredGap,
                                   Estimate, GroupResult, PaceCell)
from survey.disclosure import MANAGERS, ORGANISATION, OTHERS, Figure, HiddenGroup, Register, Suppression
from survey.errors import ReportError
from survey.questionnaire import model as m
from survey.scan import Scan
from survey.store import Store


def analyse_scan(scan: Scan, *, protection: bool = True, replace_earlier: bool = False,
                 bootstrap: bool = True, earlier_waves: list | None = None) -> AnalysisResult:
    started = time.perf_counter()
    responses, wide = load_frame(scan, grouped=True)  # each department's people one stretch of rows
    forgotten = None
    with Store(scan.store_path) as store:
        if replace_earlier:
            forgotten = store.forget_last_edition()
        earlier = store.earlier_sets() if protection else {}
        n_unverified = store.unverified_count()
    loaded = time.perf_counter()
    result = analyse_frame(scan, responses, wide, protection=protection, earlier=earlier, bootstrap=bootstrap,
                           earlier_waves=earlier_waves, replace_earlier=replace_earlier, forgotten=forgotten)
    result.n_unverified = n_unverified
    result.timings = {"load": loaded - started, **result.timings}
    return result


def publish(result: AnalysisResult, output: str, shown: Collection[tuple[str, str]] | None = None,
            earlier_shown: Collection[tuple[str, str, str]] | None = None) -> None:
    """Record, before an output is written, the response ids behind every figure it shows:
    later editions are checked against them (`disclosure.decide`). `shown`: the (variable,
    group) of the figures the output shows (the report model lists them; a composite score
    stands for the figures it is the mean of); None: every allowed figure (the results
    workbook). `earlier_shown`: (wave, variable, group key) of the earlier waves' figures it
    shows (None with `shown`: none; without `shown`: all the change uses). One figure's ids at
    a time (a generator), a group's ids once."""
    if not result.protection or result.register is None or result.decision is None or result.ids is None:
        return
    sorted_ids = _sorted_ids(result.ids)
    groups = result.register.groups
    group_ids: dict[str, np.ndarray] = {}
    chosen = None if shown is None else shown_figures(result, shown)

    def figures():
        for f in result.register.figures:
            if f.kind == "composite" or f.members is None or not result.decision.ok(f):
                continue
            if chosen is not None and f.id not in chosen:
                continue
            if f.group not in group_ids:
                group_ids[f.group] = sorted_ids(groups[f.group].members)
            yield f.variable, sorted_ids(f.members), group_ids[f.group]

    with Store(result.scan.store_path) as store:
        result.edition = store.record_edition(figures(), output)
    for hook in PUBLISHERS:  # e.g. earlier waves' figures shown beside this wave's (change.py)
        hook(result, output, set(earlier_shown or ()) if shown is not None else None)


# Subjects that publish figures outside this scan's register record them here (called by `publish`).
PUBLISHERS: list = []


def _sorted_ids(ids: np.ndarray):
    """A function from positions (ascending) to their response ids, ascending, as the
    register of editions stores them. The analysis orders people by department
    (`load_frame(grouped=True)`), so ids are ascending within a department only: a large set
    is sorted through a mask over everyone in id order (one pass), a small one by a sort."""
    if len(ids) < 2 or bool((ids[1:] > ids[:-1]).all()):
        return lambda positions: ids[positions]
    by_id = np.argsort(ids, kind="stable")
    rank = np.empty(len(ids), dtype=np.int64)
    rank[by_id] = np.arange(len(ids))
    in_order = ids[by_id]

    def found(positions: np.ndarray) -> np.ndarray:
        if len(positions) * 16 < len(ids):
            return np.sort(ids[positions])
        mask = np.zeros(len(ids), dtype=bool)
        mask[rank[positions]] = True
        return in_order[mask]

    return found


def shown_figures(result: AnalysisResult, shown: Collection[tuple[str, str]]) -> set[int]:
    """The ids of the allowed register figures behind `shown` ((variable, group) pairs), a
    composite's parts included (recursively: a derived score of dimension scores)."""
    by_key: dict[tuple[str, str], list] = {}
    for f in result.register.figures:
        by_key.setdefault((f.variable, f.group), []).append(f)
    figures, chosen = result.register.figures, set()
    todo = [f for key in shown for f in by_key.get(tuple(key), ()) if result.decision.ok(f)]
    while todo:
        f = todo.pop()
        if f.id in chosen:
            continue
        chosen.add(f.id)
        todo += [figures[p] for p in f.parts if result.decision.ok(figures[p])]
    return chosen


def analyse_frame(scan: Scan, responses: pd.DataFrame, wide: pd.DataFrame, *,
                  protection: bool = True, earlier: Mapping[str, list[disclosure.Published]] | None = None,
                  bootstrap: bool = True, earlier_waves: list | None = None,
                  replace_earlier: bool = False, forgotten: int | None = None) -> AnalysisResult:
    """The analysis of one response frame (`load_frame`'s output).

    `earlier_waves`: the scan's earlier waves (`survey.waves.EarlierWave`, oldest first) for the
    change since the previous wave; None reads them from the scan folder (survey/analysis/change.py).

    `bootstrap=False` leaves out every bootstrap resampling (omega's and the drivers'
    intervals are then absent; every other figure is the same): for the scale benchmark, whose
    target excludes bootstrap sampling (issue 10, point 5). No command offers it.

    `protection=False` turns disclosure control off (no hidden groups, no suppression, the old
    naive bases: desired table on those who answered both, person-weighted scores, breakdown
    scores per band). It exists only so the tests can show that `survey audit` finds those
    leaks; no command offers it."""
    analysis = Analysis(scan, responses, wide, protection, earlier or {}, bootstrap)
    # for change.py: the own edition just forgotten (`forgotten`) takes the earlier waves' records tied to it
    analysis.waves, analysis.replace_earlier, analysis.forgotten = earlier_waves, replace_earlier, forgotten
    result = analysis.run()
    result.ids = responses.index.to_numpy(dtype=np.int64)
    return result


# positions in the response frame: int32 halves what the figures' member lists take
_POSITION = np.int32


class _Scores(Mapping):
    """item id -> its 0-100 scores per respondent, computed when asked for (kept, they would
    be half a gigabyte at a million respondents; a figure needs only its members' scores)."""

    def __init__(self, scorer: Scorer, items: list, raw: dict[str, np.ndarray]):
        self.scorer, self.items, self.raw = scorer, {i.id: i for i in items}, raw

    def __getitem__(self, item_id: str) -> np.ndarray:
        return self.scorer.item_score(self.items[item_id]).to_numpy(dtype=float)

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def of(self, item_id: str, rows: np.ndarray) -> np.ndarray:
        """The scores of `rows` only: the same numbers, computed for those people alone."""
        return self.on_scale(item_id, self.raw[item_id][rows].astype(float))

    def on_scale(self, item_id: str, answers: np.ndarray) -> np.ndarray:
        """Answers (float64) of the item as scores (`Scorer.item_score`'s arithmetic)."""
        item = self.items[item_id]
        low, high = self.scorer.q.scales[item.scale].numeric_range
        values = (answers - low) / (high - low) * 100
        return 100 - values if getattr(item, "pole", None) == m.Pole.traditional else values


def _shares(at: np.ndarray, members: np.ndarray, codes: tuple[str, ...]) -> dict[str, float]:
    """Share of each code among `members` (`at`: position of each person's code, -1 none)."""
    chosen = at[members]
    counted = np.bincount(chosen[chosen >= 0], minlength=len(codes))
    return {c: float(counted[j] / len(chosen)) for j, c in enumerate(codes)}


def unit_value_counts(units: np.ndarray, n_units: int, answers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct answers ascending, counts per unit x distinct answer) of `answers` (NaN = not
    answered), `units` the unit (position) of each person: one pass over everyone. Answers are
    whole numbers (the store's), so they index a small table directly; anything else is
    counted by its distinct values."""
    given = ~np.isnan(answers)
    values = answers[given]  # in the answers' own type (the store's float32: whole numbers, exact)
    if not len(values):
        return np.zeros(0), np.zeros((n_units, 0), dtype=np.int64)
    low, high = float(values.min()), float(values.max())
    if high - low < 4096 and (np.floor(values) == values).all():
        width = int(high - low) + 1
        key = np.multiply(units[given], width, dtype=np.int64)
        key += (values - values.dtype.type(low)).astype(np.int64)  # exact: whole numbers
        table = np.bincount(key, minlength=n_units * width).reshape(n_units, width)
        used = table.any(axis=0)
        return np.arange(width, dtype=float)[used] + low, table[:, used]
    values = values.astype(float)
    distinct, at = np.unique(values, return_inverse=True)
    table = np.bincount(units[given] * len(distinct) + at, minlength=n_units * len(distinct))
    return distinct, table.reshape(n_units, len(distinct))


def counted_estimate(distinct: np.ndarray, counts: np.ndarray, bounds: tuple[float, float] | None = None
                     ) -> Estimate | None:
    """`frame.estimate` of answers given as how often each distinct answer was given. On whole
    answers the sum and the sum of squares are exact, so the mean is the very same number
    and the interval equal up to floating-point rounding: variance = (n Q - S^2) / (n (n - 1))
    (tested against `estimate`)."""
    n = int(counts.sum())
    if n == 0:
        return None
    total = float(counts @ distinct)
    mean = total / n
    if n < 2:
        return Estimate(mean, math.nan, math.nan, n)
    squares = float(counts @ (distinct * distinct))
    sd = math.sqrt(max(n * squares - total * total, 0.0) / (n * (n - 1)))
    half = float(_t975(n - 1) * sd / math.sqrt(n))
    low, high = mean - half, mean + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return Estimate(mean, low, high, n)


def _department_order(scan: Scan, counts: dict[str, int]) -> list[str]:
    listed = [d.name for d in scan.departments]
    return listed + sorted(name for name in counts if name not in listed)


class Subject:
    """One subject of the analysis (reliability, claims, drivers, ...). `register` adds its
    candidate figures to `a.register` before the one disclosure decision; `resolve` computes
    what the decision allows into the group results; `finish` attaches scan-wide results.
    Subjects see the shared state of `Analysis` (groups, scorer, item arrays, figures)."""

    def register(self, a: "Analysis") -> None:
        pass

    def resolve(self, a: "Analysis", results: dict[str, GroupResult]) -> None:
        pass

    def finish(self, a: "Analysis", result: AnalysisResult) -> None:
        pass


# Subject modules append themselves here (in survey/analysis/__init__.py's imports).
SUBJECTS: list[type[Subject]] = []


class Analysis:
    def __init__(self, scan: Scan, responses: pd.DataFrame, wide: pd.DataFrame, protection: bool,
                 earlier: Mapping[str, list[disclosure.Published]], bootstrap: bool = True):
        self.scan, self.q, self.k, self.protection = scan, scan.questionnaire, scan.anonymity_threshold, protection
        self.bootstrap = bootstrap  # False: no resampling (subjects then give no bootstrap intervals)
        self.earlier = earlier
        self.responses = responses
        self.scorer = Scorer(self.q, wide)
        # department and role as integer codes (a categorical from the store): no string
        # comparison per respondent below
        dept_code, dept_names = pd.factorize(responses["department"])
        dept_names = np.array([str(d) for d in dept_names], dtype=object)
        self.dept = dept_names[dept_code]
        self._dept_code, self._dept_names = dept_code, dept_names
        role_code, role_names = pd.factorize(responses["role"])
        role_names = [str(r) for r in role_names]
        self.is_emp = role_code == (role_names.index("employee") if "employee" in role_names else -2)
        self.is_mgr = role_code == (role_names.index("manager") if "manager" in role_names else -2)
        self.n_emp, self.n_mgr = int(self.is_emp.sum()), int(self.is_mgr.sum())
        if self.n_emp < self.k:
            raise ReportError(f"only {self.n_emp} employee responses collected; nothing can be reported below "
                              f"the anonymity threshold of {self.k}",
                              fix="collect more forms first (survey status shows what came in)")
        # a unit per respondent: their department (employees), the managers, or neither;
        # unit_names sorted, unit_code the position in it
        other = len(dept_names)
        code = np.where(self.is_emp, dept_code, np.where(self.is_mgr, other, other + 1))
        present = np.flatnonzero(np.bincount(code, minlength=other + 2))
        names = np.array([*dept_names, MANAGER_UNIT, "\x00other"], dtype=object)[present]
        by_name = np.argsort(names.astype(str), kind="stable")
        self.unit_names = names[by_name].astype(str)
        rank = np.empty(other + 2, dtype=np.int64)
        rank[present[by_name]] = np.arange(len(present))
        self.unit_code = rank[code]
        self.unit = self.unit_names.astype(object)[self.unit_code]
        # positions per unit, ascending within each unit: a group's members without a pass
        # over everyone per group
        self._by_unit = np.argsort(self.unit_code, kind="stable").astype(_POSITION)
        self._unit_start = np.concatenate([[0], np.cumsum(np.bincount(self.unit_code,
                                                                      minlength=len(self.unit_names)))])
        # where each unit's people are one stretch of rows (`load_frame(grouped=True)`): per
        # unit its first and past-the-end row, so a unit's people are a slice (None: not so)
        self._frame_start = self._frame_end = None
        if len(self.unit_code):
            first = np.flatnonzero(np.concatenate([[True], self.unit_code[1:] != self.unit_code[:-1]]))
            if len(first) == len(present):  # one stretch per unit
                # positions' type: a searchsorted in positions then needs no converted copy
                self._frame_start = np.zeros(len(self.unit_names), dtype=_POSITION)
                self._frame_end = np.zeros(len(self.unit_names), dtype=_POSITION)
                self._frame_start[self.unit_code[first]] = first
                self._frame_end[self.unit_code[first]] = np.append(first[1:], len(self.unit_code))
        self.log: list[Suppression] = []
        self.subjects = [subject() for subject in SUBJECTS]

    # -- groups
    def _groups(self) -> None:
        scan, k = self.scan, self.k
        self.expected = {d.name: d.employees for d in scan.departments}
        counts = {name: 0 for name in self.expected}
        # employees per department from the integer codes (as `self.dept` reads them: a code
        # of -1 is the last name), not a sort of a million names
        codes = self._dept_code[self.is_emp]
        sizes = np.bincount(np.where(codes < 0, codes + len(self._dept_names), codes),
                            minlength=len(self._dept_names))
        counts.update({str(n): int(c) for n, c in zip(self._dept_names, sizes) if c})
        self.counts = counts
        hidden = disclosure.hide_groups(counts, k) if self.protection else {}
        order = _department_order(scan, counts)
        self.shown = [d for d in order if d not in hidden and counts[d] > 0]
        self.hidden = [hidden[d] for d in order if d in hidden]
        positions = np.arange(len(self.responses), dtype=_POSITION)
        groups: dict[str, disclosure.Group] = {}

        index = {str(name): i for i, name in enumerate(self.unit_names)}
        self._group_units: dict[str, list[int]] = {}

        self._group_spans: dict[str, np.ndarray] = {}  # (stretches x 2) of positions' type

        def add(key: str, kind: str, units: set[str], usefulness: float) -> None:
            codes = sorted(index[u] for u in units if u in index)
            self._group_units[key] = codes
            if self._frame_start is not None:
                self._group_spans[key] = np.array(self._spans(codes), dtype=_POSITION).reshape(-1, 2)
            if len(codes) == 1:
                members = self._by_unit[self._unit_start[codes[0]]:self._unit_start[codes[0] + 1]]
            else:
                inside = np.zeros(len(self.unit_names), dtype=bool)
                inside[codes] = True
                members = positions[inside[self.unit_code]]
            groups[key] = disclosure.Group(key, kind, frozenset(units), members, usefulness)

        add(ORGANISATION, "organisation", {d for d in order if counts[d] > 0}, math.inf)
        for d in self.shown:
            add(d, "department", {d}, counts[d])
        hidden_n = sum(h.n for h in self.hidden)
        if self.hidden and hidden_n >= k:
            add(OTHERS, "combined", {h.name for h in self.hidden}, hidden_n)
        if self.n_mgr >= k or (not self.protection and self.n_mgr > 0):
            add(MANAGERS, "managers", {MANAGER_UNIT}, math.inf)
        elif self.n_mgr > 0:
            self.hidden.append(HiddenGroup(MANAGERS, "small", self.n_mgr))
        for h in self.hidden:
            why = (f"fewer than {k} answers" if h.reason == "small" else
                   f"hidden so that {', '.join(h.protects)} cannot be worked out by subtraction")
            self.log.append(Suppression("departments" if h.name != MANAGERS else "managers", h.name, why))
        self.groups = groups
        self.register = Register(groups)
        self.employee_groups = [g for g in groups if g != MANAGERS]

    def in_group(self, key: str, rows: np.ndarray, row_units: np.ndarray | None = None) -> np.ndarray:
        """Per position in `rows`: is that person a member of group `key`? From the people's
        units (an integer comparison), not a set operation on member lists. `row_units`:
        `unit_code[rows]`, when the caller asks for several groups."""
        units = self._group_units[key]
        codes = self.unit_code[rows] if row_units is None else row_units
        if len(units) == 1:
            return codes == units[0]
        return np.isin(codes, units)

    def _spans(self, units: list[int]) -> list[tuple[int, int]]:
        """The stretches of rows (start, end) of `units`' people, ascending, adjacent ones
        merged (the organisation's departments are one stretch)."""
        spans: list[tuple[int, int]] = []
        for start, end in sorted((int(self._frame_start[u]), int(self._frame_end[u])) for u in units):
            if end > start:
                if spans and spans[-1][1] == start:
                    spans[-1] = (spans[-1][0], end)
                else:
                    spans.append((start, end))
        return spans

    def unit_rows(self, unit: int) -> slice | np.ndarray:
        """The rows of a unit's people, ascending: a slice where each unit is one stretch of
        rows (no gather: a view), else their positions."""
        if self._frame_start is not None:
            return slice(int(self._frame_start[unit]), int(self._frame_end[unit]))
        return self._by_unit[self._unit_start[unit]:self._unit_start[unit + 1]]

    def rows_where(self, key: str, where: np.ndarray) -> np.ndarray:
        """The members of group `key` for whom `where` (per person) holds, ascending like
        `members`: from the group's stretches of rows, or a department's stretch of
        `_by_unit`, else a mask of the group's units (no gather of a large group's members)."""
        if self._frame_start is not None:
            parts = [start + np.flatnonzero(where[start:end]).astype(_POSITION)
                     for start, end in self._group_spans[key]]
            return parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0, _POSITION)
        units = self._group_units[key]
        if len(units) == 1:
            rows = self._by_unit[self._unit_start[units[0]]:self._unit_start[units[0] + 1]]
            return rows[where[rows]]
        inside = np.zeros(len(self.unit_names), dtype=bool)
        inside[units] = True
        return np.flatnonzero(where & inside[self.unit_code]).astype(_POSITION)

    def unit_code_counts(self, at: np.ndarray, n_codes: int) -> np.ndarray:
        """(units x codes): per unit how many people have each code (`at`: per person the
        position of their code, -1 none)."""
        given = at >= 0
        key = np.multiply(self.unit_code[given], n_codes, dtype=np.int64)
        key += at[given]
        return np.bincount(key, minlength=len(self.unit_names) * n_codes).reshape(len(self.unit_names), n_codes)

    def unit_totals(self, rows: np.ndarray, where: np.ndarray) -> np.ndarray:
        """Per unit (position in `unit_names`): how many of `rows` have `where` true."""
        return np.bincount(self.unit_code[rows[where]], minlength=len(self.unit_names))

    def group_total(self, key: str, per_unit: np.ndarray) -> int:
        """The sum of `per_unit` (from `unit_totals`) over the units of group `key`."""
        return int(per_unit[self._group_units[key]].sum())

    # -- registering candidate figures
    def _unit_counts(self, rows: np.ndarray) -> dict[str, int]:
        counted = np.bincount(self.unit_code[rows], minlength=len(self.unit_names))
        return {str(self.unit_names[i]): int(counted[i]) for i in np.flatnonzero(counted)}

    def _add(self, variable: str, answered: np.ndarray, kind: str, keys: list[str] | None = None,
             outputs: tuple[str, ...] = ("report", "workbook")) -> dict[str, Figure]:
        figures = {}
        if self._frame_start is not None:
            # each unit one stretch of rows: who answered, ascending, once; a group's rows are
            # the slices of that within its stretches (a view where it is one stretch)
            answering = np.flatnonzero(answered).astype(_POSITION)
            per_unit = (np.searchsorted(answering, self._frame_end) - np.searchsorted(answering, self._frame_start))
            for key in keys if keys is not None else list(self._group_units):
                spans = np.searchsorted(answering, self._group_spans[key])
                parts = [answering[lo:hi] for lo, hi in spans]
                rows = parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else answering[:0]
                if len(rows):
                    counts = {str(self.unit_names[u]): int(per_unit[u]) for u in self._group_units[key]
                              if per_unit[u]}
                    figures[key] = self.register.add(variable, key, kind, rows, counts, outputs)
            return figures
        # who answered, per unit: one pass over everyone (positions sorted by unit), then a
        # slice per department
        # the answering people in unit order (a department's figure is a view of one stretch)
        # and where each unit's stretch starts
        answering = np.flatnonzero(answered[self._by_unit])
        by_unit = self._by_unit[answering]
        start = np.searchsorted(answering, self._unit_start)
        per_unit = np.diff(start)
        # default: the groups of units (band groups, only in the unprotected mode, are not)
        for key in keys if keys is not None else list(self._group_units):
            g = self.groups[key]
            units = self._group_units[key]
            if len(units) == 1:
                rows = by_unit[start[units[0]]:start[units[0] + 1]]
            else:
                rows = g.members[answered[g.members]]
            if len(rows):
                counts = {str(self.unit_names[u]): int(per_unit[u]) for u in units if per_unit[u]}
                figures[key] = self.register.add(variable, key, kind, rows, counts, outputs)
        return figures

    def _timed(self, step: str, started: float) -> float:
        """Add the time since `started` to `step`; returns now."""
        now = time.perf_counter()
        self.timings[step] = self.timings.get(step, 0.0) + now - started
        return now

    def run(self) -> AnalysisResult:
        self.timings: dict[str, float] = {}
        clock = time.perf_counter()
        self._groups()
        q, sc, reg = self.q, self.scorer, self.register
        numeric = [i for i in q.items if isinstance(i, (m.StatementItem, m.ScoreItem))]
        # the answers as loaded (float32 from the store: half the memory, exact); every
        # computation takes its members' values as float64 (`estimate`, `_Scores.of`)
        raw = {i.id: sc.column(i.id).to_numpy() for i in numeric}
        score = _Scores(sc, numeric, raw)
        item_figs = {i.id: self._add(f"item:{i.id}", ~np.isnan(raw[i.id]), "mean") for i in numeric}
        desired: dict[str, tuple[dict[str, Figure], dict[str, Figure], np.ndarray, np.ndarray]] = {}
        for i in (i for i in numeric if i.desired):
            raw_d = sc.column(f"{i.id}.desired").to_numpy(dtype=float)
            score_d = sc.item_score(i, f"{i.id}.desired").to_numpy(dtype=float)
            if self.protection:  # 'now' is the statement's own figure: one base per variable
                desired[i.id] = (item_figs[i.id], self._add(f"item:{i.id}.desired", ~np.isnan(raw_d), "mean",
                                                            self.employee_groups), raw_d, score_d)
            else:  # naive: both halves on those who answered both (a second, nested base)
                both = ~np.isnan(raw[i.id]) & ~np.isnan(raw_d)
                desired[i.id] = (self._add(f"item:{i.id}", both, "mean", self.employee_groups, ("report",)),
                                 self._add(f"item:{i.id}.desired", both, "mean", self.employee_groups),
                                 raw_d, score_d)

        person_dims = person_derived = None
        dim_figs: dict[str, dict[str, Figure]] = {}
        derived_figs: dict[str, dict[str, Figure]] = {}
        if self.protection:
            for name in q.dimensions:
                items = q.dimension_items(name)
                dim_figs[name] = {key: reg.add(f"dim:{name}", key, "composite",
                                               parts=tuple(item_figs[i.id][key].id for i in items
                                                           if key in item_figs[i.id]),
                                               min_parts=math.ceil(len(items) / 2), n=0)
                                  for key in self.groups}
            for d in q.derived:
                parts = []
                for key in self.groups:
                    ids = []
                    for ref in d.of:
                        source = derived_figs.get(ref) or dim_figs.get(ref) or item_figs.get(ref) or {}
                        if key in source:
                            ids.append(source[key].id)
                    parts.append((key, tuple(ids)))
                derived_figs[d.id] = {key: reg.add(f"derived:{d.id}", key, "composite", parts=ids,
                                                   min_parts=math.ceil(len(d.of) / 2), n=0) for key, ids in parts}
        else:  # naive: person-weighted scores, each on its own base
            person_dims = {name: sc.dimension(name).to_numpy(dtype=float) for name in q.dimensions}
            person_derived = {k: v.to_numpy(dtype=float) for k, v in sc.derived().items()}
            dim_figs = {n: self._add(f"dim:{n}", ~np.isnan(v), "mean") for n, v in person_dims.items()}
            derived_figs = {n: self._add(f"derived:{n}", ~np.isnan(v), "mean") for n, v in person_derived.items()}

        pace_figs = {}
        pace_codes: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for grid in q.grids:
            for s in grid.situations:
                ini_key, eff_key = f"{grid.id}.{s.id}.initiative", f"{grid.id}.{s.id}.effect"
                ini_coded, eff_coded = sc._coded(ini_key), sc._coded(eff_key)
                ini_at = sc.code_index(ini_key, list(m.INITIATIVE_CODES), ini_coded)
                eff_at = sc.code_index(eff_key, list(m.PACE_EFFECT_CODES), eff_coded)
                pace_codes[s.id] = (ini_at, eff_at)
                ini_ok = ini_at >= 0
                eff_ok = eff_at >= 0
                if not self.protection:
                    ini_ok = eff_ok = ini_ok & eff_ok
                # (initiative codes, figures, effect codes, figures): the codes as positions in
                # INITIATIVE_CODES / PACE_EFFECT_CODES (-1 none), not a string per person
                pace_figs[s.id] = (ini_at, self._add(f"pace:{s.id}.initiative", ini_ok, "shares", self.employee_groups),
                                   eff_at, self._add(f"pace:{s.id}.effect", eff_ok, "shares", self.employee_groups))
        choice_figs = {}
        for item in (i for i in q.items if isinstance(i, m.ChoiceItem)):
            codes = [str(o.code) for o in q.scales[item.scale].options]
            if item.type == "single_choice":
                at = sc.code_index(item.id, codes)
                ticks = np.column_stack([at == j for j in range(len(codes))])
            else:
                ticks = np.column_stack([sc.column(f"{item.id}.{c}").fillna(0).to_numpy(dtype=float) > 0
                                         for c in codes])
            choice_figs[item.id] = (codes, ticks, self._add(f"choice:{item.id}", ticks.any(axis=1), "shares",
                                                            self.employee_groups))
        for key, g in self.groups.items():
            reg.add("responses", key, "count", n=len(g.members), outputs=("report", "workbook", "status"))
        for h in self.hidden:
            reg.add("responses", h.name, "count", n=h.n, outputs=("status",))
        breakdown_figs = self._breakdown_figures(person_derived)
        self.numeric, self.raw, self.score, self.item_figs = numeric, raw, score, item_figs
        self.desired, self.pace_codes = desired, pace_codes
        self.dim_figs, self.derived_figs, self.pace_figs, self.choice_figs = dim_figs, derived_figs, pace_figs, choice_figs
        for subject in self.subjects:
            clock = self._timed("core", clock)
            subject.register(self)
            clock = self._timed(type(subject).__name__, clock)
        clock = self._timed("core", clock)
        self.decision = decision = disclosure.decide(reg, self.k, self.protection, self.earlier,
                                                     self.responses.index.to_numpy(dtype=np.int64))
        self.log += decision.log
        clock = self._timed("decision", clock)
        ok = decision.ok

        results = {key: GroupResult(key, len(g.members), self._expected(key, g)) for key, g in self.groups.items()}
        score_mean: dict[tuple[str, str], float] = {}
        span = {i.id: q.scales[i.scale].numeric_range for i in numeric}  # intervals stay on the scale
        # a statement's figure of a group holds every member of the group's units who answered
        # it (`_add`): its mean and interval come from the units' counts per answer, added up
        # (`unit_value_counts`: one pass over everyone per statement, not one per group)
        self.value_counts = {i.id: unit_value_counts(self.unit_code, len(self.unit_names), raw[i.id])
                             for i in numeric}
        for i in numeric:
            distinct, per_unit = self.value_counts[i.id]
            scores = score.on_scale(i.id, distinct)
            for key, f in item_figs[i.id].items():
                if ok(f):
                    counts = per_unit[self._group_units[key]].sum(axis=0)
                    results[key].items[i.id] = counted_estimate(distinct, counts, span[i.id])
                    score_mean[(i.id, key)] = float(counts @ scores) / f.n
        for item_id, (now_figs, want_figs, raw_d, score_d) in desired.items():
            counted = unit_value_counts(self.unit_code, len(self.unit_names), raw_d) if self.protection else None
            for key, want in want_figs.items():
                now = now_figs.get(key)
                if ok(want):
                    results[key].items[f"{item_id}.desired"] = (
                        counted_estimate(counted[0], counted[1][self._group_units[key]].sum(axis=0), span[item_id])
                        if counted is not None else estimate(raw_d[want.members], span[item_id]))
                if ok(now) and ok(want):
                    results[key].desired[item_id] = DesiredGap(
                        item_id, float(score.of(item_id, now.members).mean()), float(score_d[want.members].mean()),
                        now.n, want.n)
        for name in q.dimensions:
            for key, f in dim_figs[name].items():
                if not ok(f):
                    continue
                if person_dims is not None:
                    results[key].dimensions[name] = estimate(pd.Series(person_dims[name][f.members]))
                else:
                    value = disclosure.mean_of([score_mean.get((i.id, key)) for i in q.dimension_items(name)],
                                               f.min_parts)
                    if value is not None:
                        results[key].dimensions[name] = Estimate(value, math.nan, math.nan, None)
        for d in q.derived:
            for key, f in derived_figs[d.id].items():
                if not ok(f):
                    continue
                if person_derived is not None:
                    results[key].derived[d.id] = estimate(pd.Series(person_derived[d.id][f.members]))
                    continue
                values = []
                for ref in d.of:
                    got = (results[key].derived.get(ref) or results[key].dimensions.get(ref)
                           or results[key].items.get(ref))
                    values.append(got.mean if got else None)
                value = disclosure.mean_of(values, f.min_parts)
                if value is not None:
                    results[key].derived[d.id] = Estimate(value, math.nan, math.nan, None)
        # a pace figure of a group holds its units' members who gave a code (`_add`; the
        # unprotected mode: who gave both): with protection its counts are the sum of the
        # units' counts per code (one pass per situation, not one per group)
        self.pace_unit_counts: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for sid, (_, ini_figs, _, eff_figs) in pace_figs.items():
            ini_at, eff_at = pace_codes[sid]
            if self.protection:
                self.pace_unit_counts[sid] = (self.unit_code_counts(ini_at, len(m.INITIATIVE_CODES)),
                                              self.unit_code_counts(eff_at, len(m.PACE_EFFECT_CODES)))

            def shares(at: np.ndarray, f: Figure, codes: tuple[str, ...], which: int) -> dict[str, float]:
                if not self.protection:
                    return _shares(at, f.members, codes)
                counted = self.pace_unit_counts[sid][which][self._group_units[f.group]].sum(axis=0)  # noqa: B023
                assert counted.sum() == f.n  # the figure's people, no one else
                return {c: float(counted[j] / f.n) for j, c in enumerate(codes)}

            for key in set(ini_figs) | set(eff_figs):
                fi, fe = ini_figs.get(key), eff_figs.get(key)
                if not (ok(fi) or ok(fe)):
                    continue
                results[key].pace[sid] = PaceCell(
                    sid, fi.n if ok(fi) else 0, shares(ini_at, fi, m.INITIATIVE_CODES, 0) if ok(fi) else None,
                    fe.n if ok(fe) else 0, shares(eff_at, fe, m.PACE_EFFECT_CODES, 1) if ok(fe) else None)
        for item_id, (codes, ticks, figs) in choice_figs.items():
            for key, f in figs.items():
                if ok(f):
                    chosen = ticks[f.members]
                    results[key].choices[item_id] = ChoiceShares(
                        item_id, f.n, {c: float(chosen[:, j].mean()) for j, c in enumerate(codes)})
        self._open_answers(results)
        for subject in self.subjects:
            clock = self._timed("core", clock)
            subject.resolve(self, results)
            clock = self._timed(type(subject).__name__, clock)

        breakdowns = [BreakdownRow(question, option, f.n,
                                   estimate(pd.Series(index_values[index.members])) if index is not None
                                   and ok(index) else None)
                      for question, option, f, index, index_values in breakdown_figs if ok(f)]
        if OTHERS in results:
            results[OTHERS].members = len(self.groups[OTHERS].units)
        q_headline = next((d.id for d in q.derived if all(ref in q.dimensions for ref in d.of)), None)
        result = AnalysisResult(
            scan=self.scan, n_responses=len(self.responses), n_employees=self.n_emp, n_managers=self.n_mgr,
            organisation_result=results[ORGANISATION], managers=results.get(MANAGERS),
            departments=[results[name] for name in self.shown], hidden=self.hidden, others=results.get(OTHERS),
            breakdowns=breakdowns, suppressed=self.log, headline=q_headline, register=reg, decision=decision,
            protection=self.protection)
        for subject in self.subjects:
            clock = self._timed("core", clock)
            subject.finish(self, result)
            clock = self._timed(type(subject).__name__, clock)
        self._timed("core", clock)
        result.timings = dict(self.timings)
        return result

    def _expected(self, key: str, g: disclosure.Group) -> int | None:
        if g.kind == "managers":
            return sum(d.managers for d in self.scan.departments) or None
        return sum(self.expected.get(u, 0) for u in g.units) or None

    def _open_answers(self, results: dict[str, GroupResult]) -> None:
        """Open answers of members of shown groups only: the organisation's list leaves out the
        hidden departments' members (their texts could give them away), and the managers'
        answers are there only when the managers' group is shown."""
        shown_members = {key: g.members for key, g in self.groups.items() if g.kind == "department"}
        org_members = np.sort(np.concatenate(list(shown_members.values()))) if shown_members else np.array([], int)
        sources = {ORGANISATION: org_members}
        if MANAGERS in self.groups:
            sources[MANAGERS] = self.groups[MANAGERS].members
        # in the order of the response ids (as collected), whatever the frame's order
        ids = self.responses.index.to_numpy()
        sources = {key: rows[np.argsort(ids[rows], kind="stable")] for key, rows in sources.items()}
        for item in (i for i in self.q.items if isinstance(i, m.OpenItem)):
            # each distinct text is cleaned once; the answers are references to those texts
            coded, distinct = pd.factorize(self.scorer.column(item.id, "text"), use_na_sentinel=True)
            cleaned = np.array([str(t).strip() or None for t in distinct] + [None], dtype=object)
            for key, rows in sources.items():
                answers = cleaned[coded[rows]]
                answers = answers[answers != None].tolist()  # noqa: E711 - elementwise
                if answers:
                    results[key].open_answers[item.id] = answers

    def _breakdown_figures(self, person_derived):
        """Counts per band of each background question over the organisation's employees. A
        figure computed over a band would cross the departments (a linked table): only the
        unprotected mode (tests) publishes the headline score per band."""
        q = self.q
        found = []
        employees = np.flatnonzero(self.is_emp)
        headline = next((d.id for d in q.derived if all(ref in q.dimensions for ref in d.of)), None)
        for question in q.background:
            if question.reporting is m.Reporting.none or question.id == "role":
                continue
            options = [str(o.code) for o in q.scales[question.scale].options]
            at = self.scorer.code_index(question.id, options)[employees]
            for number, option in enumerate(q.scales[question.scale].options):
                code = str(option.code)
                rows = employees[at == number]
                f = self.register.add(f"background:{question.id}={code}", ORGANISATION, "count", rows, n=len(rows),
                                      outputs=("report", "workbook"))
                index = values = None
                if (not self.protection and question.reporting is m.Reporting.compare and headline
                        and person_derived is not None):
                    values = person_derived[headline]
                    band = f"band:{question.id}={code}"
                    self.register.groups[band] = disclosure.Group(band, "band", frozenset(), rows, 0)
                    answered = rows[~np.isnan(values[rows])]
                    if len(answered):
                        index = self.register.add(f"derived:{headline}", band, "mean", answered)
                found.append((question.id, code, f, index, values))
        return found
