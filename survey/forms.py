"""Issue and write the Excel forms: one personal form per respondent, per department and role.

Issuing is a record: every form id handed out is stored (`issued_forms` in scan.db) with its
department (by stable key), role, wave and language. Running `survey forms` again after
departments.csv changed issues forms only for new or larger departments and never rewrites
a form that is out. Ids are random (see `survey.formid`).

Each form has a visible questionnaire sheet (answer cells yellow, unlocked, with dropdowns
showing the scale labels; everything else locked), a hidden column on that sheet that ties
every answer cell to its field id, a hidden sheet with the dropdown lists, and a very hidden
meta sheet with what the form claims (scan, questionnaire hash, form id, department, role,
wave, language, where every answer sits) and the HMAC signature over all of it.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import re
import secrets
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from survey.errors import Location, ScanError
from survey.formid import grouped, new_form_id
from survey.i18n import long_date, wording
from survey.questionnaire import model as m
from survey.scan import DEPARTMENTS_FILE, MAX_SANE_HEADCOUNT, Department, Scan, load_scan, with_keys, \
    write_departments
from survey.signing import FORM_FORMAT, SignedClaims, load_secret, sheet_password, sign
from survey.store import IssuedForm, Store
from survey.textsafety import text_cell
from survey.xlsxpkg import Template, xml_text

META_SHEET = "_meta"
LISTS_SHEET = "_lists"
FORM_MARKER = "survey-form"
ROLES = ("employee", "manager")
FORM_ID_PLACEHOLDER = "@@FORM-ID@@"
DEPARTMENT_KEY_PLACEHOLDER = "@@DEPARTMENT-KEY@@"
SIGNATURE_PLACEHOLDER = "@@SIGNATURE@@"
TAG_COLUMN = "E"  # hidden, locked: the field ids of the answers on each row ("C=kar_01 D=kar_01.desired")

ANSWER_FILL = PatternFill("solid", fgColor="FFF6C8")
SECTION_FILL = PatternFill("solid", fgColor="1F5F6B")
HEADER_FILL = PatternFill("solid", fgColor="E4EEF0")
THIN = Side(style="thin", color="B8C4C8")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
UNLOCKED = Protection(locked=False)
FONT = "Arial"  # present in Excel everywhere; LibreOffice substitutes Liberation Sans


@dataclass(frozen=True)
class FormMeta:
    """What a form says about itself on its meta sheet."""

    scan_id: str
    questionnaire_id: str
    questionnaire_version: str
    questionnaire_hash: str
    form_id: str
    department: str
    role: str
    wave: str
    language: str
    department_key: str = ""


@dataclass(frozen=True)
class FormSpec:
    """One personal form to write."""

    meta: FormMeta
    path: Path


@dataclass(frozen=True)
class DepartmentIssue:
    """What `survey forms` did for one department."""

    key: str
    name: str
    new_employee: int
    new_manager: int
    already_out: int
    listed: bool  # still in departments.csv

    def describe(self) -> str:
        if not self.listed:
            return (f"{self.name}: no longer in {DEPARTMENTS_FILE}; no new forms, its {self.already_out} "
                    "forms already out still count for it")
        new = self.new_employee + self.new_manager
        if not new:
            return f"{self.name}: nothing new ({self.already_out} forms already out)"
        parts = [f"{n} {role} form{'s' if n != 1 else ''}" for n, role in
                 ((self.new_employee, "employee"), (self.new_manager, "manager")) if n]
        out = f" (besides {self.already_out} already out)" if self.already_out else ""
        return f"{self.name}: {' and '.join(parts)} issued{out}"


@dataclass(frozen=True)
class FormsResult:
    folder: Path
    forms: list[FormSpec]  # the forms written by this run
    departments: list[DepartmentIssue] = field(default_factory=list)


@dataclass(frozen=True)
class ExtraForms:
    """`survey forms --add N --department NAME`: extra forms beyond departments.csv."""

    department: str
    count: int
    role: str = "employee"
    language: str | None = None  # HR picks the language per person; default the department's


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-") or "afdeling"


def check_departments(scan: Scan, issued: list[IssuedForm]) -> None:
    """Catch the departments.csv mistakes that would move forms already out to another
    department: names moved without their keys (a sort of one column), or a key removed
    while the department was renamed."""
    path = scan.folder / DEPARTMENTS_FILE
    at_issue = {f.department_key: f.department for f in issued}
    listed = {d.key for d in scan.departments if d.key}
    for d in scan.departments:
        if not d.key:
            continue
        for key, name in at_issue.items():
            if key != d.key and name.casefold() == d.name.casefold() and at_issue.get(d.key, d.name) != d.name \
                    and key in listed:
                raise ScanError(f"'{d.name}' was the name of key '{key}' when its forms were issued, and now has "
                                f"key '{d.key}': were the names moved without their keys?", where=Location(file=path),
                                fix="put each name back beside its own key; to rename a department, change only "
                                    "its name")
    unkeyed = [d.name for d in scan.departments if not d.key]
    gone = [key for key in at_issue if key not in listed]
    if unkeyed and gone:
        out = ", ".join(f"'{key}' ({at_issue[key]})" for key in gone[:3])
        raise ScanError(f"{', '.join(unkeyed[:3])} in {DEPARTMENTS_FILE} has no key, and key(s) {out} with forms "
                        "already out are no longer listed", where=Location(file=path),
                        fix="if it is a renamed department, write its old key in the key column; if it is a new "
                            "department, give it a new key of its own")


def _departments_with_keys(scan: Scan) -> Scan:
    """Keys are given once and kept in departments.csv, so a rename is not a removal."""
    if all(d.key for d in scan.departments):
        return scan
    write_departments(scan.folder / DEPARTMENTS_FILE, with_keys(list(scan.departments)))
    return load_scan(scan.folder)


def plan_forms(scan: Scan, folder: Path, issued: list[IssuedForm], extra: ExtraForms | None = None,
               confirm_large: bool = False) -> tuple[list[FormSpec], list[DepartmentIssue]]:
    """The forms to issue now: what departments.csv asks for beyond what is out already."""
    if not scan.departments and not extra:
        raise ScanError(f"{scan.folder / DEPARTMENTS_FILE} lists no departments",
                        fix="add one line per department: name, expected headcount, number of managers")
    out: Counter[tuple[str, str]] = Counter((f.department_key, f.role) for f in issued if f.wave == scan.wave)
    by_key = {d.key: d for d in scan.departments}
    wanted: dict[str, dict[str, int]] = {}
    for d in scan.departments:
        if extra is None:
            wanted[d.key] = {"manager": max(0, d.managers - out[d.key, "manager"]),
                             "employee": max(0, d.employees - out[d.key, "employee"])}
    if extra is not None:
        target = _find_department(scan, extra.department)
        if extra.count < 1:
            raise ScanError("--add needs a number of forms of at least 1", fix="for example: --add 3")
        wanted[target.key] = {"manager": 0, "employee": 0, extra.role: extra.count}
    for key, counts in wanted.items():
        total = sum(counts.values())
        if total > MAX_SANE_HEADCOUNT and not confirm_large:
            raise ScanError(f"{by_key[key].name} would get {total} forms, more than a department usually has",
                            fix=f"check expected_headcount in {DEPARTMENTS_FILE}; if it is right, run again with "
                                "--yes")
    q = scan.questionnaire
    languages: dict[str, str] = {}  # department key -> the language of its new forms
    for d in scan.departments:
        languages[d.key] = (extra.language if extra is not None and extra.language else d.language) or scan.language
    for key, lang in languages.items():
        if sum(wanted.get(key, {}).values()):
            try:
                scan.check_form_language(lang)
            except ScanError as exc:
                name = by_key[key].name
                source = "--language" if extra is not None and extra.language else f"{DEPARTMENTS_FILE} ({name})"
                raise ScanError(f"{source}: {exc.what}", fix=exc.fix, where=exc.where) from None
    taken = {f.form_id for f in issued}
    written: Counter[tuple[str, str]] = Counter((f.department_key, f.role) for f in issued
                                                if f.wave == scan.wave and not f.folder.startswith("codes:"))
    specs: list[FormSpec] = []
    summary: list[DepartmentIssue] = []
    for d in scan.departments:
        counts = wanted.get(d.key, {"manager": 0, "employee": 0})
        for role in ("manager", "employee"):
            paths = form_paths(scan, folder / slug(d.name), d.name, role, written[d.key, role], counts[role])
            for path in paths:
                form_id = new_form_id()
                while form_id in taken:  # 64 random bits: a repeat is all but impossible, never trusted
                    form_id = new_form_id()
                taken.add(form_id)
                meta = FormMeta(scan.scan_id, q.id, q.version, q.content_hash, form_id, d.name, role, scan.wave,
                                languages[d.key], d.key)
                specs.append(FormSpec(meta, path))
        already = sum(n for (key, _), n in out.items() if key == d.key)
        if extra is None or d.key in wanted:
            summary.append(DepartmentIssue(d.key, d.name, counts["employee"], counts["manager"], already, True))
    listed = {d.key for d in scan.departments}
    if extra is None:
        for key in dict.fromkeys(f.department_key for f in issued if f.department_key not in listed):
            name = next(f.department for f in issued if f.department_key == key)
            summary.append(DepartmentIssue(key, name, 0, 0, sum(n for (k, _), n in out.items() if k == key), False))
    return specs, summary


def _file_part(text: str, limit: int) -> str:
    text = re.sub(r'[\x00-\x1f<>:"/\\|?*]+', " ", text)  # not allowed in a Windows file name
    words, out = text.split(), ""
    for word in words:  # whole words, up to the limit
        if out and len(out) + 1 + len(word) > limit:
            break
        out = f"{out} {word}" if out else word[:limit]
    return out.rstrip(" .")


def file_title(scan: Scan, department: str, role: str) -> str:
    """The neutral part of a form's file name: questionnaire, department and role, safe on
    every system ("Werkgeluk - Zorg - medewerker"). The department keeps returned files of
    different departments apart in one inbox."""
    word = wording(scan.language)["role_" + role].lower()
    parts = (_file_part(scan.questionnaire.title[scan.language], 40), _file_part(department, 40), word)
    return " - ".join(p for p in parts if p)


def form_paths(scan: Scan, department_folder: Path, department: str, role: str, before: int,
               count: int) -> list[Path]:
    """File names for `count` new forms: "<title> - <department> - <role> <n>.xlsx", n running
    on after the `before` forms issued earlier for this department and role and skipping any
    name in use, so nothing handed out is overwritten. The numbers are dealt in random order
    and never stored: neither a name nor the order of the issue record leads from a file to
    its form id."""
    title, numbers, n = file_title(scan, department, role), [], before
    while len(numbers) < count:
        n += 1
        if not any((department_folder / f"{title} {n}{suffix}").exists() for suffix in (".xlsx", ".pdf")):
            numbers.append(n)
    secrets.SystemRandom().shuffle(numbers)
    return [department_folder / f"{title} {n}.xlsx" for n in numbers]


def _find_department(scan: Scan, name: str) -> Department:
    for d in scan.departments:
        if name.casefold() in (d.name.casefold(), d.key.casefold()):
            return d
    raise ScanError(f"there is no department '{name}' in {DEPARTMENTS_FILE}",
                    fix="use a name (or key) from departments.csv: "
                        + ", ".join(d.name for d in scan.departments[:8]))


def write_forms(scan: Scan, out: Path | None = None,
                progress: Callable[[Iterator[FormSpec]], Iterator[FormSpec]] | None = None,
                extra: ExtraForms | None = None, confirm_large: bool = False) -> FormsResult:
    """Issue and write the forms departments.csv (or `extra`) asks for beyond those already out.

    All or nothing: the forms are written into a temporary folder first and recorded as issued
    only when every one was written; then they are moved into place."""
    folder = out or scan.forms_dir
    if scan.store_path.exists():
        with Store(scan.store_path) as store:
            check_departments(scan, store.issued())
    scan = _departments_with_keys(scan)
    with Store(scan.store_path) as store:
        if store.closed_on():
            raise ScanError(f"the scan in {scan.folder} was closed on {store.closed_on()}; no forms can be issued",
                            fix="start the next wave in a new scan folder with survey init")
        secret = load_secret(scan.folder)
        specs, summary = plan_forms(scan, folder, store.issued(), extra, confirm_large)
        if not specs:
            return FormsResult(folder, [], summary)
        staging = folder / f".incoming-{secrets.token_hex(4)}"
        try:
            groups: dict[tuple[str, str, str], list[tuple[FormMeta, Path]]] = {}
            for spec in specs:  # one template per department, role and language
                target = staging / spec.path.relative_to(folder)
                groups.setdefault((spec.meta.department, spec.meta.role, spec.meta.language), []).append(
                    (spec.meta, target))
            done = _write_groups(scan, secret, list(groups.values()))
            iterator: Iterator[FormSpec] = (spec for group in done for spec in group)
            for _ in progress(iterator) if progress is not None else iterator:
                pass
            # in form id order, not the order of the numbers in the names
            store.issue(sorted((IssuedForm(s.meta.form_id, s.meta.department_key, s.meta.department, s.meta.role,
                                           s.meta.wave, s.meta.language, "", s.path.parent.relative_to(folder).as_posix())
                                for s in specs), key=lambda f: f.form_id))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        for spec in specs:
            spec.path.parent.mkdir(parents=True, exist_ok=True)
            (staging / spec.path.relative_to(folder)).replace(spec.path)
        shutil.rmtree(staging, ignore_errors=True)
    return FormsResult(folder, specs, summary)


PARALLEL_FROM = 200  # forms; below this, starting worker processes costs more than it saves


def _write_groups(scan: Scan, secret: bytes, groups: list[list[tuple[FormMeta, Path]]]) -> Iterator[list[FormMeta]]:
    """Write each group (one department and role) from one template; on every core when
    there are many forms. Yields each group's metas as it is done."""
    if sum(len(g) for g in groups) < PARALLEL_FROM or len(groups) < 2:
        for group in groups:
            yield _write_group(scan, secret, group)
        return
    workers = min(len(groups), os.cpu_count() or 1)
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                             initargs=(scan.folder, secret)) as pool:
        for future in as_completed([pool.submit(_write_group_in_worker, group) for group in groups]):
            yield future.result()


