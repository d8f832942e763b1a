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
from collections.abc import Callable
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
from survey.atomic import atomic_path, write_text_atomic
from survey.analysis import AnalysisResult, Estimate, GroupResult, analyse_scan, group_label, publish, shown_interval
from survey.disclosure import MANAGERS
from survey.errors import Location, ReportError
from survey.i18n import wording
from survey.questionnaire import model as m
from survey.resources import reports_dir
from survey.scan import Scan

if TYPE_CHECKING:  # WeasyPrint is imported only when a PDF is made (it needs Pango)
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


@dataclass
class Row:
    label: str
    cells: list[str | Cell]
    note: str = ""


@dataclass
class Table:
    headers: list[str]
    rows: list[Row]


@dataclass
class DriverView:
    """One outcome's priority matrix for one group (survey/analysis/drivers.py)."""

    outcome: str  # the outcome's name
    heading: str  # "What goes together with <outcome>?"
    chart: str
    table: Table
    caption: str  # n and explained variance
    first: str  # what to work on first, in words


@dataclass
class DepartmentPage:
    name: str
    n: int
    response_rate: str
    headline: str
    dimensions: Table
    pace: Table
    pace_chart: str | None
    desired: Table | None
    highlights: list[str]
    drivers: list[DriverView] = field(default_factory=list)


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
    response_rate: str
    headline_name: str
    headline_value: str  # mean with its interval
    headline_mean: str
    summary: list[str]
    partnership_chart: str | None
    dimension_table: Table | None
    werkgeluk_chart: str | None
    retention: Table | None
    pace_chart: str | None
    initiative_chart: str | None
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
    drivers_title: str = ""  # empty: the questionnaire declares no outcome
    drivers: list[DriverView] = field(default_factory=list)
    drivers_notes: list[str] = field(default_factory=list)  # outcomes without an organisation result, why
    drivers_methods: list[str] = field(default_factory=list)


