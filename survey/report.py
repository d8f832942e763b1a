"""The report: analysis results -> report sections -> Jinja templates -> HTML and PDF.

Templates and the CSS theme live in reports/templates; a consultant can override any of
them by putting a file of the same name in DIR/templates (looked up first).
"""

from __future__ import annotations

import logging
import math
import mimetypes
import os
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import url2pathname

import numpy as np
from jinja2 import (ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError,
                    TemplateSyntaxError, select_autoescape)
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from survey import __version__, charts
from survey.atomic import atomic_path, write_bytes_atomic, write_text_atomic
from survey.analysis import AnalysisResult, Estimate, GroupResult, analyse_scan, group_label, publish, shown_interval
from survey.analysis import quality
from survey.analysis.model import Share
from survey.disclosure import ORGANISATION
from survey.analysis.claims import SHARE_OUTCOMES, Claims, Verdict
from survey.disclosure import MANAGERS
from survey.errors import Location, ReportError
from survey.bases import Response, response
from survey.i18n import counted, long_date, number, percent, wording
from survey.questionnaire import model as m
from survey.resources import reports_dir
from survey.scan import Scan

if TYPE_CHECKING:  # WeasyPrint is imported only when a PDF is made (it needs Pango)
    from weasyprint.document import Document
    from weasyprint.urls import URLFetcher


@dataclass(frozen=True)
class Cell:
    """A published figure in a table, with what it is about and the number of people behind it.
    The template writes these as data-var, data-group, data-n attributes: the audit and a
    careful reader can see which figure rests on how many people."""

    text: str
    var: str
    group: str
    n: int | None = None
    show_n: bool = False

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Sentence:
    """A sentence of the report and what it names (department names, situation, dimension or
    item ids, by `kind`), so that tests can hold every sentence against the tables and claims."""

    text: str
    kind: str
    names: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.text


@dataclass
class Row:
    label: str
    cells: list[str | Cell]
    note: str = ""


@dataclass
class Table:
    headers: list[str]
    rows: list[Row]
    id: str = ""  # an anchor, when a chart names this table as its figures


@dataclass
class Chart:
    """A chart and what a reader needs who cannot see it: a title, a sentence saying what it
    shows, and its figures as a table (`data`), or the id of the table printed with it."""

    id: str
    title: str
    description: str
    svg: str
    data: Table | None = None
    data_ref: str = ""
    png: bytes | None = None  # drawn only inside charts.raster (chart files, slide deck)


@dataclass
class DriverView:
    """One outcome's priority matrix for one group (survey/analysis/drivers.py)."""

    outcome: str  # the outcome's name
    heading: str  # "What goes together with <outcome>?"
    chart: Chart  # title: the heading; sentence: what to work on first; its figures: `table`
    table: Table
    caption: str  # n and explained variance
    first: str  # what to work on first, in words


@dataclass(frozen=True)
class SheetSituation:
    """A situation of the pace map and the share of the department's employees who feel
    braked (or sped up) there, as the department's pace table shows it."""

    name: str
    share: str


@dataclass(frozen=True)
class SheetScore:
    """A derived score of a department (werkgeluk, intent to stay) as its highlights show it,
    beside the organisation's, with the ends of the scale it is on."""

    id: str
    name: str
    value: str
    organisation: str
    low: str
    high: str
    description: str = ""


@dataclass
class DepartmentPage:
    name: str
    n: int
    response_rate: str
    headline: str
    dimensions: Table
    pace: Table
    pace_chart: Chart | None
    desired: Table | None
    highlights: list[Sentence]
    base: str = ""  # '54 van de 57 medewerkers vulden de vragenlijst in (respons 95%)'
    drivers: list[DriverView] = field(default_factory=list)
    # the team sheet and the department's slide (survey/teams.py, survey/deck.py): figures as
    # the report's tables and sentences show them, nothing of their own
    index: str = ""  # the headline score as the department's tables show it ('52')
    index_position: float | None = None  # 0-100: where the sheet's scale graphic marks it
    index_organisation: str = ""  # the organisation's headline score, as on the cover
    organisation_position: float | None = None  # 0-100: its mark on the scale graphic
    brakes_most: list[SheetSituation] = field(default_factory=list)  # up to 3, largest share first
    helps_most: list[SheetSituation] = field(default_factory=list)
    scores: list[SheetScore] = field(default_factory=list)  # the other derived scores (werkgeluk, intent to stay)


@dataclass
class ReportModel:
    lang: str
    words: dict[str, str]
    organisation: str
    wave: str
    questionnaire: str
    generated: str
    version: str
    threshold: int
    n_responses: int
    n_employees: int
    n_managers: int
    response_rate: str  # everyone who answered over the expected headcount (survey/bases.py)
    response: str  # the same, one line with the split employees / managers
    headline_name: str
    headline_value: str  # mean with its interval
    headline_mean: str
    summary: list[Sentence]
    partnership_chart: Chart | None
    dimension_table: Table | None
    werkgeluk_chart: Chart | None
    retention: Table | None
    pace_chart: Chart | None
    initiative_chart: Chart | None
    brake_table: Table | None
    manager_gap: Table | None
    desired: Table | None
    choices: list[tuple[str, Table]]  # per questionnaire section: share per option
    breakdowns: list[tuple[str, Table]]
    dialogue: list[str]
    open_answers: list[tuple[str, list[str]]]
    departments: list[DepartmentPage]
    hidden_departments: int
    suppressed_figures: int
    hidden: list[str] = field(default_factory=list)  # one line per hidden group, with its reason
    manager_answers: list[tuple[str, list[str]]] = field(default_factory=list)
    quotes_note: str = ""
    protection: bool = True
    dimensions: list[tuple[str, str]] = field(default_factory=list)
    n_unverified: int = 0  # of n_responses: imported without an issued code
    languages_offered: bool = False  # forms could go out in more than one language (never a count per language)
    hidden_count: str = ""  # '2 afdelingen', for the methods text
    # survey/analysis/quality.py: statements per part, marks, measurement quality, methods
    statements: Table | None = None
    marks: Table | None = None
    marks_intro: str = ""
    quality: Table | None = None
    quality_lines: list[str] = field(default_factory=list)
    methods_quality: list[str] = field(default_factory=list)
    # wording filled from the questionnaire (names and counts are never in the templates)
    partnership_map_intro: str = ""
    werkgeluk_name: str = ""
    werkgeluk_intro: str = ""
    retention_intro: str = ""
    claims_note: str = ""  # methods: intervals are for showing, claims need a test
    drivers_title: str = ""  # empty: the questionnaire declares no outcome
    drivers: list[DriverView] = field(default_factory=list)
    drivers_notes: list[str] = field(default_factory=list)  # outcomes without an organisation result, why
    drivers_methods: list[str] = field(default_factory=list)


# The language numbers are written in while a report is built or rendered ('7,0' in Dutch);
# set by `formatting`, so every helper below writes the report's language without each
# caller passing it.
_LANG: ContextVar[str] = ContextVar("report_language", default="en")


@contextmanager
def formatting(lang: str) -> Iterator[None]:
    token = _LANG.set(lang)
    try:
        yield
    finally:
        _LANG.reset(token)


def fmt(value: float | None, digits: int = 0) -> str:
    return number(value, digits, _LANG.get())


def signed(value: float | None, digits: int = 0) -> str:
    """'+5', '-12': a difference or a balance."""
    return number(value, digits, _LANG.get(), signed=True)


def fmt_estimate(value: Estimate | None, digits: int = 0, threshold: int = 5) -> str:
    if value is None:
        return "–"
    low, high = shown_interval(value, threshold)
    if low is None or high is None:
        return fmt(value.mean, digits)
    return f"{fmt(value.mean, digits)} ({fmt(low, digits)}–{fmt(high, digits)})"


def pct(value: float | None) -> str:
    return percent(value, _LANG.get())


def shown(value: object) -> str:
    """What a reader sees of anything in the report model, in the language being rendered.
    Every output (HTML, PDF, team sheets, deck) turns model values into text through this
    one function (Jinja filter `shown`), so formatting lives in one place."""
    if value is None:
        return "–"
    return str(value)


def _chart_number(value: float, digits: int, is_signed: bool = False) -> str:
    return signed(value, digits) if is_signed else fmt(value, digits)


