"""The report model: the report's content once, typed, for every output.

Figures are numbers with what kind of figure they are (`Value`), a published figure also
names its variable, group and the people behind it (`Cell`); sentences are wording with
typed values (`Sentence`); charts are their drawing's numbers (`Drawing`). Nothing is text
with a number in it until an output renders it: `shown` turns any model value into text in
the language being rendered (`formatting(lang)`), so HTML, PDF, team sheets, the deck and
chart files write the same figures the same way, and a new output re-words nothing.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Union

from survey.i18n import DASH, counted, long_date, number, percent, wording

if TYPE_CHECKING:
    from survey.charts import Picture

# The language figures are written in while an output is rendered ('7,0' in Dutch); set by
# `formatting`, so `shown` writes the output's language without each caller passing it.
_LANG: ContextVar[str] = ContextVar("report_language", default="en")


@contextmanager
def formatting(lang: str) -> Iterator[None]:
    token = _LANG.set(lang)
    try:
        yield
    finally:
        _LANG.reset(token)


def language() -> str:
    """The language being rendered."""
    return _LANG.get()


# What a number is, and so how it is written (`shown`)
NUMBER = "number"  # a score, mean or coefficient: '7,0', with `digits` decimals
COUNT = "count"  # people: '276' (written as counted, no grouping, as the audit reads it)
PERCENT = "percent"  # a share 0..1: '86%'
SIGNED = "signed"  # a difference or balance: '+5', '-12', '0'
RANGE = "range"  # an interval alone: '12–30' (`low`, `high`; `value` unused)
KINDS = frozenset({NUMBER, COUNT, PERCENT, SIGNED, RANGE})


@dataclass(frozen=True)
class Value:
    """A number the report shows and what kind of figure it is. `low`/`high`: its interval as
    shown beside it ('52 (49–55)'; a share's margin in whole percentage points)."""

    value: float | None
    kind: str = NUMBER
    digits: int = 0
    low: float | None = None
    high: float | None = None
    interval_digits: int | None = None  # decimals of the interval when not `digits`

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind of figure {self.kind!r}")

    @property
    def missing(self) -> bool:
        v = self.value
        return v is None or (isinstance(v, float) and math.isnan(v))

    def __str__(self) -> str:
        return shown(self)


@dataclass(frozen=True)
class Cell:
    """A published figure: its value, what it is about (`var`), the group as the reader sees
    it (`group`) and as the disclosure register knows it (`key`), and the people behind it
    (`n`). The table template writes data-var, data-group and data-n: the audit and a careful
    reader can see which figure rests on how many people."""

    value: Value
    var: str
    group: str
    n: int | None = None
    show_n: bool = False
    key: str = ""  # the group's key in the disclosure register (ORGANISATION, a department, ...)
    # an earlier wave's figure (survey/report/change.py): the wave (data-wave) and the departments
    # of that wave it covers (data-units; empty: the whole organisation of that wave)
    wave: str = ""
    units: tuple[str, ...] = ()
    mark: str = ""  # a sign written after the figure ('▲' moved up since the previous wave)

    @property
    def text(self) -> str:
        return shown(self.value)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Counted:
    """'1 afdeling', '2 afdelingen': a count with its noun, singular or plural by the rule of
    the wording's language (`lang`: the language the model's words are in)."""

    count: int
    key: str  # wording key (`key.one`, `key.other`)
    lang: str


@dataclass(frozen=True)
class Named:
    """'A (72), B (68)': names, each with the figure (or phrase) shown beside it."""

    pairs: tuple[tuple[str, "Part"], ...]


@dataclass(frozen=True)
class FigureRef:
    """A registered figure a sentence or table rests on without a cell of its own (a test's
    people, a reliability's complete cases): the model lists it as shown."""

    var: str
    key: str
    wave: str = ""  # an earlier wave's figure (recorded in that wave's store)


@dataclass(frozen=True)
class Sentence:
    """A sentence of the report: its wording (`template`, from reports/wording or fixed in the
    builder), the values it is filled with (names as text, numbers as `Value`s), and what it
    names (department names, situation, dimension or item ids, by `kind`), so that tests can
    hold every sentence against the tables and claims. `rests_on`: figures it says something
    about that no cell shows."""

    template: str
    values: tuple[tuple[str, "Part"], ...] = ()
    kind: str = ""
    names: tuple[str, ...] = ()
    key: str = ""  # the wording key, when the template came from reports/wording
    rests_on: tuple[FigureRef, ...] = ()

    @property
    def text(self) -> str:
        return shown(self)

    def __str__(self) -> str:
        return self.text


Part = Union[str, int, float, date, Value, Cell, Counted, Named, Sentence, None]


def sentence(template: str, kind: str = "", names: tuple[str, ...] = (), key: str = "",
             rests_on: tuple[FigureRef, ...] = (), **values: Part) -> Sentence:
    return Sentence(template, tuple(values.items()), kind, names, key, rests_on)


@dataclass
class Row:
    label: str
    cells: list[str | Value | Cell | Sentence]
    note: str = ""


@dataclass
class Table:
    headers: list[str | Sentence]
    rows: list[Row]
    id: str = ""  # an anchor, when a chart names this table as its figures
    rests_on: list[FigureRef] = field(default_factory=list)  # figures shown without a cell (a gap's people)
    notes: list[str | Sentence] = field(default_factory=list)  # printed under the table ('– means ...')


@dataclass(frozen=True, eq=False)  # its arguments may be arrays: charts compare by identity
class Drawing:
    """A chart's recipe: the function of survey/charts.py and its arguments (labels as text,
    figures as numbers). Drawn when an output renders it, so its numbers are written in the
    output's language."""

    chart: str
    args: tuple[tuple[str, Any], ...]
    numbers: bool = True  # the function takes a number formatter (`fmt`)


@dataclass
class Chart:
    """A chart and what a reader needs who cannot see it: a title, a sentence saying what it
    shows, and its figures as a table (`data`), or the id of the table printed with it."""

    id: str
    title: str | Sentence
    description: str | Sentence
    drawing: Drawing
    data: Table | None = None
    data_ref: str = ""

    def picture(self, png: bool = False) -> "Picture":
        """The chart drawn in the language being rendered: its SVG and, with `png`, a PNG from
        the same figure (`CHART_DPI`). Drawn once per language and kept (outside the model's
        fields): the HTML, the PDF, the chart files and the deck share one drawing."""
        from survey import charts

        drawn: dict[str, Picture] = self.__dict__.setdefault("_drawn", {})
        lang = _LANG.get()
        picture = drawn.get(lang)
        if picture is None or (png and picture.png is None):
            args = dict(self.drawing.args)
            if self.drawing.numbers:
                args["fmt"] = chart_number
            with charts.raster(CHART_DPI) if png else nullcontext():
                picture = getattr(charts, self.drawing.chart)(**args)
            drawn[lang] = picture
        return picture

    def drawn(self, lang: str, png: bool = False) -> bool:
        """Whether the chart is drawn in `lang` already (with its PNG, with `png`)."""
        picture = self.__dict__.get("_drawn", {}).get(lang)
        return picture is not None and (not png or picture.png is not None)

    def keep(self, lang: str, picture: "Picture") -> None:
        """Keep a picture drawn elsewhere (another process) as this chart's drawing in `lang`."""
        self.__dict__.setdefault("_drawn", {})[lang] = picture

    @property
    def svg(self) -> str:
        """The chart as SVG, its numbers in the language being rendered."""
        from survey import charts

        return charts.labelled(self.picture().svg, f"{self.id}-title", f"{self.id}-desc")

    @property
    def png(self) -> bytes:
        """The chart as PNG (chart files, slides), its numbers in the language being rendered."""
        png = self.picture(png=True).png
        assert png is not None
        return png


CHART_DPI = 200  # PNG chart files and the slide deck's pictures: print quality


def chart_number(value: float, digits: int, is_signed: bool = False) -> str:
    """The number formatter charts write with: the language being rendered."""
    return number(value, digits, _LANG.get(), signed=is_signed)


@dataclass
class DriverView:
    """One outcome's priority matrix for one group (survey/analysis/drivers.py)."""

    outcome: str  # the outcome's name
    heading: str  # "What goes together with <outcome>?"
    chart: Chart  # title: the heading; sentence: what to work on first; its figures: `table`
    table: Table
    caption: Sentence  # n and explained variance
    first: str  # what to work on first, in words (names only)


@dataclass(frozen=True)
class SheetSituation:
    """A situation of the pace map and the share of the department's employees who feel
    braked (or sped up) there: the department's pace table's cell. Situations tied at the
    last place of a list are one entry ('Roster, Course', 20%): `also` holds the cells of
    the others, so no one of equals is picked by the order they happen to have."""

    name: str
    share: Cell
    also: tuple[Cell, ...] = ()


def top_places(ranked: list[SheetSituation], places: int) -> list[SheetSituation]:
    """The first `places` entries of a ranked list, never cut between two of the same shown
    share: the entries tied at the last place become one entry naming all of them ('Roster,
    Course', 20%; commas only, as names hold 'and'), so the list is never longer and none of
    equals is left out."""
    if len(ranked) <= places:
        return list(ranked)

    def same(a: SheetSituation, b: SheetSituation) -> bool:
        return percent(a.share.value.value, "en") == percent(b.share.value.value, "en")

    last = ranked[places - 1]
    if not same(ranked[places], last):
        return list(ranked[:places])
    keep = [e for e in ranked[:places] if not same(e, last)]
    equal = [e for e in ranked if same(e, last)]
    return keep + [SheetSituation(", ".join(e.name for e in equal), equal[0].share,
                                  tuple(c for e in equal for c in (e.share, *e.also))[1:])]


@dataclass(frozen=True)
class SheetScore:
    """A derived score of a department (werkgeluk, intent to stay) beside the organisation's,
    as the report's score table shows them, with the ends of the scale it is on."""

    id: str
    name: str
    value: Cell
    organisation: Cell | None
    low: Value
    high: Value
    description: str = ""


@dataclass
class ChangeView:
    """One group's change since the previous wave (survey/report/change.py): a table (earlier
    value, this wave's, the change with its interval, n of both waves), sentences that claim a
    change only where the rule claims one, and what has no comparison and why."""

    group: str
    table: Table | None
    sentences: list[Sentence]
    left_out: list[Sentence] = field(default_factory=list)
    shares: Table | None = None  # pace shares that changed clearly
    # for the team sheet and the slide: per headline score ('index') and derived score id
    # (werkgeluk, intent to stay) a short phrase, "clearly higher than in 2025" only where claimed
    team: dict[str, Sentence] = field(default_factory=dict)
    # for the team sheet and the slide: every change the report claims for the group (the very
    # sentences of `sentences`, with 'for the other scores no clear change'), or one line 'no
    # clear change since <wave>'; empty when the group has no comparison (`left_out` says why)
    team_lines: list[Sentence] = field(default_factory=list)


@dataclass
class ChangeSection:
    """'What changed': the organisation's change, what has no comparison, the series from three
    waves on, and how change is tested."""

    earlier_wave: str
    waves: tuple[str, ...]
    intro: Sentence
    organisation: ChangeView
    left_out: list[Sentence]
    trend_charts: list[Chart] = field(default_factory=list)
    methods: list[Sentence] = field(default_factory=list)


@dataclass
class DepartmentPage:
    name: str
    n: int
    response_rate: Value  # percent
    headline: Value | None  # mean with its shown interval
    dimensions: Table
    pace: Table
    pace_chart: Chart | None
    desired: Table | None
    highlights: list[Sentence]
    base: Sentence | None = None  # '54 van de 57 medewerkers vulden de vragenlijst in (respons 95%)'
    drivers: list[DriverView] = field(default_factory=list)
    # the team sheet and the department's slide (survey/teams.py, survey/deck.py): the same
    # published cells as the report's tables, nothing of their own
    index: Cell | None = None  # the headline score as the department's tables show it ('52')
    index_position: float | None = None  # 0-100: where the sheet's scale graphic marks it
    index_organisation: Cell | None = None  # the organisation's headline score
    organisation_position: float | None = None  # 0-100: its mark on the scale graphic
    # up to 3 places, largest share first; situations tied at the third place share one
    brakes_most: list[SheetSituation] = field(default_factory=list)
    helps_most: list[SheetSituation] = field(default_factory=list)
    scores: list[SheetScore] = field(default_factory=list)  # the other derived scores (werkgeluk, intent to stay)
    change: "ChangeView | None" = None  # since the previous wave (survey/report/change.py)


@dataclass
class ReportModel:
    lang: str  # the language of the wording (`words`); figures are written at rendering
    words: dict[str, str]
    organisation: str
    wave: str
    questionnaire: str
    generated: date
    version: str
    threshold: int
    n_responses: int
    n_employees: int
    n_managers: int
    response_rate: Value  # everyone who answered over the expected headcount (survey/bases.py)
    response: Sentence  # the same, one line with the split employees / managers
    headline_name: str
    headline_value: Value | None  # mean with its interval
    headline_mean: Value | None
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
    hidden: list[Sentence] = field(default_factory=list)  # one line per hidden group, with its reason
    manager_answers: list[tuple[str, list[str]]] = field(default_factory=list)
    quotes_note: str = ""
    protection: bool = True
    dimensions: list[tuple[str, str]] = field(default_factory=list)
    n_unverified: int = 0  # of n_responses: imported without an issued code
    languages_offered: bool = False  # forms could go out in more than one language (never a count per language)
    hidden_count: Counted | None = None  # '2 afdelingen', for the methods text
    # survey/analysis/quality.py: statements per part, marks, measurement quality, methods
    statements: Table | None = None
    marks: Table | None = None
    marks_intro: Sentence | None = None
    quality: Table | None = None
    quality_lines: list[Sentence] = field(default_factory=list)
    methods_quality: list[Sentence] = field(default_factory=list)
    # wording filled from the questionnaire (names and counts are never in the templates)
    partnership_map_intro: Sentence | None = None
    werkgeluk_name: str = ""
    werkgeluk_intro: Sentence | None = None
    retention_intro: Sentence | None = None
    claims_note: Sentence | None = None  # methods: intervals are for showing, claims need a test
    drivers_title: str = ""  # empty: the questionnaire declares no outcome
    drivers: list[DriverView] = field(default_factory=list)
    drivers_notes: list[Sentence] = field(default_factory=list)  # outcomes without an organisation result, why
    drivers_methods: list[Sentence] = field(default_factory=list)
    change: ChangeSection | None = None  # since the previous wave (survey/report/change.py)

    def figures(self) -> set[tuple[str, str]]:
        """Every registered figure of this wave the report shows, as (variable, group key): its
        cells and what its sentences and tables rest on. `analysis.publish` records these."""
        return {(f.var, f.key) for f in walk(self) if isinstance(f, (Cell, FigureRef)) and not f.wave}

    def earlier_figures(self) -> set[tuple[str, str, str]]:
        """Every earlier wave's figure the report shows, as (wave, variable, group key): recorded
        in that wave's store when this report is published (survey/analysis/change.py)."""
        return {(f.wave, f.var, f.key) for f in walk(self) if isinstance(f, (Cell, FigureRef)) and f.wave}


def walk(value: object) -> Iterator[object]:
    """Every value inside a model value, depth first (dataclass fields, lists, tuples, dicts);
    a chart's drawing is its own recipe, not content, and is not entered."""
    yield value
    if isinstance(value, Drawing):
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from walk(getattr(value, f.name))
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from walk(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from walk(item)


# --------------------------------------------------------------------------- rendering


def _number(value: float | None, digits: int = 0) -> str:
    return number(value, digits, _LANG.get())


def _value(v: Value) -> str:
    if v.kind == RANGE:
        if v.low is None or v.high is None:
            return DASH
        return f"{_number(v.low, v.digits)}–{_number(v.high, v.digits)}"
    if v.missing:
        return DASH
    if v.kind == COUNT:
        return str(int(v.value))  # type: ignore[arg-type]
    if v.kind == PERCENT:
        text = percent(v.value, _LANG.get())
        if v.low is not None and v.high is not None:  # the margin in whole percentage points
            text += f" ({_number(100 * v.low)}–{_number(100 * v.high)})"
        return text
    if v.kind == SIGNED:
        text = number(v.value, v.digits, _LANG.get(), signed=True)
        if v.low is not None and v.high is not None:
            # a difference's margin with signed ends, as the gap tables write it ('+1 tot +22'):
            # '−58–−23' would read as a subtraction
            d = v.digits if v.interval_digits is None else v.interval_digits
            low, high = (number(x, d, _LANG.get(), signed=True) for x in (v.low, v.high))
            text += f" ({wording(_LANG.get())['interval_range'].format(low=low, high=high)})"
        return text
    else:
        text = _number(v.value, v.digits)
    if v.low is not None and v.high is not None:
        d = v.digits if v.interval_digits is None else v.interval_digits
        text += f" ({_number(v.low, d)}–{_number(v.high, d)})"
    return text


def shown(value: object) -> str:
    """What a reader sees of anything in the report model, in the language being rendered.
    Every output (HTML, PDF, team sheets, deck, chart files) turns model values into text
    through this one function (Jinja filter `shown`), so formatting lives in one place.
    Text is shown as it is; None (a figure that is not there) as a dash."""
    if value is None:
        return DASH
    if isinstance(value, str):
        return value
    if isinstance(value, Value):
        return _value(value)
    if isinstance(value, Cell):
        return _value(value.value)
    if isinstance(value, Sentence):
        return value.template.format(**{k: shown(v) for k, v in value.values})
    if isinstance(value, Named):
        return ", ".join(f"{name} ({shown(v)})" for name, v in value.pairs)
    if isinstance(value, Counted):
        return counted(value.count, value.key, value.lang)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):  # a bare number: as many decimals as it has, up to two
        if math.isnan(value):
            return DASH
        if value == round(value):
            return _number(value, 0)
        text = number(value, 2, _LANG.get()).rstrip("0")
        return text if text[-1].isdigit() else text[:-1]
    if isinstance(value, date):
        return long_date(value, _LANG.get())
    return str(value)
