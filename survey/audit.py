"""`survey audit DIR...`: an attacker in code, independent of the code that suppresses.

It reads only what was published: the report's HTML tables (each figure's cell carries the
question it is about, its group and the number of people behind it, which the report also
shows), the results workbook, the text of `survey status`, the quote review (when there is
one), and the public questionnaire. It never sees the register, the store or the analysis.

What a reader can do, and what the audit therefore checks, per question ("variable"):

1. Every published figure is the sum of that variable over a set of people (mean x n). A
   figure on 1..k-1 people gives away those people's sum directly.
2. Subtraction. The sets are modelled from what a reader knows: the organisation is all
   employees; a department is inside it; the combined group is the organisation minus the
   shown departments; figures of the same variable and group on different n are nested (the
   smaller set inside the larger). For such a laminar family everything derivable is a union
   of atoms (a set minus the published sets directly inside it), so every atom of 1..k-1
   people is a set whose sum is determined. A family that is not laminar (a breakdown by
   band beside the departments) is reported as such: its cells are derivable and their sizes
   are not published, so it cannot be shown to be safe.
3. The hidden departments. When survey status shows that only one department with answers
   is not shown, the combined group (or organisation minus the shown ones) *is* that
   department.
4. Cross-variable. A score (dimension, derived) must equal the mean of its published parts;
   a score that does not carries information about the people who skipped a part (with n's
   shown: the people whose score is then determined).
5. Quotes (the report's, and the workbook's sheet `open_answers`): with a review workbook,
   every quote must be approved there, without one the workbook may hold none; no quote may
   hold an e-mail address or phone number.

The quality sheets of the workbook (survey/analysis/quality.py) are read the same way:
`dimensions` (the people behind a part score, `dimension_n:<part>`, and the score, which must
equal the overview's), `reliability` (the complete cases behind alpha and omega,
`reliability:<part>`, a set of their own), `item_quality` and `distributions` (on the
statement's own base, so the same figure as in `items`).

6. Team sheets (output/teams/*.pdf) and the slide deck (report.pptx) may only repeat what
   the report shows: every number on a team sheet, and on a department's slide, must be
   among the numbers of that department's section of report.html or the organisation's
   figures (its figure cells and the cover); every number on another slide must be in
   report.html. Scale ends of the questionnaire and the wave are not figures. A sheet that
   names no department the report shows is a finding too. Numbers keep their sign ('+42' is
   not '-42'). The chart files (output/charts/*.svg: their text, title and description) are
   held against the figures of the groups each chart names (`audit_charts`); a department the
   report hides (departments.csv, survey status) named in a chart is a finding.
7. The export (output/answers.csv/.xlsx/.parquet/.sav, `audit_export`), read as a reader has
   it: every combination of its grouping columns holds at least k rows, and no department
   appears that report.html does not show (hidden ones belong in the combined group).

Shares of 0% or 100% tell every member's answer (group disclosure); they are listed as notes,
not failures (DISCLOSURE.md). Limits: sums are the reader's means; spreads (confidence
intervals) are not read; chart files only as text (labels), not as drawn bar lengths;
quotes cannot be traced to their writers from the outputs.

Across waves (`audit_folders`; `across_waves`). A later wave's report and results workbook show
figures of an earlier wave's people: the report's change cells carry `data-wave` (the wave whose
people they rest on) and `data-units` (that wave's departments the group covers: a merged
department names all of them; empty: the whole organisation of that wave); the workbook's
`change` and `trend` sheets give each earlier value with its wave, those departments
(`earlier_departments`/`departments`) and n. Every folder's own figures belong to its own wave
(scan.yaml); its departments are that wave's, its hidden ones are those its status, its groups
sheet or departments.csv name and it does not show, and they make up its combined group.

a. An earlier wave's figure on 1..k-1 people is a finding in the folder that shows it.
b. Per wave and variable, the sets published in any of the folders form one family, and the
   subtraction of point 2 is tried on it whenever it holds a set shown by a folder of another
   wave (also when only that later folder is audited): last year's A in the 2025 report beside
   last year's A + B as the 'earlier' value of the merged AB in the 2026 report gives B. A
   folder's own wave's own family is left to its own audit. A pace share there of 0 % or 100 %
   is a group-disclosure note, as elsewhere.
c. A department that its own wave's folder does not show (given that folder), shown on its own
   (or with only other hidden ones, short of all of them) as that wave's figure by another
   wave's folder: a group hidden in one wave and shown in the other.
d. Point 4 across folders: an earlier wave's score (dimension, derived; change or trend row,
   report cell) for a group whose statement figures that wave's own folder published (the same
   people: its organisation, one department, exactly its hidden departments as its combined
   group, or several of these pooled per statement by their n, as for a merged department)
   must be the mean of those figures, computed as `attack_composites` does (a dimension
   from its statements' 0-100 scores, a derived score from its parts, from half of the parts),
   within what the rounding of the published figures allows (two decimals on a statement's
   scale, and the score as written: two decimals in the workbook, its digits in the report).
   Otherwise the finding names both places; its people are the earlier n minus the smallest
   statement n (unknown when that is not smaller; k or more is not a finding). Sets of the
   same kind only: the change sheet's n of a score is the people with a score of their own
   (half of its statements answered); a wave's own `dimensions` sheet n is the people who
   answered one statement, so it joins that wave's family of the score only for a dimension
   of at most two statements, where the two are the same people.

Limits across waves: crossing sets (A + B beside B + C) are not subtracted (no laminar family);
an earlier score of a group covering some but not all of its wave's hidden departments has no
statement figures to be held against (only the subtraction, when n's nest); a derived
score's n and a dimension's n of more than two statements are not in the same family as
anything of its own wave, so a late form there is found only through (d), when the late
person moves the score more than the rounding allows (about 0.13 on 0-100 for five-point
statements in the workbook, 0.5 more in the report's whole numbers: in a large department a
late answer close to the mean can hide in it); statement figures are read from the
workbook's `items` sheet only (not from the report); an earlier wave's hidden departments are
known only when its own folder is given; the spreads (intervals) of earlier values are not read.
"""

from __future__ import annotations

import html
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from python_calamine import CalamineWorkbook

from survey.errors import Location, ReportError

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE = re.compile(r"(\+\d{2}[\s-]?|\b0)\d([\s-]?\d){7,9}\b")
TOLERANCE_0_100 = 0.2  # rounding of published figures (two decimals on the item's own scale)
ITEM_ROUNDING = 0.005  # a statement's mean in the items sheet: two decimals on its own scale


@dataclass(frozen=True)
class Published:
    source: str
    variable: str
    group: str
    n: int | None
    value: float | None = None


@dataclass(frozen=True)
class Finding:
    where: str
    variable: str
    people: int | None
    what: str

    def __str__(self) -> str:
        who = "" if self.people is None else f" ({self.people} {'person' if self.people == 1 else 'people'})"
        return f"{self.where}: {self.variable}: {self.what}{who}"


