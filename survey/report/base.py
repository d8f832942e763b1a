"""What every part of the report builder shares: the results, the questionnaire, the wording,
and the one way a figure enters the model (`cell`), checked against the disclosure decision."""

from __future__ import annotations

from survey.analysis import AnalysisResult, Estimate, GroupResult, group_label, shown_interval
from survey.analysis.claims import Claims
from survey.analysis.model import Share
from survey.i18n import number, percent, wording
from survey.questionnaire import model as m
from survey.report.model import (COUNT, NUMBER, PERCENT, Cell, Drawing, FigureRef, Part, Sentence, Value,
                                 sentence)


class ReportModelError(RuntimeError):
    """The report would show a figure the disclosure decision did not allow: a fault in survey
    itself (every figure of an output must go through survey/disclosure.py), never the user's."""


def same_text(a: float | None, b: float | None, digits: int = 0) -> bool:
    """Whether two figures are written the same: rounding does not depend on the language, so
    the builder decides on it before any language is chosen."""
    return number(a, digits, "en") == number(b, digits, "en")


def shown_difference(first: float, second: float, digits: int = 0) -> float:
    """First minus second as a reader works it out from the two figures as shown: 66 and 50
    give +16, whatever the unrounded scores (65,6 and 50,4 differ by 15,2)."""
    return round(round(first, digits) - round(second, digits), digits) + 0.0  # as `number` rounds; no -0


def same_percent(a: float | None, b: float | None) -> bool:
    return percent(a, "en") == percent(b, "en")


def cut_at_rank(ranked: list, places: int, value, same=same_text) -> tuple[list, list]:
    """The first `places` of a ranked list and, apart, those after it shown alike with the last
    place (`same` on `value`): a list is never cut between equals; the caller names them all."""
    if len(ranked) <= places:
        return list(ranked), []
    last = value(ranked[places - 1])
    return list(ranked[:places]), [x for x in ranked[places:] if same(value(x), last)]


class Wording:
    """reports/wording as sentence templates: `w[key].format(**values)` gives a `Sentence`
    (values stay typed) instead of text; for code shared with the workbook (quality.py's flag
    lines) that fills wording with `.format`."""

    def __init__(self, words: dict[str, str]):
        self.words = words

    def __getitem__(self, key: str) -> "_Template":
        return _Template(key, self.words[key])


class _Template:
    def __init__(self, key: str, text: str):
        self.key, self.text = key, text

    def format(self, **values: Part) -> Sentence:
        return sentence(self.text, key=self.key, **values)


class Base:
    def __init__(self, results: AnalysisResult):
        self.r = results
        self.q = results.questionnaire
        self.lang = results.scan.language
        self.w = wording(self.lang)
        self.org = results.organisation_result
        self.driver_charts = 0  # numbers the priority-matrix charts (ids in the page)
        self.threshold = results.scan.anonymity_threshold
        # (variable, group) of every figure the disclosure decision allowed; None: results
        # without a register (nothing to hold the model against)
        self.allowed: set[tuple[str, str]] | None = None
        if results.register is not None and results.decision is not None:
            self.allowed = {(f.variable, f.group) for f in results.register.figures if results.decision.ok(f)}

    # -- names
    def t(self, text: m.Text | None) -> str:
        return text.get(self.lang, next(iter(text.values()))) if text else ""

    def label(self, key: str, text: m.Text | None) -> str:
        """How the report names a question, section, situation or option: the report's own
        wording for its readers (`label.<id>` in reports/wording) when there is one, else the
        questionnaire's text (which speaks to the respondent: 'jouw', 'je loopbaan')."""
        return self.w.get(f"label.{key}") or self.t(text)

    def group_name(self, g: GroupResult) -> str:
        return group_label(self.r, g.key)

    def q_derived(self, derived_id: str) -> m.DerivedScore:
        return next(d for d in self.q.derived if d.id == derived_id)

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

    @property
    def claims(self) -> Claims:
        return self.r.claims if self.r.claims is not None else Claims()

    # -- figures: the only way a published figure enters the model
    def check(self, var: str, key: str) -> None:
        if self.allowed is not None and (var, key) not in self.allowed:
            raise ReportModelError(f"internal error: the report would show {var} for group {key}, which the "
                                   "disclosure decision did not allow")

    def cell(self, g: GroupResult, var: str, value: Value, n: int | None, show_n: bool = False) -> Cell:
        self.check(var, g.key)
        return Cell(value, var, self.group_name(g), n, show_n, g.key)

    def ref(self, var: str, key: str) -> FigureRef:
        self.check(var, key)
        return FigureRef(var, key)

    def count_cell(self, g: GroupResult, var: str, n: int) -> Cell:
        return self.cell(g, var, Value(n, COUNT), n)

    def estimate(self, e: Estimate | None, digits: int = 0) -> Value | None:
        """'52 (49–55)': the figure with its margin when it may be shown (`shown_interval`)."""
        if e is None:
            return None
        low, high = shown_interval(e, self.threshold)
        return Value(e.mean, NUMBER, digits, low, high)

    def estimate_cell(self, g: GroupResult, var: str, value: Estimate | None, digits: int = 0,
                      show_n: bool = False) -> str | Cell:
        if value is None:
            return "–"
        return self.cell(g, var, Value(value.mean, NUMBER, digits), value.n, show_n and value.n is not None)

    @staticmethod
    def share_margin(s: Share | None) -> Value | None:
        return None if s is None else Value(s.share, PERCENT, 0, s.low, s.high)

    def say(self, key: str, kind: str = "", names: tuple[str, ...] = (), rests_on: tuple[FigureRef, ...] = (),
            **values: Part) -> Sentence:
        """A sentence of reports/wording, filled with typed values."""
        return sentence(self.w[key], kind, names, key, rests_on, **values)

    @staticmethod
    def drawing(chart: str, **args: object) -> Drawing:
        return Drawing(chart, tuple(args.items()), numbers=chart != "priority_matrix")

    def listing(self, names: list[str]) -> str:
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" {self.w['and']} " + names[-1]
