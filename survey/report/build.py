"""Analysis results -> the report model, once, for every output (survey/report/model.py)."""

from __future__ import annotations

from datetime import date

from survey import __version__
from survey.analysis import AnalysisResult, GroupResult, group_label
from survey.bases import Response, response
from survey.disclosure import MANAGERS
from survey.report.change import Changes
from survey.report.measures import Measures
from survey.report.base import same_percent
from survey.report.model import (COUNT, NUMBER, PERCENT, Cell, Counted, DepartmentPage, ReportModel, Row, Sentence,
                                 SheetScore, SheetSituation, Table, Value, top_places)


SHEET_PLACES = 3  # situations a team sheet lists as braking (helping) most


class _Builder(Measures, Changes):
    """The report model's sections: tables and charts (tables.py), sentences over the claims
    (texts.py), measurement quality and drivers (measures.py), the change since the previous
    wave (change.py); here the pages and the whole."""

    def hidden_lines(self) -> list[Sentence]:
        lines = []
        for h in self.r.hidden:
            name = group_label(self.r, MANAGERS) if h.name == MANAGERS else h.name
            if h.reason == "small":
                lines.append(self.say("hidden_small", name=name, threshold=self.threshold))
            else:
                lines.append(self.say("hidden_complement", name=name, protects=", ".join(h.protects)))
        if self.r.others is not None:
            lines.append(self.say("hidden_combined", label=self.group_name(self.r.others)))
        change = self.r.change
        if change is not None and any(x.reason == "hidden_now" and x.wave == change.previous
                                      for x in change.left_out):
            lines.append(self.say("change_hidden_list", wave=change.previous))
        return lines

    def response_base(self) -> Response:
        """Everyone who answered over the expected headcount: the definition `survey status`
        uses too (survey/bases.py)."""
        return response(self.r.scan.departments, self.r.n_employees, self.r.n_managers)

    def response_line(self, base: Response) -> Sentence:
        """`Response.describe`'s line, its numbers typed."""
        return self.say("response_line", rate=Value(base.rate, PERCENT), total=Value(base.total),
                        expected=Value(base.expected),
                        employees=Counted(base.employees, "count_employees", self.lang),
                        employee_rate=Value(base.employee_rate, PERCENT),
                        managers=Counted(base.managers, "count_managers", self.lang),
                        manager_rate=Value(base.manager_rate, PERCENT))

    def department_pages(self) -> list[DepartmentPage]:
        w, pages = self.w, []
        for number_, g in enumerate(self.r.departments, start=1):
            pace = self.pace_table(g)
            pace.id = f"table-pace-{number_}"
            pages.append(DepartmentPage(
                name=g.key, n=g.n, response_rate=Value(g.response_rate, PERCENT),
                headline=self.estimate(self.headline(g)),
                dimensions=Table([w["dimension"], w["score"]],
                                 [Row(self.t(d.name), [self.estimate_cell(g, f"dim:{k}", g.dimensions.get(k))])
                                  for k, d in self.q.dimensions.items()]),
                pace=pace, pace_chart=self.department_pace_chart(g, number_), desired=self.desired_table(g),
                highlights=self.highlights(g), drivers=self.driver_views(g),
                base=self.say("dept_base", employees=Value(g.n, COUNT),
                              expected=Value(g.expected, COUNT) if g.expected else "–",
                              rate=Value(g.response_rate, PERCENT)),
                change=self.change_view(g), **self.sheet_fields(g)))
        return pages

    def sheet_fields(self, g: GroupResult) -> dict[str, object]:
        """What a team sheet and a department's slide show beyond the department page: the
        cells of the report's tables (the headline as in the score table, the pace shares as
        in the pace table, the derived scores as in their table), through `cell`, so the
        disclosure check and the published figures cover them."""
        head, org_head = self.headline(g), self.headline(self.org)
        names = self.situation_names(short=True)
        found = [c for c in g.pace.values() if c.effect is not None and c.situation in names]

        def most(outcome: str, other: str) -> list[SheetSituation]:
            """Where more of the team feel `outcome` than `other` (so a situation that mostly
            helps is never listed as braking, and none is in both lists), largest share first."""
            def share(c, which: str) -> float:
                return c.effect.get(which, 0.0)

            mostly = [c for c in found if share(c, outcome) > share(c, other)
                      and not same_percent(share(c, outcome), share(c, other))]
            ranked = sorted(mostly, key=lambda c: -share(c, outcome))  # stable: questionnaire order on ties
            return [SheetSituation(names[c.situation], self.cell(g, f"pace:{c.situation}.effect",
                                                                 Value(share(c, outcome), PERCENT), c.n_effect))
                    for c in ranked]

        brakes = top_places(most("brakes", "speeds_up"), SHEET_PLACES)
        helps = top_places(most("speeds_up", "brakes"), SHEET_PLACES)

        scores = []
        for score in self.q.derived:
            if score.id == self.r.headline or score.id not in g.derived:
                continue
            var = f"derived:{score.id}"
            item_ids = {i.id for i in self.q.items}
            scale = self.q.scales[self.q.item(score.of[0]).scale] if score.of and score.of[0] in item_ids else None
            low, high = (scale.numeric_range or (None, None)) if scale is not None else (None, None)
            theirs = self.org.derived.get(score.id)
            scores.append(SheetScore(
                score.id, self.t(score.name), self.estimate_cell(g, var, g.derived[score.id], 1),
                self.estimate_cell(self.org, var, theirs, 1) if theirs is not None else None,
                Value(low, NUMBER), Value(high, NUMBER), self.t(score.description)))
        var = f"derived:{self.r.headline}"

        def as_cell(group: GroupResult, e) -> Cell | None:
            made = self.estimate_cell(group, var, e)
            return made if isinstance(made, Cell) else None

        return dict(index=as_cell(g, head) if head else None, index_position=head.mean if head else None,
                    index_organisation=as_cell(self.org, org_head) if org_head else None,
                    organisation_position=org_head.mean if org_head else None,
                    brakes_most=brakes, helps_most=helps, scores=scores)

    def build(self) -> ReportModel:
        from survey.quotes import load_review

        r, w = self.r, self.w
        self.reviewed = load_review(r.scan)
        groups = r.groups
        pages = self.department_pages()
        dimension_table = self.dimension_table(groups) if self.q.dimensions else None
        if dimension_table is not None:
            dimension_table.id = "table-dimensions"
        base = self.response_base()
        head = self.headline(self.org)
        return ReportModel(
            lang=self.lang, words=w, organisation=r.scan.organisation, wave=r.scan.wave,
            questionnaire=f"{self.t(self.q.title)} {self.q.version}", generated=date.today(),
            version=__version__, threshold=self.threshold, n_responses=base.total,
            n_employees=r.n_employees, n_managers=r.n_managers, response_rate=Value(base.rate, PERCENT),
            response=self.response_line(base),
            headline_name=self.t(self.q_derived(r.headline).name) if r.headline else "",
            headline_value=self.estimate(head), headline_mean=Value(head.mean) if head else None,
            summary=self.summary(groups),
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
            n_unverified=r.n_unverified,
            hidden_count=Counted(len(r.hidden_departments), "count_departments", self.lang),
            languages_offered=len(r.scan.form_languages) > 1,
            drivers_title=self.drivers_title(), drivers=self.driver_views(self.org),
            drivers_notes=self.drivers_notes(), drivers_methods=self.drivers_methods(),
            claims_note=self.say("methods_claims", alpha=Value(self.claims.alpha, digits=2),
                                 double=2 * self.threshold),
            dimensions=[(self.t(d.name), self.label(f"{k}.description", d.description))
                        for k, d in self.q.dimensions.items()],
            statements=self.statements_table(), marks=self.marks_table(), quality=self.quality_table(),
            quality_lines=self.quality_lines(), methods_quality=self.methods_quality(),
            change=self.change_section(),
            **self.questionnaire_wording())

    def open_answers(self, group) -> list[tuple[str, list[str]]]:
        """Quotes per open question: approved ones from a reviewed workbook when there is one,
        otherwise the most frequent answers (ties alphabetically): the same every run."""
        from survey.questionnaire import model as m
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


def build_report_model(results: AnalysisResult) -> ReportModel:
    """The report's content once, typed: every output renders this (formatting at rendering)."""
    return _Builder(results).build()