class _Builder:
    def __init__(self, results: AnalysisResult):
        self.r = results
        self.q = results.questionnaire
        self.lang = results.scan.language
        self.w = wording(self.lang)
        self.org = results.organisation_result
        self.driver_charts = 0  # numbers the priority-matrix charts (ids in the page)

    def t(self, text: m.Text | None) -> str:
        return text.get(self.lang, next(iter(text.values()))) if text else ""

    def label(self, key: str, text: m.Text | None) -> str:
        """How the report names a question, section, situation or option: the report's own
        wording for its readers (`label.<id>` in reports/wording) when there is one, else the
        questionnaire's text (which speaks to the respondent: 'jouw', 'je loopbaan')."""
        return self.w.get(f"label.{key}") or self.t(text)

    def group_name(self, g: GroupResult) -> str:
        return group_label(self.r, g.key)

    def cell(self, g: GroupResult, var: str, text: str, n: int | None, show_n: bool = False) -> Cell:
        return Cell(text, var, self.group_name(g), n, show_n)

    def estimate_cell(self, g: GroupResult, var: str, value: Estimate | None, digits: int = 0,
                      show_n: bool = False) -> str | Cell:
        if value is None:
            return "–"
        return self.cell(g, var, fmt(value.mean, digits), value.n, show_n and value.n is not None)

    @property
    def grid(self) -> m.SituationGrid | None:
        return self.q.grids[0] if self.q.grids else None

    def situation_names(self, short: bool = False) -> dict[str, str]:
        """Situation texts; `short` drops an explanation in brackets (chart labels)."""
        grid = self.grid
        if not grid:
            return {}
        return {s.id: self.label(s.id, s.text).split(" (")[0] if short else self.label(s.id, s.text)
                for s in grid.situations}

    def headline(self, g: GroupResult) -> Estimate | None:
        return g.derived.get(self.r.headline) if self.r.headline else None

    # -- tables
    def dimension_table(self, groups: list[GroupResult]) -> Table:
        headers = [self.w["group"], self.w["employees_n"]]  # department figures are employees' answers
        if self.r.headline:
            headers.append(self.t(self.q_derived(self.r.headline).name))
        headers += [self.t(d.name) for d in self.q.dimensions.values()]
        rows = []
        for g in groups:
            cells: list[str | Cell] = [self.cell(g, "responses", str(g.n), g.n)]
            if self.r.headline:
                cells.append(self.estimate_cell(g, f"derived:{self.r.headline}", self.headline(g)))
            cells += [self.estimate_cell(g, f"dim:{k}", g.dimensions.get(k)) for k in self.q.dimensions]
            rows.append(Row(self.group_name(g), cells))
        return Table(headers, rows)

    def q_derived(self, derived_id: str) -> m.DerivedScore:
        return next(d for d in self.q.derived if d.id == derived_id)

    def pace_table(self, g: GroupResult) -> Table:
        rows = []
        for sid, name in self.situation_names().items():
            cell = g.pace.get(sid)
            cells: list[str | Cell] = ["–"] * 6
            if cell is not None and cell.initiative is not None:
                var = f"pace:{sid}.initiative"
                cells[0:2] = [self.cell(g, var, pct(cell.own_initiative), cell.n_initiative),
                              self.cell(g, var, str(cell.n_initiative), cell.n_initiative)]
            if cell is not None and cell.effect is not None:
                var = f"pace:{sid}.effect"
                cells[2:6] = [self.cell(g, var, pct(cell.effect.get("speeds_up")), cell.n_effect),
                              self.cell(g, var, pct(cell.effect.get("brakes")), cell.n_effect),
                              self.cell(g, var, signed(cell.balance), cell.n_effect),
                              self.cell(g, var, str(cell.n_effect), cell.n_effect)]
            rows.append(Row(name, cells))
        return Table([self.w["situation"], self.w["own_initiative"], self.w["n"], self.w["speeds_up"],
                      self.w["brakes"], self.w["balance"], self.w["n"]], rows)

    def desired_table(self, g: GroupResult) -> Table | None:
        """Now and desired (each on its own base), and the gap over the people who answered both
        (paired) with its margin; ordered by the gap shown, largest first."""
        if not g.desired:
            return None
        verdicts = self.claims.desired.get(g.key, {})

        def gap(k: str) -> float:
            v = verdicts.get(k)
            return -math.inf if v is None or v.estimate is None else v.estimate

        rows = []
        for k, v in sorted(g.desired.items(), key=lambda kv: -gap(kv[0])):
            paired = verdicts.get(k)
            cells: list[str | Cell] = [
                self.cell(g, f"item:{k}", fmt(v.current), v.n_current), self.cell(g, f"item:{k}", str(v.n_current),
                                                                                 v.n_current),
                self.cell(g, f"item:{k}.desired", fmt(v.desired), v.n_desired),
                self.cell(g, f"item:{k}.desired", str(v.n_desired), v.n_desired)]
            if paired is not None and paired.estimate is not None:
                n = min(paired.n_first, paired.n_second)
                cells += [self.cell(g, f"gap:{k}", self.signed(paired.estimate), n), self.gap_margin(paired),
                          self.cell(g, f"gap:{k}", str(n), n)]
            else:
                cells += ["–", "–", "–"]
            rows.append(Row(self.t(self.q.item(k).text), cells))
        return Table([self.w["statement"], self.w["now"], self.w["n_now"], self.w["desired"], self.w["n_desired"],
                      self.w["gap"], self.w["margin"], self.w["n_both"]], rows)

    # -- charts
    def chart(self, chart_id: str, title: str, description: str, drawn: charts.Drawing, data: Table | None = None,
              data_ref: str = "") -> Chart:
        return Chart(chart_id, title, description,
                     charts.labelled(drawn.svg, f"{chart_id}-title", f"{chart_id}-desc"), data, data_ref, drawn.png)

    def partnership_chart(self, groups: list[GroupResult]) -> Chart | None:
        if not self.q.dimensions:
            return None
        names = [self.group_name(g) for g in groups]
        index = [self.headline(g).mean if self.headline(g) else None for g in groups]
        dims = {self.t(d.name): [g.dimensions[k].mean if k in g.dimensions else None for g in groups]
                for k, d in self.q.dimensions.items()}
        svg = charts.partnership_map(names, index, dims, self.w["traditional"], self.w["partnership"],
                                     self.t(self.q_derived(self.r.headline).name) if self.r.headline else "",
                                     _chart_number)
        return self.chart("chart-partnership", self.w["partnership_map"],
                          self.questionnaire_wording()["partnership_map_intro"], svg,
                          data_ref="table-dimensions")

    def pace_chart(self, groups: list[GroupResult]) -> Chart | None:
        situations = self.situation_names(short=True)
        if not situations or not self.org.pace:
            return None
        matrix = np.array([[_balance(g, s) for g in groups] for s in situations])
        svg = charts.pace_heatmap(list(situations.values()), [self.group_name(g) for g in groups], matrix, "·",
                                  _chart_number)
        rows = []
        for sid, name in situations.items():
            cells: list[str | Cell] = []
            for g in groups:
                cell = g.pace.get(sid)
                cells.append("–" if cell is None or cell.balance is None else
                             self.cell(g, f"pace:{sid}.effect", signed(cell.balance), cell.n_effect))
            rows.append(Row(name, cells))
        data = Table([self.w["situation"]] + [self.group_name(g) for g in groups], rows)
        return self.chart("chart-pace", self.w["pace_map"], self.w["pace_map_intro"], svg, data)

    def department_pace_chart(self, g: GroupResult, index: int) -> Chart | None:
        situations = self.situation_names(short=True)
        if not g.pace:
            return None
        svg = charts.balance_bars(list(situations.values()),
                                  [None if math.isnan(_balance(g, s)) else _balance(g, s) for s in situations],
                                  self.w["balance_axis"], "·", _chart_number)
        return self.chart(f"chart-pace-{index}", self.w["department_pace_title"], self.w["department_pace_desc"],
                          svg, data_ref=f"table-pace-{index}")

    def initiative_chart(self) -> Chart | None:
        situations = {s: n for s, n in self.situation_names(short=True).items()
                      if s in self.org.pace and self.org.pace[s].initiative is not None}
        if not situations or self.grid is None:
            return None
        scale = self.q.scales[self.grid.initiative_scale]
        options = {str(o.code): self.label(f"{self.grid.initiative_scale}.{o.code}", o.label) for o in scale.options}
        shares = {name: [self.org.pace[s].initiative.get(code, 0.0) for s in situations]
                  for code, name in options.items()}
        svg = charts.stacked_shares(list(situations.values()), shares, fmt=_chart_number)
        rows = [Row(name, [self.cell(self.org, f"pace:{sid}.initiative", pct(self.org.pace[sid].initiative.get(code, 0.0)),
                                     self.org.pace[sid].n_initiative) for code in options]
                    + [str(self.org.pace[sid].n_initiative)]) for sid, name in situations.items()]
        data = Table([self.w["situation"]] + list(options.values()) + [self.w["n"]], rows)
        return self.chart("chart-initiative", self.w["initiative"], self.w["initiative_intro"], svg, data)

    def werkgeluk_chart(self, groups: list[GroupResult]) -> Chart | None:
        score = next((d for d in self.q.derived if d.id == "werkgeluk"), None)
        if score is None or score.id not in self.org.derived:
            return None
        shown = [g for g in groups[1:] if score.id in g.derived]
        scale = self.q.scales[self.q.item(score.of[0]).scale]
        svg = charts.score_bars([self.group_name(g) for g in shown], [g.derived[score.id].mean for g in shown],
                                float(scale.min or 0), float(scale.max or 10), self.org.derived[score.id].mean,
                                self.w["organisation"], _chart_number)
        data = Table([self.w["group"], self.t(score.name)],
                     [Row(self.group_name(g), [self.estimate_cell(g, f"derived:{score.id}", g.derived[score.id], 1)])
                      for g in [self.org] + shown])
        wording = self.questionnaire_wording()
        return self.chart("chart-werkgeluk", wording.get("werkgeluk_name", self.w["werkgeluk"]),
                          wording.get("werkgeluk_intro", ""), svg, data)

    # -- drivers (survey/analysis/drivers.py)
    def predictor_name(self, kind: str, pid: str) -> str:
        if kind == "dimension":
            return self.t(self.q.dimensions[pid].name)
        return self.situation_names(short=True).get(pid, pid)

    def driver_views(self, g: GroupResult) -> list[DriverView]:
        setup = self.r.drivers
        if setup is None:
            return []
        views = []
        for outcome in setup.outcomes:
            d = g.drivers.get(outcome)
            if d is None:
                continue
            name = self.t(self.q_derived(outcome).name)
            var = f"drivers:{outcome}"
            split = 100 / len(d.weights)  # an equal share
            explains = d.beats_chance  # weights always add up to 100 %, also of nothing
            shown = [wt for wt in d.weights if wt.current is not None]
            middle = float(np.mean([wt.current for wt in shown])) if shown else 50.0
            rows, first = [], []
            for wt in d.weights:
                label = self.predictor_name(wt.kind, wt.predictor)
                interval = f"{fmt(wt.low)}–{fmt(wt.high)}" if wt.low is not None and wt.high is not None else "–"
                if wt.current is None:
                    now: str | Cell = "–"
                elif wt.kind == "dimension":
                    now = self.cell(g, f"dim:{wt.predictor}", fmt(wt.current), None)
                else:
                    now = self.cell(g, f"pace:{wt.predictor}.effect", fmt(wt.current), g.pace[wt.predictor].n_effect)
                rows.append(Row(label, [self.cell(g, var, fmt(wt.importance), d.n), interval, now,
                                        self.w["drivers_kind_" + wt.kind]]))
                # classified on the numbers as the table shows them, so the text agrees with it
                # named only when its whole margin lies above an equal share: a tested rule,
                # not chance (without a margin, from fewer than 2k people, nothing is named)
                if (explains and wt.current is not None and wt.low is not None and wt.low > split
                        and round(wt.current) < middle):
                    first.append(f"“{label}”")
            chart = charts.priority_matrix(
                [self.predictor_name(wt.kind, wt.predictor) for wt in shown],
                ["o" if wt.kind == "dimension" else "s" for wt in shown], [wt.current for wt in shown],
                [wt.importance for wt in shown], [wt.low for wt in shown], [wt.high for wt in shown], middle, split,
                (self.w["drivers_q_first"], self.w["drivers_q_keep"], self.w["drivers_q_later"],
                 self.w["drivers_q_fine"]), self.w["drivers_x"], self.w["drivers_y"],
                {"o": self.w["drivers_legend_dimension"], "s": self.w["drivers_legend_pace"]})
            table = Table([self.w["drivers_predictor"], self.w["drivers_importance"], self.w["drivers_interval"],
                           self.w["drivers_current"], self.w["drivers_kind"]], rows)
            caption = self.w["drivers_caption"].format(n=d.n, r2=fmt(100 * d.r_squared), name=name.lower())
            # the three most important of them: a place to start, the chart shows the rest
            text = (self.w["drivers_first"].format(items=self.listing(first[:3])) if first
                    else self.w["drivers_first_none"])
            self.driver_charts += 1
            chart_id = f"chart-drivers-{self.driver_charts}"
            table.id = f"{chart_id}-table"
            heading = self.w["drivers_one"].format(name=name.lower())
            views.append(DriverView(name, heading, self.chart(chart_id, heading, text, chart, data_ref=table.id),
                                    table, caption, text))
        return views

    # -- the team sheet and the department's slide
    def sheet_fields(self, g: GroupResult) -> dict[str, object]:
        """What a team sheet shows beyond the department page, each figure formatted as the
        report shows it: the headline as in the tables, the pace shares as in the pace table,
        the derived scores as in the highlights."""
        head, org_head = self.headline(g), self.headline(self.org)
        names = self.situation_names(short=True)
        cells = [c for c in g.pace.values() if c.effect is not None and c.situation in names]

        def most(outcome: str) -> list[SheetSituation]:
            ranked = sorted(cells, key=lambda c: -c.effect.get(outcome, 0.0))  # stable: questionnaire order on ties
            return [SheetSituation(names[c.situation], pct(c.effect.get(outcome, 0.0))) for c in ranked
                    if pct(c.effect.get(outcome, 0.0)) != pct(0.0)][:3]

        scores = []
        for score in self.q.derived:
            if score.id == self.r.headline or score.id not in g.derived:
                continue
            scale = self.q.scales[self.q.item(score.of[0]).scale] if score.of and score.of[0] in {
                i.id for i in self.q.items} else None
            low, high = (scale.numeric_range or (None, None)) if scale is not None else (None, None)
            theirs = self.org.derived.get(score.id)
            scores.append(SheetScore(score.id, self.t(score.name), fmt(g.derived[score.id].mean, 1),
                                     fmt(theirs.mean, 1) if theirs is not None else "", fmt(low), fmt(high),
                                     self.t(score.description)))
        return dict(index=fmt(head.mean) if head else "", index_position=head.mean if head else None,
                    index_organisation=fmt(org_head.mean) if org_head else "",
                    organisation_position=org_head.mean if org_head else None,
                    brakes_most=most("brakes"), helps_most=most("speeds_up"), scores=scores)

    def listing(self, names: list[str]) -> str:
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" {self.w['and']} " + names[-1]

    def drivers_title(self) -> str:
        setup = self.r.drivers
        if setup is None:
            return ""
        names = [self.t(self.q_derived(o).name).lower() for o in setup.outcomes]
        return self.w["drivers_title"].format(names=self.listing(names))

    def drivers_notes(self) -> list[str]:
        setup = self.r.drivers
        if setup is None:
            return []
        notes = []
        for outcome, why in setup.refused.items():
            key = {"too_few": "drivers_too_few", "withheld": "drivers_withheld"}.get(why, "drivers_cannot")
            notes.append(self.w[key].format(name=self.t(self.q_derived(outcome).name), min=setup.min_organisation))
        return notes

    def drivers_methods(self) -> list[str]:
        setup = self.r.drivers
        if setup is None:
            return []
        lines = [self.w["methods_drivers"].format(title=self.drivers_title(), min_organisation=setup.min_organisation,
                                                  min_department=setup.min_department, n_boot=setup.n_boot)]
        for g in self.r.groups:
            for outcome in setup.outcomes:
                d = g.drivers.get(outcome)
                if d is None:
                    continue
                # no margin for R^2: in small groups the bootstrap's R^2 lies above the estimate (bias)
                lines.append(self.w["methods_drivers_group"].format(
                    group=self.group_name(g), name=self.t(self.q_derived(outcome).name), n=d.n,
                    r2=fmt(100 * d.r_squared)))
        return lines

    # -- texts: every sentence is a rule over the claims (survey/analysis/claims.py)
    @property
    def claims(self) -> Claims:
        return self.r.claims if self.r.claims is not None else Claims()

    def sentence(self, key: str, kind: str, names: tuple[str, ...] = (), **values: str) -> Sentence:
        return Sentence(self.w[key].format(**values), kind, names)

    def named(self, pairs: list[tuple[str, str]]) -> str:
        """'A (72), B (68)': names with the figure shown beside them."""
        return ", ".join(f"{name} ({value})" for name, value in pairs)

    def signed(self, value: float, digits: int = 0) -> str:
        text = fmt(abs(value), digits)
        return text if text == fmt(0.0, digits) else ("+" if value > 0 else "-") + text

    def gap_margin(self, v: Verdict | None) -> str:
        low, high = v.shown(self.r.scan.anonymity_threshold) if v is not None else (None, None)
        if low is None or high is None:
            return "–"
        # an end that rounds to 0 but is not 0 gets a decimal: '0 to +26' must not hide that the
        # margin excludes 0
        digits = 1 if (low > 0 and fmt(low) == fmt(0.0)) or (high < 0 and fmt(high) == fmt(0.0)) else 0
        return self.w["interval_range"].format(low=self.signed(low, digits), high=self.signed(high, digits))

    def score_name(self, var: str) -> str:
        kind, key = var.split(":", 1)
        return self.t(self.q_derived(key).name) if kind == "derived" else self.t(self.q.dimensions[key].name)

    def shown_value(self, g: GroupResult, var: str) -> Estimate | None:
        kind, key = var.split(":", 1)
        return (g.derived if kind == "derived" else g.dimensions).get(key)

    def versus_rest(self, g: GroupResult, var: str) -> int:
        """+1 / -1 when the department is claimed higher / lower than the rest on `var`: its
        Holm-corrected test holds and the shown figures point the same way (so a sentence never
        contradicts the tables); else 0."""
        v = self.claims.versus_rest.get(var, {}).get(g.key)
        mine, org = self.shown_value(g, var), self.shown_value(self.org, var)
        if v is None or mine is None or org is None or v.direction == 0 or fmt(mine.mean) == fmt(org.mean):
            return 0
        return v.direction if (mine.mean - org.mean) * v.direction > 0 else 0

    def unsaid(self, g: GroupResult, var: str) -> bool:
        """A test that holds but whose shown figures do not agree with it (they are means of
        statement figures on their own bases, the test is on people's own scores): nothing is
        said about it, neither a difference nor 'no difference'."""
        v = self.claims.versus_rest.get(var, {}).get(g.key)
        return v is not None and v.holds and self.versus_rest(g, var) == 0

    def summary(self, groups: list[GroupResult]) -> list[Sentence]:
        w, lines = self.w, []
        lines += self.department_sentences()
        names = self.situation_names()
        # ordered by the share shown; the three highest and every situation tied with the third
        cells = sorted((c for c in self.org.pace.values() if c.effect is not None
                        and pct(c.effect.get("brakes", 0.0)) != pct(0.0)),
                       key=lambda c: -c.effect.get("brakes", 0.0))
        if cells:
            third = pct(cells[min(2, len(cells) - 1)].effect.get("brakes", 0.0))
            listed = cells[:3] + [c for c in cells[3:] if pct(c.effect.get("brakes", 0.0)) == third]
            lines.append(Sentence(w["summary_brakes"].format(situations=", ".join(
                f"{names[c.situation].lower()} ({pct(c.effect.get('brakes', 0.0))})" for c in listed)),
                "brakes_most", tuple(c.situation for c in listed)))
        head = self.r.headline
        if head and self.r.managers is not None:
            lines += self.manager_sentences(f"derived:{head}")
        lines += self.desired_sentences()
        if "werkgeluk" in self.org.derived:
            score = self.q_derived("werkgeluk")
            lines.append(Sentence(w["summary_werkgeluk"].format(value=fmt(self.org.derived["werkgeluk"].mean, 1),
                                                                name=self.t(score.name),
                                                                description=self.t(score.description)),
                                  "werkgeluk"))
        return lines

    def department_sentences(self) -> list[Sentence]:
        head = self.r.headline
        if not head:
            return []
        var, score = f"derived:{head}", self.t(self.q_derived(head).name)
        depts = [g for g in self.r.departments if self.headline(g)]
        if not depts:
            return []
        value = {g.key: fmt(self.headline(g).mean) for g in depts}
        verdicts = self.claims.versus_rest.get(var, {})
        higher = sorted((g for g in depts if self.versus_rest(g, var) > 0), key=lambda g: -self.headline(g).mean)
        lower = sorted((g for g in depts if self.versus_rest(g, var) < 0), key=lambda g: self.headline(g).mean)
        untested = [g for g in depts if verdicts.get(g.key) is None or verdicts[g.key].estimate is None]
        lines = []
        if len(depts) == 1 and not higher and not lower:
            g = depts[0]
            lines.append(self.sentence("summary_single", "single", (g.key,), department=g.key, value=value[g.key]))
            if not untested:
                lines.append(self.sentence("summary_single_no_difference", "no_difference", (g.key,)))
            return lines
        if higher:
            lines.append(self.sentence("summary_higher", "higher", tuple(g.key for g in higher), score=score,
                                       departments=self.named([(g.key, value[g.key]) for g in higher])))
        if lower:
            lines.append(self.sentence("summary_lower", "lower", tuple(g.key for g in lower), score=score,
                                       departments=self.named([(g.key, value[g.key]) for g in lower])))
        rest = [g for g in depts if g not in higher and g not in lower and g not in untested
                and not self.unsaid(g, var)]
        if untested:
            lines.append(self.sentence("summary_not_tested", "not_tested", tuple(g.key for g in untested), score=score,
                                       departments=", ".join(g.key for g in untested)))
        if rest and (higher or lower or untested):
            lines.append(self.sentence("summary_others_no_difference", "no_difference", tuple(g.key for g in rest),
                                       score=score))
        elif rest:
            shown = sorted({value[g.key] for g in rest}, key=lambda t: min(self.headline(g).mean for g in rest
                                                                          if value[g.key] == t))
            if len(shown) == 1:
                lines.append(self.sentence("summary_no_difference_same", "no_difference", tuple(g.key for g in rest),
                                           score=score, value=shown[0]))
            else:
                lines.append(self.sentence("summary_no_difference", "no_difference", tuple(g.key for g in rest),
                                           score=score, low=shown[0], high=shown[-1]))
        return lines

    def manager_sentences(self, var: str) -> list[Sentence]:
        """Managers against employees on `var`: claimed only when the interval of the gap
        excludes 0 and the shown scores point the same way."""
        v = self.claims.managers.get(var)
        mine, org = self.shown_value(self.r.managers, var), self.shown_value(self.org, var)
        if v is None or v.estimate is None or mine is None or org is None:
            return []
        score, gap = self.score_name(var), fmt(abs(v.estimate))
        if v.direction != 0 and (mine.mean - org.mean) * v.direction > 0:
            key = "summary_managers_higher" if v.direction > 0 else "summary_managers_lower"
            return [self.sentence(key, "managers_higher" if v.direction > 0 else "managers_lower", (var,),
                                  score=score, gap=gap)]
        return [self.sentence("summary_managers_unclear", "managers_unclear", (var,), score=score, gap=gap)]

    def desired_sentences(self) -> list[Sentence]:
        """The largest clear gap(s) between desired and current for the whole organisation (all
        tied as shown)."""
        verdicts = self.claims.desired.get(self.org.key, {})
        clear = sorted(((k, v) for k, v in verdicts.items() if v.direction != 0 and k in self.org.desired),
                       key=lambda kv: -abs(kv[1].estimate))
        if not clear:
            return []
        top = self.signed(clear[0][1].estimate)
        chosen = [(k, v) for k, v in clear if self.signed(v.estimate) == top]
        return [self.sentence("summary_desired", "desired", tuple(k for k, _ in chosen), statements=self.named(
            [(self.t(self.q.item(k).text).rstrip(". "), self.signed(v.estimate)) for k, v in chosen]))]

    def highlights(self, g: GroupResult) -> list[Sentence]:
        w, lines = self.w, []
        head = self.r.headline
        if head and self.headline(g) and self.headline(self.org):
            direction = self.versus_rest(g, f"derived:{head}")
            if direction:
                lines.append(self.sentence("dept_higher" if direction > 0 else "dept_lower",
                                           "higher" if direction > 0 else "lower", (g.key,),
                                           score=self.t(self.q_derived(head).name), value=fmt(self.headline(g).mean),
                                           organisation=fmt(self.headline(self.org).mean)))
        for direction, key in ((1, "dept_dims_higher"), (-1, "dept_dims_lower")):
            dims = [k for k in self.q.dimensions if k in g.dimensions and self.versus_rest(g, f"dim:{k}") == direction]
            dims.sort(key=lambda k: -direction * g.dimensions[k].mean)
            if dims:
                lines.append(self.sentence(key, "dims_higher" if direction > 0 else "dims_lower", tuple(dims),
                                           dimensions=self.named([(self.t(self.q.dimensions[k].name),
                                                                   fmt(g.dimensions[k].mean)) for k in dims])))
        lines += self.pace_sentences(g)
        shown_dims = [k for k in self.q.dimensions if k in g.dimensions]
        if len(shown_dims) >= 2:  # "lowest" of one part says nothing
            low = fmt(min(g.dimensions[k].mean for k in shown_dims))
            lowest = [k for k in shown_dims if fmt(g.dimensions[k].mean) == low]
            lines.append(self.sentence("dept_lowest", "lowest", tuple(lowest), dimensions=self.named(
                [(self.t(self.q.dimensions[k].name), low) for k in lowest])))
        for score in self.q.derived:
            if score.id != head and score.id in g.derived and score.id in self.org.derived:
                lines.append(Sentence(w["dept_derived"].format(name=self.t(score.name),
                                                               value=fmt(g.derived[score.id].mean, 1),
                                                               organisation=fmt(self.org.derived[score.id].mean, 1)),
                                      "derived", (score.id,)))
        return lines

    def pace_sentences(self, g: GroupResult) -> list[Sentence]:
        """Which situation brakes most and which helps most, by the share shown (ties all named);
        a situation that is top on both is named as dividing opinion, never as both; a share
        that shows as 0 % is never 'most'. Then the situations where the department differs
        clearly from the rest (Fisher, Holm over the departments)."""
        names = self.situation_names(short=True)
        cells = [c for c in g.pace.values() if c.effect is not None]
        lines: list[Sentence] = []

        def top(outcome: str) -> list[str]:
            best = max((c.effect.get(outcome, 0.0) for c in cells), default=0.0)
            if pct(best) == pct(0.0):
                return []
            return [c.situation for c in cells if pct(c.effect.get(outcome, 0.0)) == pct(best)]

        share = {c.situation: c.effect for c in cells}
        brakes, speeds = top("brakes"), top("speeds_up")
        both = [s for s in brakes if s in speeds]
        brakes, speeds = [s for s in brakes if s not in both], [s for s in speeds if s not in both]
        label = lambda sids: ", ".join(names[s].lower() for s in sids)  # noqa: E731
        if brakes:
            lines.append(self.sentence("dept_brakes", "brakes_most", tuple(brakes), situations=label(brakes),
                                       share=pct(share[brakes[0]].get("brakes", 0.0))))
        if speeds:
            lines.append(self.sentence("dept_speeds", "helps_most", tuple(speeds), situations=label(speeds),
                                       share=pct(share[speeds[0]].get("speeds_up", 0.0))))
        if both:
            lines.append(self.sentence("dept_divided", "divided", tuple(both), situations=label(both),
                                       brakes=pct(share[both[0]].get("brakes", 0.0)),
                                       speeds=pct(share[both[0]].get("speeds_up", 0.0))))
        for outcome in SHARE_OUTCOMES:
            for direction, word in ((1, "more"), (-1, "fewer")):
                found = []
                for c in cells:
                    v = self.claims.shares_versus_rest.get(f"{c.situation}.{outcome}", {}).get(g.key)
                    org = self.org.pace.get(c.situation)
                    if v is None or v.direction != direction or org is None or org.effect is None:
                        continue
                    mine, theirs = c.effect.get(outcome, 0.0), org.effect.get(outcome, 0.0)
                    if (mine - theirs) * direction > 0 and pct(mine) != pct(theirs):
                        found.append((c.situation, mine, theirs))
                found.sort(key=lambda f: -direction * f[1])
                if found:
                    lines.append(self.sentence(f"dept_{word}_{outcome}", f"{word}_{outcome}",
                                               tuple(s for s, _, _ in found), situations=self.named(
                        [(names[s].lower(), self.w["versus_organisation"].format(value=pct(mine),
                                                                                   organisation=pct(theirs)))
                         for s, mine, theirs in found])))
        return lines

    def manager_gap(self) -> Table | None:
        """Managers against employees: the two shown scores, the gap (managers minus employees,
        over the people's own scores: the figure the claim is about) and its margin (2k rule)."""
        managers = self.r.managers
        if managers is None or not managers.dimensions:
            return None
        rows = []
        variables = ([f"derived:{self.r.headline}"] if self.r.headline else []) + [f"dim:{k}" for k in self.q.dimensions]
        for var in variables:
            a, b = self.shown_value(self.org, var), self.shown_value(managers, var)
            if a is None or b is None:
                continue
            v = self.claims.managers.get(var)
            gap = self.signed(v.estimate) if v is not None and v.estimate is not None else "–"
            rows.append(Row(self.score_name(var), [fmt(a.mean), fmt(b.mean), gap, self.gap_margin(v)]))
        return Table([self.w["dimension"], self.w["employees"], self.w["managers"], self.w["gap"], self.w["margin"]],
                     rows)

    def retention(self, groups: list[GroupResult]) -> Table | None:
        items = [i for i in self.q.items if isinstance(i, m.StatementItem) and i.dimension is None]
        if not items:
            return None
        headers = [self.w["group"]] + [self.label(i.id, i.text) for i in items]
        rows = [Row(self.group_name(g), [self.estimate_cell(g, f"item:{i.id}", g.items.get(i.id), 1, show_n=True)
                                         for i in items]) for g in groups]
        return Table(headers, rows)

    def choices(self) -> list[tuple[str, Table]]:
        """Choice questions per section, organisation-wide: share per option."""
        tables = []
        for section in self.q.sections:
            for item in section.items:
                result = self.org.choices.get(item.id)
                if not isinstance(item, m.ChoiceItem) or result is None:
                    continue
                scale = self.q.scales[item.scale]
                rows = [Row(self.label(f"{item.scale}.{o.code}", o.label),
                            [self.cell(self.org, f"choice:{item.id}", pct(result.shares[str(o.code)]), result.n)])
                        for o in scale.options]
                tables.append((self.label(section.id, section.title),
                               Table([self.label(item.id, item.text), f"{self.w['share']} (n={result.n})"], rows)))
        return tables

    def breakdowns(self) -> list[tuple[str, Table]]:
        tables = []
        for question in self.q.background:
            rows = [b for b in self.r.breakdowns if b.background == question.id]
            if not rows:
                continue
            scale = self.q.scales[question.scale]
            labels = {str(o.code): self.label(f"{question.scale}.{o.code}", o.label) for o in scale.options}
            headers = [self.label(question.id, question.text), self.w["people"]]
            with_index = any(b.index is not None for b in rows) and self.r.headline
            if with_index:
                headers += [self.t(self.q_derived(self.r.headline).name), self.w["n"]]
            table_rows = [Row(labels.get(b.option, b.option), [
                Cell(str(b.n), f"background:{question.id}={b.option}", self.w["organisation"], b.n)]
                + ([Cell(fmt(b.index.mean), f"derived:{self.r.headline}", f"band:{question.id}={b.option}",
                         b.index.n), str(b.index.n)] if with_index and b.index else ["–", "–"] if with_index else []))
                for b in rows]
            tables.append((self.label(question.id, question.text), Table(headers, table_rows)))
        return tables

    def open_answers(self, group: GroupResult | None) -> list[tuple[str, list[str]]]:
        """Quotes per open question: approved ones from a reviewed workbook when there is one,
        otherwise the most frequent answers (ties alphabetically): the same every run."""
        from survey.quotes import chosen_quotes

        if group is None:
            return []
        found = []
        for item in self.q.items:
            if isinstance(item, m.OpenItem) and item.id in group.open_answers:
                answers = chosen_quotes(self.r, group, item.id, self.reviewed)
                if answers:
                    found.append((self.label(item.id, item.text), answers))
        return found

    def hidden_lines(self) -> list[str]:
        lines = []
        for h in self.r.hidden:
            name = group_label(self.r, MANAGERS) if h.name == MANAGERS else h.name
            if h.reason == "small":
                lines.append(self.w["hidden_small"].format(name=name, threshold=self.r.scan.anonymity_threshold))
            else:
                lines.append(self.w["hidden_complement"].format(name=name, protects=", ".join(h.protects)))
        if self.r.others is not None:
            lines.append(self.w["hidden_combined"].format(label=self.group_name(self.r.others)))
        return lines

    def response_base(self) -> Response:
        """Everyone who answered over the expected headcount: the definition `survey status`
        uses too (survey/bases.py)."""
        return response(self.r.scan.departments, self.r.n_employees, self.r.n_managers)

    # -- survey/analysis/quality.py: statements per part, marks, measurement quality
    def margin(self, e: Estimate | None, digits: int = 0) -> str:
        """'52 (49–55)': the figure with its margin when it may be shown (`shown_interval`)."""
        return fmt_estimate(e, digits, self.r.scan.anonymity_threshold)

    @staticmethod
    def share_margin(s: Share | None) -> str:
        return "–" if s is None else f"{pct(s.share)} ({100 * s.low:.0f}–{100 * s.high:.0f})"

    def statements_table(self) -> Table | None:
        """Organisation: per part its score, then its statements on 0-100 with margin, share
        favourable (Wilson margin) and n."""
        g = self.org
        rows = []
        for key, dim in self.q.dimensions.items():
            d = g.dimension_scores.get(key)
            if d is None:
                continue
            score = Estimate(d.mean, d.ci_low if d.ci_low is not None else math.nan,
                             d.ci_high if d.ci_high is not None else math.nan, d.n)
            rows.append(Row(self.t(dim.name), [
                self.cell(g, f"dim:{key}", self.margin(score), None),
                pct(d.favourable) if d.favourable is not None else "–",
                self.cell(g, f"dimension_n:{key}", str(d.n), d.n) if d.n is not None else "–"], note="part"))
            for item in self.q.dimension_items(key):
                shares = g.item_shares.get(item.id)
                if shares is None or shares.score is None:
                    continue
                var = f"item:{item.id}"
                rows.append(Row(self.t(item.text), [
                    self.cell(g, var, self.margin(shares.score), shares.n),
                    self.cell(g, var, self.share_margin(shares.favourable), shares.n) if shares.favourable else "–",
                    self.cell(g, var, str(shares.n), shares.n)]))
        if not rows:
            return None
        return Table([self.w["statement"], f"{self.w['score']} ({self.w['margin'].lower()})",
                      f"{self.w['favourable']} ({self.w['margin'].lower()})", self.w["n"]], rows)

    def mark_scale(self) -> m.Scale | None:
        return next((self.q.scales[i.scale] for i in self.q.items
                     if isinstance(i, m.ScoreItem) and quality.is_mark(self.q.scales[i.scale])), None)

    def marks_table(self) -> Table | None:
        g, rows = self.org, []
        for item in self.q.items:
            if not isinstance(item, m.ScoreItem) or not quality.is_mark(self.q.scales[item.scale]):
                continue
            shares, e = g.item_shares.get(item.id), g.items.get(item.id)
            if shares is None or e is None:
                continue
            var = f"item:{item.id}"
            rows.append(Row(self.t(item.text), [
                self.cell(g, var, self.margin(e, 1), e.n),
                self.cell(g, var, self.share_margin(shares.insufficient), e.n),
                self.cell(g, var, self.share_margin(shares.good), e.n),
                self.cell(g, var, str(e.n), e.n)]))
        if not rows:
            return None
        return Table([self.w["question"], f"{self.w['mark_average']} ({self.w['margin'].lower()})",
                      self.w["mark_insufficient"], self.w["mark_good"].format(good=quality.MARK_GOOD_FROM),
                      self.w["n"]], rows)

    def quality_table(self) -> Table | None:
        g, rows = self.org, []
        verdicts = {None: "quality_ok", "questionable": "quality_questionable", "weak": "quality_weak"}
        for d in (d for d in self.r.reliability if d.group == ORGANISATION):
            var = f"reliability:{d.dimension}"

            def coefficient(value: float | None, ci: tuple[float, float] | None) -> str:
                if value is None:
                    return "–"
                return f"{fmt(value, 2)} ({fmt(ci[0], 2)}–{fmt(ci[1], 2)})" if ci else fmt(value, 2)

            computed = d.alpha is not None or d.omega is not None
            cells: list[str | Cell] = [
                self.cell(g, var, str(d.n_complete), d.n_complete) if d.n_complete is not None else "–",
                self.cell(g, var, coefficient(d.alpha, d.alpha_ci), d.n_complete) if d.alpha is not None else "–",
                self.cell(g, var, coefficient(d.omega, d.omega_ci), d.n_complete) if d.omega is not None else "–",
                self.w[verdicts[d.verdict]] if computed else self.w["quality_unknown"]]
            rows.append(Row(self.t(self.q.dimensions[d.dimension].name), cells))
        if not rows:
            return None
        return Table([self.w["quality_part"], self.w["quality_n_complete"],
                      f"{self.w['quality_alpha']} ({self.w['margin'].lower()})",
                      f"{self.w['quality_omega']} ({self.w['margin'].lower()})", self.w["quality_verdict"]], rows)

    def quality_lines(self) -> list[str]:
        def number(v: float) -> str:
            return fmt(v, 2)

        lines = []
        for d in (d for d in self.r.reliability if d.group == ORGANISATION):
            lines += quality.dimension_flag_lines(d, self.t(self.q.dimensions[d.dimension].name), self.w, number)
        for iq in self.r.item_quality.get(ORGANISATION, []):
            name = self.t(self.q.dimensions[iq.dimension].name) if iq.dimension else self.t(self.q.title)
            lines += quality.item_flag_lines(iq, self.t(self.q.item(iq.item_id).text), name, self.w, number, pct)
        assessed = {d.dimension for d in self.r.reliability if d.group == ORGANISATION}
        for key, dim in self.q.dimensions.items():
            if key not in assessed:  # one statement only: there is no reliability to speak of
                lines.append(self.w["quality_single"].format(name=self.t(dim.name)))
        if not lines and assessed:
            lines.append(self.w["quality_all_good"].format(threshold=number(quality.rel.QUESTIONABLE)))
        return lines

    def methods_quality(self) -> list[str]:
        """The definitions, filled from the constants the analysis uses."""
        values = quality.methods_values(lambda v: fmt(v, 2), pct)
        scale = self.mark_scale()
        low, high = (scale.min, scale.max) if scale else (1, 10)
        return [self.w["methods_margin"], self.w["methods_part_score"],
                self.w["methods_favourable"].format(**values, low=low, high=high),
                self.w["methods_reliability"].format(**values)]

    def questionnaire_wording(self) -> dict[str, str]:
        """Intros whose names, counts and scale ends come from the questionnaire."""
        w, found = self.w, {}
        found["partnership_map_intro"] = w["partnership_map_intro"].format(
            index=self.t(self.q_derived(self.r.headline).name) if self.r.headline else "",
            count=len(self.q.dimensions))
        score = next((d for d in self.q.derived if d.id == "werkgeluk"), None)
        if score is not None:
            scale = self.q.scales[self.q.item(score.of[0]).scale]
            found["werkgeluk_name"] = self.t(score.name)
            found["werkgeluk_intro"] = w["werkgeluk_intro"].format(description=self.t(score.description),
                                                                   low=scale.min, high=scale.max)
        retention = [i for i in self.q.items if isinstance(i, m.StatementItem) and i.dimension is None]
        if retention:
            low, high = self.q.scales[retention[0].scale].numeric_range or (None, None)
            found["retention_intro"] = w["retention_intro"].format(low=fmt(low), high=fmt(high))
        scale = self.mark_scale()
        if scale is not None:
            found["marks_intro"] = w["marks_intro"].format(low=scale.min, high=scale.max,
                                                           insufficient=quality.MARK_INSUFFICIENT_BELOW,
                                                           good=quality.MARK_GOOD_FROM)
        return found

    def build(self) -> ReportModel:
        from survey.quotes import load_review

        r, w = self.r, self.w
        self.reviewed = load_review(r.scan)
        groups = r.groups
        pages = []
        for number_, g in enumerate(r.departments, start=1):
            head = self.headline(g)
            pace = self.pace_table(g)
            pace.id = f"table-pace-{number_}"
            pages.append(DepartmentPage(
                name=g.key, n=g.n, response_rate=pct(g.response_rate), headline=fmt_estimate(head, threshold=self.r.scan.anonymity_threshold),
                dimensions=Table([w["dimension"], w["score"]],
                                 [Row(self.t(d.name), [self.estimate_cell(g, f"dim:{k}", g.dimensions.get(k))])
                                  for k, d in self.q.dimensions.items()]),
                pace=pace, pace_chart=self.department_pace_chart(g, number_), desired=self.desired_table(g),
                highlights=self.highlights(g), drivers=self.driver_views(g),
                base=w["dept_base"].format(employees=g.n, expected=g.expected or "–", rate=pct(g.response_rate)),
                **self.sheet_fields(g)))
        dimension_table = self.dimension_table(groups) if self.q.dimensions else None
        if dimension_table is not None:
            dimension_table.id = "table-dimensions"
        base = self.response_base()
        head = self.headline(self.org)
        return ReportModel(
            lang=self.lang, words=w, organisation=r.scan.organisation, wave=r.scan.wave,
            questionnaire=f"{self.t(self.q.title)} {self.q.version}", generated=long_date(date.today(), self.lang),
            version=__version__, threshold=r.scan.anonymity_threshold, n_responses=base.total,
            n_employees=r.n_employees, n_managers=r.n_managers, response_rate=pct(base.rate),
            response=base.describe(self.lang),
            headline_name=self.t(self.q_derived(r.headline).name) if r.headline else "",
            headline_value=fmt_estimate(head, threshold=self.r.scan.anonymity_threshold), headline_mean=fmt(head.mean if head else None), summary=self.summary(groups),
            partnership_chart=self.partnership_chart(groups),
            dimension_table=dimension_table,
            werkgeluk_chart=self.werkgeluk_chart(groups), retention=self.retention(groups),
            pace_chart=self.pace_chart(groups), initiative_chart=self.initiative_chart(),
            brake_table=self.pace_table(self.org) if self.org.pace else None, manager_gap=self.manager_gap(),
            desired=self.desired_table(self.org), choices=self.choices(), breakdowns=self.breakdowns(),
            dialogue=[w[f"dialogue_{i}"] for i in range(1, 6)], open_answers=self.open_answers(self.org),
            departments=pages, hidden_departments=len(r.hidden_departments),
            suppressed_figures=len(r.suppressed), hidden=self.hidden_lines(),
            manager_answers=self.open_answers(r.managers),
            quotes_note=w["methods_quotes"] + " " + w["methods_quotes_reviewed" if self.reviewed is not None
                                                        else "methods_quotes_unreviewed"],
            protection=r.protection,
            n_unverified=r.n_unverified, hidden_count=counted(len(r.hidden_departments), "count_departments", self.lang),
            languages_offered=len(r.scan.form_languages) > 1,
            drivers_title=self.drivers_title(), drivers=self.driver_views(self.org),
            drivers_notes=self.drivers_notes(), drivers_methods=self.drivers_methods(),
            claims_note=w["methods_claims"].format(alpha=fmt(self.claims.alpha, 2),
                                                   double=2 * r.scan.anonymity_threshold),
            dimensions=[(self.t(d.name), self.label(f"{k}.description", d.description))
                        for k, d in self.q.dimensions.items()],
            statements=self.statements_table(), marks=self.marks_table(), quality=self.quality_table(),
            quality_lines=self.quality_lines(), methods_quality=self.methods_quality(),
            **self.questionnaire_wording())


