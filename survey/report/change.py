"""'What changed' (issue 12): the report's part built from the change since the previous wave
(survey/analysis/change.py): per group a table (earlier value, this wave's, the change with its
interval, n of both waves), sentences that claim a change only where the rule claims one, what
has no comparison and why, the series from three waves on, the earlier wave on the partnership
map and the pace map's marks of situations that moved.

An earlier wave's figure enters the model only through `earlier_cell`/`earlier_ref`, which
refuse what that wave's disclosure decision (`ChangeResult.allowed`) did not allow; its cells
carry the wave and the departments of that wave they cover (data-wave, data-units), so
`survey audit` can hold the figures of one wave published in several reports against each
other, and `ReportModel.earlier_figures` lists what is recorded in that wave's store.
"""

from __future__ import annotations

from survey.analysis.model import Change, GroupResult, LeftOut
from survey.disclosure import ORGANISATION
from survey.i18n import percent
from survey.report.base import ReportModelError, same_text, shown_difference
from survey.report.model import (COUNT, NUMBER, PERCENT, SIGNED, Cell, ChangeSection, ChangeView, Chart, Drawing,
                                 FigureRef, Row, Sentence, Table, Value)
from survey.report.tables import Tables

UP, DOWN = "▲", "▼"  # the pace map's mark of a situation that moved: better, worse
# the wording keys of the sentences that claim a change (a score's, a pace share's)
CLAIMS = frozenset({"change_up", "change_down", "change_brakes_up", "change_brakes_down", "change_speeds_up_up",
                    "change_speeds_up_down"})


