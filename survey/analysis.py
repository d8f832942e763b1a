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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from survey.atomic import atomic_path
from survey import disclosure
from survey.disclosure import MANAGERS, ORGANISATION, OTHERS, Decision, Figure, HiddenGroup, Register, Suppression
from survey.errors import ReportError
from survey.questionnaire import model as m
from survey.scan import Scan
from survey.store import Store, collect_running

MANAGER_UNIT = "\x00managers"


@dataclass(frozen=True)
class Estimate:
    """A group figure. `n` is the number of people behind it; a composite score (the mean of
    published figures) has no single base: n is None and it has no interval."""

    mean: float
    ci_low: float
    ci_high: float
    n: int | None


@dataclass(frozen=True)
class PaceCell:
    """One situation for one group: who takes the initiative, and speeding up versus braking.
    Each half rests on those who answered it (answers other than 'does not happen'); a half
    the disclosure rule withholds is None."""

    situation: str
    n_initiative: int
    initiative: dict[str, float] | None  # code -> share (0-1)
    n_effect: int
    effect: dict[str, float] | None

    @property
    def balance(self) -> float | None:
        """Percentage points 'speeds me up' minus 'brakes me' (-100 .. +100)."""
        if self.effect is None:
            return None
        return 100 * (self.effect.get("speeds_up", 0.0) - self.effect.get("brakes", 0.0))

    @property
    def own_initiative(self) -> float | None:
        """Share taken by the employee, alone or together with the manager (0-1)."""
        if self.initiative is None:
            return None
        return self.initiative.get("self", 0.0) + self.initiative.get("together", 0.0)


@dataclass(frozen=True)
class DesiredGap:
    """'How it is' and 'how it should be', each on its own base: 'now' is the statement's own
    figure (the same base as everywhere else), 'desired' rests on those who answered it."""

    item_id: str
    current: float  # 0-100, partnership end high
    desired: float
    n_current: int
    n_desired: int


@dataclass(frozen=True)
class ChoiceShares:
    """Single choice: share per option among those who answered (sums to 1). Multiple
    choice: share ticking each option among those who ticked any (may sum above 1)."""

    item_id: str
    n: int
    shares: dict[str, float]


@dataclass
class GroupResult:
    key: str  # department name, ORGANISATION, MANAGERS or OTHERS
    n: int
    expected: int | None = None
    dimensions: dict[str, Estimate] = field(default_factory=dict)
    derived: dict[str, Estimate] = field(default_factory=dict)
    items: dict[str, Estimate] = field(default_factory=dict)  # on the item's own scale; 'x.desired' too
    pace: dict[str, PaceCell] = field(default_factory=dict)
    desired: dict[str, DesiredGap] = field(default_factory=dict)
    choices: dict[str, ChoiceShares] = field(default_factory=dict)
    open_answers: dict[str, list[str]] = field(default_factory=dict)
    members: int = 0  # OTHERS: how many departments it combines

    @property
    def response_rate(self) -> float | None:
        return self.n / self.expected if self.expected else None


@dataclass
class BreakdownRow:
    background: str  # background question id
    option: str  # option code
    n: int
    index: Estimate | None  # only without protection (tests of the audit): a crossing figure


@dataclass
class AnalysisResult:
    scan: Scan
    n_responses: int
    n_employees: int
    n_managers: int
    organisation_result: GroupResult
    managers: GroupResult | None
    departments: list[GroupResult]
    hidden: list[HiddenGroup]  # named in the report with their reason
    others: GroupResult | None  # the hidden departments together, when that is publishable
    breakdowns: list[BreakdownRow]
    suppressed: list[Suppression]
    headline: str | None  # derived score id that heads the report, e.g. partnership_index
    register: Register | None = None
    decision: Decision | None = None
    protection: bool = True
    n_unverified: int = 0  # counted responses imported without an issued code (survey import --unverified)
    ids: np.ndarray | None = None  # response id of every position in the analysed frame

    @property
    def questionnaire(self) -> m.Questionnaire:
        return self.scan.questionnaire

    @property
    def hidden_departments(self) -> list[str]:
        return sorted(h.name for h in self.hidden if h.name != MANAGERS)

    @property
    def groups(self) -> list[GroupResult]:
        """Organisation, shown departments, then the combined hidden ones (tables and charts)."""
        return [self.organisation_result] + self.departments + ([self.others] if self.others else [])


