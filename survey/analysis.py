"""Analysis: from the store to a typed result model.

Scores: every statement answer is put on 0-100 where 100 is the partnership end
((value - min) / (max - min) * 100, mirrored for traditional-keyed items). A respondent's
dimension score is the mean of their answered items in it (at least half answered);
group figures are means over respondents with a 95% t-interval. Employees make up the
department figures; managers, who answer about their department, are a separate group.
Every figure passes through `anonymity.protect`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from survey.atomic import atomic_path
from survey.anonymity import Suppression, protect
from survey.errors import ReportError
from survey.questionnaire import model as m
from survey.scan import Scan
from survey.store import Store, collect_running

ORGANISATION = "__organisation__"
MANAGERS = "__managers__"


@dataclass(frozen=True)
class Estimate:
    """A group mean with its 95% confidence interval and the number of answers it rests on."""

    mean: float
    ci_low: float
    ci_high: float
    n: int


@dataclass(frozen=True)
class PaceCell:
    """One situation for one group: who takes the initiative, and speeding up versus braking."""

    situation: str
    n: int  # answers other than 'does not happen'
    initiative: dict[str, float]  # code -> share (0-1)
    effect: dict[str, float]  # code -> share (0-1)

    @property
    def balance(self) -> float:
        """Percentage points 'speeds me up' minus 'brakes me' (-100 .. +100)."""
        return 100 * (self.effect.get("speeds_up", 0.0) - self.effect.get("brakes", 0.0))

    @property
    def own_initiative(self) -> float:
        """Share taken by the employee, alone or together with the manager (0-1)."""
        return self.initiative.get("self", 0.0) + self.initiative.get("together", 0.0)


@dataclass(frozen=True)
class DesiredGap:
    item_id: str
    current: float  # 0-100, partnership end high
    desired: float
    n: int


@dataclass(frozen=True)
class ChoiceShares:
    """Single choice: share per option among those who answered (sums to 1). Multiple
    choice: share ticking each option among those who ticked any (may sum above 1)."""

    item_id: str
    n: int
    shares: dict[str, float]


@dataclass
class GroupResult:
    key: str  # department name, ORGANISATION or MANAGERS
    n: int
    expected: int | None = None
    dimensions: dict[str, Estimate] = field(default_factory=dict)
    derived: dict[str, Estimate] = field(default_factory=dict)
    items: dict[str, Estimate] = field(default_factory=dict)  # on the item's own scale
    pace: dict[str, PaceCell] = field(default_factory=dict)
    desired: dict[str, DesiredGap] = field(default_factory=dict)
    choices: dict[str, ChoiceShares] = field(default_factory=dict)
    open_answers: dict[str, list[str]] = field(default_factory=dict)

    @property
    def response_rate(self) -> float | None:
        return self.n / self.expected if self.expected else None


@dataclass
class BreakdownRow:
    background: str  # background question id
    option: str  # option code
    n: int
    index: Estimate | None  # the headline score for this group, or None when only counted


@dataclass
class AnalysisResult:
    scan: Scan
    n_responses: int
    n_employees: int
    n_managers: int
    organisation_result: GroupResult
    managers: GroupResult | None
    departments: list[GroupResult]
    hidden_departments: list[str]  # never named in a report; for the suppression log only
    breakdowns: list[BreakdownRow]
    suppressed: list[Suppression]
    headline: str | None  # derived score id that heads the report, e.g. partnership_index
    n_unverified: int = 0  # counted responses imported without an issued code (survey import --unverified)

    @property
    def questionnaire(self) -> m.Questionnaire:
        return self.scan.questionnaire


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


@dataclass
class _Groups:
    """Who is in which reported group, and the one gate every figure passes through."""

    members: dict[str, pd.Index]  # shown departments and ORGANISATION
    hidden: dict[str, pd.Index]  # hidden departments: never shown, but inside the total
    results: dict[str, GroupResult]
    threshold: int
    log: list[Suppression]

    def reportable(self, answered: pd.Series, table: str) -> list[tuple[str, pd.Index]]:
        """Groups whose figure may be shown, each with the rows that answered.

        Hidden departments take part in the check: their answers are in the organisation's
        figure, so a small group could otherwise be worked out by subtraction."""
        counts = {g: int(answered.loc[idx].sum()) for g, idx in (self.members | self.hidden).items()
                  if g != ORGANISATION}
        blocked = protect(counts, self.threshold, table, self.log, already_hidden=set(self.hidden))
        shown = []
        for g, idx in self.members.items():
            rows = idx[answered.loc[idx].to_numpy()]
            if len(rows) >= self.threshold and g not in blocked:
                shown.append((g, rows))
        return shown

    def estimates(self, attribute: str, key: str, series: pd.Series) -> None:
        for g, rows in self.reportable(series.notna(), f"{attribute} {key}"):
            getattr(self.results[g], attribute)[key] = estimate(series.loc[rows])


def analyse_scan(scan: Scan) -> AnalysisResult:
    responses, wide = load_frame(scan)
    q = scan.questionnaire
    threshold = scan.anonymity_threshold
    log: list[Suppression] = []
    employees = responses[responses["role"] == "employee"]
    managers = responses[responses["role"] == "manager"]
    if len(employees) < threshold:
        raise ReportError(f"only {len(employees)} employee responses collected; nothing can be reported below "
                          f"the anonymity threshold of {threshold}",
                          fix="collect more forms first (survey status shows what came in)")
    scorer = Scorer(q, wide)
    dims = {name: scorer.dimension(name) for name in q.dimensions}
    derived = scorer.derived()

    expected = {d.name: d.employees for d in scan.departments}
    counts = employees.groupby("department").size().to_dict()
    for name in expected:
        counts.setdefault(name, 0)
    hidden = protect(counts, threshold, "departments", log)
    shown = [d for d in _department_order(scan, counts) if d not in hidden]

    def rows_of(name: str) -> pd.Index:
        return employees.index[employees["department"] == name]

    results = {name: GroupResult(name, len(rows_of(name)), expected.get(name)) for name in shown}
    results[ORGANISATION] = GroupResult(ORGANISATION, len(employees), sum(expected.values()) or None)
    groups = _Groups({**{name: rows_of(name) for name in shown}, ORGANISATION: employees.index},
                     {name: rows_of(name) for name in hidden}, results, threshold, log)

    for name, series in dims.items():
        groups.estimates("dimensions", name, series)
    for name, series in derived.items():
        groups.estimates("derived", name, series)
    for item in q.items:
        if isinstance(item, (m.StatementItem, m.ScoreItem)):
            groups.estimates("items", item.id, scorer.column(item.id))
            if item.desired:
                _desired(item, scorer, groups)
        elif isinstance(item, m.SituationGrid):
            _pace(item, scorer, groups)
        elif isinstance(item, m.ChoiceItem):
            _choices(item, q.scales[item.scale], scorer, groups)
        elif isinstance(item, m.OpenItem):
            _open_answers(item, scorer, groups)

    manager_result = None
    if len(managers) >= threshold:
        manager_result = GroupResult(MANAGERS, len(managers))
        for attribute, series_by_key in (("dimensions", dims), ("derived", derived)):
            for key, series in series_by_key.items():
                value = estimate(series.loc[managers.index])
                if value is not None and value.n >= threshold:
                    getattr(manager_result, attribute)[key] = value
    else:
        log.append(Suppression("managers", "managers", f"fewer than {threshold} managers answered"))

    headline = next((d.id for d in q.derived if all(ref in q.dimensions for ref in d.of)), None)
    breakdowns = _breakdowns(q, scorer, employees, derived.get(headline) if headline else None, threshold, log)
    return AnalysisResult(
        scan=scan, n_responses=len(responses), n_employees=len(employees), n_managers=len(managers),
        organisation_result=results[ORGANISATION], managers=manager_result,
        departments=[results[name] for name in shown], hidden_departments=sorted(hidden),
        breakdowns=breakdowns, suppressed=log, headline=headline, n_unverified=_unverified(scan))


def _unverified(scan: Scan) -> int:
    with Store(scan.store_path) as store:
        return store.unverified_count()


def _department_order(scan: Scan, counts: dict[str, int]) -> list[str]:
    listed = [d.name for d in scan.departments]
    return listed + sorted(name for name in counts if name not in listed)


def _desired(item: m.StatementItem | m.ScoreItem, scorer: Scorer, groups: _Groups) -> None:
    current = scorer.item_score(item)
    desired = scorer.item_score(item, f"{item.id}.desired")
    for g, rows in groups.reportable(current.notna() & desired.notna(), f"desired {item.id}"):
        groups.results[g].desired[item.id] = DesiredGap(
            item.id, float(current.loc[rows].mean()), float(desired.loc[rows].mean()), len(rows))


def _pace(grid: m.SituationGrid, scorer: Scorer, groups: _Groups) -> None:
    """Shares among those who answered both questions for the situation."""
    for situation in grid.situations:
        initiative = scorer.codes(f"{grid.id}.{situation.id}.initiative")
        effect = scorer.codes(f"{grid.id}.{situation.id}.effect")
        answered = initiative.isin(m.INITIATIVE_CODES) & effect.isin(m.PACE_EFFECT_CODES)
        for g, rows in groups.reportable(answered, f"pace {situation.id}"):
            ini, eff = initiative.loc[rows], effect.loc[rows]
            groups.results[g].pace[situation.id] = PaceCell(
                situation.id, len(rows),
                {c: float((ini == c).mean()) for c in m.INITIATIVE_CODES},
                {c: float((eff == c).mean()) for c in m.PACE_EFFECT_CODES})


def _choices(item: m.ChoiceItem, scale: m.Scale, scorer: Scorer, groups: _Groups) -> None:
    codes = [str(o.code) for o in scale.options]
    if item.type == "single_choice":
        answers = scorer.codes(item.id)
        ticks = pd.DataFrame({c: answers == c for c in codes})
        answered = answers.isin(codes)
    else:
        ticks = pd.DataFrame({c: scorer.column(f"{item.id}.{c}").fillna(0) > 0 for c in codes})
        answered = ticks.any(axis=1)
    for g, rows in groups.reportable(answered, f"choice {item.id}"):
        chosen = ticks.loc[rows]
        groups.results[g].choices[item.id] = ChoiceShares(item.id, len(rows),
                                                          {c: float(chosen[c].mean()) for c in codes})


def _open_answers(item: m.OpenItem, scorer: Scorer, groups: _Groups) -> None:
    answers = scorer.column(item.id, "text")
    for g, rows in groups.reportable(answers.notna(), f"open {item.id}"):
        groups.results[g].open_answers[item.id] = [str(t) for t in answers.loc[rows] if str(t).strip()]


def _breakdowns(q: m.Questionnaire, scorer: Scorer, employees: pd.DataFrame, headline: pd.Series | None,
                threshold: int, log: list[Suppression]) -> list[BreakdownRow]:
    rows: list[BreakdownRow] = []
    for question in q.background:
        if question.reporting is m.Reporting.none or question.id == "role":
            continue
        answers = scorer.codes(question.id).loc[employees.index]
        counts = {str(o.code): int((answers == str(o.code)).sum()) for o in q.scales[question.scale].options}
        blocked = protect(counts, threshold, f"background {question.id}", log)
        for option, n in counts.items():
            if option in blocked:
                continue
            index = None
            if question.reporting is m.Reporting.compare and headline is not None:
                index = estimate(headline.loc[answers[answers == option].index])
            rows.append(BreakdownRow(question.id, option, n, index))
    return rows


# --------------------------------------------------------------------------- export


def write_results_workbook(results: AnalysisResult, path: Path) -> Path:
    """The results as an Excel workbook: one sheet per table, suppression log included."""
    from survey.textsafety import inert_workbook  # local: keeps this function's change self-contained

    q = results.questionnaire
    lang = results.scan.language
    path.parent.mkdir(parents=True, exist_ok=True)
    groups = [results.organisation_result] + results.departments
    label = {ORGANISATION: "Organisation" if lang == "en" else "Organisatie"}

    def name(g: GroupResult) -> str:
        return label.get(g.key, g.key)

    overview = pd.DataFrame([{
        "group": name(g), "responses": g.n, "expected": g.expected,
        **{f"{d.id}": round(g.derived[d.id].mean, 1) if d.id in g.derived else None for d in q.derived},
        **{f"{k}": round(g.dimensions[k].mean, 1) if k in g.dimensions else None for k in q.dimensions},
    } for g in groups])
    pace = pd.DataFrame([{
        "group": name(g), "situation": s, "answers": c.n,
        **{f"initiative_{k}": round(v * 100, 1) for k, v in c.initiative.items()},
        **{f"effect_{k}": round(v * 100, 1) for k, v in c.effect.items()},
        "balance": round(c.balance, 1),
    } for g in groups for s, c in g.pace.items()])
    items = pd.DataFrame([{
        "group": name(g), "item": item_id, "n": e.n, "mean": round(e.mean, 2),
        "ci_low": round(e.ci_low, 2), "ci_high": round(e.ci_high, 2),
    } for g in groups for item_id, e in g.items.items()])
    suppression = pd.DataFrame([s.__dict__ for s in results.suppressed], columns=["table", "group", "reason"])
    with atomic_path(path) as partial, pd.ExcelWriter(partial, engine="openpyxl") as writer:
        overview.to_excel(writer, sheet_name="overview", index=False)
        pace.to_excel(writer, sheet_name="pace_map", index=False)
        items.to_excel(writer, sheet_name="items", index=False)
        suppression.to_excel(writer, sheet_name="suppression_log", index=False)
        # pandas hands strings to openpyxl, which makes a group named '=...' a live formula
        inert_workbook(writer.book)
    return path