@dataclass(frozen=True)
class WaveSet:
    """A published figure as a set of one wave's people: the wave, the variable, that wave's
    departments it covers (`units`; None: the whole organisation of that wave), n."""

    wave: str
    variable: str
    units: frozenset[str] | None
    n: int
    source: str
    label: str


@dataclass(frozen=True)
class Earlier:
    """An earlier wave's figure as another wave's output shows it (a change or trend row, a
    report cell with data-wave): its wave, variable, group, that wave's departments it covers
    (empty: that wave's organisation), n, where it is, its value and the rounding of that value
    as shown (half its last digit)."""

    wave: str
    variable: str
    group: str
    units: tuple[str, ...]
    n: int | None
    source: str
    value: float | None = None
    rounding: float = 0.005


@dataclass
class AuditResult:
    folder: Path
    threshold: int
    figures: int = 0
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    wave: str = ""  # the folder's own wave (scan.yaml)
    wave_sets: list[WaveSet] = field(default_factory=list)  # its figures as sets of a wave's people
    departments: set[str] = field(default_factory=set)  # its wave's departments (shown, hidden)
    hidden: set[str] = field(default_factory=set)  # its wave's departments its outputs do not show
    outputs: _Outputs | None = field(default=None, repr=False)  # what it read (for `across_waves`)
    questionnaire: object = field(default=None, repr=False)  # its wave's questionnaire

    @property
    def ok(self) -> bool:
        return not self.findings

    def render(self) -> str:
        lines = [f"Audit of {self.folder}: {self.figures} published figures read, threshold {self.threshold}"]
        if self.findings:
            lines.append(f"{len(self.findings)} set(s) of fewer than {self.threshold} people can be worked out:")
            lines += [f"  {f}" for f in self.findings]
        else:
            lines.append(f"No set of 1 to {self.threshold - 1} people can be worked out from these outputs.")
        if self.notes:
            lines.append(f"Notes ({len(self.notes)}):")
            lines += [f"  {n}" for n in self.notes[:20]]
            if len(self.notes) > 20:
                lines.append(f"  ... and {len(self.notes) - 20} more")
        return "\n".join(lines)


# --------------------------------------------------------------------------- reading outputs


CELL = re.compile(r"<td\b([^>]*\bdata-var=[^>]*)>(.*?)</td>", re.S)
ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')
VOICES = re.compile(r'<div class="voices">(.*?)</div>', re.S)
ITEM = re.compile(r"<li>(.*?)</li>", re.S)
TAG = re.compile(r"<[^>]+>")


def parse_report(text: str) -> tuple[list[tuple[dict[str, str], str]], list[str]]:
    """The figure cells (attributes, visible text) and the quotes of a report. Regular
    expressions rather than a full HTML parser: the report is large (charts) and only these
    two kinds of element matter."""
    cells = [({k: html.unescape(v) for k, v in ATTRIBUTE.findall(attributes)},
              html.unescape(TAG.sub("", inner)).strip()) for attributes, inner in CELL.findall(text)]
    quotes = [html.unescape(TAG.sub("", item)).strip().strip("“”\"")
              for block in VOICES.findall(text) for item in ITEM.findall(block)]
    return cells, quotes


def _number(text: str) -> float | None:
    match = re.search(r"[-+]?\d+(?:[.,]\d+)?", text or "")
    return float(match.group(0).replace(",", ".")) if match else None


def _sheet(book, name: str) -> list[dict[str, object]]:
    if name not in book.sheet_names:
        return []
    rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    if not rows:
        return []
    header = [str(h) for h in rows[0]]
    return [{k: (None if v == "" else v) for k, v in zip(header, row)} for row in rows[1:]]


def _int(value: object) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    return int(float(value))  # type: ignore[arg-type]


@dataclass
class _Outputs:
    figures: list[Published] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)  # group label -> kind
    composites: dict[tuple[str, str], float] = field(default_factory=dict)  # (group, score id) -> value
    items: dict[tuple[str, str], Published] = field(default_factory=dict)  # (group, item id) -> figure
    shares: list[tuple[str, str, str, float]] = field(default_factory=list)  # group, variable, option, %
    quotes: list[tuple[str, str]] = field(default_factory=list)  # (where, text)
    earlier: list[Earlier] = field(default_factory=list)  # another wave's figures shown here
    not_shown: set[str] = field(default_factory=set)  # departments the groups sheet lists as not shown
    status_departments: dict[str, tuple[int, str]] = field(default_factory=dict)  # name -> (accepted, reportable)