# --------------------------------------------------------------------------- data


def load_frame(scan: Scan) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(responses, answers wide): one row per response; numeric and text answers in columns."""
    if not scan.store_path.exists():
        raise ReportError(f"no responses collected yet ({scan.store_path} is missing)",
                          fix=f"put returned forms in {scan.inbox} and run: survey collect {scan.folder}")
    if collect_running(scan.folder):
        raise ReportError(f"a collect is running on {scan.folder}; its figures would be incomplete",
                          fix="wait until the collect has finished, then run this again")
    with Store(scan.store_path) as store:
        responses = pd.DataFrame([r.__dict__ for r in store.responses()],
                                 columns=["id", "form_id", "department", "role", "wave"])
        answers = pd.DataFrame([a.__dict__ for a in store.answers()],
                               columns=["response_id", "field", "value_num", "value_text"])
    responses = responses.set_index("id")
    numeric = answers.pivot(index="response_id", columns="field", values="value_num")
    text = answers.pivot(index="response_id", columns="field", values="value_text")
    numeric = numeric.reindex(responses.index)
    text = text.reindex(responses.index)
    return responses, pd.concat({"num": numeric, "text": text}, axis=1)


def estimate(values: pd.Series) -> Estimate | None:
    data = values.dropna().to_numpy(dtype=float)
    n = len(data)
    if n == 0:
        return None
    mean = float(data.mean())
    if n < 2:
        return Estimate(mean, math.nan, math.nan, n)
    half = float(stats.t.ppf(0.975, n - 1) * data.std(ddof=1) / math.sqrt(n))
    return Estimate(mean, mean - half, mean + half, n)


class Scorer:
    """Per-respondent scores from the wide answer frame."""

    def __init__(self, q: m.Questionnaire, wide: pd.DataFrame):
        self.q = q
        self.num = wide["num"] if "num" in wide else pd.DataFrame(index=wide.index)
        self.text = wide["text"] if "text" in wide else pd.DataFrame(index=wide.index)

    def column(self, key: str, frame: str = "num") -> pd.Series:
        source = self.num if frame == "num" else self.text
        if key in source.columns:
            return source[key]
        return pd.Series(np.nan if frame == "num" else None, index=source.index, dtype=float if frame == "num"
                         else object)

    def codes(self, key: str) -> pd.Series:
        """Choice answers as code text: nominal codes are stored as text, ordinal as numbers."""
        numeric = self.column(key).map(lambda v: None if pd.isna(v) else str(int(v)))
        text = self.column(key, "text")
        return text.where(text.notna(), numeric)

    def item_score(self, item: m.StatementItem | m.ScoreItem, key: str | None = None) -> pd.Series:
        """0-100 with the partnership end high."""
        low, high = self.q.scales[item.scale].numeric_range  # type: ignore[misc]
        score = (self.column(key or item.id) - low) / (high - low) * 100
        if getattr(item, "pole", None) == m.Pole.traditional:
            score = 100 - score
        return score

    def dimension(self, name: str) -> pd.Series:
        items = self.q.dimension_items(name)
        scores = pd.concat([self.item_score(i) for i in items], axis=1)
        enough = scores.notna().sum(axis=1) >= max(1, math.ceil(len(items) / 2))
        return scores.mean(axis=1).where(enough)

    def derived(self) -> dict[str, pd.Series]:
        values: dict[str, pd.Series] = {}
        for score in self.q.derived:
            parts = []
            for ref in score.of:
                if ref in values:
                    parts.append(values[ref])
                elif ref in self.q.dimensions:
                    parts.append(self.dimension(ref))
                else:
                    parts.append(self.column(ref))
            frame = pd.concat(parts, axis=1)
            enough = frame.notna().sum(axis=1) >= max(1, math.ceil(len(parts) / 2))
            values[score.id] = frame.mean(axis=1).where(enough)
        return values


# --------------------------------------------------------------------------- analysis

def analyse_scan(scan: Scan, *, protection: bool = True, replace_earlier: bool = False) -> AnalysisResult:
    responses, wide = load_frame(scan)
    with Store(scan.store_path) as store:
        if replace_earlier:
            store.forget_last_edition()
        earlier = store.earlier_sets() if protection else {}
        n_unverified = store.unverified_count()
    result = analyse_frame(scan, responses, wide, protection=protection, earlier=earlier)
    result.n_unverified = n_unverified
    return result


def publish(result: AnalysisResult, output: str) -> None:
    """Record, before an output is written, the response ids behind every figure it may show:
    later editions are checked against them (`disclosure.decide`)."""
    if not result.protection or result.register is None or result.decision is None or result.ids is None:
        return
    figures: dict[str, list[tuple[frozenset[int], frozenset[int]]]] = {}
    groups = result.register.groups
    for f in result.register.figures:
        if f.kind == "composite" or f.members is None or not result.decision.ok(f):
            continue
        figures.setdefault(f.variable, []).append((frozenset(result.ids[f.members].tolist()),
                                                   frozenset(result.ids[groups[f.group].members].tolist())))
    with Store(result.scan.store_path) as store:
        store.record_edition(figures, output)


def analyse_frame(scan: Scan, responses: pd.DataFrame, wide: pd.DataFrame, *,
                  protection: bool = True, earlier: dict[str, list[tuple[frozenset[int], frozenset[int]]]] | None = None) -> AnalysisResult:
    """The analysis of one response frame (`load_frame`'s output).

    `protection=False` turns disclosure control off (no hidden groups, no suppression, the old
    naive bases: desired table on those who answered both, person-weighted scores, breakdown
    scores per band). It exists only so the tests can show that `survey audit` finds those
    leaks; no command offers it."""
    result = _Analysis(scan, responses, wide, protection, earlier or {}).run()
    result.ids = responses.index.to_numpy(dtype=np.int64)
    return result


def _department_order(scan: Scan, counts: dict[str, int]) -> list[str]:
    listed = [d.name for d in scan.departments]
    return listed + sorted(name for name in counts if name not in listed)


class _Analysis:
    def __init__(self, scan: Scan, responses: pd.DataFrame, wide: pd.DataFrame, protection: bool,
                 earlier: dict[str, list[tuple[frozenset[int], frozenset[int]]]]):
        self.scan, self.q, self.k, self.protection = scan, scan.questionnaire, scan.anonymity_threshold, protection
        self.earlier = earlier
        self.responses = responses
        self.scorer = Scorer(self.q, wide)
        role = responses["role"].to_numpy(dtype=object)
        self.dept = responses["department"].astype(str).to_numpy(dtype=object)
        self.is_emp = role == "employee"
        self.is_mgr = role == "manager"
        self.n_emp, self.n_mgr = int(self.is_emp.sum()), int(self.is_mgr.sum())
        if self.n_emp < self.k:
            raise ReportError(f"only {self.n_emp} employee responses collected; nothing can be reported below "
                              f"the anonymity threshold of {self.k}",
                              fix="collect more forms first (survey status shows what came in)")
        unit = np.where(self.is_emp, self.dept, np.where(self.is_mgr, MANAGER_UNIT, "\x00other"))
        self.unit = unit
        self.unit_names, self.unit_code = np.unique(unit.astype(str), return_inverse=True)
        self.log: list[Suppression] = []

    # -- groups
    def _groups(self) -> None:
        scan, k = self.scan, self.k
        self.expected = {d.name: d.employees for d in scan.departments}
        counts = {name: 0 for name in self.expected}
        names, sizes = np.unique(self.dept[self.is_emp].astype(str), return_counts=True)
        counts.update({str(n): int(c) for n, c in zip(names, sizes)})
        self.counts = counts
        hidden = disclosure.hide_groups(counts, k) if self.protection else {}
        order = _department_order(scan, counts)
        self.shown = [d for d in order if d not in hidden and counts[d] > 0]
        self.hidden = [hidden[d] for d in order if d in hidden]
        positions = np.arange(len(self.responses))
        groups: dict[str, disclosure.Group] = {}

        def add(key: str, kind: str, units: set[str], usefulness: float) -> None:
            members = positions[np.isin(self.unit, list(units))] if units else positions[:0]
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

    # -- registering candidate figures
    def _unit_counts(self, rows: np.ndarray) -> dict[str, int]:
        counted = np.bincount(self.unit_code[rows], minlength=len(self.unit_names))
        return {str(self.unit_names[i]): int(counted[i]) for i in np.flatnonzero(counted)}

    def _add(self, variable: str, answered: np.ndarray, kind: str, keys: list[str] | None = None,
             outputs: tuple[str, ...] = ("report", "workbook")) -> dict[str, Figure]:
        figures = {}
        for key in keys if keys is not None else list(self.groups):
            g = self.groups[key]
            rows = g.members[answered[g.members]]
            if len(rows):
                figures[key] = self.register.add(variable, key, kind, rows, self._unit_counts(rows), outputs)
        return figures

    def run(self) -> AnalysisResult:
        self._groups()
        q, sc, reg = self.q, self.scorer, self.register
        numeric = [i for i in q.items if isinstance(i, (m.StatementItem, m.ScoreItem))]
        raw = {i.id: sc.column(i.id).to_numpy(dtype=float) for i in numeric}
        score = {i.id: sc.item_score(i).to_numpy(dtype=float) for i in numeric}
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
        for grid in q.grids:
            for s in grid.situations:
                ini = sc.codes(f"{grid.id}.{s.id}.initiative").to_numpy(dtype=object)
                eff = sc.codes(f"{grid.id}.{s.id}.effect").to_numpy(dtype=object)
                ini_ok = np.isin(ini, m.INITIATIVE_CODES)
                eff_ok = np.isin(eff, m.PACE_EFFECT_CODES)
                if not self.protection:
                    ini_ok = eff_ok = ini_ok & eff_ok
                pace_figs[s.id] = (ini, self._add(f"pace:{s.id}.initiative", ini_ok, "shares", self.employee_groups),
                                   eff, self._add(f"pace:{s.id}.effect", eff_ok, "shares", self.employee_groups))
        choice_figs = {}
        for item in (i for i in q.items if isinstance(i, m.ChoiceItem)):
            codes = [str(o.code) for o in q.scales[item.scale].options]
            if item.type == "single_choice":
                answers = sc.codes(item.id).to_numpy(dtype=object)
                ticks = np.column_stack([answers == c for c in codes])
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

        self.decision = decision = disclosure.decide(reg, self.k, self.protection, self.earlier,
                                                     self.responses.index.to_numpy(dtype=np.int64))
        self.log += decision.log
        ok = decision.ok

        results = {key: GroupResult(key, len(g.members), self._expected(key, g)) for key, g in self.groups.items()}
        score_mean: dict[tuple[str, str], float] = {}
        for i in numeric:
            for key, f in item_figs[i.id].items():
                if ok(f):
                    results[key].items[i.id] = estimate(pd.Series(raw[i.id][f.members]))
                    score_mean[(i.id, key)] = float(score[i.id][f.members].mean())
        for item_id, (now_figs, want_figs, raw_d, score_d) in desired.items():
            for key, want in want_figs.items():
                now = now_figs.get(key)
                if ok(want):
                    results[key].items[f"{item_id}.desired"] = estimate(pd.Series(raw_d[want.members]))
                if ok(now) and ok(want):
                    results[key].desired[item_id] = DesiredGap(
                        item_id, float(score[item_id][now.members].mean()), float(score_d[want.members].mean()),
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
        for sid, (ini, ini_figs, eff, eff_figs) in pace_figs.items():
            for key in set(ini_figs) | set(eff_figs):
                fi, fe = ini_figs.get(key), eff_figs.get(key)
                if not (ok(fi) or ok(fe)):
                    continue
                results[key].pace[sid] = PaceCell(
                    sid, fi.n if ok(fi) else 0,
                    {c: float((ini[fi.members] == c).mean()) for c in m.INITIATIVE_CODES} if ok(fi) else None,
                    fe.n if ok(fe) else 0,
                    {c: float((eff[fe.members] == c).mean()) for c in m.PACE_EFFECT_CODES} if ok(fe) else None)
        for item_id, (codes, ticks, figs) in choice_figs.items():
            for key, f in figs.items():
                if ok(f):
                    chosen = ticks[f.members]
                    results[key].choices[item_id] = ChoiceShares(
                        item_id, f.n, {c: float(chosen[:, j].mean()) for j, c in enumerate(codes)})
        self._open_answers(results)

        breakdowns = [BreakdownRow(question, option, f.n,
                                   estimate(pd.Series(index_values[index.members])) if index is not None
                                   and ok(index) else None)
                      for question, option, f, index, index_values in breakdown_figs if ok(f)]
        if OTHERS in results:
            results[OTHERS].members = len(self.groups[OTHERS].units)
        q_headline = next((d.id for d in q.derived if all(ref in q.dimensions for ref in d.of)), None)
        return AnalysisResult(
            scan=self.scan, n_responses=len(self.responses), n_employees=self.n_emp, n_managers=self.n_mgr,
            organisation_result=results[ORGANISATION], managers=results.get(MANAGERS),
            departments=[results[name] for name in self.shown], hidden=self.hidden, others=results.get(OTHERS),
            breakdowns=breakdowns, suppressed=self.log, headline=q_headline, register=reg, decision=decision,
            protection=self.protection)

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
        for item in (i for i in self.q.items if isinstance(i, m.OpenItem)):
            text = self.scorer.column(item.id, "text").to_numpy(dtype=object)
            for key, rows in sources.items():
                answers = [str(t).strip() for t in text[rows] if t is not None and not pd.isna(t) and str(t).strip()]
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
            answers = self.scorer.codes(question.id).to_numpy(dtype=object)
            for option in q.scales[question.scale].options:
                code = str(option.code)
                rows = employees[answers[employees] == code]
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

# --------------------------------------------------------------------------- export


def group_label(results: AnalysisResult, key: str) -> str:
    """The name a reader sees for a group, in the scan's language."""
    from survey.i18n import wording

    w = wording(results.scan.language)
    if key == ORGANISATION:
        return w["organisation"]
    if key == MANAGERS:
        return w["managers"]
    if key == OTHERS:
        return w["other_departments"].format(count=results.others.members if results.others else 0)
    return key


GROUP_KINDS = {ORGANISATION: "organisation", MANAGERS: "managers", OTHERS: "combined"}


def shown_interval(e: Estimate, threshold: int) -> tuple[float | None, float | None]:
    """The interval as published. Mean, interval and n together give a group's sum of squares,
    and in a small group that can pin down every answer (with 5 answers on a 1-5 scale it
    often does). So an interval is shown only from twice the threshold of answers, rounded to
    one decimal."""
    if e.n is None or e.ci_low is None or e.ci_high is None or e.n < 2 * threshold \
            or math.isnan(e.ci_low) or math.isnan(e.ci_high):
        return None, None
    return round(e.ci_low, 1), round(e.ci_high, 1)


def write_results_workbook(results: AnalysisResult, path: Path) -> Path:
    """The results as an Excel workbook: one sheet per table, each figure with the number of
    people it rests on, hidden groups named with their reason."""
    from survey.textsafety import inert_workbook  # local: keeps this function's change self-contained

    q = results.questionnaire
    k = results.scan.anonymity_threshold
    publish(results, "results workbook")  # before writing: a half-written file is published too
    path.parent.mkdir(parents=True, exist_ok=True)
    groups = results.groups + ([results.managers] if results.managers else [])

    def name(g: GroupResult) -> str:
        return group_label(results, g.key)

    def rounded(value: float | None, digits: int) -> float | None:
        return None if value is None or math.isnan(value) else round(value, digits)

    group_rows = [{"group": name(g), "kind": GROUP_KINDS.get(g.key, "department"), "responses": g.n,
                   "expected": g.expected, "shown": "yes", "reason": ""} for g in groups]
    group_rows += [{"group": group_label(results, h.name) if h.name == MANAGERS else h.name,
                    "kind": "managers" if h.name == MANAGERS else "department", "responses": None,
                    "expected": None, "shown": "no",
                    "reason": f"fewer than {results.scan.anonymity_threshold} answers" if h.reason == "small"
                    else f"hidden so that {', '.join(h.protects)} cannot be worked out"} for h in results.hidden]
    overview = pd.DataFrame([{
        "group": name(g), "responses": g.n,
        **{f"{d.id}": rounded(g.derived[d.id].mean, 2) if d.id in g.derived else None for d in q.derived},
        **{f"{k}": rounded(g.dimensions[k].mean, 2) if k in g.dimensions else None for k in q.dimensions},
    } for g in groups])
    pace = pd.DataFrame([{
        "group": name(g), "situation": s, "n_initiative": c.n_initiative or None,
        **{f"initiative_{k}": round(100 * c.initiative[k], 1) if c.initiative else None
           for k in m.INITIATIVE_CODES},
        "n_effect": c.n_effect or None,
        **{f"effect_{k}": round(100 * c.effect[k], 1) if c.effect else None for k in m.PACE_EFFECT_CODES},
        "balance": rounded(c.balance, 1),
    } for g in groups for s, c in g.pace.items()],
        columns=["group", "situation", "n_initiative", *[f"initiative_{k}" for k in m.INITIATIVE_CODES],
                 "n_effect", *[f"effect_{k}" for k in m.PACE_EFFECT_CODES], "balance"])
    items = pd.DataFrame([{
        "group": name(g), "item": item_id, "n": e.n, "mean": round(e.mean, 2),
        "ci_low": shown_interval(e, k)[0], "ci_high": shown_interval(e, k)[1],
    } for g in groups for item_id, e in g.items.items()], columns=["group", "item", "n", "mean", "ci_low", "ci_high"])
    choices = pd.DataFrame([{
        "group": name(g), "item": item_id, "n": c.n, "option": code, "share": round(100 * share, 1),
    } for g in groups for item_id, c in g.choices.items() for code, share in c.shares.items()],
        columns=["group", "item", "n", "option", "share"])
    breakdowns = pd.DataFrame([{
        "question": b.background, "option": b.option, "responses": b.n,
        "index": rounded(b.index.mean, 2) if b.index else None, "index_n": b.index.n if b.index else None,
    } for b in results.breakdowns], columns=["question", "option", "responses", "index", "index_n"])
    suppression = pd.DataFrame([s.__dict__ for s in results.suppressed], columns=["table", "group", "reason"])
    with atomic_path(path) as partial, pd.ExcelWriter(partial, engine="openpyxl") as writer:
        pd.DataFrame(group_rows).to_excel(writer, sheet_name="groups", index=False)
        overview.to_excel(writer, sheet_name="overview", index=False)
        pace.to_excel(writer, sheet_name="pace_map", index=False)
        items.to_excel(writer, sheet_name="items", index=False)
        choices.to_excel(writer, sheet_name="choices", index=False)
        breakdowns.to_excel(writer, sheet_name="breakdowns", index=False)
        suppression.to_excel(writer, sheet_name="suppression_log", index=False)
        # pandas hands strings to openpyxl, which makes a group named '=...' a live formula
        inert_workbook(writer.book)
    return path