def fmt(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def fmt_estimate(value: Estimate | None, digits: int = 0, threshold: int = 5) -> str:
    if value is None:
        return "–"
    low, high = shown_interval(value, threshold)
    if low is None or high is None:
        return fmt(value.mean, digits)
    return f"{value.mean:.{digits}f} ({low:.{digits}f}–{high:.{digits}f})"


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


class _Builder:
    def __init__(self, results: AnalysisResult):
        self.r = results
        self.q = results.questionnaire
        self.lang = results.scan.language
        self.w = wording(self.lang)
        self.org = results.organisation_result

    def t(self, text: m.Text | None) -> str:
        return text.get(self.lang, next(iter(text.values()))) if text else ""

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
        return {s.id: self.t(s.text).split(" (")[0] if short else self.t(s.text) for s in grid.situations}

    def headline(self, g: GroupResult) -> Estimate | None:
        return g.derived.get(self.r.headline) if self.r.headline else None

    # -- tables
    def dimension_table(self, groups: list[GroupResult]) -> Table:
        headers = [self.w["group"], self.w["responses"]]
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
                              self.cell(g, var, f"{round(cell.balance) + 0:+d}", cell.n_effect),
                              self.cell(g, var, str(cell.n_effect), cell.n_effect)]
            rows.append(Row(name, cells))
        return Table([self.w["situation"], self.w["own_initiative"], self.w["n"], self.w["speeds_up"],
                      self.w["brakes"], self.w["balance"], self.w["n"]], rows)

    def desired_table(self, g: GroupResult) -> Table | None:
        if not g.desired:
            return None
        items = sorted(g.desired.items(), key=lambda kv: -(kv[1].desired - kv[1].current))
        rows = [Row(self.t(self.q.item(k).text), [
            self.cell(g, f"item:{k}", fmt(v.current), v.n_current), self.cell(g, f"item:{k}", str(v.n_current),
                                                                             v.n_current),
            self.cell(g, f"item:{k}.desired", fmt(v.desired), v.n_desired),
            self.cell(g, f"item:{k}.desired", str(v.n_desired), v.n_desired),
            f"{v.desired - v.current:+.0f}"]) for k, v in items]
        return Table([self.w["statement"], self.w["now"], self.w["n_now"], self.w["desired"], self.w["n_desired"],
                      self.w["gap"]], rows)

    # -- charts
    def partnership_chart(self, groups: list[GroupResult]) -> str | None:
        if not self.q.dimensions:
            return None
        names = [self.group_name(g) for g in groups]
        index = [self.headline(g).mean if self.headline(g) else None for g in groups]
        dims = {self.t(d.name): [g.dimensions[k].mean if k in g.dimensions else None for g in groups]
                for k, d in self.q.dimensions.items()}
        return charts.partnership_map(names, index, dims, self.w["traditional"], self.w["partnership"],
                                      self.t(self.q_derived(self.r.headline).name) if self.r.headline else "")

    def pace_chart(self, groups: list[GroupResult]) -> str | None:
        situations = self.situation_names(short=True)
        if not situations or not self.org.pace:
            return None
        matrix = np.array([[_balance(g, s) for g in groups] for s in situations])
        return charts.pace_heatmap(list(situations.values()), [self.group_name(g) for g in groups], matrix,
                                   self.w["balance_axis"], "·")

    def department_pace_chart(self, g: GroupResult) -> str | None:
        situations = self.situation_names(short=True)
        if not g.pace:
            return None
        return charts.balance_bars(list(situations.values()),
                                   [None if math.isnan(_balance(g, s)) else _balance(g, s) for s in situations],
                                   self.w["balance_axis"])

    def initiative_chart(self) -> str | None:
        situations = {s: n for s, n in self.situation_names(short=True).items()
                      if s in self.org.pace and self.org.pace[s].initiative is not None}
        if not situations or self.grid is None:
            return None
        scale = self.q.scales[self.grid.initiative_scale]
        shares = {option.label[self.lang]: [self.org.pace[s].initiative.get(str(option.code), 0.0)
                                            for s in situations] for option in scale.options}
        return charts.stacked_shares(list(situations.values()), shares,
                                     ["#1F6B5E", "#6FA89B", "#E0A458", "#B2402E"])

    def werkgeluk_chart(self, groups: list[GroupResult]) -> str | None:
        score = next((d for d in self.q.derived if d.id == "werkgeluk"), None)
        if score is None or score.id not in self.org.derived:
            return None
        shown = [g for g in groups[1:] if score.id in g.derived]
        scale = self.q.scales[self.q.item(score.of[0]).scale]
        return charts.score_bars([self.group_name(g) for g in shown], [g.derived[score.id].mean for g in shown],
                                 float(scale.min or 0), float(scale.max or 10), self.org.derived[score.id].mean,
                                 self.w["organisation"])

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
                if wt.current is not None and round(wt.importance) > split and round(wt.current) < middle:
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
            views.append(DriverView(name, self.w["drivers_one"].format(name=name.lower()), chart, table, caption,
                                    text))
        return views

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

    # -- texts
    def summary(self, groups: list[GroupResult]) -> list[str]:
        w, lines = self.w, []
        depts = [g for g in self.r.departments if self.headline(g)]
        if depts and self.r.headline:
            best = max(depts, key=lambda g: self.headline(g).mean)
            worst = min(depts, key=lambda g: self.headline(g).mean)
            lines.append(w["summary_best"].format(name=best.key, value=fmt(self.headline(best).mean)))
            lines.append(w["summary_worst"].format(name=worst.key, value=fmt(self.headline(worst).mean)))
        braking = sorted((c for c in self.org.pace.values() if c.balance is not None), key=lambda c: c.balance)[:3]
        names = self.situation_names()
        if braking:
            lines.append(w["summary_brakes"].format(
                situations=", ".join(f"{names[c.situation].lower()} ({pct(c.effect.get('brakes'))})"
                                     for c in braking)))
        if self.r.managers is not None and self.r.headline and self.r.headline in self.r.managers.derived \
                and self.headline(self.org):
            gap = self.r.managers.derived[self.r.headline].mean - self.headline(self.org).mean
            key = "summary_managers_higher" if gap >= 0 else "summary_managers_lower"
            lines.append(w[key].format(gap=f"{abs(gap):.0f}"))
        if "werkgeluk" in self.org.derived:
            lines.append(w["summary_werkgeluk"].format(value=fmt(self.org.derived["werkgeluk"].mean, 1)))
        return lines

    def highlights(self, g: GroupResult) -> list[str]:
        lines = []
        cells = [c for c in g.pace.values() if c.balance is not None]
        if cells:
            worst = min(cells, key=lambda c: c.balance)
            best = max(cells, key=lambda c: c.balance)
            names = self.situation_names()
            lines.append(self.w["dept_brakes"].format(situation=names[worst.situation].lower(),
                                                      share=pct(worst.effect.get("brakes"))))
            lines.append(self.w["dept_speeds"].format(situation=names[best.situation].lower(),
                                                      share=pct(best.effect.get("speeds_up"))))
        if g.dimensions:
            low = min(g.dimensions.items(), key=lambda kv: kv[1].mean)
            lines.append(self.w["dept_lowest"].format(dimension=self.t(self.q.dimensions[low[0]].name),
                                                      value=fmt(low[1].mean)))
        for score in self.q.derived:
            if score.id != self.r.headline and score.id in g.derived and score.id in self.org.derived:
                lines.append(self.w["dept_derived"].format(name=self.t(score.name), value=fmt(g.derived[score.id].mean, 1),
                                                           organisation=fmt(self.org.derived[score.id].mean, 1)))
        return lines

    def manager_gap(self) -> Table | None:
        managers = self.r.managers
        if managers is None or not managers.dimensions:
            return None
        rows = []
        for key, dim in self.q.dimensions.items():
            if key in managers.dimensions and key in self.org.dimensions:
                a, b = self.org.dimensions[key].mean, managers.dimensions[key].mean
                rows.append(Row(self.t(dim.name), [fmt(a), fmt(b), f"{b - a:+.0f}"]))
        return Table([self.w["dimension"], self.w["employees"], self.w["managers"], self.w["gap"]], rows)

    def retention(self, groups: list[GroupResult]) -> Table | None:
        items = [i for i in self.q.items if isinstance(i, m.StatementItem) and i.dimension is None]
        if not items:
            return None
        headers = [self.w["group"]] + [self.t(i.text) for i in items]
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
                rows = [Row(o.label[self.lang], [self.cell(self.org, f"choice:{item.id}", pct(result.shares[str(o.code)]),
                                                           result.n)]) for o in scale.options]
                tables.append((self.t(section.title), Table([self.t(item.text), f"{self.w['share']} (n={result.n})"],
                                                           rows)))
        return tables

    def breakdowns(self) -> list[tuple[str, Table]]:
        tables = []
        for question in self.q.background:
            rows = [b for b in self.r.breakdowns if b.background == question.id]
            if not rows:
                continue
            scale = self.q.scales[question.scale]
            labels = {str(o.code): o.label[self.lang] for o in scale.options}
            headers = [self.t(question.text), self.w["responses"]]
            with_index = any(b.index is not None for b in rows) and self.r.headline
            if with_index:
                headers += [self.t(self.q_derived(self.r.headline).name), self.w["n"]]
            table_rows = [Row(labels.get(b.option, b.option), [
                Cell(str(b.n), f"background:{question.id}={b.option}", self.w["organisation"], b.n)]
                + ([Cell(fmt(b.index.mean), f"derived:{self.r.headline}", f"band:{question.id}={b.option}",
                         b.index.n), str(b.index.n)] if with_index and b.index else ["–", "–"] if with_index else []))
                for b in rows]
            tables.append((self.t(question.text), Table(headers, table_rows)))
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
                    found.append((self.t(item.text), answers))
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

    def build(self) -> ReportModel:
        from survey.quotes import load_review

        r, w = self.r, self.w
        self.reviewed = load_review(r.scan)
        groups = r.groups
        pages = []
        for g in r.departments:
            head = self.headline(g)
            pages.append(DepartmentPage(
                name=g.key, n=g.n, response_rate=pct(g.response_rate), headline=fmt_estimate(head, threshold=self.r.scan.anonymity_threshold),
                dimensions=Table([w["dimension"], w["score"]],
                                 [Row(self.t(d.name), [self.estimate_cell(g, f"dim:{k}", g.dimensions.get(k))])
                                  for k, d in self.q.dimensions.items()]),
                pace=self.pace_table(g), pace_chart=self.department_pace_chart(g), desired=self.desired_table(g),
                highlights=self.highlights(g), drivers=self.driver_views(g)))
        head = self.headline(self.org)
        return ReportModel(
            lang=self.lang, words=w, organisation=r.scan.organisation, wave=r.scan.wave,
            questionnaire=f"{self.t(self.q.title)} {self.q.version}", generated=date.today().isoformat(),
            version=__version__, threshold=r.scan.anonymity_threshold, n_responses=r.n_responses,
            n_employees=r.n_employees, n_managers=r.n_managers, response_rate=pct(self.org.response_rate),
            headline_name=self.t(self.q_derived(r.headline).name) if r.headline else "",
            headline_value=fmt_estimate(head, threshold=self.r.scan.anonymity_threshold), headline_mean=fmt(head.mean if head else None), summary=self.summary(groups),
            partnership_chart=self.partnership_chart(groups),
            dimension_table=self.dimension_table(groups) if self.q.dimensions else None,
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
            n_unverified=r.n_unverified,
            drivers_title=self.drivers_title(), drivers=self.driver_views(self.org),
            drivers_notes=self.drivers_notes(), drivers_methods=self.drivers_methods(),
            dimensions=[(self.t(d.name), self.t(d.description)) for d in self.q.dimensions.values()])