def read_workbook(path: Path, out: _Outputs, composite_ids: set[str], headline: str) -> None:
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # noqa: BLE001
        raise ReportError(f"the results workbook cannot be read ({exc})", where=Location(file=path),
                          fix="write it again with: survey analyse DIR") from None
    name = path.name
    for row in _sheet(book, "groups"):
        if str(row.get("shown", "yes")) == "yes":
            out.kinds[str(row["group"])] = str(row.get("kind") or "department")
        elif str(row.get("kind") or "department") == "department":
            out.not_shown.add(str(row["group"]))
    for number, row in enumerate(_sheet(book, "items"), start=2):
        f = Published(f"{name} items row {number}", f"item:{row['item']}", str(row["group"]), _int(row["n"]),
                      float(row["mean"]) if row.get("mean") is not None else None)
        out.figures.append(f)
        out.items[(f.group, str(row["item"]))] = f
    for number, row in enumerate(_sheet(book, "pace_map"), start=2):
        for aspect in ("initiative", "effect"):
            n = _int(row.get(f"n_{aspect}"))
            if n is not None:
                variable = f"pace:{row['situation']}.{aspect}"
                out.figures.append(Published(f"{name} pace_map row {number}", variable, str(row["group"]), n))
                for key, value in row.items():
                    if str(key).startswith(f"{aspect}_") and value is not None:
                        out.shares.append((str(row["group"]), variable, str(key)[len(aspect) + 1:], float(value)))
    for number, row in enumerate(_sheet(book, "choices"), start=2):
        out.figures.append(Published(f"{name} choices row {number}", f"choice:{row['item']}", str(row["group"]),
                                     _int(row["n"])))
        if row.get("share") is not None:
            out.shares.append((str(row["group"]), f"choice:{row['item']}", str(row["option"]), float(row["share"])))
    # survey/analysis/quality.py's sheets: each row names the people behind its figure
    for number, row in enumerate(_sheet(book, "dimensions"), start=2):
        n = _int(row.get("n"))
        if n is not None:  # the people who answered at least one statement of the part
            out.figures.append(Published(f"{name} dimensions row {number}", f"dimension_n:{row['dimension']}",
                                         str(row["group"]), n))
        if row.get("score") is not None:
            out.composites[(str(row["group"]), f"{row['dimension']}@dimensions")] = float(row["score"])
    for number, row in enumerate(_sheet(book, "reliability"), start=2):
        n = _int(row.get("n_complete"))
        if n is not None:  # the complete cases: a set of its own
            out.figures.append(Published(f"{name} reliability row {number}", f"reliability:{row['dimension']}",
                                         str(row["group"]), n))
    for number, row in enumerate(_sheet(book, "item_quality"), start=2):
        out.figures.append(Published(f"{name} item_quality row {number}", f"item:{row['item']}", str(row["group"]),
                                     _int(row.get("n_answered"))))
    for number, row in enumerate(_sheet(book, "distributions"), start=2):
        out.figures.append(Published(f"{name} distributions row {number}", f"item:{row['item']}", str(row["group"]),
                                     _int(row.get("n"))))
        if row.get("share") is not None and float(row["share"]) == 100.0:  # everyone gave this answer
            out.shares.append((str(row["group"]), f"item:{row['item']}", str(row["option"]), float(row["share"])))
    for number, row in enumerate(_sheet(book, "drivers"), start=2):  # one figure per outcome and group
        out.figures.append(Published(f"{name} drivers row {number}", f"drivers:{row['outcome']}", str(row["group"]),
                                     _int(row["n"])))
    for number, row in enumerate(_sheet(book, "open_answers"), start=2):  # approved open answers only
        if row.get("text") is not None:
            out.quotes.append((f"{name} open_answers row {number}", str(row["text"]).strip()))
    # survey/analysis/change.py's sheets: an earlier wave's value of a group, over that wave's
    # people (its departments in `earlier_departments`/`departments`; empty: its organisation),
    # named as the report names them (a score by its variable, a pace share by its situation)
    for sheet, wave_column, units_column, n_column in (("change", "earlier_wave", "earlier_departments", "n_earlier"),
                                                       ("trend", "wave", "departments", "n")):
        for number, row in enumerate(_sheet(book, sheet), start=2):  # a trend's own wave's points: its own sets
            variable, wave = str(row["variable"]), str(row.get(wave_column) or "")
            if variable.startswith("pace:"):
                situation, _, outcome = variable[5:].rpartition(".")
                for column in (("earlier", "now") if sheet == "change" else ("value",)):
                    if row.get(column) is not None and float(row[column]) in (0.0, 100.0):
                        out.shares.append((f"{row['group']} ({wave if column != 'now' else 'this wave'})",
                                           f"change {variable}", outcome, float(row[column])))
                variable = f"pace:{situation}.effect"
            units = tuple(u for u in str(row.get(units_column) or "").split("|") if u)
            value = row.get("earlier" if sheet == "change" else "value")
            out.earlier.append(Earlier(wave, variable, str(row["group"]), units, _int(row.get(n_column)),
                                       f"{name} {sheet} row {number} (wave {wave})",
                                       None if value is None else float(value)))
    for row in _sheet(book, "overview"):
        for key, value in row.items():
            if key in composite_ids and value is not None and not (isinstance(value, float) and math.isnan(value)):
                out.composites[(str(row["group"]), str(key))] = float(value)
    for number, row in enumerate(_sheet(book, "breakdowns"), start=2):
        if row.get("index") is not None and not (isinstance(row["index"], float) and math.isnan(row["index"])):
            out.figures.append(Published(f"{name} breakdowns row {number}", headline,
                                         f"band:{row['question']}={row['option']}", _int(row.get("index_n"))))
            out.kinds[f"band:{row['question']}={row['option']}"] = "band"


def read_report(path: Path, out: _Outputs, headline: str) -> None:
    cells, quotes = parse_report(path.read_text(encoding="utf-8"))
    for number, (attributes, text) in enumerate(cells, start=1):
        variable = attributes["data-var"]
        if variable == "responses" or variable.startswith("background:"):
            continue  # counts of people per group or band (see DISCLOSURE.md on counts)
        group = attributes.get("data-group", "")
        n = _int(attributes.get("data-n"))
        if attributes.get("data-wave"):  # another wave's people: held against that wave's figures
            units = tuple(u for u in attributes.get("data-units", "").split("|") if u)
            written = re.search(r"[-+]?\d+(?:[.,](\d+))?", text)
            out.earlier.append(Earlier(attributes["data-wave"], variable, group, units, n,
                                       f"{path.name} table cell {number} (wave {attributes['data-wave']})",
                                       _number(text), 0.5 * 10 ** -len(written.group(1) or "") if written else 0.5))
            continue
        if group.startswith("band:"):
            out.kinds[group] = "band"
            variable = headline
        if variable.startswith(("dim:", "derived:")) and n is None:
            value = _number(text)
            if value is not None:
                out.composites[(group, variable.split(":", 1)[1] + "@report")] = value
            continue
        out.figures.append(Published(f"{path.name} table cell {number}", variable, group, n, _number(text)))
    out.quotes += [(f"{path.name} quotes", text) for text in quotes]


ARTICLE = re.compile(r'<article class="department">(.*?)</article>', re.S)
HEADING = re.compile(r"<h2[^>]*>(.*?)</h2>", re.S)
COVER = re.compile(r'<header class="cover">(.*?)</header>', re.S)
NUMBER = re.compile(r"(?<![\w.,])([-+\u2212]?\d+(?:[.,]\d+)*%?)")
STYLE_OR_SCRIPT = re.compile(r"<(style|script)\b.*?</\1>", re.S)


def _visible(fragment: str) -> str:
    """The text of an HTML fragment as a reader sees it (chart labels included)."""
    return html.unescape(TAG.sub(" ", STYLE_OR_SCRIPT.sub(" ", fragment)))


def _signed(token: str) -> str:
    """A number as written, its sign kept ('+42' and '42' are one number, '−42' and '-42'
    another): a copy that flips a sign says something else."""
    token = token.replace("\u2212", "-").lstrip("+")
    return token[1:] if token.startswith("-") and not token.strip("-0.,%") else token  # -0 is 0


def numbers_in(text: str, names: list[str] = ()) -> set[str]:
    """The numbers in a text, as written ('7,2', '42%', '-6'), leaving out those inside names
    (a department called 'Team 3')."""
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    return {_signed(n) for n in NUMBER.findall(text)}


@dataclass
class _ReportNumbers:
    """The numbers report.html shows: per department its section, the organisation's figure
    cells and the cover, and all of them."""

    departments: dict[str, set[str]]
    organisation: set[str]
    everything: set[str]
    names: list[str]


def report_numbers(text: str, organisation_label: str, extra_names: list[str]) -> _ReportNumbers:
    articles = {}
    for body in ARTICLE.findall(text):
        heading = HEADING.search(body)
        if heading:
            articles[html.unescape(TAG.sub("", heading.group(1))).strip()] = body
    names = list(articles) + extra_names
    departments = {name: numbers_in(_visible(body), names) for name, body in articles.items()}
    cells, _ = parse_report(text)
    organisation = {n for attributes, value in cells if attributes.get("data-group") == organisation_label
                    for n in numbers_in(value, names)}
    cover = COVER.search(text)
    if cover:
        organisation |= numbers_in(_visible(cover.group(1)), names)
    return _ReportNumbers(departments, organisation, numbers_in(_visible(text), names), names)


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    try:
        return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    except Exception as exc:  # noqa: BLE001
        raise ReportError(f"the team sheet cannot be read ({exc})", where=Location(file=path),
                          fix="write the team sheets again with: survey report DIR") from None


