"""The report's measurement sections: statements per part, marks, measurement quality and the
methods filled from the analysis' constants (survey/analysis/quality.py), and what goes
together with the outcomes (survey/analysis/drivers.py)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from survey.analysis import Estimate, GroupResult
from survey.analysis import quality
from survey.disclosure import ORGANISATION
from survey.questionnaire import model as m
from survey.report.base import Wording, cut_at_rank
from survey.report.model import NUMBER, PERCENT, RANGE, DriverView, FigureRef, Row, Sentence, Table, Value
from survey.report.texts import Texts


def _coefficient(value: float | None, ci: tuple[float, float] | None) -> Value | None:
    if value is None:
        return None
    return Value(value, NUMBER, 2, ci[0], ci[1]) if ci else Value(value, NUMBER, 2)


def _number2(v: float) -> Value:
    return Value(v, NUMBER, 2)


def _percent(v: float) -> Value:
    return Value(v, PERCENT)


class Measures(Texts):
    # -- survey/analysis/quality.py
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
                self.cell(g, f"dim:{key}", self.estimate(score), None),
                Value(d.favourable, PERCENT) if d.favourable is not None else "–",
                self.count_cell(g, f"dimension_n:{key}", d.n) if d.n is not None else "–"], note="part"))
            for item in self.q.dimension_items(key):
                shares = g.item_shares.get(item.id)
                if shares is None or shares.score is None:
                    continue
                var = f"item:{item.id}"
                rows.append(Row(self.label(item.id, item.text), [
                    self.cell(g, var, self.estimate(shares.score), shares.n),
                    self.cell(g, var, self.share_margin(shares.favourable), shares.n) if shares.favourable else "–",
                    self.count_cell(g, var, shares.n)]))
        if not rows:
            return None
        return Table([self.w["statement"], f"{self.w['score']} ({self.w['margin'].lower()})",
                      f"{self.w['favourable']} ({self.w['margin'].lower()})", self.w["n"]], rows)

    def marks_table(self) -> Table | None:
        g, rows = self.org, []
        for item in self.q.items:
            if not isinstance(item, m.ScoreItem) or not quality.is_mark(self.q.scales[item.scale]):
                continue
            shares, e = g.item_shares.get(item.id), g.items.get(item.id)
            if shares is None or e is None:
                continue
            var = f"item:{item.id}"
            rows.append(Row(self.label(item.id, item.text), [
                self.cell(g, var, self.estimate(e, 1), e.n),
                self.cell(g, var, self.share_margin(shares.insufficient), e.n),
                self.cell(g, var, self.share_margin(shares.good), e.n),
                self.count_cell(g, var, e.n)]))
        if not rows:
            return None
        return Table([self.w["question"], f"{self.w['mark_average']} ({self.w['margin'].lower()})",
                      self.w["mark_insufficient"], self.say("mark_good", good=quality.MARK_GOOD_FROM),
                      self.w["n"]], rows)

    def quality_table(self) -> Table | None:
        g, rows = self.org, []
        verdicts = {None: "quality_ok", "questionable": "quality_questionable", "weak": "quality_weak"}
        for d in (d for d in self.r.reliability if d.group == ORGANISATION):
            var = f"reliability:{d.dimension}"
            computed = d.alpha is not None or d.omega is not None
            cells: list = [
                self.count_cell(g, var, d.n_complete) if d.n_complete is not None else "–",
                self.cell(g, var, _coefficient(d.alpha, d.alpha_ci), d.n_complete) if d.alpha is not None else "–",
                self.cell(g, var, _coefficient(d.omega, d.omega_ci), d.n_complete) if d.omega is not None else "–",
                self.w[verdicts[d.verdict]] if computed else self.w["quality_unknown"]]
            rows.append(Row(self.t(self.q.dimensions[d.dimension].name), cells))
        if not rows:
            return None
        return Table([self.w["quality_part"], self.w["quality_n_complete"],
                      f"{self.w['quality_alpha']} ({self.w['margin'].lower()})",
                      f"{self.w['quality_omega']} ({self.w['margin'].lower()})", self.w["quality_verdict"]], rows)

    def quality_lines(self) -> list[Sentence]:
        # quality.py fills wording with .format, the workbook's way: here the wording gives
        # typed sentences and the numbers stay numbers
        w = Wording(self.w)
        lines: list[Sentence] = []
        for d in (d for d in self.r.reliability if d.group == ORGANISATION):
            found = quality.dimension_flag_lines(d, self.t(self.q.dimensions[d.dimension].name), w, _number2)
            refs = self.shown_refs(f"reliability:{d.dimension}")  # none: the line says it was not computed
            lines += [dataclasses.replace(s, rests_on=refs) for s in found]
        for iq in self.r.item_quality.get(ORGANISATION, []):
            name = self.t(self.q.dimensions[iq.dimension].name) if iq.dimension else self.t(self.q.title)
            found = quality.item_flag_lines(iq, self.t(self.q.item(iq.item_id).text), name, w, _number2, _percent)
            refs = self.shown_refs(f"item:{iq.item_id}", f"dont_know:{iq.item_id}", f"declined:{iq.item_id}")
            lines += [dataclasses.replace(s, rests_on=refs) for s in found]
        assessed = {d.dimension for d in self.r.reliability if d.group == ORGANISATION}
        for key, dim in self.q.dimensions.items():
            if key not in assessed:  # one statement only: there is no reliability to speak of
                lines.append(self.say("quality_single", name=self.t(dim.name)))
        if not lines and assessed:
            lines.append(self.say("quality_all_good", threshold=_number2(quality.rel.QUESTIONABLE)))
        return lines

    def shown_refs(self, *variables: str) -> tuple[FigureRef, ...]:
        """The organisation's figures of `variables` that a quality line speaks of: those the
        decision allowed (a line about a withheld figure says only that it is not there)."""
        return tuple(FigureRef(var, ORGANISATION) for var in variables
                     if self.allowed is None or (var, ORGANISATION) in self.allowed)

    def methods_quality(self) -> list[Sentence]:
        """The definitions, filled from the constants the analysis uses."""
        # counts come back as text (the workbook's way): numbers again, written at rendering
        values = {k: int(v) if isinstance(v, str) and v.isdigit() else v
                  for k, v in quality.methods_values(_number2, _percent).items()}
        scale = self.mark_scale()
        low, high = (scale.min, scale.max) if scale else (1, 10)
        return [self.say("methods_margin"), self.say("methods_part_score"),  # wording, with '95%' in it
                self.say("methods_favourable", **values, low=low, high=high),
                self.say("methods_reliability", **values)]

    # -- survey/analysis/drivers.py
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
                interval = Value(None, RANGE, low=wt.low, high=wt.high)
                if wt.current is None:
                    now: object = "–"
                elif wt.kind == "dimension":
                    now = self.cell(g, f"dim:{wt.predictor}", Value(wt.current), None)
                else:
                    now = self.cell(g, f"pace:{wt.predictor}.effect", Value(wt.current), g.pace[wt.predictor].n_effect)
                rows.append(Row(label, [self.cell(g, var, Value(wt.importance), d.n), interval, now,
                                        self.w["drivers_kind_" + wt.kind]]))
                # classified on the numbers as the table shows them, so the text agrees with it
                # named only when its whole margin lies above an equal share: a tested rule,
                # not chance (without a margin, from fewer than 2k people, nothing is named)
                if (explains and wt.current is not None and wt.low is not None and wt.low > split
                        and round(wt.current) < middle):
                    first.append((f"“{label}”", wt.importance))
            drawing = self.drawing(
                "priority_matrix", labels=[self.predictor_name(wt.kind, wt.predictor) for wt in shown],
                markers=["o" if wt.kind == "dimension" else "s" for wt in shown], current=[wt.current for wt in shown],
                importance=[wt.importance for wt in shown], low=[wt.low for wt in shown],
                high=[wt.high for wt in shown], current_split=middle, importance_split=split,
                quadrants=(self.w["drivers_q_first"], self.w["drivers_q_keep"], self.w["drivers_q_later"],
                           self.w["drivers_q_fine"]), x_label=self.w["drivers_x"], y_label=self.w["drivers_y"],
                legend={"o": self.w["drivers_legend_dimension"], "s": self.w["drivers_legend_pace"]})
            table = Table([self.w["drivers_predictor"], self.w["drivers_importance"], self.w["drivers_interval"],
                           self.w["drivers_current"], self.w["drivers_kind"]], rows)
            caption = self.say("drivers_caption", n=d.n, r2=Value(100 * d.r_squared), name=name.lower())
            # the three most important of them (and all as important as the third, as the
            # table shows the weights): a place to start, the chart shows the rest
            listed, tied = cut_at_rank(first, 3, lambda f: f[1])
            text = (self.w["drivers_first"].format(items=self.listing([f[0] for f in listed + tied])) if first
                    else self.w["drivers_first_none"])
            self.driver_charts += 1
            chart_id = f"chart-drivers-{self.driver_charts}"
            table.id = f"{chart_id}-table"
            heading = self.w["drivers_one"].format(name=name.lower())
            views.append(DriverView(name, heading, self.chart(chart_id, heading, text, drawing, data_ref=table.id),
                                    table, caption, text))
        return views

    def drivers_title(self) -> str:
        setup = self.r.drivers
        if setup is None:
            return ""
        names = [self.t(self.q_derived(o).name).lower() for o in setup.outcomes]
        return self.w["drivers_title"].format(names=self.listing(names))

    def drivers_notes(self) -> list[Sentence]:
        setup = self.r.drivers
        if setup is None:
            return []
        notes = []
        for outcome, why in setup.refused.items():
            key = {"too_few": "drivers_too_few", "withheld": "drivers_withheld"}.get(why, "drivers_cannot")
            notes.append(self.say(key, name=self.t(self.q_derived(outcome).name), min=setup.min_organisation))
        return notes

    def drivers_methods(self) -> list[Sentence]:
        setup = self.r.drivers
        if setup is None:
            return []
        lines = [self.say("methods_drivers", title=self.drivers_title(), min_organisation=setup.min_organisation,
                          min_department=setup.min_department, n_boot=setup.n_boot)]
        for g in self.r.groups:
            for outcome in setup.outcomes:
                d = g.drivers.get(outcome)
                if d is None:
                    continue
                # no margin for R^2: in small groups the bootstrap's R^2 lies above the estimate (bias)
                lines.append(self.say("methods_drivers_group", group=self.group_name(g),
                                      name=self.t(self.q_derived(outcome).name), n=d.n, r2=Value(100 * d.r_squared)))
        return lines

