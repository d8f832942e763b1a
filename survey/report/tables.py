"""The report's tables and charts: figures of the analysis as typed cells, charts as drawings."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from survey.analysis import GroupResult
from survey.analysis.claims import Verdict
from survey.disclosure import MANAGERS, ORGANISATION
from survey.questionnaire import model as m
from survey.report.base import Base, same_text, shown_difference
from survey.i18n import percent
from survey.report.model import (PERCENT, SIGNED, Cell, Chart, Drawing, Row, Sentence, Table, Value,
                                 sentence)


def shown_balance(cell) -> float | None:
    """'Speeds me up' minus 'brakes me' as a reader works it out from the two percentages the
    table shows beside it (41% and 29% give +12), so the row adds up."""
    if cell is None or cell.effect is None:
        return None

    def points(share: float) -> int:
        return int(percent(share, "en").rstrip("%").replace(",", ""))
    return float(points(cell.effect.get("speeds_up", 0.0)) - points(cell.effect.get("brakes", 0.0)))


def _balance(g: GroupResult, situation: str) -> float:
    shown = shown_balance(g.pace.get(situation))
    return math.nan if shown is None else shown


class Tables(Base):
    def dimension_table(self, groups: list[GroupResult]) -> Table:
        headers: list[str | Sentence] = [self.w["group"], self.w["employees_n"]]  # department figures are employees'
        if self.r.headline:
            headers.append(self.t(self.q_derived(self.r.headline).name))
        headers += [self.t(d.name) for d in self.q.dimensions.values()]
        rows = []
        for g in groups:
            cells: list = [self.count_cell(g, "responses", g.n)]
            if self.r.headline:
                cells.append(self.estimate_cell(g, f"derived:{self.r.headline}", self.headline(g)))
            cells += [self.estimate_cell(g, f"dim:{k}", g.dimensions.get(k)) for k in self.q.dimensions]
            rows.append(Row(self.group_name(g), cells))
        return Table(headers, rows)

    def pace_table(self, g: GroupResult) -> Table:
        rows = []
        for sid, name in self.situation_names().items():
            cell = g.pace.get(sid)
            cells: list = ["–"] * 6
            if cell is not None and cell.initiative is not None:
                var = f"pace:{sid}.initiative"
                cells[0:2] = [self.cell(g, var, Value(cell.own_initiative, PERCENT), cell.n_initiative),
                              self.count_cell(g, var, cell.n_initiative)]
            if cell is not None and cell.effect is not None:
                var = f"pace:{sid}.effect"
                cells[2:6] = [self.cell(g, var, Value(cell.effect.get("speeds_up"), PERCENT), cell.n_effect),
                              self.cell(g, var, Value(cell.effect.get("brakes"), PERCENT), cell.n_effect),
                              self.cell(g, var, Value(shown_balance(cell), SIGNED), cell.n_effect),
                              self.count_cell(g, var, cell.n_effect)]
            rows.append(Row(name, cells))
        return Table([self.w["situation"], self.w["own_initiative"], self.w["n"], self.w["speeds_up"],
                      self.w["brakes"], self.w["balance"], self.w["n"]], rows)

    def gap_margin(self, v: Verdict | None) -> str | Sentence:
        low, high = v.shown(self.threshold) if v is not None else (None, None)
        if low is None or high is None:
            return "–"
        # an end that rounds to 0 but is not 0 gets a decimal: '0 to +26' must not hide that the
        # margin excludes 0
        digits = 1 if (low > 0 and same_text(low, 0.0)) or (high < 0 and same_text(high, 0.0)) else 0
        return self.say("interval_range", low=Value(low, SIGNED, digits), high=Value(high, SIGNED, digits))

    @staticmethod
    def as_shown(v: Verdict | None, first: float, second: float, digits: int = 0) -> Verdict | None:
        """A gap as its row shows it: the difference of the two figures as shown (so the row
        adds up: 50 and 66 give +16), with the width of the test's interval around it. Clear
        only when the test holds, the shown gap points its way and the interval around the
        shown gap excludes 0; so the words, the gap and its margin never disagree."""
        if v is None or v.estimate is None:
            return None
        gap = shown_difference(first, second, digits)
        if v.low is None or v.high is None:
            return replace(v, estimate=gap, holds=False)
        half = (v.high - v.low) / 2
        holds = v.holds and gap * v.estimate > 0 and (gap - half > 0 or gap + half < 0)
        return replace(v, estimate=gap, low=gap - half, high=gap + half, holds=holds, first=first, second=second)

    def desired_gap(self, g: GroupResult, item_id: str) -> Verdict | None:
        """Desired minus now as the group's row shows them, tested over those who answered both."""
        v = g.desired[item_id]
        return self.as_shown(self.claims.desired.get(g.key, {}).get(item_id), v.desired, v.current)

    def desired_table(self, g: GroupResult) -> Table | None:
        """Now and desired (each on its own base), their gap as shown with the margin of the
        paired test over the people who answered both; ordered by the gap shown, largest first
        (equal gaps in questionnaire order). A dash is explained under the table."""
        if not g.desired:
            return None
        rows = []
        ordered = sorted(g.desired.items(), key=lambda kv: -shown_difference(kv[1].desired, kv[1].current))
        for k, v in ordered:
            paired = self.desired_gap(g, k)
            cells: list = [
                self.cell(g, f"item:{k}", Value(v.current), v.n_current), self.count_cell(g, f"item:{k}", v.n_current),
                self.cell(g, f"item:{k}.desired", Value(v.desired), v.n_desired),
                self.count_cell(g, f"item:{k}.desired", v.n_desired),
                Value(shown_difference(v.desired, v.current), SIGNED)]
            if paired is not None:
                cells += [self.gap_margin(paired), self.count_cell(g, f"gap:{k}", min(paired.n_first, paired.n_second))]
            else:
                cells += ["–", "–"]
            rows.append(Row(self.t(self.q.item(k).text), cells))
        notes: list[str | Sentence] = []
        if any(c == "–" for r in rows for c in r.cells):
            notes.append(self.say("desired_dash", double=2 * self.threshold))
        return Table([self.w["statement"], self.w["now"], self.w["n_now"], self.w["desired"], self.w["n_desired"],
                      self.w["gap"], self.w["margin"], self.w["n_both"]], rows, notes=notes)

    def score_name(self, var: str) -> str:
        kind, key = var.split(":", 1)
        return self.t(self.q_derived(key).name) if kind == "derived" else self.t(self.q.dimensions[key].name)

    def shown_value(self, g: GroupResult, var: str):
        kind, key = var.split(":", 1)
        return (g.derived if kind == "derived" else g.dimensions).get(key)

    def manager_verdict(self, var: str) -> Verdict | None:
        """Managers minus employees on `var` as the table shows it (`as_shown`)."""
        mine, org = self.shown_value(self.r.managers, var), self.shown_value(self.org, var)
        if mine is None or org is None:
            return None
        return self.as_shown(self.claims.managers.get(var), mine.mean, org.mean)

    def manager_gap(self) -> Table | None:
        """Managers against employees: the two shown scores, the gap as shown (managers minus
        employees) and the margin of Welch's test on people's own scores around it (2k rule)."""
        managers = self.r.managers
        if managers is None or not managers.dimensions:
            return None
        rows, refs = [], []
        variables = ([f"derived:{self.r.headline}"] if self.r.headline else []) + [f"dim:{k}" for k in self.q.dimensions]
        for var in variables:
            a, b = self.shown_value(self.org, var), self.shown_value(managers, var)
            if a is None or b is None:
                continue
            v = self.claims.managers.get(var)
            refs += [self.ref(var, ORGANISATION), self.ref(var, MANAGERS)]
            if v is not None and v.estimate is not None:
                refs += [self.ref(f"claims:{var}", ORGANISATION), self.ref(f"claims:{var}", MANAGERS)]
            rows.append(Row(self.score_name(var), [Value(a.mean), Value(b.mean),
                                                   Value(shown_difference(b.mean, a.mean), SIGNED),
                                                   self.gap_margin(self.manager_verdict(var))]))
        notes: list[str | Sentence] = []
        if any(r.cells[3] == "–" for r in rows):
            notes.append(self.say("manager_dash", double=2 * self.threshold))
        return Table([self.w["dimension"], self.w["employees"], self.w["managers"], self.w["gap"], self.w["margin"]],
                     rows, rests_on=refs, notes=notes)

    def retention(self, groups: list[GroupResult]) -> Table | None:
        items = [i for i in self.q.items if isinstance(i, m.StatementItem) and i.dimension is None]
        if not items:
            return None
        headers: list[str | Sentence] = [self.w["group"]] + [self.label(i.id, i.text) for i in items]
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
                            [self.cell(self.org, f"choice:{item.id}", Value(result.shares[str(o.code)], PERCENT),
                                       result.n)])
                        for o in scale.options]
                header = sentence("{share} (n={n})", share=self.w["share"], n=result.n)
                tables.append((self.label(section.id, section.title),
                               Table([self.label(item.id, item.text), header], rows)))
        return tables

    def breakdowns(self) -> list[tuple[str, Table]]:
        tables = []
        for question in self.q.background:
            rows = [b for b in self.r.breakdowns if b.background == question.id]
            if not rows:
                continue
            scale = self.q.scales[question.scale]
            labels = {str(o.code): self.label(f"{question.scale}.{o.code}", o.label) for o in scale.options}
            headers: list[str | Sentence] = [self.label(question.id, question.text), self.w["people"]]
            with_index = any(b.index is not None for b in rows) and self.r.headline
            if with_index:
                headers += [self.t(self.q_derived(self.r.headline).name), self.w["n"]]
            table_rows = []
            for b in rows:
                var = f"background:{question.id}={b.option}"
                self.check(var, ORGANISATION)
                cells: list = [Cell(Value(b.n, "count"), var, self.w["organisation"], b.n, key=ORGANISATION)]
                if with_index and b.index:
                    band, index = f"band:{question.id}={b.option}", f"derived:{self.r.headline}"
                    self.check(index, band)
                    cells += [Cell(Value(b.index.mean), index, band, b.index.n, key=band), Value(b.index.n, "count")]
                elif with_index:
                    cells += ["–", "–"]
                table_rows.append(Row(labels.get(b.option, b.option), cells))
            tables.append((self.label(question.id, question.text), Table(headers, table_rows)))
        return tables

    # -- charts
    def chart(self, chart_id: str, title: str | Sentence, description: str | Sentence, drawing: Drawing,
              data: Table | None = None, data_ref: str = "") -> Chart:
        return Chart(chart_id, title, description, drawing, data, data_ref)

    def partnership_chart(self, groups: list[GroupResult]) -> Chart | None:
        if not self.q.dimensions:
            return None
        names = [self.group_name(g) for g in groups]
        index = [self.headline(g).mean if self.headline(g) else None for g in groups]
        dims = {self.t(d.name): [g.dimensions[k].mean if k in g.dimensions else None for g in groups]
                for k, d in self.q.dimensions.items()}
        drawing = self.drawing("partnership_map", groups=names, index=index, dimensions=dims,
                               left_label=self.w["traditional"], right_label=self.w["partnership"],
                               index_label=self.t(self.q_derived(self.r.headline).name) if self.r.headline else "")
        return self.chart("chart-partnership", self.w["partnership_map"],
                          self.questionnaire_wording()["partnership_map_intro"], drawing,
                          data_ref="table-dimensions")

    def pace_chart(self, groups: list[GroupResult]) -> Chart | None:
        situations = self.situation_names(short=True)
        if not situations or not self.org.pace:
            return None
        matrix = np.array([[_balance(g, s) for g in groups] for s in situations])
        drawing = self.drawing("pace_heatmap", situations=list(situations.values()),
                               groups=[self.group_name(g) for g in groups], balance=matrix, hidden_label="·")
        rows = []
        for sid, name in situations.items():
            cells: list = []
            for g in groups:
                cell = g.pace.get(sid)
                cells.append("–" if cell is None or cell.balance is None else
                             self.cell(g, f"pace:{sid}.effect", Value(shown_balance(cell), SIGNED), cell.n_effect))
            rows.append(Row(name, cells))
        data = Table([self.w["situation"]] + [self.group_name(g) for g in groups], rows)
        return self.chart("chart-pace", self.w["pace_map"], self.w["pace_map_intro"], drawing, data)

    def department_pace_chart(self, g: GroupResult, index: int) -> Chart | None:
        situations = self.situation_names(short=True)
        if not g.pace:
            return None
        drawing = self.drawing("balance_bars", situations=list(situations.values()),
                               balances=[None if math.isnan(_balance(g, s)) else _balance(g, s) for s in situations],
                               axis_label=self.w["balance_axis"], hidden_label="·")
        return self.chart(f"chart-pace-{index}", self.w["department_pace_title"], self.w["department_pace_desc"],
                          drawing, data_ref=f"table-pace-{index}")

    def initiative_chart(self) -> Chart | None:
        situations = {s: n for s, n in self.situation_names(short=True).items()
                      if s in self.org.pace and self.org.pace[s].initiative is not None}
        if not situations or self.grid is None:
            return None
        scale = self.q.scales[self.grid.initiative_scale]
        options = {str(o.code): self.label(f"{self.grid.initiative_scale}.{o.code}", o.label) for o in scale.options}
        shares = {name: [self.org.pace[s].initiative.get(code, 0.0) for s in situations]
                  for code, name in options.items()}
        drawing = self.drawing("stacked_shares", rows=list(situations.values()), shares=shares)
        rows = [Row(name, [self.cell(self.org, f"pace:{sid}.initiative",
                                     Value(self.org.pace[sid].initiative.get(code, 0.0), PERCENT),
                                     self.org.pace[sid].n_initiative) for code in options]
                    + [Value(self.org.pace[sid].n_initiative, "count")]) for sid, name in situations.items()]
        data = Table([self.w["situation"]] + list(options.values()) + [self.w["n"]], rows)
        return self.chart("chart-initiative", self.w["initiative"], self.w["initiative_intro"], drawing, data)

    def werkgeluk_chart(self, groups: list[GroupResult]) -> Chart | None:
        score = next((d for d in self.q.derived if d.id == "werkgeluk"), None)
        if score is None or score.id not in self.org.derived:
            return None
        shown = [g for g in groups[1:] if score.id in g.derived]
        scale = self.q.scales[self.q.item(score.of[0]).scale]
        drawing = self.drawing("score_bars", groups=[self.group_name(g) for g in shown],
                               values=[g.derived[score.id].mean for g in shown], low=float(scale.min or 0),
                               high=float(scale.max or 10), reference=self.org.derived[score.id].mean,
                               reference_label=self.w["organisation"])
        data = Table([self.w["group"], self.t(score.name)],
                     [Row(self.group_name(g), [self.estimate_cell(g, f"derived:{score.id}", g.derived[score.id], 1)])
                      for g in [self.org] + shown])
        wording = self.questionnaire_wording()
        return self.chart("chart-werkgeluk", wording.get("werkgeluk_name", self.w["werkgeluk"]),
                          wording.get("werkgeluk_intro", ""), drawing, data)

    def questionnaire_wording(self) -> dict[str, str | Sentence]:
        """Intros whose names, counts and scale ends come from the questionnaire."""
        from survey.analysis import quality

        found: dict[str, str | Sentence] = {}
        found["partnership_map_intro"] = self.say(
            "partnership_map_intro", index=self.t(self.q_derived(self.r.headline).name) if self.r.headline else "",
            count=len(self.q.dimensions))
        score = next((d for d in self.q.derived if d.id == "werkgeluk"), None)
        if score is not None:
            scale = self.q.scales[self.q.item(score.of[0]).scale]
            found["werkgeluk_name"] = self.t(score.name)
            found["werkgeluk_intro"] = self.say("werkgeluk_intro", description=self.label(f"{score.id}.description", score.description),
                                                low=_raw(scale.min), high=_raw(scale.max))
        retention = [i for i in self.q.items if isinstance(i, m.StatementItem) and i.dimension is None]
        if retention:
            low, high = self.q.scales[retention[0].scale].numeric_range or (None, None)
            found["retention_intro"] = self.say("retention_intro", low=Value(low), high=Value(high))
        scale = self.mark_scale()
        if scale is not None:
            found["marks_intro"] = self.say("marks_intro", low=_raw(scale.min), high=_raw(scale.max),
                                            insufficient=quality.MARK_INSUFFICIENT_BELOW,
                                            good=quality.MARK_GOOD_FROM)
        return found

    def mark_scale(self) -> m.Scale | None:
        from survey.analysis import quality

        return next((self.q.scales[i.scale] for i in self.q.items
                     if isinstance(i, m.ScoreItem) and quality.is_mark(self.q.scales[i.scale])), None)


def _raw(value: object) -> str | int | float:
    """A scale end as the questionnaire gives it (written as Python writes it, as before)."""
    return "None" if value is None else value  # type: ignore[return-value]