_WORKER: dict[str, object] = {}


def _init_worker(folder: Path, secret: bytes) -> None:
    _WORKER["scan"], _WORKER["secret"] = load_scan(folder), secret


def _write_group_in_worker(group: list[tuple[FormMeta, Path]]) -> list[FormMeta]:
    return _write_group(_WORKER["scan"], _WORKER["secret"], group)  # type: ignore[arg-type]


def _write_group(scan: Scan, secret: bytes, group: list[tuple[FormMeta, Path]]) -> list[FormMeta]:
    first = group[0][0]
    builder = _FormBuilder(scan, first.department, first.role, secret, first.language)
    for meta, target in group:
        target.parent.mkdir(parents=True, exist_ok=True)
        builder.save(meta, target)
    return [meta for meta, _ in group]


class _FormBuilder:
    """Lays out one form for a department and role; personal forms differ only in the meta sheet."""

    def __init__(self, scan: Scan, department: str, role: str, secret: bytes, language: str | None = None):
        self.scan = scan
        self.secret = secret
        self.lang = language or scan.language
        self.q = scan.form_questionnaire(self.lang)  # texts in the form's language; the hash stays the scan's
        self.department = department
        self.role = role
        self.words = form_words(scan, self.lang)
        self.wb = Workbook()
        self.ws = self.wb.active
        self.ws.title = sheet_title(self.words["form_sheet"])
        self.ws.sheet_view.rightToLeft = right_to_left(self.lang)
        self.lists = self.wb.create_sheet(LISTS_SHEET)
        self.lists.sheet_state = "hidden"
        self.meta = self.wb.create_sheet(META_SHEET)
        self.meta.sheet_state = "veryHidden"
        self.validations: dict[str, DataValidation] = {}
        self.cells: list[tuple[str, str]] = []  # (field key, cell)
        self.row_tags: dict[int, list[str]] = {}
        self.row = 1
        self.number = 0
        self._layout(department)
        self._write_tags()
        self._protect()
        self._package: Template | None = None
        self._meta_part = ""

    # -- building blocks
    def text(self, value: m.Text | None, manager_value: m.Text | None = None) -> str:
        chosen = manager_value if (self.role == "manager" and manager_value) else value
        # '{threshold}' in a text becomes this scan's anonymity threshold
        return chosen[self.lang].replace("{threshold}", str(self.scan.anonymity_threshold)) if chosen else ""

    def _list_validation(self, scale_name: str, extra: list[str] | None = None) -> DataValidation:
        key = scale_name if extra is None else f"{scale_name}+"
        if key in self.validations:
            return self.validations[key]
        column = get_column_letter(len(self.validations) + 1)
        values = extra if extra is not None else self._scale_labels(self.q.scales[scale_name])
        for index, value in enumerate(values, start=1):
            set_text(self.lists[f"{column}{index}"], value)
        formula = f"{LISTS_SHEET}!${column}$1:${column}${len(values)}"
        validation = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True,
                                    errorTitle=self.words["invalid_title"], error=self.words["invalid_answer"])
        self.ws.add_data_validation(validation)
        self.validations[key] = validation
        return validation

    def _scale_labels(self, scale: m.Scale) -> list[str | int]:
        return scale.answer_labels(self.lang, self.role == "manager")

    def answer_cell(self, key: str, column: str, validation: DataValidation | None) -> None:
        cell = self.ws[f"{column}{self.row}"]
        cell.fill = ANSWER_FILL
        cell.border = BOX
        cell.font = Font(name=FONT, size=11)
        cell.protection = UNLOCKED
        cell.alignment = Alignment(vertical="top", wrap_text=True)
        if validation is not None:
            validation.add(cell.coordinate)
        self.row_tags.setdefault(self.row, []).append(f"{column}={key}")
        dimension = self.ws.row_dimensions[self.row]
        dimension.height = max(dimension.height or 0, 21)  # room to write on a printed form
        self.cells.append((key, cell.coordinate))

    def put(self, column: str, value: str, *, bold: bool = False, italic: bool = False, size: int = 11,
            color: str | None = None, fill: PatternFill | None = None, merge_to: str | None = None) -> None:
        cell = self.ws[f"{column}{self.row}"]
        set_text(cell, value)
        cell.font = Font(name=FONT, bold=bold, italic=italic, size=size, color=color)
        cell.alignment = WRAP
        if fill is not None:
            cell.fill = fill
        if merge_to:
            self.ws.merge_cells(f"{column}{self.row}:{merge_to}{self.row}")

    def height_for(self, text: str, width_chars: int = 70, line: float = 15.0) -> None:
        lines = max(1, sum(-(-max(len(part), 1) // width_chars) for part in text.split("\n")))
        current = self.ws.row_dimensions[self.row].height or 15.0
        self.ws.row_dimensions[self.row].height = max(current, lines * line + 3)

    # -- layout
    def _layout(self, department: str) -> None:
        ws, w = self.ws, self.words
        for column, width in zip("ABCD", (5, 62, 30, 30)):
            ws.column_dimensions[column].width = width
        self.put("A", self.q.title[self.lang], bold=True, size=16, merge_to="D")
        ws.row_dimensions[self.row].height = 26
        self.row += 1
        who = w["role_manager"] if self.role == "manager" else w["role_employee"]
        self.put("A", f"{self.scan.organisation} · {w['department']}: {department} · {who}",
                 color="1F5F6B", bold=True, merge_to="D")
        self.row += 1
        intro = self.text(self.q.introduction)
        if intro:
            self.put("A", intro, merge_to="D")
            self.height_for(intro, 120)
            self.row += 1
        self.put("A", w["form_instruction"], italic=True, merge_to="D")
        self.height_for(w["form_instruction"], 120)
        self.row += 1
        for line in handout_lines(self.scan, self.lang, self.words):
            self.put("A", line, bold=True, merge_to="D")
            self.height_for(line, 120)
            self.row += 1
        privacy = w["form_privacy"].format(threshold=self.scan.anonymity_threshold)
        self.put("A", privacy, size=9, merge_to="D")
        self.height_for(privacy, 140)
        self.row += 2
        for section in self.q.sections:
            self._section(section)
        background = [b for b in self.q.background if b.source == "respondent"]
        if background:
            self._section_header(w["about_you"], w["about_you_intro"])
            for question in background:
                self._choice_row(question.id, question.text, None, question.scale)
            self.row += 1
        self.put("A", w["form_thanks"], bold=True, merge_to="D")
        self.height_for(w["form_thanks"], 120)
        ws.protection.sheet = True
        ws.protection.formatCells = False  # people may widen a column or row to read
        ws.protection.formatColumns = False
        ws.protection.formatRows = False
        ws.freeze_panes = None
        ws.sheet_view.showGridLines = False
        ws.page_setup.orientation = "portrait"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_options.horizontalCentered = True
        ws.print_area = f"A1:D{self.row}"

    def _section_header(self, title: str, intro: str | None) -> None:
        self.put("A", title, bold=True, color="FFFFFF", fill=SECTION_FILL, size=12, merge_to="D")
        self.ws.row_dimensions[self.row].height = 20
        self.row += 1
        if intro:
            self.put("B", intro, italic=True, merge_to="D")
            self.height_for(intro, 110)
            self.row += 1

    def _column_headers(self, *labels: str) -> None:
        for column, label in zip("BCD", labels):
            if label:
                self.put(column, label, bold=True, fill=HEADER_FILL)
                self.height_for(label, 26 if column != "B" else 60)
        self.row += 1

    def _section(self, section: m.Section) -> None:
        w = self.words
        self._section_header(section.title[self.lang], self.text(section.intro, section.manager_intro))
        # The column header over the rows below: a statement/score header, and a 'question' header
        # when a single choice follows statements, so a header always names what it heads.
        active: str | None = None
        for item in section.items:
            kind = type(item).__name__
            if isinstance(item, (m.StatementItem, m.ScoreItem)) and kind != active:
                active = kind
                any_desired = any(getattr(i, "desired", False) for i in section.items)
                scale = self.q.scales[item.scale]
                first = w["answer_now"] if any_desired else w["your_answer"]
                if scale.kind is m.ScaleKind.score:
                    low, high = scale.min, scale.max
                    hint = f" ({low} = {scale.anchors.get(low, {}).get(self.lang, low)}, " \
                           f"{high} = {scale.anchors.get(high, {}).get(self.lang, high)})"
                    first += hint
                self._column_headers(w["statement"] if isinstance(item, m.StatementItem) else w["question"],
                                     first, w["answer_desired"] if any_desired else "")
            elif isinstance(item, m.ChoiceItem) and item.type == "single_choice" and active not in (None, "choice"):
                active = "choice"
                self._column_headers(w["question"], w["your_answer"], "")
            if isinstance(item, (m.StatementItem, m.ScoreItem)):
                self._numbered(item.text, item.manager_text)
                validation = self._list_validation(item.scale)
                self.answer_cell(item.id, "C", validation)
                if item.desired:
                    self.answer_cell(f"{item.id}.desired", "D", validation)
                self.row += 1
                self._help(item.help)
            elif isinstance(item, m.ChoiceItem) and item.type == "single_choice":
                self._choice_row(item.id, item.text, item.manager_text, item.scale)
                self._help(item.help)
            elif isinstance(item, m.ChoiceItem):
                self._numbered(item.text, item.manager_text)
                self.put("C", w["tick_all"], italic=True, merge_to="D")
                self.row += 1
                self._help(item.help)
                tick = self._list_validation("tick", [w["tick_yes"]])
                for option in self.q.scales[item.scale].options:
                    self.put("B", f"    {option.text(self.lang, self.role == 'manager')}")
                    self.answer_cell(f"{item.id}.{option.code}", "C", tick)
                    self.row += 1
            elif isinstance(item, m.OpenItem):
                self._numbered(item.text, item.manager_text)
                self.row += 1
                self._help(item.help)
                self.ws.merge_cells(f"B{self.row}:D{self.row}")
                self.answer_cell(item.id, "B", None)
                self.ws.row_dimensions[self.row].height = 48
                self.row += 1
            elif isinstance(item, m.SituationGrid):
                self._numbered(item.text, item.manager_text, merge=True)
                self.row += 1
                self._help(item.help)
                manager = self.role == "manager"
                self._column_headers(w["situation"], w["grid_initiative"],
                                     w["grid_effect_manager"] if manager else w["grid_effect"])
                initiative = self._list_validation(item.initiative_scale)
                effect = self._list_validation(item.effect_scale)
                for situation in item.situations:
                    label = self.text(situation.text, situation.manager_text)
                    if situation.help:
                        label += "\n" + self.text(situation.help)  # the plain explanation under the situation
                    self.put("B", label)
                    self.height_for(label, 60)
                    self.answer_cell(f"{item.id}.{situation.id}.initiative", "C", initiative)
                    self.answer_cell(f"{item.id}.{situation.id}.effect", "D", effect)
                    self.row += 1
        self.row += 1

    def _help(self, help_text: m.Text | None) -> None:
        """A question's plain explanation (an idiom, a question quoted verbatim), under it."""
        if not help_text:
            return
        value = self.text(help_text)
        self.put("B", value, italic=True, size=10, color="404040", merge_to="D")
        self.height_for(value, 120, line=13.0)
        self.row += 1

    def _numbered(self, text: m.Text, manager_text: m.Text | None, merge: bool = False) -> None:
        self.number += 1
        self.put("A", f"{self.number}.", color="1F5F6B", bold=True)
        value = self.text(text, manager_text)
        self.put("B", value, merge_to="D" if merge else None)
        self.height_for(value, 110 if merge else 60)

    def _choice_row(self, key: str, text: m.Text, manager_text: m.Text | None, scale: str) -> None:
        self._numbered(text, manager_text)
        self.answer_cell(key, "C", self._list_validation(scale))
        self.row += 1

    def _write_tags(self) -> None:
        """Every answer row names its fields in a hidden, locked column: collect reads answers
        by these tags, so an inserted or deleted row can never move an answer to another question."""
        for row, tags in self.row_tags.items():
            cell = self.ws[f"{TAG_COLUMN}{row}"]
            set_text(cell, " ".join(tags))
            cell.font = Font(name=FONT, size=6, color="FFFFFF")
        self.ws.column_dimensions[TAG_COLUMN].hidden = True

    def _protect(self) -> None:
        """Passwords derived from the scan's secret stop accidents (a deleted row, a renamed
        sheet); the signature is what makes a form trustworthy."""
        password = sheet_password(self.secret, self.scan.scan_id)
        for sheet in (self.ws, self.lists, self.meta):
            sheet.protection.sheet = True
            sheet.protection.password = password
        self.wb.security = WorkbookProtection(workbookPassword=password, lockStructure=True)

    def claims(self, meta: FormMeta) -> SignedClaims:
        return SignedClaims(meta.scan_id, meta.questionnaire_hash, meta.form_id, meta.department_key,
                            meta.department, meta.role, meta.wave, meta.language, tuple(self.cells))

    def _template(self) -> Template:
        """The workbook saved once with placeholders where each personal form differs."""
        if self._package is None:
            values = {"marker": FORM_MARKER, "format": FORM_FORMAT, "scan_id": self.scan.scan_id,
                      "questionnaire_id": self.q.id, "questionnaire_version": self.q.version,
                      "questionnaire_hash": self.scan.questionnaire.content_hash, "form_id": FORM_ID_PLACEHOLDER,
                      "department": self.department, "department_key": DEPARTMENT_KEY_PLACEHOLDER,
                      "role": self.role, "wave": self.scan.wave, "language": self.lang,
                      "signature": SIGNATURE_PLACEHOLDER}
            for key in META_KEYS:
                self.meta.append([key, None])
                set_text(self.meta.cell(row=self.meta.max_row, column=2), values[key])
            self.meta.append(["field", "cell"])
            for key, cell in self.cells:
                self.meta.append([key, cell])
            self.wb.properties.title = self.q.title[self.lang]
            self.wb.properties.creator = "survey"
            buffer = io.BytesIO()
            self.wb.save(buffer)
            self._package = Template(buffer.getvalue())
            self._meta_part = self._package.members_containing(FORM_ID_PLACEHOLDER.encode())[0]
        return self._package

    def personal(self, meta: FormMeta) -> bytes:
        """One personal form: the template with its id, department key and signature filled in,
        changed at the level of the xlsx package (no workbook is saved per form)."""
        template = self._template()
        signature = sign(self.secret, self.claims(meta))
        return template.personalise({self._meta_part: {
            FORM_ID_PLACEHOLDER.encode(): xml_text(meta.form_id),
            DEPARTMENT_KEY_PLACEHOLDER.encode(): xml_text(meta.department_key),
            SIGNATURE_PLACEHOLDER.encode(): xml_text(signature)}})

    def save(self, meta: FormMeta, path: Path) -> None:
        path.write_bytes(self.personal(meta))


def form_words(scan: Scan, lang: str) -> dict[str, str]:
    """The tool's form wording in `lang`: bundled (reports/wording/), or from the scan's translation."""
    from survey.questionnaire.translation import form_wording

    if lang in scan.translations and lang not in scan.questionnaire.languages:
        return form_wording(wording(scan.language), scan.translations[lang])
    return wording(lang)


def sheet_title(text: str) -> str:
    """A sheet name spreadsheet programs accept (a translation may hold any character)."""
    return " ".join(re.sub(r"[\[\]:*?/\\']", " ", text).split())[:31] or "Form"


def right_to_left(lang: str) -> bool:
    from survey.questionnaire.translation import RIGHT_TO_LEFT

    return lang in RIGHT_TO_LEFT


def handout_lines(scan: Scan, lang: str, words: dict[str, str] | None = None) -> list[str]:
    """Deadline, where to hand in, whom to ask: what a respondent needs, on the form itself."""
    w, handout = words or wording(lang), scan.handout
    lines = []
    if handout.deadline:
        months = w["months"].split()
        day = handout.deadline
        lines.append(w["form_handout"].format(deadline=f"{day.day} {months[day.month - 1]} {day.year}"
                                              if len(months) == 12 else long_date(day, lang)))
    if handout.return_to:
        lines.append(w["form_return"].format(return_to=handout.return_to))
    if handout.contact:
        lines.append(w["form_contact"].format(contact=handout.contact))
    return lines


def set_text(cell, value: object) -> None:
    """User and questionnaire text is data, never a formula, whatever it starts with."""
    text_cell(cell, value)


# The meta sheet: these keys in column A, values in column B, in this order; then a header row
# and the field -> cell table. Collect finds keys by name, not by row.
META_KEYS = ("marker", "format", "scan_id", "questionnaire_id", "questionnaire_version", "questionnaire_hash",
             "form_id", "department", "department_key", "role", "wave", "language", "signature")


@dataclass(frozen=True)
class CodesResult:
    path: Path
    codes: list[str]
    department: str
    role: str


def issue_codes(scan: Scan, count: int, department: str, role: str = "employee",
                out: Path | None = None) -> CodesResult:
    """`survey forms DIR --codes N --department NAME`: issue N codes for an online questionnaire.

    A code is a form id (`survey.formid`) recorded in the issue record like a form, with file
    "codes:<csv name>"; the respondent types it into the online questionnaire (or LimeSurvey
    carries it as the token), and `survey import` counts a row only with an issued code. The
    CSV lists the codes to hand out, never who got which."""
    from survey.atomic import write_text_atomic
    from survey.textsafety import csv_writer

    if count < 1:
        raise ScanError("--codes needs a number of codes of at least 1", fix="for example: --codes 20")
    if role not in ROLES:
        raise ScanError(f"role '{role}' is not known", fix="use employee or manager")
    scan = _departments_with_keys(scan)
    target = _find_department(scan, department)
    folder = (out or scan.forms_dir) / "codes"
    folder.mkdir(parents=True, exist_ok=True)
    with Store(scan.store_path) as store:
        if store.closed_on():
            raise ScanError(f"the scan in {scan.folder} was closed on {store.closed_on()}; no codes can be issued",
                            fix="start the next wave in a new scan folder with survey init")
        taken = {f.form_id for f in store.issued()}
        codes: list[str] = []
        while len(codes) < count:
            code = new_form_id()
            if code not in taken:
                taken.add(code)
                codes.append(code)
        number = 1
        while (folder / f"codes-{slug(target.name)}-{role}-{number}.csv").exists():
            number += 1
        path = folder / f"codes-{slug(target.name)}-{role}-{number}.csv"
        buffer = io.StringIO()
        writer = csv_writer(buffer)
        writer.writerow(["code", "department", "role"])
        writer.writerows([[grouped(c), target.name, role] for c in codes])
        store.issue([IssuedForm(c, target.key, target.name, role, scan.wave, scan.language, "",
                                f"codes:{path.name}") for c in codes])
        try:
            write_text_atomic(path, buffer.getvalue())
        except BaseException:
            store.forget_issued(codes)
            raise
    return CodesResult(path, codes, target.name, role)