def _balance(g: GroupResult, situation: str) -> float:
    cell = g.pace.get(situation)
    return math.nan if cell is None or cell.balance is None else cell.balance


def build_report_model(results: AnalysisResult) -> ReportModel:
    with formatting(results.scan.language):
        return _Builder(results).build()


def environment(scan: Scan) -> ImmutableSandboxedEnvironment:
    """The scan folder's templates/ first, then the bundled ones.

    A scan folder may come from anyone, so its templates are data, not code: every template
    runs in Jinja's sandbox (no Python internals, no changing the report model), and a file
    is only read from inside its own templates folder, never through a link out of it."""
    loaders = []
    scan_templates = _scan_templates(scan)
    if scan_templates is not None:
        loaders.append(_ContainedLoader(str(scan_templates)))
    loaders.append(_ContainedLoader(str(reports_dir() / "templates")))
    env = ImmutableSandboxedEnvironment(
        loader=ChoiceLoader(loaders), autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)
    env.filters["shown"] = shown
    return env


class _ContainedLoader(FileSystemLoader):
    """A FileSystemLoader that refuses a template whose real path lies outside its folder
    (a theme.css that is a link to ~/.ssh/id_rsa would otherwise end up in the report)."""

    def get_source(self, environment: Environment,
                   template: str) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        folder = self.searchpath[0]
        if not _inside(Path(filename), Path(folder)):
            raise ReportError(f"the template {filename} is a link to a file outside {folder}",
                              fix="copy the file itself into that folder")
        return source, filename, uptodate


