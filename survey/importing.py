"""Import response exports of online survey tools (Microsoft Forms, Google Forms, LimeSurvey,
Qualtrics, KoboToolbox, SurveyMonkey) into the store, as CSV or xlsx the way they write them.

A mapping (YAML, checked with file and line for every mistake) says which column holds the
code, which the department, and which column answers which answer field, with the export's
answer texts translated to option codes. `draft_mapping` proposes one by matching column
headers to question texts and answer texts to option labels; the consultant checks it.

Trust as for forms: a row counts only with an issued code (`survey forms DIR --codes N`), and
department, role, wave and language come from the issue record. A row without a valid issued
code is rejected, unless imported explicitly as unverified: then the department comes from the
row and the response is marked `verified = 0`. Identifying columns (name, e-mail, IP address,
respondent and response ids, start/end/submission times, location, user agent) are never
read into anything that is stored: only mapped answer columns, the code and the department
reach the store. Every row gets one recorded outcome in `received`, as "export.csv#row 12".
"""

from __future__ import annotations

import codecs
import csv
import difflib
import hashlib
import io
import re
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from survey import collect as c
from survey.errors import Location, Problem, SurveyError
from survey.formid import normalise
from survey.questionnaire import model as m
from survey.questionnaire.loader import _locate, _plain, did_you_mean
from survey.scan import Department, Scan
from survey.store import Store, collect_lock
from survey.textsafety import clean_text
from survey.xlsxread import Limits as ReadLimits
from survey.xlsxread import PackageRejected, SheetInfo, read_workbook

MAX_EXPORT_BYTES = 50_000_000
MAX_ROWS = 50_000
MAX_COLUMNS = 2_000
MAX_MAPPING_BYTES = 2_000_000
XLSX_LIMITS = ReadLimits(max_file_bytes=MAX_EXPORT_BYTES, max_row=MAX_ROWS, max_column=MAX_COLUMNS,
                         max_rows_per_sheet=MAX_ROWS, max_cells_per_sheet=2_000_000)

# Identifying columns: matched on the header with everything but letters and digits removed.
_IDENTIFYING = re.compile(
    r"^(?:"
    r"e?mail|emailaddress|email.*|.*emailaddress|recipientemail|emaildesempfangers|"
    r"name|naam|fullname|firstname|lastname|voornaam|achternaam|.*lastname|.*firstname|recipient.*|"
    r"nachname.*|vorname.*|username|respondentname|recipientname|phonenumber|telefoon.*|"
    r"ip|ipaddress|ipadres|ipadresse|"
    r"id|uuid|responseid|respondentid|responseset|recordid|antwortid|collectorid|submissionid|"
    r"instanceid|metainstanceid|metarootuuid|rootuuid|deviceid|subscriberid|simserial|phonenumber|"
    r"externalreference|externaldatareference|externedatenreferenz|customdata\d*|submittedby|"
    r"seed|refurl|referrer|"
    r"start|end|starttime|endtime|startdate|enddate|completiontime|lastmodifiedtime|timestamp|tijdstempel|"
    r"submitdate|datesubmitted|datestarted|datelastaction|datestamp|recordeddate|submissiontime|"
    r"anfangsdatum|enddatum|erfassungsdatum|today|duration.*|dauer.*|"
    r"location.*|latitude|longitude|.*desstandorts|geo.*|"
    r"useragent|browser.*|operatingsystem|deviceinfo|"
    r")$")


def identifying(header: str) -> bool:
    """An identifying column (name, e-mail, IP address, ids, exact times, location, agent)."""
    folded = unicodedata.normalize("NFKD", header.casefold())
    return bool(_IDENTIFYING.match(re.sub(r"[^a-z0-9]", "", folded)))