def _slides(path: Path) -> list[tuple[list[str], list[str]]]:
    """Per slide of a .pptx: its paragraphs and the descriptions (alternative text) of its
    pictures, read from the package's XML (no presentation library needed)."""
    import zipfile

    paragraph = re.compile(r"<a:p>(.*?)</a:p>", re.S)
    run = re.compile(r"<a:t>(.*?)</a:t>", re.S)
    description = re.compile(r'<p:cNvPr\b[^>]*\bdescr="([^"]*)"')
    try:
        with zipfile.ZipFile(path) as package:
            members = sorted((n for n in package.namelist() if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)),
                             key=lambda n: int(re.findall(r"\d+", n)[0]))
            slides = []
            for member in members:
                xml = package.read(member).decode("utf-8")
                texts = [html.unescape("".join(run.findall(p))) for p in paragraph.findall(xml)]
                slides.append(([t for t in texts if t.strip()], [html.unescape(d) for d in description.findall(xml)]))
            return slides
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError) as exc:
        raise ReportError(f"the slide deck cannot be read ({exc})", where=Location(file=path),
                          fix="write it again with: survey report DIR") from None


def audit_dialogue(output: Path, report_text: str, organisation_label: str, not_figures: set[str],
                   extra_names: list[str], hidden: list[str] = ()) -> tuple[int, list[Finding]]:
    """Team sheets and slides against report.html (point 6 of the module's text). Returns
    how many numbers were read and the findings. A department the report does not show,
    named on a sheet or slide, is a finding of its own."""
    known = report_numbers(report_text, organisation_label, extra_names)
    findings: list[Finding] = []
    read = 0

    def check(where: str, department: str | None, text: str) -> None:
        nonlocal read
        for name in hidden_named(text, set(known.departments), list(hidden)):
            findings.append(Finding(where, "team sheet" if where.startswith("teams/") else "slide", None,
                                    f"names {name}, a department the report does not show"))
        found = numbers_in(text, known.names)
        read += len(found)
        if department is None:
            allowed, whose = known.everything, "report.html"
        else:
            allowed = known.departments[department] | known.organisation
            whose = f"the report's figures for {department} or the organisation"
        for number in sorted(found - allowed - not_figures):
            findings.append(Finding(where, "figure", None, f"{number} is not among {whose}"))

    from survey.teams import safe_name  # how a sheet's file is named after its department

    for sheet in sorted((output / "teams").glob("*.pdf")) if (output / "teams").is_dir() else []:
        text = _pdf_text(sheet)
        named = [name for name in known.departments if name in text]
        if not named:
            findings.append(Finding(f"teams/{sheet.name}", "team sheet", None,
                                    "names no department that the report shows"))
            continue
        # the sheet is named after its department (teams.file_names); a short name such as 'A'
        # also occurs inside other words on the sheet
        stem = re.sub(r" \(\d+\)$", "", sheet.stem)
        by_file = [name for name in named if safe_name(name) == stem]
        check(f"teams/{sheet.name}", max(by_file or named, key=len), text)
    deck = output / "report.pptx"
    if deck.is_file():
        for number, (paragraphs, descriptions) in enumerate(_slides(deck), start=1):
            # a department's slide has its name as a paragraph of its own (its title)
            titled = [p.strip() for p in paragraphs if p.strip() in known.departments]
            check(f"report.pptx slide {number}", titled[0] if titled else None,
                  "\n".join(paragraphs + descriptions))
    return read, findings


def hidden_named(text: str, shown: set[str], hidden: list[str]) -> list[str]:
    """The departments the report does not show that `text` names (a hidden 'Zorg' is not
    named by a shown 'Zorg Noord')."""
    for name in sorted(shown, key=len, reverse=True):
        text = text.replace(name, " ")
    return [name for name in hidden if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text)]


SVG_TEXT = re.compile(r"<(text|title|desc)\b[^>]*>(.*?)</\1>", re.S)
TICK_START = re.compile(r'<g id="[^"]*-[xy]tick_\d+">')  # a matplotlib tick: its mark and its label
GROUP_TAG = re.compile(r"<g\b[^>]*>|</g>")


def without_ticks(svg: str) -> str:
    """The SVG less every axis tick group (nested groups counted to its own closing tag)."""
    kept, at = [], 0
    while (start := TICK_START.search(svg, at)) is not None:
        kept.append(svg[at:start.start()])
        depth, end = 0, len(svg)
        for tag in GROUP_TAG.finditer(svg, start.start()):
            depth += -1 if tag.group() == "</g>" else 1
            if depth == 0:
                end = tag.end()
                break
        at = end
    return "".join(kept) + svg[at:]


def audit_charts(output: Path, report_text: str, organisation_label: str, not_figures: set[str],
                 extra_names: list[str], hidden: list[str]) -> tuple[int, list[Finding]]:
    """The chart files (output/charts/*.svg) against report.html, as team sheets are: every
    number in a chart's text (its labels, title and description) must be among the report's
    numbers for the groups the chart names (a department's section, a group's figure cells)
    and the organisation's; a chart naming no group, among all of report.html's numbers. A
    department the report does not show, named in a chart, is a finding of its own."""
    folder = output / "charts"
    if not folder.is_dir():
        return 0, []
    known = report_numbers(report_text, organisation_label, extra_names)
    cells, _ = parse_report(report_text)
    groups: dict[str, set[str]] = defaultdict(set)  # the combined group, managers: their cells
    for attributes, value in cells:
        if attributes.get("data-group") and not attributes.get("data-group", "").startswith("band:"):
            groups[attributes["data-group"]] |= numbers_in(value, known.names + list(groups))
    names = sorted(set(known.names) | set(groups) | set(hidden), key=len, reverse=True)
    findings: list[Finding] = []
    read = 0
    for chart in sorted(folder.glob("*.svg")):
        where = f"charts/{chart.name}"
        svg = without_ticks(chart.read_text(encoding="utf-8"))  # axis ticks are the scale, not figures
        text = "\n".join(html.unescape(TAG.sub(" ", body)) for _, body in SVG_TEXT.findall(svg))
        for name in hidden_named(text, set(known.departments) | set(groups), hidden):
            findings.append(Finding(where, "chart", None, f"names {name}, a department the report does not "
                                                          "show (its people belong in the combined group)"))
        named = [g for g in set(known.departments) | set(groups) if g in text and g != organisation_label]
        if named:
            allowed = set(known.organisation)
            for g in named:
                allowed |= known.departments.get(g, set()) | groups.get(g, set())
            whose = f"the report's figures for {', '.join(sorted(named))} or the organisation"
        else:
            allowed, whose = known.everything, "report.html"
        found = numbers_in(text, names)
        read += len(found)
        for number in sorted(found - allowed - not_figures):
            findings.append(Finding(where, "figure", None, f"{number} is not among {whose}"))
    return read, findings