def _inside(path: Path, folder: Path) -> bool:
    """Whether `path`, all links followed, lies inside `folder` (links followed too)."""
    return os.path.realpath(path).startswith(os.path.realpath(folder) + os.sep)


def _scan_templates(scan: Scan) -> Path | None:
    """DIR/templates if the scan has one; it must really be inside the scan folder."""
    folder = scan.folder / "templates"
    if not folder.is_dir():
        return None
    # "x": a name inside it, so the folder itself may be a link as long as it stays inside
    if not _inside(folder / "x", scan.folder):
        raise ReportError(f"{folder} is a link to a folder outside the scan folder {scan.folder}",
                          fix="copy the templates into the scan folder itself")
    return folder


def inert_css(css: str) -> str:
    """CSS that can sit inside <style> without ending it.

    An HTML parser ends the style element at the first '</style', whatever the CSS around
    it means, and the rest becomes HTML (a <script>, say). So no '<' may remain: '\\3c ' is
    CSS's own escape for it, so a '<' inside a CSS string still shows as '<'."""
    return css.replace("<", "\\3c ")


def render_html(scan: Scan, model: ReportModel) -> str:
    env = environment(scan)
    try:
        css = env.loader.get_source(env, "theme.css")[0]  # type: ignore[union-attr]
        template = env.get_template("report.html")
        return template.render(report=model, w=model.words, css=inert_css(css))
    except ReportError:
        raise
    except Exception as exc:
        error = _template_error(scan, exc)
        if error is None:
            raise
        raise error from exc