class Changes(Tables):
    # -- an earlier wave's figures: the only way they enter the model
    def check_earlier(self, wave: str, var: str, key: str) -> None:
        change = self.r.change
        allowed = change.allowed.get(wave) if change is not None else None
        if allowed is None or (var, key) not in allowed:
            raise ReportModelError(f"internal error: the report would show {var} of wave {wave} for group {key}, "
                                   "which that wave's disclosure decision did not allow")

    def earlier_units(self, key: str) -> tuple[str, ...]:
        """The departments of the previous wave a group covers (empty: the whole organisation)."""
        if key == ORGANISATION or self.r.change is None:
            return ()
        return tuple(self.r.change.links.get(key, ("same", (key,)))[1])

    def earlier_cell(self, g: GroupResult, wave: str, var: str, value: Value, n: int | None) -> Cell:
        self.check_earlier(wave, var, g.key)
        return Cell(value, var, self.group_name(g), n, False, g.key, wave, self.earlier_units(g.key))

    def earlier_ref(self, wave: str, var: str, key: str) -> FigureRef:
        self.check_earlier(wave, var, key)
        return FigureRef(var, key, wave)

    # -- names
    def change_name(self, var: str) -> str:
        if var.startswith("pace:"):
            return self.situation_names().get(var[5:].split(".")[0], var)
        return self.score_name(var)

    def score_digits(self, var: str) -> int:
        """As the report shows the score elsewhere: 0-100 scores whole, marks with one decimal."""
        return 0 if var.startswith("dim:") or var == f"derived:{self.r.headline}" else 1

    def score_variables(self) -> list[str]:
        found = [f"derived:{self.r.headline}"] if self.r.headline else []
        found += [f"dim:{k}" for k in self.q.dimensions]
        return found + [f"derived:{d.id}" for d in self.q.derived if d.id != self.r.headline]

    # -- what changed for one group
    @staticmethod
    def shown_gap(c: Change, digits: int) -> float:
        """The change as the reader can add it up: this wave's value as shown minus the earlier
        value as shown (2,9 -> 3,2 is +0,3, whatever the unrounded difference); a share's in
        whole percentage points."""
        if c.variable.startswith("pace:"):
            def pct(x: float) -> float:
                return float(percent(x, "en").rstrip("%").replace(",", ""))
            return pct(c.now) - pct(c.earlier)
        return shown_difference(c.now, c.earlier, digits)

    @staticmethod
    def interval_digits(c: Change, digits: int, scale: float = 1.0) -> int:
        """A claimed change's interval excludes 0, so it never shows 0 as an end: one more
        decimal (up to three more) where rounding would write one."""
        if not c.claimed or c.low is None or c.high is None:
            return digits
        found = digits
        while found < digits + 3 and (same_text(scale * c.low, 0.0, found) or same_text(scale * c.high, 0.0, found)):
            found += 1
        return found

    def said(self, c: Change, digits: int) -> int:
        """+1 / -1 when the change is claimed and the shown figures differ that way; 0 otherwise
        (a claimed change the shown figures do not show is not put into words)."""
        if not c.claimed or c.low is None:
            return 0
        gap = self.shown_gap(c, digits)
        if gap == 0 or gap * c.estimate < 0:
            return 0
        return 1 if gap > 0 else -1

    def change_view(self, g: GroupResult) -> ChangeView | None:
        change = self.r.change
        if change is None:
            return None
        wave, w = change.previous, self.w
        rows, refs, lines = [], [], []
        for var in self.score_variables():
            c = g.change.get(var)
            if c is None:
                continue
            digits = self.score_digits(var)
            low, high = c.shown(self.threshold)
            rows.append(Row(self.change_name(var), [
                self.earlier_cell(g, wave, var, Value(c.earlier, NUMBER, digits), c.n_earlier),
                self.cell(g, var, Value(c.now, NUMBER, digits), c.n_now),
                Value(self.shown_gap(c, digits), SIGNED, digits, low, high, self.interval_digits(c, digits)),
                Value(c.n_earlier, COUNT), Value(c.n_now, COUNT)]))
            tested = (self.ref(f"claims:{var}", g.key), self.earlier_ref(wave, f"claims:{var}", g.key))
            refs += tested
            direction = self.said(c, digits)
            if direction:
                lines.append(self.say("change_up" if direction > 0 else "change_down",
                                      "change_up" if direction > 0 else "change_down", (var,), tested,
                                      score=self.change_name(var), wave=wave,
                                      earlier=Value(c.earlier, NUMBER, digits), now=Value(c.now, NUMBER, digits)))
        for var in self.score_variables():  # the organisation's: only who answered changed
            c = g.change.get(var)
            if c is None or c.composition is None:
                continue
            digits = self.score_digits(var)
            names = [n for n in c.composition if n]
            lines.append(self.say("change_composition" if names else "change_composition_unnamed", "composition",
                                  (var, *names), score=self.change_name(var), wave=wave,
                                  earlier=Value(c.earlier, NUMBER, digits), now=Value(c.now, NUMBER, digits),
                                  departments=self.listing(names) if names else ""))
        table = None
        if rows:
            table = Table([w["score"], wave, self.r.scan.wave, w["change_column"], f"n {wave}",
                           f"n {self.r.scan.wave}"], rows, rests_on=refs)
        share_rows, share_lines = self.share_changes(g, wave)
        lines += share_lines
        team: list[Sentence] = []
        if rows or share_rows:
            claimed = any(s.kind != "composition" for s in lines)  # 'the other scores': after a named change
            unchanged = tuple(v for v, c in g.change.items() if not self.said(c, self.score_digits(v)))
            # 'the test is stricter than the margin' only where a margin does exclude 0
            strict = any(c.low is not None and c.high is not None and (c.low > 0 or c.high < 0)
                         and min(c.n_now, c.n_earlier) >= 2 * self.threshold
                         for v, c in g.change.items() if not v.startswith("pace:"))
            lines.append(self.say("change_none_other" if claimed else "change_none" if strict else "change_none_chance",
                                  "no_clear_change", unchanged,
                                  wave=wave))
            # the team sheet and slide: the report's own claims (the same sentences), else one short line
            claims = [s for s in lines if s.key in CLAIMS]
            team = (claims + [lines[-1]] if claims
                    else [self.say("team_change_none_all", "no_clear_change", unchanged, wave=wave)])
        shares = None
        if share_rows:
            shares = Table([w["situation"], w["change_share"], wave, self.r.scan.wave, w["change_column"]],
                           share_rows)
        return ChangeView(self.group_name(g), table, lines, self.group_left_out(g), shares, self.team_phrases(g),
                          team)

    def team_phrases(self, g: GroupResult) -> dict[str, Sentence]:
        """The team sheet's and the slide's word on the headline score and the other derived
        scores: 'clearly higher/lower than in <wave>' only where the change is claimed (and
        the shown figures differ that way), else 'no clear change'; nothing without a change."""
        wave, found = self.r.change.previous, {}
        for var in [f"derived:{self.r.headline}"] + [f"derived:{d.id}" for d in self.q.derived]:
            c = g.change.get(var)
            if c is None:
                continue
            key = "index" if var == f"derived:{self.r.headline}" else var.split(":", 1)[1]
            direction = self.said(c, self.score_digits(var))
            word = {1: "team_change_up", -1: "team_change_down", 0: "team_change_none"}[direction]
            refs = ((self.ref(f"claims:{var}", g.key), self.earlier_ref(wave, f"claims:{var}", g.key))
                    if direction else ())
            found[key] = self.say(word, word, (var,), refs, wave=wave)
        return found

    def share_changes(self, g: GroupResult, wave: str) -> tuple[list[Row], list[Sentence]]:
        """Pace shares ('brakes me', 'speeds me up') that changed clearly: a row and a sentence each."""
        rows, lines = [], []
        for sid in self.situation_names():
            for outcome in ("brakes", "speeds_up"):
                c = g.change.get(f"pace:{sid}.{outcome}")
                direction = self.said(c, 0) if c is not None else 0
                if not direction:
                    if c is not None and c.composition is not None:  # the organisation's: who answered changed
                        names = [n for n in c.composition if n]
                        lines.append(self.say(
                            "change_share_composition" if names else "change_share_composition_unnamed",
                            "composition", (c.variable, *names), outcome=self.w[outcome],
                            situation=self.change_name(c.variable).lower(), wave=wave,
                            earlier=Value(c.earlier, PERCENT), now=Value(c.now, PERCENT),
                            departments=self.listing(names) if names else ""))
                    continue
                var = f"pace:{sid}.effect"
                earlier = self.earlier_cell(g, wave, var, Value(c.earlier, PERCENT), c.n_earlier)
                now = self.cell(g, var, Value(c.now, PERCENT), c.n_now)
                rows.append(Row(self.change_name(c.variable), [
                    self.w[outcome], earlier, now,
                    Value(self.shown_gap(c, 0), SIGNED, 0, None if c.low is None else 100 * c.low,
                          None if c.high is None else 100 * c.high, self.interval_digits(c, 0, 100.0))]))
                key = f"change_{outcome}_{'up' if direction > 0 else 'down'}"
                lines.append(self.say(key, key, (c.variable,), (), situation=self.change_name(c.variable).lower(),
                                      wave=wave, earlier=Value(c.earlier, PERCENT), now=Value(c.now, PERCENT)))
        return rows, lines

    def group_left_out(self, g: GroupResult) -> list[Sentence]:
        """Why a group has no comparison (merged, split, new, hidden) or a score of it none (withheld)."""
        change = self.r.change
        lines = []
        for x in change.left_out:
            if x.group != g.key or x.wave != change.previous:
                continue
            lines.append(self.left_sentence(x, g))
        continuity, earlier = change.links.get(g.key, ("same", ()))
        if continuity == "renamed":
            lines.insert(0, self.say("change_renamed", "renamed", (g.key,), name=self.group_name(g),
                                     earlier=self.listing(list(earlier)), wave=change.previous))
        return lines

    def left_sentence(self, x: LeftOut, g: GroupResult | None = None) -> Sentence:
        name = self.group_name(g) if g is not None else (x.group or "")
        names = self.listing(list(x.items)) if x.items else ""
        if x.reason in ("merged", "split", "new", "hidden"):
            return self.say(f"change_{x.reason}", x.reason, (x.group or "",), name=name, earlier=names, wave=x.wave)
        if x.reason == "withheld":
            return self.say("change_withheld", "withheld", (x.variable or "",), name=name,
                            score=self.change_name(x.variable or ""), wave=x.wave, threshold=self.threshold)
        return self.say("change_not_computable", "not_computable", (), wave=x.wave, detail=x.detail)

    # -- the organisation's section
    def change_section(self) -> ChangeSection | None:
        change = self.r.change
        if change is None:
            return None
        wave = change.previous
        gone = [x for x in change.left_out if x.reason == "missing"]
        if len(change.waves) == 1:  # the previous wave's folder is gone: one sentence says so
            return ChangeSection(wave, change.waves, self.missing_sentence(gone[0]),
                                 ChangeView(self.group_name(self.org), None, [], [], None), [])
        view = self.change_view(self.org)
        left: list[Sentence] = [self.missing_sentence(x) for x in gone]
        # changed questions: each named with its text, and the scores that have no comparison for it
        by_question: dict[str, list[str]] = {}
        for x in change.left_out:
            if x.wave == wave and x.group is None and x.reason == "changed" and x.variable:
                for item in x.items:
                    by_question.setdefault(item, []).append(x.variable)
        for item, variables in by_question.items():
            left.append(self.say("change_question", "changed_question", (item, *variables),
                                 question=self.question_text(item), wave=wave,
                                 scores=self.listing([self.change_name(v) for v in variables])))
        for x in change.left_out:
            if x.wave == wave and x.group is None and x.reason == "not_in_both" and x.variable:
                left.append(self.say("change_not_in_both", "not_in_both", (x.variable,),
                                     score=self.change_name(x.variable), wave=wave))
            elif x.group is None and x.variable is None and x.reason == "not_computable":
                left.append(self.left_sentence(x))
            elif x.wave == wave and x.reason == "others" and self.r.others is not None:
                left.append(self.say("change_others", "others", (x.group or "",),
                                     name=self.group_name(self.r.others), wave=wave))
        # this wave's hidden departments: named (with the reason) only in the methods' list of
        # hidden groups, so here one sentence without names
        if any(x.wave == wave and x.reason == "hidden_now" for x in change.left_out):
            left.append(self.say("change_hidden_now", "hidden_now", (), wave=wave))
        shown = {g.key: g for g in self.r.departments}
        for key, (continuity, earlier) in change.links.items():
            if continuity in ("merged", "split") and key in shown:
                left.append(self.say(f"change_{continuity}", continuity, (key,), name=self.group_name(shown[key]),
                                     earlier=self.listing(list(earlier)), wave=wave))
            elif continuity == "renamed" and key in shown:
                left.append(self.say("change_renamed", "renamed", (key,), name=self.group_name(shown[key]),
                                     earlier=self.listing(list(earlier)), wave=wave))
        intro = self.say("change_intro", wave=wave, now=self.r.scan.wave)
        return ChangeSection(wave, change.waves, intro, view, left, self.trend_charts(), self.change_methods())

    def missing_sentence(self, x: LeftOut) -> Sentence:
        """An earlier wave whose scan folder is gone: where it was looked for, and where that is set."""
        file, line = (x.items + ("", ""))[:2]
        return self.say("change_missing", "missing", (), wave=x.wave, folder=x.detail, file=file, line=line)

    def question_text(self, item: str) -> str:
        """A changed question as this wave asks it (a pace situation by its text)."""
        if "." in item:
            sid = item.split(".", 1)[1]
            return self.situation_names().get(sid, item)
        found = next((i for i in self.q.items if getattr(i, "id", None) == item), None)
        return self.label(item, found.text) if found is not None else item

    def change_methods(self) -> list[Sentence]:
        change = self.r.change
        from survey.stats.permutation import PERMUTATIONS

        return [self.say("methods_change", alpha=Value(change.alpha, digits=2), double=2 * self.threshold,
                         scores=change.families.get("scores", 0), shares=change.families.get("shares", 0),
                         wave=change.previous, permutations=Value(PERMUTATIONS, COUNT))]

    # -- the series from three waves on
    def trend_charts(self) -> list[Chart]:
        groups = [self.org] + list(self.r.departments)
        charts = []
        for number_, var in enumerate(self.score_variables(), start=1):
            series = [(g, g.trend[var]) for g in groups if var in g.trend]
            if not series:
                continue
            digits = self.score_digits(var)
            waves = list(self.r.change.waves)
            rows = []
            for g, points in series:
                cells: list = ["–"] * len(waves)
                for p in points:
                    value = Value(p.value, NUMBER, digits, p.low, p.high)
                    cells[waves.index(p.wave)] = (self.cell(g, var, value, p.n) if p.wave == self.r.scan.wave
                                                  else self.earlier_cell(g, p.wave, var, value, p.n))
                rows.append(Row(self.group_name(g), cells))
            data = Table([self.w["group"]] + waves, rows)
            drawing = Drawing("trend_lines", (
                ("groups", [self.group_name(g) for g, _ in series]), ("waves", waves),
                ("values", [[p.value for p in pts] for _, pts in series]),
                ("lows", [[p.low for p in pts] for _, pts in series]),
                ("highs", [[p.high for p in pts] for _, pts in series]),
                ("point_waves", [[p.wave for p in pts] for _, pts in series]),
                ("digits", digits), ("bounds", self.score_bounds(var))))
            charts.append(self.chart(f"chart-trend-{number_}", self.say("trend_title", score=self.change_name(var)),
                                     self.trend_description(var, waves, series), drawing, data))
        return charts

    def trend_description(self, var: str, waves: list[str], series) -> Sentence:
        """What the chart shows and, for a wave without a point in any group, why: the score
        then rested on a question asked differently, or was made of other questions."""
        plotted = {p.wave for _, points in series for p in points}
        gaps = [w for w in waves if w not in plotted]
        why = {x.wave: x for x in self.r.change.left_out if x.variable == var and x.wave in gaps
               and x.reason in ("changed", "not_in_both")}
        base = dict(score=self.change_name(var), first=waves[0], last=waves[-1])
        changed = [w for w in gaps if w in why and why[w].reason == "changed"]
        if changed:
            questions = [self.question_text(k) for k in dict.fromkeys(k for w in changed for k in why[w].items)]
            return self.say("trend_desc_changed", gap=self.listing(changed),
                            questions=self.listing([f"‘{q}’" for q in questions]), **base)
        if gaps:
            return self.say("trend_desc_other", gap=self.listing(gaps), **base)
        return self.say("trend_desc", **base)

    def score_bounds(self, var: str) -> tuple[float, float]:
        from survey.analysis.change import _bounds

        return _bounds(self.q, var)

    # -- the earlier wave on the partnership map, and the pace map's marks
    def partnership_chart(self, groups: list[GroupResult]) -> Chart | None:
        chart = super().partnership_chart(groups)
        change = self.r.change
        if chart is None or change is None:
            return chart
        wave = change.previous
        head = f"derived:{self.r.headline}" if self.r.headline else ""
        index = [g.change[head].earlier if head in g.change else None for g in groups]
        dims = {self.t(d.name): [g.change[f"dim:{k}"].earlier if f"dim:{k}" in g.change else None for g in groups]
                for k, d in self.q.dimensions.items()}
        if all(v is None for v in index) and all(v is None for vs in dims.values() for v in vs):
            return chart
        shown_index = any(v is not None for v in index)
        args = dict(chart.drawing.args)
        marker = self.w["earlier_marker_index" if shown_index else "earlier_marker_dims"].format(wave=wave)
        args.update(earlier_index=index, earlier_dimensions={} if shown_index else dims, earlier_label=marker)
        drawing = Drawing(chart.drawing.chart, tuple(args.items()), chart.drawing.numbers)
        # the chart's data: this wave's and the earlier wave's figures of every group
        variables = [head] if shown_index else [f"dim:{k}" for k in self.q.dimensions]
        headers: list = [self.w["group"]]
        for var in variables:
            headers += [f"{self.change_name(var)} {self.r.scan.wave}", f"{self.change_name(var)} {wave}"]
        rows = []
        for g in groups:
            cells: list = []
            for var in variables:
                c = g.change.get(var)
                now = (g.derived if var.startswith("derived:") else g.dimensions).get(var.split(":", 1)[1])
                cells.append(self.estimate_cell(g, var, now))
                cells.append(self.earlier_cell(g, wave, var, Value(c.earlier, NUMBER, 0), c.n_earlier)
                             if c is not None else "–")
            rows.append(Row(self.group_name(g), cells))
        description = self.say("partnership_map_earlier_index" if shown_index else "partnership_map_earlier_dims",
                               intro=chart.description, wave=wave)
        return Chart(chart.id, chart.title, description, drawing, Table(headers, rows), "")

    def pace_moves(self, groups: list[GroupResult]) -> dict[tuple[str, str], int]:
        """(situation, group key) -> +1 (moved towards 'speeds me up'), -1 (towards 'brakes me'),
        0 (both ways): the situations whose shares changed clearly and show it."""
        moves: dict[tuple[str, str], int] = {}
        for g in groups:
            for var, c in g.change.items():
                if not var.startswith("pace:"):
                    continue
                direction = self.said(c, 0)
                if not direction:
                    continue
                sid, outcome = var[5:].rsplit(".", 1)
                better = direction if outcome == "speeds_up" else -direction
                key = (sid, g.key)
                moves[key] = better if moves.get(key, better) == better else 0
        return moves

    def pace_chart(self, groups: list[GroupResult]) -> Chart | None:
        chart = super().pace_chart(groups)
        if chart is None or self.r.change is None:
            return chart
        moves = self.pace_moves(groups)
        situations = list(self.situation_names(short=True))
        marks = [[{1: UP, -1: DOWN, 0: UP + DOWN}.get(moves[(s, g.key)], "") if (s, g.key) in moves else ""
                  for g in groups] for s in situations]
        args = dict(chart.drawing.args)
        args["marks"] = marks
        drawing = Drawing(chart.drawing.chart, tuple(args.items()), chart.drawing.numbers)
        data = chart.data
        if data is not None:
            for row, sid in zip(data.rows, situations):
                row.cells = [self.marked(c, moves.get((sid, g.key))) for c, g in zip(row.cells, groups)]
        description = self.say("pace_map_moved", intro=chart.description, wave=self.r.change.previous,
                               up=UP, down=DOWN) if moves else self.say(
            "pace_map_none_moved", intro=chart.description, wave=self.r.change.previous)
        return Chart(chart.id, chart.title, description, drawing, data, chart.data_ref)

    @staticmethod
    def marked(cell, move: int | None):
        if move is None or not isinstance(cell, Cell):
            return cell
        return Cell(cell.value, cell.var, cell.group, cell.n, cell.show_n, cell.key, cell.wave, cell.units,
                    {1: UP, -1: DOWN, 0: UP + DOWN}[move])


__all__ = ["CLAIMS", "Changes", "DOWN", "UP"]