def _export_rows(path: Path) -> list[dict[str, str]]:
    """The rows of an export (answers.csv/.xlsx/.parquet/.sav), every cell as text."""
    if path.suffix == ".csv":
        import csv

        text = path.read_text(encoding="utf-8-sig")
        first = text.split("\n", 1)[0]
        reader = csv.DictReader(text.splitlines(), delimiter=";" if first.count(";") > first.count(",") else ",")
        return [dict(row) for row in reader]
    if path.suffix == ".xlsx":
        rows = _sheet(CalamineWorkbook.from_path(str(path)), "answers")
    else:
        import pandas as pd

        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            import pyreadstat

            frame, _ = pyreadstat.read_sav(str(path), apply_value_formats=True)
        rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [{str(k): "" if v is None else str(v) for k, v in row.items()} for row in rows]


def audit_export(output: Path, questionnaire, threshold: int, shown_groups: set[str], hidden: list[str],
                 allowed_labels: set[str]) -> tuple[int, list[Finding]]:
    """The export as a reader has it: every combination of the grouping columns it carries
    (department, role, language, the reported background questions) holds at least k rows,
    and no department appears that the report does not show."""
    from survey.questionnaire import model as m

    grouping = ["department", "role", "language"] + [
        b.id.replace(".", "_")[:64] for b in questionnaire.background
        if b.source != "form" and b.reporting is not m.Reporting.none]
    findings: list[Finding] = []
    read = 0
    for path in sorted(output.glob("answers.*")):
        if path.suffix not in (".csv", ".xlsx", ".parquet", ".sav") or path.name.count(".") > 1:
            continue
        try:
            rows = _export_rows(path)
        except Exception as exc:  # noqa: BLE001
            raise ReportError(f"the export cannot be read ({exc})", where=Location(file=path),
                              fix="write it again with: survey export DIR --format ...") from None
        read += len(rows)
        columns = [c for c in grouping if rows and c in rows[0]]
        counts: dict[tuple[str, ...], int] = defaultdict(int)
        for row in rows:
            counts[tuple(row[c] for c in columns)] += 1
        for combination, count in sorted(counts.items()):
            if count < threshold:
                what = ", ".join(f"{c}={v}" for c, v in zip(columns, combination))
                findings.append(Finding(path.name, "export", count, f"{what}: {count} row(s), fewer than {threshold}"))
        for department in sorted({row.get("department", "") for row in rows} - shown_groups - allowed_labels - {""}):
            n = sum(row.get("department") == department for row in rows)
            why = "a department the report does not show" if department in hidden else "not a group the report shows"
            findings.append(Finding(path.name, "export", n if n < threshold else None,
                                    f"department '{department}' ({n} rows): {why} (it belongs in the combined group)"))
    return read, findings


def read_status(text: str, out: _Outputs) -> None:
    """The department table of `survey status`: name, expected, issued, employees (answered/
    expected), managers (answered/expected; left out since managers are one group), rate,
    reportable."""
    for line in text.splitlines():
        match = re.match(r"^(?P<name>.+?)\s+(?P<expected>\d+)\s+(?P<issued>\d+)\s+(?P<employees>\d+)/\d+\s+"
                         r"(?:(?P<managers>\d+)/\d+\s+)?(?:\d+%|-)\s+(?P<why>(yes|no).*)$", line)
        if match:
            out.status_departments[match["name"].strip()] = (int(match["employees"]), match["why"])


# --------------------------------------------------------------------------- the attack


def _units(group: str, kind: str, departments: list[str]) -> frozenset[str] | None:
    if kind == "organisation":
        return frozenset(departments) | {"\x00rest"}
    if kind == "department":
        return frozenset({group})
    if kind == "combined":
        return frozenset({"\x00rest"})
    if kind == "managers":
        return frozenset({"\x00managers"})
    return None  # a band: crosses the departments


def attack_variable(variable: str, figures: list[Published], kinds: dict[str, str], threshold: int,
                    hidden_with_answers: list[str]) -> list[Finding]:
    findings: list[Finding] = []
    departments = sorted(g for g, k in kinds.items() if k == "department")
    nodes: dict[tuple[str, int], list[str]] = defaultdict(list)
    for f in figures:
        if f.n is None:
            findings.append(Finding(f.source, variable, None, f"figure for {f.group} without the number of people "
                                                              "behind it"))
            continue
        if 0 < f.n < threshold and (f.group, f.n) not in nodes:
            findings.append(Finding(f.source, variable, f.n, f"figure for {f.group} rests on fewer than "
                                                             f"{threshold} people"))
        nodes[(f.group, f.n)].append(f.source)
    sets = []
    for (group, n), sources in nodes.items():
        kind = kinds.get(group)
        if kind is None:
            findings.append(Finding(sources[0], variable, n, f"figure for '{group}', a group the outputs do not "
                                                             "list as shown"))
            continue
        units = _units(group, kind, departments)
        if units is None:
            if departments:  # a band score rests on every statement; departments show them too
                findings.append(Finding(sources[0], variable, None,
                                        f"figure for band {group.split(':', 1)[1]} beside department figures: a "
                                        "crossing (linked) table whose derivable cells are not published"))
            continue
        sets.append((group, n, units, sources[0]))
    children = _nesting(sets)
    rest_atom = None  # people in the hidden departments behind this variable, when derivable
    for a, (group, n, units, source) in enumerate(sets):
        inside = children.get(a, [])
        if units == {"\x00rest"}:
            rest_atom = (n, source)
        if not inside:
            continue
        atom = n - sum(sets[c][1] for c in inside)
        covered = set().union(*(sets[c][2] for c in inside))
        if "\x00rest" in units - covered and set(departments) <= covered and atom > 0:
            rest_atom = rest_atom or (atom, source)
        if 0 < atom < threshold:
            names = ", ".join(sorted(f"{sets[c][0]} (n={sets[c][1]})" for c in inside))
            findings.append(Finding(source, variable, atom,
                                    f"{group} (n={n}) minus {names} leaves a set whose sum is determined"))
    if len(hidden_with_answers) == 1 and rest_atom is not None:
        findings.append(Finding(rest_atom[1], variable, rest_atom[0],
                                f"the only department not shown ({hidden_with_answers[0]}, from survey status) "
                                "can be worked out"))
    return findings


def _item_score(value: float, low: float, high: float, traditional: bool) -> float:
    score = (value - low) / (high - low) * 100
    return 100 - score if traditional else score