class MappingError(SurveyError):
    """An export or its mapping cannot be used; `problems` holds every finding."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        first = problems[0].message if problems else "invalid mapping"
        super().__init__(first if len(problems) == 1 else f"{len(problems)} problems, the first: {first}")


# --------------------------------------------------------------------------- reading exports

@dataclass
class Export:
    """A response export as a table: column names (header rows joined) and data rows."""

    path: Path
    columns: list[str]
    rows: list[tuple[int, list[str]]]  # (row number in the file as a spreadsheet shows it, values)
    sha256: str
    tool: str = "unknown"
    # (row number, column index) of xlsx cells holding a formula without a value: an answer
    # that was there but cannot be read (LimeSurvey writes answers starting with "=" so)
    lost: set[tuple[int, int]] = field(default_factory=set)
    tags: list[str] = field(default_factory=list)  # the first header row, when there are several

    def index(self) -> dict[str, int]:
        """Column -> position, by header; Qualtrics' export tags (Q2_1) name a column too."""
        found = {col: i for i, col in enumerate(self.columns)}
        for i, tag in enumerate(self.tags):
            if tag and tag not in found and i < len(self.columns):
                found[tag] = i
        return found

    @property
    def identifying(self) -> list[str]:
        """Columns that identify people, by their header or (Qualtrics) their export tag."""
        tags = self.tags + [""] * len(self.columns)
        return [col for col, tag in zip(self.columns, tags) if identifying(col) or (tag and identifying(tag))]


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _decode(raw: bytes) -> str:
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            return raw.decode(encoding)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    outside = re.sub(r'"[^"]*"', "", first)
    counts = {d: outside.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_bytes(path: Path) -> bytes:
    try:
        info = path.lstat()
    except OSError as exc:
        raise MappingError([Problem(f"cannot be opened ({exc.strerror})", Location(file=path))])
    if not stat.S_ISREG(info.st_mode):
        raise MappingError([Problem("is not a regular file (a folder, link or pipe)", Location(file=path),
                                    "give the export file itself")])
    if info.st_size > MAX_EXPORT_BYTES:
        raise MappingError([Problem(f"is {info.st_size // 1_000_000} MB, more than an export can be",
                                    Location(file=path))])
    return path.read_bytes()


def read_export(path: Path, header_rows: int | None = None, sheet: str | None = None) -> Export:
    """Read a CSV or xlsx export. Header rows are found (Qualtrics 3 or 2, SurveyMonkey 2,
    others 1) unless given."""
    raw = _read_bytes(path)
    sha = hashlib.sha256(raw).hexdigest()
    lost: set[tuple[int, int]] = set()
    if raw[:2] == b"PK" or path.suffix.lower() in (".xlsx", ".xlsm"):
        table, lost = _xlsx_table(path, raw, sheet)
    else:
        text = _decode(raw)
        if "\x00" in text:
            raise MappingError([Problem("is not a text (CSV) export", Location(file=path),
                                        "export the responses as CSV or xlsx")])
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
        table = []
        try:
            for index, record in enumerate(reader):
                if index > MAX_ROWS or len(record) > MAX_COLUMNS:
                    raise MappingError([Problem(f"has more than {MAX_ROWS} rows or {MAX_COLUMNS} columns",
                                                Location(file=path), "split the export")])
                table.append(record)
        except csv.Error as exc:
            raise MappingError([Problem(f"is not a readable CSV file ({exc})", Location(file=path))])
    table = [[clean_text(v) for v in row] for row in table]
    if not table:
        raise MappingError([Problem("is empty", Location(file=path), "export the responses again")])
    columns, skip, tool = _headers(table, header_rows)
    rows = [(number, row + [""] * (len(columns) - len(row)))
            for number, row in enumerate(table[skip:], start=skip + 1) if any(v.strip() for v in row)]
    return Export(path, columns, rows, sha, tool, lost, list(table[0]) if skip > 1 else [])


def _xlsx_table(path: Path, raw: bytes, sheet: str | None) -> tuple[list[list[str]], set[tuple[int, int]]]:
    def pick(sheets: list[SheetInfo]) -> set[str]:
        if sheet is not None:
            return {sheet}
        first = next((s.name for s in sheets if s.kind == "worksheet" and s.state == "visible"), None)
        return {first} if first else set()

    try:
        workbook = read_workbook(raw, pick, XLSX_LIMITS)
    except PackageRejected as exc:
        raise MappingError([Problem(str(exc), Location(file=path))]) from None
    if not workbook.cells:
        names = ", ".join(s.name for s in workbook.sheets)
        raise MappingError([Problem(f"has no sheet {sheet!r}" if sheet else "has no visible sheet",
                                    Location(file=path), f"sheets: {names}")])
    name, cells = next(iter(workbook.cells.items()))
    lost = {(r, col - 1) for r, col in workbook.blank_formulas.get(name, set())}
    if not cells:
        return [], lost
    last_row = max(r for r, _ in cells)
    last_column = max(col for _, col in cells)
    return ([[_cell_text(cells.get((r, col))) for col in range(1, last_column + 1)] for r in range(1, last_row + 1)],
            lost)


def _headers(table: list[list[str]], header_rows: int | None) -> tuple[list[str], int, str]:
    """Column names and the number of header rows; the tool when it shows."""
    first = table[0]
    second = table[1] if len(table) > 1 else []
    third = table[2] if len(table) > 2 else []
    tool = "unknown"
    if header_rows is None:
        header_rows = 1
        if third and sum(v.startswith('{"ImportId"') for v in third) >= len([v for v in third if v]) / 2 > 0:
            header_rows, tool = 3, "qualtrics"
        elif first and first[0] == "V1" and any(v in ("ResponseID", "ResponseSet") for v in second):
            header_rows, tool = 2, "qualtrics-legacy"
        elif second and not second[0].strip() and any(v in ("Response", "Open-Ended Response") for v in second):
            header_rows, tool = 2, "surveymonkey"
    if tool == "qualtrics":
        names = [b or a for a, b in zip(first, second + [""] * len(first))]
    elif tool == "qualtrics-legacy":
        names = [b or a for a, b in zip(first, second + [""] * len(first))]
    elif header_rows >= 2:
        names, question = [], ""
        for index, top in enumerate(first):
            question = top or question
            sub = second[index] if index < len(second) else ""
            if sub and sub not in ("Response", "Open-Ended Response") and sub != question:
                names.append(f"{question} - {sub}" if top == "" or question else sub)
            else:
                names.append(top or question)
    else:
        names = list(first)
    width = max([len(names)] + [len(r) for r in table[header_rows:]])
    names += [""] * (width - len(names))
    seen: dict[str, int] = {}
    unique: list[str] = []
    for index, name in enumerate(names):
        name = " ".join(name.split()) or f"column {index + 1}"
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return unique, header_rows, tool


# --------------------------------------------------------------------------- the mapping

def _text_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {_cell_text(k) if not isinstance(k, str) else k: v for k, v in value.items()}
    return value


AnswerTable = Annotated[dict[str, int | str | None], BeforeValidator(_text_keys)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldMap(_Strict):
    column: str = Field(description="Column header in the export.")
    field: str = Field(description="Answer field of the questionnaire, e.g. kar_01 or kar_01.desired; or the id "
                                   "of a multiple-choice question whose chosen options are listed in one cell.")
    answers: AnswerTable = Field(default_factory=dict,
                                 description="Answer text in the export -> option code (or label).")


class DepartmentMap(_Strict):
    column: str
    values: Annotated[dict[str, str | None], BeforeValidator(_text_keys)] = Field(default_factory=dict)


class RoleMap(_Strict):
    column: str
    values: Annotated[dict[str, Literal["employee", "manager"] | None], BeforeValidator(_text_keys)] = \
        Field(default_factory=dict)


class Mapping(_Strict):
    """How an export's columns and answer texts become answer fields."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="survey import mapping")
    export: str | None = Field(default=None, description="The export this mapping was drafted for (a note).")
    header_rows: int | None = Field(default=None, ge=1, le=5, description="Header rows (found when left out).")
    sheet: str | None = Field(default=None, description="xlsx: the sheet (default: the first visible one).")
    code: str | None = Field(default=None, description="Column holding the issued code (LimeSurvey: token).")
    department: DepartmentMap | None = Field(default=None, description="For unverified rows only.")
    role: RoleMap | None = Field(default=None, description="For unverified rows only (default employee).")
    fields: list[FieldMap] = Field(default_factory=list)
    ignore: list[str] = Field(default_factory=list, description="Columns deliberately not imported.")


@dataclass
class LoadedMapping:
    mapping: Mapping
    path: Path
    root: Any

    def where(self, *path: Any) -> Location:
        line, column = _locate(self.root, tuple(path))
        return Location(file=self.path, line=line, column=column)


def load_mapping(path: Path) -> LoadedMapping:
    """Parse and shape-check a mapping file; every problem with its line."""
    where = Location(file=path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MappingError([Problem(f"cannot read the mapping ({exc.strerror})", where,
                                    "draft one with: survey import DIR EXPORT --draft-mapping")])
    if len(raw) > MAX_MAPPING_BYTES:
        raise MappingError([Problem("is far larger than a mapping can be", where)])
    try:
        root = YAML(typ="rt").load(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise MappingError([Problem("is not UTF-8 text", where, "save it as UTF-8 in your editor")])
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise MappingError([Problem(f"YAML syntax error: {exc.problem or exc.context}",
                                    Location(file=path, line=mark.line + 1 if mark else None,
                                             column=mark.column + 1 if mark else None),
                                    "check indentation, colons and quotes on this line and the one above")])
    except YAMLError as exc:
        raise MappingError([Problem(f"YAML error: {exc}", where)])
    if not isinstance(root, dict):
        raise MappingError([Problem("is not a mapping (it should start with 'fields:')", where)])
    try:
        from survey.questionnaire.loader import QuestionnaireError
        data = _plain(root, [0], path)
    except QuestionnaireError as exc:
        raise MappingError(exc.problems) from None
    loaded = LoadedMapping(None, path, root)  # type: ignore[arg-type]
    try:
        loaded.mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            name = next((p for p in reversed(loc) if isinstance(p, str)), "entry")
            if error["type"] == "extra_forbidden":
                what, fix = f"unknown key '{name}'", did_you_mean(name, list(Mapping.model_fields) +
                                                                  list(FieldMap.model_fields))
            elif error["type"] == "missing":
                what, fix = f"'{name}' is missing", f"add '{name}:' here"
            else:
                what, fix = f"'{name}': {error['msg'].lower()}", None
            problems.append(Problem(what, loaded.where(*loc), fix))
        raise MappingError(problems) from None
    return loaded


def _departments(scan: Scan) -> list[Department]:
    from survey.forms import _departments_with_keys
    return list(_departments_with_keys(scan).departments)


def _find(departments: list[Department], name: str) -> Department | None:
    for d in departments:
        if name.casefold() in (d.name.casefold(), d.key.casefold()):
            return d
    return None


def check_mapping(scan: Scan, loaded: LoadedMapping, export: Export) -> list[Problem]:
    """What the shape cannot check: columns exist and are not identifying, fields and answer
    codes exist, departments are in departments.csv, no answer text is left unchecked."""
    mapping, q = loaded.mapping, scan.questionnaire
    problems: list[Problem] = []
    fields = {f.key: f for f in q.answer_fields()}
    columns = export.index()
    departments = _departments(scan)
    dropped = {i for i, col in enumerate(export.columns) if col in set(export.identifying)}
    multi = multiple_choice(q)

    def column(col: str, *path: Any) -> None:
        if col not in columns:
            problems.append(Problem(f"the export has no column '{col}'", loaded.where(*path),
                                    did_you_mean(col, export.columns) or "copy the header from the export"))
        elif columns[col] in dropped and path[0] != "fields":
            problems.append(Problem(f"column '{col}' identifies people (name, e-mail, IP, id or time) and is "
                                    "never read", loaded.where(*path), "name the column that holds the answer"))

    if mapping.code is not None:
        column(mapping.code, "code")
    for index, fm in enumerate(mapping.fields):
        column(fm.column, "fields", index, "column")
        if columns.get(fm.column, -1) in dropped:
            problems.append(Problem(f"column '{fm.column}' identifies people (name, e-mail, IP, id or time) "
                                    "and is never imported", loaded.where("fields", index, "column"),
                                    "remove this entry"))
        f = fields.get(fm.field)
        if f is None and fm.field in multi:
            _check_multiple(q, multi[fm.field], fm, loaded, index, problems)
            continue
        if fm.field == "role":
            problems.append(Problem("'role' comes from the issue record (or, for unverified rows, the 'role:' entry)",
                                    loaded.where("fields", index, "field"), "remove this entry"))
            continue
        if f is None:
            problems.append(Problem(f"the questionnaire has no answer field '{fm.field}'",
                                    loaded.where("fields", index, "field"),
                                    did_you_mean(fm.field, fields) or "see survey validate for the item ids"))
            continue
        codes = _codes(q, f)
        for text, code in fm.answers.items():
            if code is None:
                problems.append(Problem(f"the answer '{text}' of column '{fm.column}' has no code yet",
                                        loaded.where("fields", index, "answers", text),
                                        "fill in the option code it stands for" +
                                        (f" ({', '.join(map(str, codes))})" if codes else "")))
            elif codes and str(code) not in {str(x) for x in codes} and not _is_label(q, f, str(code)):
                problems.append(Problem(f"'{code}' is not an answer of {fm.field}",
                                        loaded.where("fields", index, "answers", text),
                                        f"use one of: {', '.join(map(str, codes))}"))
    keys = [fm.field for fm in mapping.fields]
    seen: set[str] = set()
    for index, key in enumerate(keys):
        # a multiple-choice question in one column stands for all its option fields
        expanded = {f"{key}.{o.code}" for o in q.scales[multi[key].scale].options} if key in multi else {key}
        if keys.index(key) != index or expanded & seen:
            problems.append(Problem(f"field '{key}' is mapped twice", loaded.where("fields", index, "field"),
                                    "map each answer field from one column"))
        seen |= expanded
    if mapping.department is not None:
        column(mapping.department.column, "department", "column")
        for text, name in mapping.department.values.items():
            if name is None or _find(departments, name) is None:
                problems.append(Problem(f"'{text}' does not name a department of departments.csv"
                                        if name is not None else f"department '{text}' has no department yet",
                                        loaded.where("department", "values", text),
                                        "use one of: " + ", ".join(d.name for d in departments[:12])))
    if mapping.role is not None:
        column(mapping.role.column, "role", "column")
        for text, role in mapping.role.values.items():
            if role is None:
                problems.append(Problem(f"role '{text}' has no role yet", loaded.where("role", "values", text),
                                        "fill in employee or manager"))
    return problems


def _check_multiple(q: m.Questionnaire, item: m.ChoiceItem, fm: FieldMap, loaded: LoadedMapping, index: int,
                    problems: list[Problem]) -> None:
    """A multiple-choice question in one column: every answer text names one of its options."""
    options = q.scales[item.scale].options
    codes = [str(o.code) for o in options]
    labels = {t.casefold() for o in options for t in [*o.label.values(), *(o.manager_label or {}).values()]}
    for text, code in fm.answers.items():
        if code is None:
            problems.append(Problem(f"the option '{text}' of column '{fm.column}' has no code yet",
                                    loaded.where("fields", index, "answers", text),
                                    f"fill in the option it stands for ({', '.join(codes)})"))
        elif str(code) not in codes and str(code).casefold() not in labels:
            problems.append(Problem(f"'{code}' is not an option of {item.id}",
                                    loaded.where("fields", index, "answers", text), f"use one of: {', '.join(codes)}"))


def _codes(q: m.Questionnaire, f: m.AnswerField) -> list[int | str]:
    if f.scale is None or f.kind is m.FieldKind.check:
        return []
    scale = q.scales[f.scale]
    return list(scale.values) + ([m.NOT_APPLICABLE] if scale.not_applicable else []) + (
        [m.DECLINED] if scale.decline else [])


def _is_label(q: m.Questionnaire, f: m.AnswerField, text: str) -> bool:
    if f.scale is None:
        return False
    scale = q.scales[f.scale]
    labels = {t.casefold() for o in scale.options for t in [*o.label.values(), *(o.manager_label or {}).values()]}
    return text.casefold() in labels


# --------------------------------------------------------------------------- multiple choice

# What the tools put between the chosen options of a multiple-choice answer in one cell, and
# nothing else: Google Forms ", ", Microsoft Forms ";" (and one at the end), KoboToolbox a
# space between option codes (then the cell holds codes only).
_SEPARATORS = (", ", ";")
_COVERED = re.compile(r"[\s,;]")  # what a reading's cover does not count (separators may sit inside options)
NO_WORDS = {"0", "nee", "no", "n", "false", "onwaar"}  # a per-option column's "not chosen" (KoboToolbox 0)


class AmbiguousChoices(ValueError):
    """A cell that reads as more than one set of options: which was meant cannot be known."""


def multiple_choice(q: m.Questionnaire) -> dict[str, m.ChoiceItem]:
    """The multiple-choice questions: stored as one answer field per option ("id.code")."""
    return {i.id: i for i in q.items if isinstance(i, m.ChoiceItem) and i.type != "single_choice"}


def choice_texts(q: m.Questionnaire, item: m.ChoiceItem, answers: dict[str, int | str | None]) -> list[tuple[str, str]]:
    """Every text that stands for an option of `item`, with its code: the mapping's answer
    texts and the option labels in every language (manager wording too). Codes are not texts:
    they are read only from a cell of codes alone (KoboToolbox)."""
    scale = q.scales[item.scale]
    by_label = {t.strip(): str(o.code) for o in scale.options
                for t in [*o.label.values(), *(o.manager_label or {}).values()]}
    folded_labels = {t.casefold(): c for t, c in by_label.items()}
    codes = {str(o.code) for o in scale.options}
    found: list[tuple[str, str]] = []
    for text, code in answers.items():
        if code is not None:
            found.append((text.strip(), str(code) if str(code) in codes
                          else folded_labels.get(str(code).casefold(), str(code))))
    found += list(by_label.items())
    return [(t, c) for t, c in found if t]


def split_choices(text: str, choices: list[tuple[str, str]],
                  codes: set[str] | None = None) -> tuple[list[str], list[str]]:
    """The option codes listed in one cell, and the parts that are no option (free 'Other'
    text: left out). Split only where the tools split, on whole option texts; a cell that
    reads as two different sets of options raises `AmbiguousChoices` (nothing is guessed)."""
    found, unknown = _split(text, choices, codes)
    return list(dict.fromkeys(code for _, code in found)), unknown


def _split(text: str, choices: list[tuple[str, str]],
           codes: set[str] | None = None) -> tuple[list[tuple[str, str]], list[str]]:
    text = text.strip()
    if not text:
        return [], []
    known_codes = {c.casefold(): c for c in (codes if codes is not None else {c for _, c in choices})}
    words = text.split()
    if all(w.casefold() in known_codes for w in words):  # KoboToolbox: codes and spaces only
        return [(w, known_codes[w.casefold()]) for w in words], []
    exact: dict[str, set[str]] = {}
    folded: dict[str, set[str]] = {}
    for choice, code in choices:
        exact.setdefault(" ".join(choice.split()), set()).add(code)
        folded.setdefault(" ".join(choice.split()).casefold(), set()).add(code)
    readings: list[tuple[tuple[int, int], tuple]] = []
    for separator in _SEPARATORS:
        if separator.strip() not in text:
            continue
        tokens = [" ".join(t.split()) for t in text.split(separator.strip())]
        while tokens and not tokens[-1]:
            tokens.pop()  # Microsoft Forms ends the list with ";"
        readings += _readings(tokens, separator.strip() + (" " if separator.endswith(" ") else ""), exact, folded)
    readings += _readings([" ".join(text.split())], "", exact, folded)  # the whole cell, one option
    best = max(score for score, _ in readings)
    results = {result for score, result in readings if score == best}
    if len(results) > 1:
        raise AmbiguousChoices("can be read as more than one set of options")
    parts = next(iter(results))
    return [(t, c) for t, c in parts if c is not None], [t for t, c in parts if c is None]


def _readings(tokens: list[str], separator: str, exact: dict[str, set[str]],
              folded: dict[str, set[str]]) -> list[tuple[tuple[int, int], tuple]]:
    """Every way to read the tokens as options and free parts that covers the most characters
    with options (then those with every option written exactly as it is): [(score, parts)]."""
    if len(tokens) > 60:
        tokens = tokens[:59] + [separator.join(tokens[59:])]

    from functools import lru_cache

    @lru_cache(maxsize=None)
    def best(start: int) -> tuple[tuple[int, int], frozenset]:
        # -> (score, the readings of tokens[start:] with that score, as tuples of (text, code|None))
        if start == len(tokens):
            return (0, 0), frozenset({()})
        top, found = (-1, -2), set()
        for stop in range(start + 1, len(tokens) + 1):
            part = separator.join(tokens[start:stop]).strip()
            matches: list[tuple[str | None, int]] = [(code, 0) for code in exact.get(part, ())]
            if not matches:
                matches = [(code, 1) for code in folded.get(part.casefold(), ())]  # written otherwise
            if stop == start + 1 or not matches:
                matches.append((None, 0))  # a free part: one token at a time
            (rest_score, rest) = best(stop)
            for code, inexact in matches:
                covered = len(_COVERED.sub("", part)) if code is not None else 0
                score = (rest_score[0] + covered, min(rest_score[1], -inexact))  # any part written otherwise
                if score < top:
                    continue
                readings = {((part, code),) + r for r in rest}
                if score > top:
                    top, found = score, set()
                found |= readings
        return top, frozenset(_merge_free(r, separator) for r in found)

    score, found = best(0)
    return [(score, r) for r in found]


def _merge_free(parts: tuple, separator: str) -> tuple:
    """Free parts next to each other are one free text ('Other: a, b')."""
    merged: list[tuple[str, str | None]] = []
    for text, code in parts:
        if code is None and merged and merged[-1][1] is None:
            merged[-1] = (merged[-1][0] + separator + text, None)
        else:
            merged.append((text, code))
    return tuple(merged)


# --------------------------------------------------------------------------- drafting

def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


def _variants(header: str) -> list[str]:
    """The header and its parts: 'Question [statement]', 'Question - statement', 'Q: text'."""
    found = [header]
    bracket = re.search(r"\[([^\]]+)\]\s*$", header)
    if bracket:
        found.append(bracket.group(1))
    if " - " in header:
        found.append(header.rsplit(" - ", 1)[1])
    return [_norm(v) for v in found if v.strip()]


def _similarity(a: list[str], b: list[str]) -> float:
    return max((difflib.SequenceMatcher(None, x, y).ratio() for x in a for y in b), default=0.0)


def field_texts(q: m.Questionnaire, f: m.AnswerField, lang: str) -> list[str]:
    """The question texts a column header may show for this field."""
    texts: list[str] = []
    try:
        item = q.item(f.item_id)
    except KeyError:
        item = next((b for b in q.background if b.id == f.item_id), None)
    if item is None:
        return texts
    for text in (getattr(item, "text", None), getattr(item, "manager_text", None)):
        if text and lang in text:
            texts.append(text[lang])
    if f.situation and isinstance(item, m.SituationGrid):
        situation = next(s for s in item.situations if s.id == f.situation)
        texts = [situation.text[lang] + " " + f.aspect, situation.text[lang]] if lang in situation.text else []
    if f.aspect == "option" and f.scale:
        code = f.key.rsplit(".", 1)[1]
        option = next((o for o in q.scales[f.scale].options if str(o.code) == code), None)
        texts = [f"{t} {option.label.get(lang, '')}" for t in texts] if option else texts
    if f.aspect == "desired":
        texts = [t + " desired" for t in texts]
    return texts


DRAFT_CUTOFF = 0.6
ANSWER_CUTOFF = 0.8


@dataclass
class Draft:
    mapping: dict[str, Any]
    scores: dict[str, float]  # column -> match score of the field proposed for it
    unmatched: list[str]  # columns not mapped (identifying ones included)
    dropped: list[str]  # identifying columns
    # column -> how many different answer texts match no option: counted, never written (an
    # "Other" text is the respondent's own words, and a mapping file is not the place for them)
    unmatched_answers: dict[str, int] = field(default_factory=dict)


def draft_mapping(scan: Scan, export: Export) -> Draft:
    """Propose a mapping: headers to question texts (scan language first), answers to labels."""
    q, lang = scan.questionnaire, scan.language
    fields = [f for f in q.answer_fields() if f.key != "role"]
    dropped = export.identifying
    candidates = [col for col in export.columns if col not in dropped]
    values = {col: [row[export.columns.index(col)].strip() for _, row in export.rows] for col in candidates}
    departments = _departments(scan)
    draft: dict[str, Any] = {"export": export.path.name}
    code_column = _code_column(candidates, values)
    if code_column:
        draft["code"] = code_column
        candidates.remove(code_column)
    department_column = _department_column(candidates, values, departments)
    if department_column:
        mapping: dict[str, str | None] = {}
        for text in sorted({v for v in values[department_column] if v}):
            best = max(departments, key=lambda d: _similarity([_norm(text)], [_norm(d.name), _norm(d.key)]))
            score = _similarity([_norm(text)], [_norm(best.name), _norm(best.key)])
            mapping[text] = best.name if score >= ANSWER_CUTOFF else None
        draft["department"] = {"column": department_column, "values": mapping}
        candidates.remove(department_column)
    scored: list[tuple[float, str, m.AnswerField]] = []
    for col in candidates:
        variants = _variants(col)
        for f in fields:
            texts = [_norm(t) for t in field_texts(q, f, lang) + [t for other in q.languages if other != lang
                                                                 for t in field_texts(q, f, other)]]
            score = _similarity(variants, texts) if texts else 0.0
            if score >= DRAFT_CUTOFF:
                scored.append((score, col, f))
    multi = multiple_choice(q)
    for col in candidates:  # a multiple-choice question whose chosen options are listed in one cell
        variants = _variants(col)
        for item in multi.values():
            texts = [_norm(t[other]) for t in (item.text, item.manager_text) if t for other in q.languages
                     if other in t]
            score = _similarity(variants, texts)
            if score >= DRAFT_CUTOFF and any(_found(v, choice_texts(q, item, {})) for v in values[col] if v):
                scored.append((score, col, item))  # type: ignore[arg-type]
    taken_columns: set[str] = set()
    taken_fields: set[str] = set()
    chosen: dict[str, tuple[Any, float]] = {}
    unmatched_answers: dict[str, int] = {}
    for score, col, f in sorted(scored, key=lambda t: -t[0]):
        key = f.key if isinstance(f, m.AnswerField) else f.id
        if col in taken_columns or key in taken_fields:
            continue
        taken_columns.add(col)
        if isinstance(f, m.AnswerField):  # one column per option: the question is not in one column
            taken_fields |= {f.key, f.item_id if f.aspect == "option" else f.key}
        else:
            taken_fields |= {f.id} | {f"{f.id}.{o.code}" for o in q.scales[f.scale].options}
        chosen[col] = (f, score)
    entries = []
    for col in export.columns:
        if col not in chosen:
            continue
        f, score = chosen[col]
        if not isinstance(f, m.AnswerField):
            answers, unmatched_answers[col] = _draft_options(q, f, values[col])
            entries.append({"column": col, "field": f.id, "answers": answers})
            continue
        entry: dict[str, Any] = {"column": col, "field": f.key}
        answers, unmatched_answers[col] = _draft_answers(q, f, values[col])
        if answers:
            entry["answers"] = answers
        entries.append(entry)
    draft["fields"] = entries
    unmatched = [col for col in export.columns if col not in chosen and col not in dropped
                 and col not in (code_column, department_column)]
    if unmatched:
        draft["ignore"] = unmatched
    return Draft(draft, {col: s for col, (_, s) in chosen.items()}, unmatched, dropped,
                 {col: n for col, n in unmatched_answers.items() if n})


def _found(value: str, choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    try:
        return _split(value, choices)[0]
    except AmbiguousChoices:
        return []


def _code_column(columns: list[str], values: dict[str, list[str]]) -> str | None:
    for col in columns:
        if _norm(col) in ("token", "code", "toegangscode", "access code", "survey code", "your code", "jouw code",
                          "uw code", "invitation code", "uitnodigingscode"):
            return col
    best = None
    for col in columns:
        filled = [v for v in values[col] if v]
        if filled and sum(normalise(v) is not None for v in filled) >= 0.5 * len(filled):
            best = best or col
    return best


def _department_column(columns: list[str], values: dict[str, list[str]],
                       departments: list[Department]) -> str | None:
    names = [_norm(d.name) for d in departments] + [_norm(d.key) for d in departments]
    best, best_share = None, 0.0
    for col in columns:
        filled = [v for v in values[col] if v]
        if not filled:
            continue
        share = sum(_similarity([_norm(v)], names) >= ANSWER_CUTOFF for v in filled) / len(filled)
        header = _norm(col)
        if any(word in header.split() for word in ("afdeling", "department", "team", "unit", "afdelingen",
                                                   "abteilung", "dienst", "locatie")):
            share += 0.5
        if share > best_share:
            best, best_share = col, share
    return best if best_share >= 0.5 else None


def _draft_options(q: m.Questionnaire, item: m.ChoiceItem, column: list[str]) -> tuple[dict[str, Any], int]:
    """Each option text found in a column listing chosen options, with its code, and how many
    other parts (free 'Other' texts, cells that read two ways) there are: those are counted, not
    copied (the consultant adds a text by hand from the export if it stands for an option)."""
    choices = choice_texts(q, item, {})
    answers: dict[str, Any] = {}
    other: set[str] = set()
    for value in column:
        try:
            found, unknown = _split(value, choices)
        except AmbiguousChoices:
            other.add(value)
            continue
        for text, code in found:
            answers.setdefault(text, code)
        other.update(unknown)
    return dict(sorted(answers.items(), key=lambda pair: pair[0].casefold())), len(other)


def _draft_answers(q: m.Questionnaire, f: m.AnswerField, column: list[str]) -> tuple[dict[str, Any], int]:
    """Answer texts that are (nearly) an option label, with its code, and how many other
    different texts there are (counted, never copied: they may be a respondent's own words)."""
    if f.kind in (m.FieldKind.open, m.FieldKind.score) or f.scale is None:
        return {}, 0
    if f.kind is m.FieldKind.check:  # one column per option: a yes (or no) needs no mapping; a label ticks
        shown = {v for v in column if v and v.casefold() not in c.YES_WORDS | NO_WORDS}
        matched = {text: f.key.rsplit(".", 1)[1] for text in sorted(shown, key=str.casefold) if _is_option(q, f, text)}
        return matched, len(shown) - len(matched)
    scale = q.scales[f.scale]
    labels: list[tuple[str, int | str]] = []
    for option in scale.options:
        for text in [*option.label.values(), *(option.manager_label or {}).values()]:
            labels.append((_norm(text), option.code))
    for text in (scale.not_applicable or {}).values():
        labels.append((_norm(text), m.NOT_APPLICABLE))
    for text in (scale.decline or {}).values():
        labels.append((_norm(text), m.DECLINED))
    answers: dict[str, Any] = {}
    other = 0
    for text in sorted({v for v in column if v}, key=str.casefold):
        exact = [code for label, code in labels if label == _norm(text)]
        if exact:
            answers[text] = exact[0]
            continue
        ranked = sorted(((difflib.SequenceMatcher(None, _norm(text), label).ratio(), code) for label, code in labels),
                        key=lambda t: -t[0])
        if ranked and ranked[0][0] >= ANSWER_CUTOFF:
            answers[text] = ranked[0][1]
        else:
            other += 1
    return answers, other


def write_draft(draft: Draft, path: Path) -> None:
    """The draft as YAML with comments on what to check."""
    from survey.atomic import write_text_atomic

    data = CommentedMap()
    for key, value in draft.mapping.items():
        if key == "fields":
            seq = CommentedSeq()
            for entry in value:
                item = CommentedMap(entry)
                seq.append(item)
                score = draft.scores.get(entry["column"])
                notes = []
                if score is not None and score < 0.9:
                    notes.append(f"check: header and question match {score:.0%}")
                other = draft.unmatched_answers.get(entry["column"])
                if other:
                    notes.append(f"{other} other answer text(s) not matched to an option (not copied here: "
                                 "add one by hand if it stands for an option)")
                if notes:
                    item.yaml_add_eol_comment("; ".join(notes), "field")
            data[key] = seq
        else:
            data[key] = value
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.allow_unicode = True
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    head = ("# survey import mapping, drafted by 'survey import --draft-mapping'. Check every line:\n"
            "# column -> answer field, and each answer text -> option code (null: fill it in).\n"
            "# 'code' is the column with the issued code; 'department' is used for --unverified rows only.\n"
            "# Identifying columns are never imported and cannot be mapped: "
            + ", ".join(draft.dropped)[:400] + "\n")
    write_text_atomic(path, head + buffer.getvalue())


# --------------------------------------------------------------------------- importing

@dataclass
class RowOutcome:
    where: str  # "export.csv#row 12"
    outcome: str  # accepted, duplicate, superseded, rejected, unchanged
    reason: str | None = None
    verified: bool = True
    sha256: str | None = None


@dataclass
class ImportResult:
    export: Path
    tool: str
    rows: list[RowOutcome] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # identifying columns dropped

    def count(self, outcome: str, verified: bool | None = None) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome and (verified is None or r.verified == verified))


def import_export(scan: Scan, export_path: Path, mapping_path: Path, unverified: bool = False) -> ImportResult:
    """Import every row of an export with a checked mapping; one recorded outcome per row."""
    loaded = load_mapping(mapping_path)
    export = read_export(export_path, loaded.mapping.header_rows, loaded.mapping.sheet)
    problems = check_mapping(scan, loaded, export)
    if unverified and loaded.mapping.department is None:
        problems.append(Problem("--unverified needs the column with the department (department: column: ...)",
                                loaded.where(), "add a 'department:' entry, or import without --unverified"))
    if not unverified and loaded.mapping.code is None:
        problems.append(Problem("no 'code' column: without issued codes no row can count",
                                loaded.where(), "name the column with the code (LimeSurvey: token), or "
                                "import the rows explicitly as unverified with --unverified"))
    if problems:
        raise MappingError(problems)
    c._refuse_closed(scan)
    ctx = c.context(scan)
    mapping = loaded.mapping
    index = export.index()
    fields = {f.key: f for f in ctx.fields}
    departments = _departments(scan)
    result = ImportResult(export_path, export.tool, dropped=export.identifying)
    with collect_lock(scan.folder), Store(scan.store_path) as store:
        c._sync_department_names(scan, store)
        for number, row in export.rows:
            where = f"{export_path}#row {number}"
            result.rows.append(_import_row(scan, ctx, store, mapping, index, fields, departments, where, number,
                                           row, unverified, export.lost))
        result.rows = [_final(store, r) for r in result.rows]
    return result


def _final(store: Store, outcome: RowOutcome) -> RowOutcome:
    """Where a row ended: a later row with the same code may have superseded it."""
    if outcome.outcome == "unchanged" or outcome.sha256 is None:
        return outcome
    row = store.db.execute("SELECT outcome, reason FROM received WHERE path = ? AND sha256 = ?",
                           (c.file_name(Path(outcome.where)), outcome.sha256)).fetchone()
    if row is None:
        return outcome
    return RowOutcome(outcome.where, row[0], row[1], outcome.verified, outcome.sha256)


def _import_row(scan: Scan, ctx: c.ReadContext, store: Store, mapping: Mapping, index: dict[str, int],
                fields: dict[str, m.AnswerField], departments: list[Department], where: str, number: int,
                row: list[str], unverified: bool, lost: set[tuple[int, int]] = frozenset()) -> RowOutcome:
    answers: list[c.AnswerValue] = []
    issues: list[tuple[str, str]] = []
    kept: list[str] = []  # what the row's hash is made of: never an identifying column
    unanswered: list[str] = []
    q = ctx.questionnaire
    for fm in mapping.fields:
        text = row[index[fm.column]].strip()
        kept.append(f"{fm.field}={text}")
        location = f"column '{fm.column[:60]}'"  # the row is in the recorded path (export#row N)
        f = fields.get(fm.field)
        if f is None:  # a multiple-choice question, its chosen options listed in one cell
            item = q.item(fm.field)
            try:
                codes, unknown = split_choices(text, choice_texts(q, item, fm.answers),
                                               {str(o.code) for o in q.scales[item.scale].options})
            except AmbiguousChoices:
                issues.append((location, f"the answer to {item.id} can be read as more than one set of options "
                                         "(an option text holds the separator); the question was left out"))
                continue
            answers.extend(c.AnswerValue(f"{item.id}.{code}", 1.0, None) for code in codes)
            if unknown:
                issues.append((location, f"{len(unknown)} part(s) of the answer are no option of {item.id} (add "
                                         "them to the mapping's answers); they were left out"))
            continue
        if not text and (number, index[fm.column]) in lost:
            issues.append((location, "the export holds a formula without its value here (the tool wrote an "
                                     "answer starting with '=' as a formula); the answer was left out. The CSV "
                                     "export of the same responses keeps it"))
            continue
        if not text:
            if f.required and f.kind not in (m.FieldKind.open, m.FieldKind.check):
                unanswered.append(fm.field)
            continue
        translated = _translate(fm, text)
        if f.kind is m.FieldKind.check:  # one column per option: its code or label, or a yes, ticks it
            if translated.casefold() in NO_WORDS:
                continue
            if _is_option(q, f, translated):
                translated = "yes"
        try:
            answers.append(c._parse(ctx.questionnaire, ctx.labels, f, translated, translated))
        except ValueError as exc:
            issues.append((location, f"the answer {exc}; it was left out"))  # what was typed is not repeated: others read status
    columns = {fm.field: fm.column for fm in mapping.fields}

    def column_of(key: str) -> str:  # a tick field ("bronnen.none"), or its question in one cell
        column = columns.get(key) or columns.get(key.partition(".")[0]) or key
        return f"column '{column[:60]}'"

    answers, conflicts = c.drop_exclusive_conflicts(ctx.questionnaire, answers, column_of)
    issues += conflicts
    if unanswered:
        shown = ", ".join(unanswered[:10]) + (", ..." if len(unanswered) > 10 else "")
        issues.append(("the row", f"{len(unanswered)} required question(s) not answered ({shown}); "
                                        "the row was counted without them"))
    code_text = row[index[mapping.code]].strip() if mapping.code else ""
    code = normalise(code_text) if code_text else None
    issued = store.issued_form(code) if code else None
    department_text = row[index[mapping.department.column]].strip() if mapping.department else ""
    kept.append(f"code={code or ''}")
    if issued is None:
        kept += [f"department={department_text}", f"row={number}"]  # two people may answer alike
    sha = hashlib.sha256("\x1f".join(kept).encode("utf-8")).hexdigest()
    size = len("\x1f".join(kept).encode("utf-8"))
    path = Path(where)
    if issued is not None:
        form = c.ReadForm(issued.form_id, issued.department_key, None, answers, issues) if answers else None
        reason = None if answers else f"code {issued.form_id}: no question was answered"
        outcome = c._record(store, c.FileRead(path, sha, size, form, reason))
        return RowOutcome(where, outcome.outcome, outcome.reason, True, sha)
    if not code_text:
        why = "has no code" if mapping.code else "has no code (the mapping names no code column)"
    elif code is None:
        why = f"has no valid code in column '{mapping.code}' (mistyped?)"
    else:
        why = f"has a code in column '{mapping.code}' that was never issued in this scan"
    if not unverified:
        return _reject(store, path, sha, size, f"{why}; only rows with a code issued by 'survey forms --codes' "
                                                "count (or import them explicitly with --unverified)")
    department = None
    if department_text:
        name = mapping.department.values.get(department_text, department_text) if mapping.department else None
        department = _find(departments, name) if name else None
    if department is None:
        return _reject(store, path, sha, size, f"{why}, and its department ('{department_text[:40]}' in column "
                                               f"'{mapping.department.column if mapping.department else ''}') "
                                               "is not one of departments.csv; add it to the mapping")
    role = "employee"
    if mapping.role is not None:
        role = mapping.role.values.get(row[index[mapping.role.column]].strip()) or "employee"
    if not answers:
        return _reject(store, path, sha, size, f"{why}, and no question was answered")
    return _record_unverified(store, scan, path, sha, size, department, role, answers, issues, why)


def _is_option(q: m.Questionnaire, f: m.AnswerField, text: str) -> bool:
    """`text` is the code or a label of the option this tick field stands for."""
    code = f.key.rsplit(".", 1)[1]
    option = next((o for o in q.scales[f.scale].options if str(o.code) == code), None) if f.scale else None
    if option is None:
        return False
    texts = [code, *option.label.values(), *(option.manager_label or {}).values()]
    return text.casefold() in {t.casefold() for t in texts}


def _translate(fm: FieldMap, text: str) -> str:
    if text in fm.answers:
        return str(fm.answers[text])
    folded = {k.casefold(): v for k, v in fm.answers.items()}
    value = folded.get(text.casefold())
    return str(value) if value is not None else text


def _reject(store: Store, path: Path, sha: str, size: int, reason: str) -> RowOutcome:
    before = store.db.execute("SELECT id, outcome, reason FROM received WHERE path = ? AND sha256 = ?",
                              (c.file_name(path), sha)).fetchone()
    if before is not None and before[1] == "rejected" and before[2] != reason:  # judged again (--unverified)
        with store.transaction() as db:
            db.execute("UPDATE received SET reason = ? WHERE id = ?", (reason, before[0]))
        return RowOutcome(str(path), "rejected", reason, False)
    return RowOutcome(str(path), c._record(store, c.FileRead(path, sha, size, None, reason)).outcome, reason,
                      False)


def _record_unverified(store: Store, scan: Scan, path: Path, sha: str, size: int, department: Department,
                       role: str, answers: list[c.AnswerValue], issues: list[tuple[str, str]],
                       why: str) -> RowOutcome:
    name = c.file_name(path)
    before = store.db.execute("SELECT id, outcome FROM received WHERE path = ? AND sha256 = ?", (name, sha)).fetchone()
    if before is not None and before[1] != "rejected":
        return RowOutcome(str(path), "unchanged", None, False)
    twin = store.first_with_hash(sha) if before is None else None
    if twin is not None:  # the same row under another export name: reuse collect's rule
        outcome = c._record(store, c.FileRead(path, sha, size, None, "unverified"))
        return RowOutcome(str(path), outcome.outcome, outcome.reason, False)
    reason = f"imported as unverified (--unverified: {why}); department from the row"
    form_id = "U-" + sha[:20]
    with store.transaction() as db:
        if before is not None:  # rejected without --unverified before: the consultant now takes it
            received_id = before[0]
            db.execute("UPDATE received SET outcome = 'accepted', reason = ?, form_id = ? WHERE id = ?",
                       (reason, form_id, received_id))
            db.execute("DELETE FROM issues WHERE received_id = ?", (received_id,))
        else:
            received_id = db.execute(
                "INSERT INTO received (path, sha256, size, outcome, reason, form_id) "
                "VALUES (?, ?, ?, 'accepted', ?, ?)", (name, sha, size, reason, form_id)).lastrowid
        response_id = db.execute(
            "INSERT INTO responses (received_id, form_id, department_key, department, role, wave, language, "
            "counted, verified) VALUES (?, ?, ?, ?, ?, ?, ?, 1, 0)",
            (received_id, form_id, department.key, department.name, role, scan.wave, scan.language)).lastrowid
        store.write_answers(db, response_id, answers)
        db.executemany("INSERT INTO issues (received_id, location, message) VALUES (?, ?, ?)",
                       [(received_id, loc, msg) for loc, msg in issues])
    return RowOutcome(str(path), "accepted", reason, False)