def _template_error(scan: Scan, exc: Exception) -> ReportError | None:
    """A readable error for a template that cannot be rendered, naming the file and line;
    None when the fault is not in a template at all (a bug elsewhere keeps its traceback)."""
    where: tuple[str, int | None] | None = None
    if isinstance(exc, TemplateSyntaxError) and exc.filename:
        where = (exc.filename, exc.lineno)
    else:
        # Jinja rewrites the traceback so a template's frames carry its file name and line
        roots = [d for d in (_scan_templates(scan), reports_dir() / "templates") if d is not None]
        for frame, line in traceback.walk_tb(exc.__traceback__):
            name = frame.f_code.co_filename
            if any(_inside(Path(name), root) for root in roots):
                where = (name, line)
    if where is None and not isinstance(exc, TemplateError):
        return None
    file, line = where if where else (None, None)
    reason = (str(exc) or type(exc).__name__).rstrip(".")
    if isinstance(exc, SecurityError):
        reason = f"it reaches for Python internals, which a report template may not do ({reason})"
    own = scan.folder / "templates"
    if file is not None and own.is_dir() and _inside(Path(file), own):
        fix = (f"correct {Path(file).name} in {own}, or remove it to use the bundled template; "
               "templates may only lay out the report's data")
    else:
        fix = ("this is a fault in survey itself; please report it with the output of "
               "'survey --debug report'")
    return ReportError(f"the report template cannot be used: {reason}", fix=fix,
                       where=Location(file=file, line=line))