def _balance(g: GroupResult, situation: str) -> float:
    cell = g.pace.get(situation)
    return math.nan if cell is None or cell.balance is None else cell.balance


def build_report_model(results: AnalysisResult) -> ReportModel:
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
    return ImmutableSandboxedEnvironment(
        loader=ChoiceLoader(loaders), autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)


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


def write_report(scan: Scan, out: Path | None = None, *, results: AnalysisResult | None = None,
                 pdf: bool = True, replace_earlier: bool = False) -> list[Path]:
    """Write report.html (self-contained) and report.pdf; returns their paths."""
    results = results or analyse_scan(scan, replace_earlier=replace_earlier)
    publish(results, "report")  # before writing: a half-written file is published too
    model = build_report_model(results)
    html = render_html(scan, model)
    folder = out or scan.output_dir
    folder.mkdir(parents=True, exist_ok=True)
    html_path = folder / "report.html"
    write_text_atomic(html_path, html)  # complete or not at all, even on a full disk
    paths = [html_path]
    if pdf:
        try:
            from weasyprint import HTML
        except OSError as exc:  # Pango missing on this system
            raise ReportError(f"the PDF cannot be made: {exc}",
                              fix="install Pango (Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0), "
                                  "or use --no-pdf")
        pdf_path = folder / "report.pdf"
        # WeasyPrint warns about every SVG style property its CSS parser skips; the charts
        # render correctly, so only real errors are let through.
        logger = logging.getLogger("weasyprint")
        level = logger.level
        logger.setLevel(logging.ERROR)
        logger.addFilter(_quiet_refusals)
        base_url, fetcher = _pdf_resources(scan)
        try:
            with atomic_path(pdf_path) as partial:
                HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf(partial)
        finally:
            logger.removeFilter(_quiet_refusals)
            logger.setLevel(level)
        paths.append(pdf_path)
    return paths


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