def attack_composites(out: _Outputs, questionnaire, threshold: int) -> list[Finding]:
    """A score must be the mean of its published parts; otherwise it carries more."""
    from survey.questionnaire import model as m

    q = questionnaire
    findings = []
    scores = {key: value for key, value in out.composites.items() if "@" not in key[1]}
    for (group, score_id), value in out.composites.items():
        if score_id.endswith(("@report", "@dimensions")):
            score_id = score_id.rsplit("@", 1)[0]
            workbook_value = scores.get((group, score_id))
            if workbook_value is None or abs(workbook_value - value) > 0.5 + TOLERANCE_0_100:
                findings.append(Finding(f"report.html, {group}", f"score {score_id}", None,
                                        "a score in the report that the results workbook does not explain"))
    for (group, score_id), value in sorted(scores.items()):
        if score_id in q.dimensions:
            parts = []
            counts = []
            for item in q.dimension_items(score_id):
                f = out.items.get((group, item.id))
                if f is None or f.value is None:
                    continue
                low, high = q.scales[item.scale].numeric_range
                parts.append(_item_score(f.value, low, high, getattr(item, "pole", None) == m.Pole.traditional))
                counts.append(f.n or 0)
            total = len(q.dimension_items(score_id))
            # two decimals on a statement's own scale move its 0-100 score by up to 0.5/(high-low)
            # (0.25 on a 3-point scale); the score's own two decimals add 0.005
            slack = [ITEM_ROUNDING * 100 / (r[1] - r[0]) for r in
                     (q.scales[i.scale].numeric_range for i in q.dimension_items(score_id))]
            tolerance = max(TOLERANCE_0_100, max(slack, default=0.0) + ITEM_ROUNDING + 1e-9)
        else:
            derived = next((d for d in q.derived if d.id == score_id), None)
            if derived is None:
                continue
            parts, counts = [], []
            for ref in derived.of:
                if (group, ref) in scores:
                    parts.append(scores[(group, ref)])
                elif (group, ref) in out.items and out.items[(group, ref)].value is not None:
                    parts.append(out.items[(group, ref)].value)
                    counts.append(out.items[(group, ref)].n or 0)
            total = len(derived.of)
            tolerance = TOLERANCE_0_100 if any(ref in q.dimensions or ref in {d.id for d in q.derived}
                                               for ref in derived.of) else 0.02
        explained = parts and len(parts) >= math.ceil(total / 2) and abs(sum(parts) / len(parts) - value) <= tolerance
        if explained:
            continue
        n_score = next((f.n for f in out.figures if f.group == group and f.variable.endswith(f":{score_id}")
                        and f.n is not None), None)
        skipped = [n_score - c for c in counts if n_score is not None and c <= n_score]
        people = max(skipped) if skipped and max(skipped) > 0 else None
        if people is None or people < threshold:
            findings.append(Finding(
                f"results workbook overview, {group}", f"score {score_id}", people,
                "not the mean of its published parts: with the parts it determines the scores of the people "
                "who skipped a part" + ("" if people else " (their number is not published)")))
    return findings


def audit(folder: Path, threshold: int | None = None) -> AuditResult:
    """Audit one scan folder (or output folder) as a reader with every output would."""
    from survey.questionnaire import load_questionnaire

    folder = Path(folder)
    output = folder / "output" if (folder / "output").is_dir() else folder
    scan_folder = folder if (folder / "scan.yaml").is_file() else output.parent
    qpath = scan_folder / "questionnaire.yaml"
    if not qpath.is_file():
        raise ReportError("the questionnaire of this scan is missing", where=Location(file=qpath),
                          fix="run the audit on a scan folder (the one with scan.yaml)")
    status_text = ""
    if (scan_folder / "scan.yaml").is_file():
        from survey.scan import load_scan

        scan = load_scan(scan_folder)  # the public settings and the frozen questionnaire
        questionnaire = scan.questionnaire
        threshold = threshold or scan.anonymity_threshold
        if scan.store_path.exists():
            from survey.status import scan_status

            status_text = scan_status(scan_folder).render()
    else:
        questionnaire = load_questionnaire(qpath).questionnaire
    if (output / "status.txt").is_file():
        status_text = (output / "status.txt").read_text(encoding="utf-8")
    if threshold is None:
        raise ReportError(f"{folder} is not a scan folder, so the threshold is unknown",
                          fix="pass --threshold")
    out = _Outputs()
    composite_ids = set(questionnaire.dimensions) | {d.id for d in questionnaire.derived}
    headline = "derived:" + next((d.id for d in questionnaire.derived
                                  if all(ref in questionnaire.dimensions for ref in d.of)), "headline")
    workbook, report = output / "results.xlsx", output / "report.html"
    if not workbook.is_file() and not report.is_file():
        raise ReportError(f"no outputs to audit in {output}", fix="run survey analyse and survey report first")
    if workbook.is_file():
        read_workbook(workbook, out, composite_ids, headline)
    if report.is_file():
        read_report(report, out, headline)
    read_status(status_text, out)
    result = AuditResult(folder, threshold, figures=len(out.figures) + len(out.composites) + len(out.earlier))
    result.wave = str(scan.wave) if (scan_folder / "scan.yaml").is_file() else ""
    result.outputs, result.questionnaire = out, questionnaire
    # scale ends are not figures; nor are the wave and names (numbers inside them)
    not_figures = {"0", "100"} | {f"{v:g}" for scale in questionnaire.scales.values()
                                  for v in (scale.numeric_range or ())}
    not_figures.add(str(len(questionnaire.dimensions)))  # "its 4 parts" in chart descriptions
    names: list[str] = []
    organisation_label = "Whole organisation"
    if (scan_folder / "scan.yaml").is_file():
        from survey.i18n import wording

        not_figures |= numbers_in(str(scan.wave))
        names = [scan.organisation]
        organisation_label = wording(scan.language)["organisation"]
    listed = [d.name for d in scan.departments] if (scan_folder / "scan.yaml").is_file() else []
    hidden_names = sorted((set(listed) | set(out.status_departments) | out.not_shown) - set(out.kinds))
    _wave_sets(result, out, set(hidden_names))
    if report.is_file() and ((output / "teams").is_dir() or (output / "report.pptx").is_file()):
        read, findings = audit_dialogue(output, report.read_text(encoding="utf-8"), organisation_label,
                                        not_figures, names, hidden_names)
        result.figures += read
        result.findings += findings
    if report.is_file():
        from survey.i18n import wording

        cells, _ = parse_report(report.read_text(encoding="utf-8"))
        shown_groups = {a["data-group"] for a, _ in cells if a.get("data-group")} \
            | {g for g, k in out.kinds.items() if k != "band"}
        labels = {wording(lang)[key] for lang in ("nl", "en")
                  for key in ("export_not_shown", "export_everyone", "export_not_answered")}
        read, findings = audit_export(output, questionnaire, threshold, shown_groups, hidden_names, labels)
        result.figures += read
        result.findings += findings
    if report.is_file() and (output / "charts").is_dir():
        read, findings = audit_charts(output, report.read_text(encoding="utf-8"), organisation_label,
                                      not_figures, names, hidden_names)
        result.figures += read
        result.findings += findings
    shown = {g for g, k in out.kinds.items() if k == "department"}
    hidden_with_answers = [name for name, (accepted, _) in out.status_departments.items()
                           if accepted > 0 and name not in shown]
    by_variable: dict[str, list[Published]] = defaultdict(list)
    for f in out.figures:
        by_variable[f.variable].append(f)
    for variable, figures in sorted(by_variable.items()):
        result.findings += attack_variable(variable, figures, out.kinds, threshold, hidden_with_answers)
    result.findings += attack_composites(out, questionnaire, threshold)
    result.findings += _quotes(scan_folder, out)
    for (group, item_id), f in sorted(out.items.items()):
        item = next((i for i in questionnaire.items if i.id == item_id.removesuffix(".desired")), None)
        scale = questionnaire.scales.get(getattr(item, "scale", ""), None)
        span = scale.numeric_range if scale is not None else None
        if span and f.value is not None and f.value in span:
            result.notes.append(f"{group}, item:{item_id}: everyone answered {f.value:g} (group disclosure: stated "
                                "in the methods)")
    for group, variable, option, share in out.shares:
        if share in (0.0, 100.0) and option not in ("no_effect",):
            result.notes.append(f"{group}, {variable}: {share:.0f}% chose {option} (group disclosure: stated in the "
                                "methods)")
    return result