@dataclass
class ReportFiles:
    """What `write_outputs` wrote, for the CLI to name, and how long each output took."""

    html: Path
    pdf: Path | None = None
    charts: list[Path] = field(default_factory=list)  # output/charts: <chart id>.svg and .png
    teams: list[Path] = field(default_factory=list)  # output/teams: one PDF per department shown
    deck: Path | None = None
    no_sheet: list[str] = field(default_factory=list)  # hidden departments: no team sheet
    removed: list[Path] = field(default_factory=list)  # team sheets and chart files of an earlier run
    timings: dict[str, float] = field(default_factory=dict)  # seconds per output (benchmarks/report.py)
    cpu: dict[str, float] = field(default_factory=dict)  # the same, CPU seconds of this process

    @property
    def paths(self) -> list[Path]:
        return [self.html] + ([self.pdf] if self.pdf else [])


CHART_DPI = 200  # PNG chart files and the slide deck's pictures: print quality


def write_report(scan: Scan, out: Path | None = None, *, results: AnalysisResult | None = None,
                 pdf: bool = True, replace_earlier: bool = False) -> list[Path]:
    """Write report.html (self-contained) and report.pdf; returns their paths."""
    return write_outputs(scan, out, results=results, pdf=pdf, replace_earlier=replace_earlier,
                         dialogue=False).paths


def write_outputs(scan: Scan, out: Path | None = None, *, results: AnalysisResult | None = None,
                  pdf: bool = True, replace_earlier: bool = False, dialogue: bool = True) -> ReportFiles:
    """The report (report.html, report.pdf) and, with `dialogue`, what the consultant takes
    into the team sessions, all from one report model: every chart as SVG and PNG
    (charts/), a team sheet per department shown (teams/, PDF: not with `pdf=False`) and
    the slide deck (report.pptx)."""
    from time import perf_counter, process_time

    results = results or analyse_scan(scan, replace_earlier=replace_earlier)
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    started, used = perf_counter(), process_time()
    publish(results, "report")  # before writing: a half-written file is published too
    timings["publish"] = perf_counter() - started
    cpu["publish"] = process_time() - used
    started, used = perf_counter(), process_time()
    if dialogue:
        with charts.raster(CHART_DPI):
            model = build_report_model(results)
    else:
        model = build_report_model(results)
    timings["model and charts"] = perf_counter() - started
    cpu["model and charts"] = process_time() - used
    started, used = perf_counter(), process_time()
    html = render_html(scan, model)
    folder = out or scan.output_dir
    folder.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(folder / "report.html", timings=timings, cpu=cpu)
    write_text_atomic(files.html, html)  # complete or not at all, even on a full disk
    timings["report.html"] = perf_counter() - started
    cpu["report.html"] = process_time() - used
    if pdf:
        started, used = perf_counter(), process_time()
        files.pdf = folder / "report.pdf"
        document = render_pdf(scan, html)
        with quiet_weasyprint(), atomic_path(files.pdf) as partial:
            document.write_pdf(partial)
        timings["report.pdf"] = perf_counter() - started
        cpu["report.pdf"] = process_time() - used
    if not dialogue:
        return files
    from survey.deck import write_deck
    from survey.teams import write_team_sheets

    started, used = perf_counter(), process_time()
    files.charts, removed = write_chart_files(model, folder / "charts")
    files.removed += removed
    timings["charts/"] = perf_counter() - started
    cpu["charts/"] = process_time() - used
    files.no_sheet = list(results.hidden_departments)
    if pdf:
        started, used = perf_counter(), process_time()
        sheets = write_team_sheets(scan, model, folder / "teams")
        files.teams, files.removed = sheets.paths, files.removed + sheets.removed
        timings["teams/"] = perf_counter() - started
        cpu["teams/"] = process_time() - used
    started, used = perf_counter(), process_time()
    files.deck = write_deck(model, folder / "report.pptx")
    timings["report.pptx"] = perf_counter() - started
    cpu["report.pptx"] = process_time() - used
    return files