def _quotes(scan_folder: Path, out: _Outputs) -> list[Finding]:
    findings = []
    review = scan_folder / "quotes.xlsx"
    approved: set[str] | None = None
    if review.is_file():
        approved = set()
        for row in _sheet(CalamineWorkbook.from_path(str(review)), "quotes"):
            if str(row.get("decision") or "").strip().casefold() == "publish":
                approved.add(str(row.get("edited_text") or row.get("text") or "").strip())
    for where, text in out.quotes:
        if EMAIL.search(text) or PHONE.search(text):
            findings.append(Finding(where, "quote", None, f"contains an e-mail address or phone number: {text[:60]}"))
        if approved is not None and text not in approved:
            findings.append(Finding(where, "quote", None, f"not approved in {review.name}: {text[:60]}"))
        if approved is None and "open_answers" in where:
            findings.append(Finding(where, "quote", None, f"an open answer without a quote review: {text[:60]}"))
    return findings


def _wave_sets(result: AuditResult, out: _Outputs, hidden: set[str]) -> None:
    """The folder's figures as sets of its own wave's people (`hidden`: its wave's departments
    it does not show, which make up its combined group), and the earlier waves' figures it
    shows as sets of theirs; an earlier wave's figure on 1..k-1 people is a finding here."""
    shown = {g for g, k in out.kinds.items() if k == "department"}
    result.departments = shown | set(out.status_departments) | hidden
    result.hidden = set(hidden)
    q = result.questionnaire
    for f in out.figures:
        kind = out.kinds.get(f.group)
        if f.n is None or kind not in ("organisation", "department", "combined"):
            continue
        units = (None if kind == "organisation" else frozenset({f.group}) if kind == "department"
                 else frozenset(hidden) if hidden else None)
        if kind == "combined" and units is None:
            continue  # the hidden departments are not named (no status): not placed in the wave
        variable = f.variable
        if variable.startswith("dimension_n:") and q is not None and variable[12:] in q.dimensions \
                and len(q.dimension_items(variable[12:])) <= 2:
            # the people behind a part score (one statement answered) are then exactly the
            # people with a score of their own, the n a later wave's change sheet gives for it
            variable = "dim:" + variable[12:]
        result.wave_sets.append(WaveSet(result.wave, variable, units, f.n, f"{result.folder}: {f.source}", f.group))
    reported: set[tuple[str, str, tuple[str, ...], int]] = set()
    for e in out.earlier:
        if e.n is None:
            result.findings.append(Finding(e.source, e.variable, None, f"figure of wave {e.wave} for {e.group} "
                                                                       "without the number of people behind it"))
            continue
        key = (e.wave, e.variable, tuple(sorted(e.units)), e.n)
        if 0 < e.n < result.threshold and key not in reported:
            reported.add(key)
            result.findings.append(Finding(e.source, f"{e.variable} (wave {e.wave})", e.n,
                                           f"figure of wave {e.wave} for {e.group} rests on fewer than "
                                           f"{result.threshold} people"))
        result.wave_sets.append(WaveSet(e.wave, e.variable, frozenset(e.units) if e.units else None, e.n,
                                        f"{result.folder}: {e.source}", f"{e.group} ({e.wave})"))


def across_waves(results: list[AuditResult], threshold: int) -> list[Finding]:
    """Per wave and variable, every set any of the folders published of that wave's people:
    a set of 1..k-1 people left when the published sets inside another are taken from it. A
    family is tried whenever a folder of another wave shows one of its sets (a folder's own
    wave's own family is its own audit's). Also: a department its own wave's folder does not
    show, shown on its own as that wave's figure by another wave's folder; and an earlier
    wave's score that is not the mean of the statement figures that wave's folder published
    for the same group (`_scores_across`)."""
    departments: dict[str, set[str]] = defaultdict(set)
    hidden: dict[str, set[str]] = defaultdict(set)
    for r in results:
        departments[r.wave] |= r.departments
        hidden[r.wave] |= r.hidden
        for s in r.wave_sets:
            departments[s.wave] |= set(s.units or ())
    families: dict[tuple[str, str], dict[tuple[frozenset[str], int], WaveSet]] = defaultdict(dict)
    others: set[tuple[str, str]] = set()  # families holding a set shown by a folder of another wave
    findings: list[Finding] = []
    shown: dict[str, set[str]] = defaultdict(set)
    told: set[tuple] = set()
    for r in results:
        shown[r.wave] |= r.departments - r.hidden
    for r in results:
        for s in r.wave_sets:
            units = frozenset(departments[s.wave]) | {"\x00rest"} if s.units is None else s.units
            families[(s.wave, s.variable)].setdefault((units, s.n), s)
            if s.wave == r.wave:
                continue
            others.add((s.wave, s.variable))
            gone = hidden.get(s.wave, set()) - shown[s.wave]  # its own folder(s) did not show them
            key = (r.folder, s.wave, s.variable, s.units, s.n)
            if s.units and s.units <= gone and s.units != gone and key not in told:
                told.add(key)
                findings.append(Finding(s.source, f"{s.variable} (wave {s.wave})", None,
                                        f"{s.label} (n={s.n}) shows on its own {', '.join(sorted(s.units))}, which "
                                        f"wave {s.wave}'s own outputs do not show (a group hidden in one wave and "
                                        "shown in the other)"))
    for (wave, variable), found in sorted(families.items(), key=lambda item: item[0]):
        if (wave, variable) not in others:
            continue  # one folder's own family: its own audit covers it
        sets = [(s.label, n, units, s.source) for (units, n), s in found.items()]
        for f in _subtractions(sets, threshold):
            findings.append(Finding(f.where, f"{variable} (wave {wave})", f.people, f.what))
    return findings + _scores_across(results, threshold)