def all_charts(model: ReportModel) -> list[Chart]:
    """Every chart of the report, in the order the report shows them."""
    found = [model.partnership_chart, model.werkgeluk_chart, model.pace_chart, model.initiative_chart]
    found += [d.chart for d in model.drivers]
    for page in model.departments:
        found.append(page.pace_chart)
        found += [d.chart for d in page.drivers]
    return [c for c in found if c is not None]


def write_chart_files(model: ReportModel, folder: Path) -> tuple[list[Path], list[Path]]:
    """Each chart as `<chart id>.svg` and `<chart id>.png` (drawn inside charts.raster), and
    `charts.txt` naming what each file shows; files of an earlier run's charts are removed."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    lines = []
    owner = {id(p.pace_chart): p.name for p in model.departments if p.pace_chart is not None}
    owner |= {id(d.chart): p.name for p in model.departments for d in p.drivers}
    for chart in all_charts(model):
        title = f"{chart.title} – {owner[id(chart)]}" if id(chart) in owner else chart.title
        svg_path, png_path = folder / f"{chart.id}.svg", folder / f"{chart.id}.png"
        write_text_atomic(svg_path, charts.standalone(chart.svg, title, chart.description))
        written.append(svg_path)
        if chart.png is not None:
            write_bytes_atomic(png_path, chart.png)
            written.append(png_path)
        lines.append(f"{chart.id}\t{title}")
    index = folder / "charts.txt"
    write_text_atomic(index, "\n".join(lines) + "\n")
    keep = {p.name for p in written} | {index.name}
    removed = [old for old in sorted(folder.iterdir()) if old.suffix in (".svg", ".png") and old.name not in keep]
    for old in removed:
        old.unlink()
    return written, removed


def render_pdf(scan: Scan, html: str) -> "Document":
    """Lay out `html` for paper with WeasyPrint (only local resources, see `_pdf_resources`);
    the report and the team sheets both go through here. Write it inside `quiet_weasyprint`."""
    try:
        from weasyprint import HTML
    except OSError as exc:  # Pango missing on this system
        raise ReportError(f"the PDF cannot be made: {exc}",
                          fix="install Pango (Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0), "
                              "or use --no-pdf")
    base_url, fetcher = _pdf_resources(scan)
    with quiet_weasyprint():
        return HTML(string=html, base_url=base_url, url_fetcher=fetcher).render()


@contextmanager
def quiet_weasyprint() -> Iterator[None]:
    """WeasyPrint warns about every SVG style property its CSS parser skips; the charts
    render correctly, so only real errors are let through."""
    logger = logging.getLogger("weasyprint")
    level = logger.level
    logger.setLevel(logging.ERROR)
    logger.addFilter(_quiet_refusals)
    try:
        yield
    finally:
        logger.removeFilter(_quiet_refusals)
        logger.setLevel(level)


class RefusedResource(ValueError):
    """A URL the PDF renderer may not fetch: anything on the network, any file outside the
    template folders."""


def _quiet_refusals(record: logging.LogRecord) -> bool:
    """A refused URL is expected (a hostile or careless theme), not an error to show: the
    PDF is made without it."""
    return RefusedResource.__name__ not in record.getMessage()


def _pdf_resources(scan: Scan) -> tuple[str, URLFetcher]:
    """Base URL and URL fetcher for WeasyPrint. The report itself is self-contained (inline
    CSS, SVG charts, data: images); a theme may use files from its own templates folder (a
    logo, a font). Nothing else is fetched: no network, no other file (a theme's
    url(file:///etc/passwd) or @import of a tracking URL)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse  # a class since WeasyPrint 68

    roots = [d for d in (_scan_templates(scan), reports_dir() / "templates") if d is not None]

    class LocalFetcher(URLFetcher):
        def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":  # decoded by urllib's DataHandler, nothing leaves the process
                return super().fetch(url, headers)
            path = _local_file(url) if scheme == "file" else None
            if path is None or not any(_inside(path, root) for root in roots) or not path.is_file():
                raise RefusedResource(url)
            real = Path(os.path.realpath(path))  # read what was checked, not a link swapped in
            content_type = mimetypes.guess_type(real.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, real.read_bytes(), {"Content-Type": content_type})

    # allowed_protocols: should super().fetch ever see another URL, urllib refuses it too
    fetcher = LocalFetcher(allowed_protocols={"data"}, allow_redirects=False)
    # a trailing slash, so a theme's url(logo.png) resolves inside its own folder
    return Path(os.path.abspath(roots[0])).as_uri() + "/", fetcher


def _local_file(url: str) -> Path | None:
    """The path of a file: URL on this machine (file:///x or file://localhost/x), else None."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        return None
    return Path(url2pathname(parts.path))