def _items_of(r: AuditResult, units: tuple[str, ...]) -> tuple[str, dict[str, Published]] | None:
    """A folder's own statement figures for the people of these departments of its wave (empty:
    its organisation): a group it shows with exactly those departments (its combined group: all
    its hidden ones), or else several such groups pooled per statement (the mean weighted by
    each figure's n, as a merged department's earlier score rests on all of them). Returns the
    group's name and the figures (item id -> figure); None when the folder shows no such groups."""
    if r.outputs is None:
        return None
    kinds = r.outputs.kinds
    want = set(units)
    parts: list[str] = []
    for group, kind in kinds.items():
        if kind == "organisation" and not want:
            parts = [group]
            break
        if kind == "department" and group in want:
            parts.append(group)
            want.discard(group)
        elif kind == "combined" and r.hidden and r.hidden <= want:
            parts.append(group)
            want -= r.hidden
    if not parts or (units and want):
        return None
    figures: dict[str, list[Published]] = defaultdict(list)
    for (group, item), f in r.outputs.items.items():
        if group in parts and f.value is not None and f.n:
            figures[item].append(f)
    pooled = {item: Published(found[0].source, found[0].variable, " + ".join(parts), sum(f.n for f in found),
                              sum(f.value * f.n for f in found) / sum(f.n for f in found))
              for item, found in figures.items() if len(found) == len(parts)}
    return " + ".join(parts), pooled


def _score_of_parts(q, variable: str, items: dict[str, Published]) -> tuple[float, float, list[int]] | None:
    """A score as the mean of a group's published statement figures (`items`: item id ->
    figure), as `attack_composites` holds it: a dimension the mean of its statements' 0-100
    scores, a derived score the mean of its parts (scores, or a question's mean on its scale);
    from half of the parts. Returns the value, how far the rounding of the published figures
    (two decimals on a statement's own scale) can move it, and the n's of the statement figures
    used; None when too few parts are published."""
    from survey.questionnaire import model as m

    kind, key = variable.split(":", 1)
    if kind == "dim" and key in q.dimensions:
        parts, counts, slack = [], [], []
        statements = q.dimension_items(key)
        for item in statements:
            f = items.get(item.id)
            if f is None or f.value is None:
                continue
            low, high = q.scales[item.scale].numeric_range
            parts.append(_item_score(f.value, low, high, getattr(item, "pole", None) == m.Pole.traditional))
            counts.append(f.n or 0)
            slack.append(ITEM_ROUNDING * 100 / (high - low))
        if not parts or len(parts) < math.ceil(len(statements) / 2):
            return None
        return sum(parts) / len(parts), sum(slack) / len(slack), counts
    derived = next((d for d in q.derived if d.id == key), None) if kind == "derived" else None
    if derived is None:
        return None
    parts, counts, slack = [], [], []
    for ref in derived.of:
        sub = ("dim:" + ref if ref in q.dimensions else
               "derived:" + ref if any(d.id == ref for d in q.derived) else None)
        if sub is not None:
            found = _score_of_parts(q, sub, items)
            if found is not None:
                parts.append(found[0])
                slack.append(found[1])
                counts += found[2]
        elif ref in items and items[ref].value is not None:
            parts.append(items[ref].value)
            slack.append(ITEM_ROUNDING)
            counts.append(items[ref].n or 0)
    if not parts or len(parts) < math.ceil(len(derived.of) / 2):
        return None
    return sum(parts) / len(parts), sum(slack) / len(slack), counts


def _scores_across(results: list[AuditResult], threshold: int) -> list[Finding]:
    """Point 4 across folders: a wave's score shown by any folder (a change or trend row, a
    report cell with data-wave) for a group whose statement figures that wave's own folder
    published must be the mean of those figures; otherwise, with them, it determines the scores
    of the people behind the one and not the other."""
    findings = []
    for r in results:
        for e in r.outputs.earlier if r.outputs is not None else []:
            if e.value is None or not e.variable.startswith(("dim:", "derived:")):
                continue
            for own in (x for x in results if x.wave == e.wave and x.outputs is not None and x.questionnaire):
                mine = _items_of(own, e.units)
                if mine is None:
                    continue
                group, items = mine
                found = _score_of_parts(own.questionnaire, e.variable, items)
                if found is None:
                    continue
                value, tolerance, counts = found
                if abs(value - e.value) <= tolerance + e.rounding + 1e-9:
                    continue
                skipped = [e.n - c for c in counts if e.n is not None and c <= e.n]
                people = max(skipped) if skipped and max(skipped) > 0 else None
                if people is not None and people >= threshold:
                    continue
                findings.append(Finding(
                    f"{r.folder}: {e.source}", f"{e.variable} (wave {e.wave})", people,
                    f"{e.group} ({e.wave}) shows {e.value:g} (n={e.n}), but the statement figures {own.folder} "
                    f"published for {group} give {value:.2f}: not the mean of its published parts, so with them it "
                    "determines the scores of the people behind the one and not the other"
                    + ("" if people else " (their number is not published)")))
    return findings


def _nesting(sets: list[tuple[str, int, frozenset[str], str]]) -> dict[int, list[int]]:
    """For each set (label, n, units, source): the published sets directly inside it (units
    inside its units, or the same units on fewer people), each under its smallest container."""
    children: dict[int, list[int]] = defaultdict(list)
    for b, (_, n_b, units_b, _) in enumerate(sets):
        best = None
        for a, (_, n_a, units_a, _) in enumerate(sets):
            if a == b or not (units_b < units_a or (units_b == units_a and n_a > n_b)) or n_a < n_b:
                continue
            if best is None or (len(sets[a][2]), sets[a][1]) < (len(sets[best][2]), sets[best][1]):
                best = a
        if best is not None:
            children[best].append(b)
    return children


def _subtractions(sets: list[tuple[str, int, frozenset[str], str]], threshold: int) -> list[Finding]:
    """Nested sets (units inside units, or the same units on fewer people): a set minus the
    published sets directly inside it, when that leaves 1..k-1 people."""
    children = _nesting(sets)
    findings = []
    for a, (label, n, units, source) in enumerate(sets):
        inside = children.get(a, [])
        if not inside:
            continue
        atom = n - sum(sets[c][1] for c in inside)
        if 0 < atom < threshold:
            names = ", ".join(sorted(f"{sets[c][0]} (n={sets[c][1]}, {sets[c][3]})" for c in inside))
            findings.append(Finding(source, "", atom, f"{label} (n={n}) minus {names} leaves a set whose sum is "
                                                      "determined"))
    return findings


def audit_folders(folders: list[Path], threshold: int | None = None) -> list[AuditResult]:
    """Each folder is audited; with several, their figures are also held against each other per
    wave (an earlier wave's figures shown in a later wave's report, `across_waves`), reported
    as one more result."""
    results = [audit(folder, threshold) for folder in folders]
    k = threshold or max(r.threshold for r in results)
    if len(results) > 1:
        combined = AuditResult(Path(" + ".join(str(r.folder) for r in results)), k,
                               figures=sum(len(r.wave_sets) for r in results))
        combined.findings = across_waves(results, k)
        results.append(combined)
    else:  # one folder: the earlier waves' figures it shows are still held against each other
        results[0].findings += across_waves(results, k)
    return results
