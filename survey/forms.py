"""Write the Excel forms: one personal form per respondent, per department and role.

Each form has a visible questionnaire sheet (answer cells yellow, unlocked, with dropdowns
showing the scale labels; everything else locked), a hidden sheet with the dropdown lists,
and a very hidden meta sheet naming the scan, questionnaire version and hash, form id,
department, role, wave, language and the cell of every answer. `collect` reads that meta
sheet, so a form is self-describing wherever it travels.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from survey.errors import ScanError
from survey.i18n import wording
from survey.questionnaire import model as m
from survey.scan import Scan

META_SHEET = "_meta"
LISTS_SHEET = "_lists"
FORM_MARKER = "survey-form"
FORM_FORMAT = "1"
ROLES = ("employee", "manager")

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


@dataclass(frozen=True)
class FormSpec:
    """One personal form to write."""

    meta: FormMeta
    path: Path


@dataclass(frozen=True)
class FormsResult:
    folder: Path
    forms: list[FormSpec]


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-") or "afdeling"


def plan_forms(scan: Scan, folder: Path) -> list[FormSpec]:
    """Personal forms: expected headcount per department, managers get the manager form."""
    if not scan.departments:
        raise ScanError(f"{scan.folder / 'departments.csv'} lists no departments",
                        fix="add one line per department: name, expected headcount, number of managers")
    specs: list[FormSpec] = []
    q = scan.questionnaire
    for number, department in enumerate(scan.departments, start=1):
        for role, count in (("manager", department.managers), ("employee", department.employees)):
            for seq in range(1, count + 1):
                form_id = f"{number:02d}{role[0].upper()}{seq:03d}"
                meta = FormMeta(scan.scan_id, q.id, q.version, q.content_hash, form_id, department.name,
                                role, scan.wave, scan.language)
                specs.append(FormSpec(meta, folder / slug(department.name) / f"{form_id}.xlsx"))
    return specs


def write_forms(scan: Scan, out: Path | None = None,
                progress: Callable[[Iterator[FormSpec]], Iterator[FormSpec]] | None = None) -> FormsResult:
    """Write every personal form of the scan; returns where they are."""
    folder = out or scan.forms_dir
    specs = plan_forms(scan, folder)
    builder: _FormBuilder | None = None  # specs come grouped by department and role
    iterator: Iterator[FormSpec] = iter(specs)
    if progress is not None:
        iterator = progress(iterator)
    for spec in iterator:
        if builder is None or (builder.department, builder.role) != (spec.meta.department, spec.meta.role):
            builder = _FormBuilder(scan, spec.meta.department, spec.meta.role)
        spec.path.parent.mkdir(parents=True, exist_ok=True)
        builder.save(spec.meta, spec.path)
    return FormsResult(folder, specs)


class _FormBuilder:
    """Lays out one form for a department and role; personal forms differ only in the meta sheet."""

    def __init__(self, scan: Scan, department: str, role: str):
        self.scan = scan
        self.q = scan.questionnaire
        self.lang = scan.language
        self.department = department
        self.role = role
        self.words = wording(self.lang)
        self.wb = Workbook()
        self.ws = self.wb.active
        self.ws.title = self.words["form_sheet"]
        self.lists = self.wb.create_sheet(LISTS_SHEET)
        self.lists.sheet_state = "hidden"
        self.meta = self.wb.create_sheet(META_SHEET)
        self.meta.sheet_state = "veryHidden"
        self.validations: dict[str, DataValidation] = {}
        self.cells: list[tuple[str, str]] = []  # (field key, cell)
        self.row = 1
        self.number = 0
        self._layout(department)
        self._write_meta_fields()

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
            self.lists[f"{column}{index}"] = value
        formula = f"{LISTS_SHEET}!${column}$1:${column}${len(values)}"
        validation = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True,
                                    errorTitle=self.words["invalid_title"], error=self.words["invalid_answer"])
        self.ws.add_data_validation(validation)
        self.validations[key] = validation
        return validation

    def _scale_labels(self, scale: m.Scale) -> list[str | int]:
        manager = self.role == "manager"
        labels: list[str | int] = (
            list(scale.values) if scale.kind is m.ScaleKind.score
            else [o.text(self.lang, manager) for o in scale.options])
        if scale.not_applicable:
            labels.append(scale.not_applicable[self.lang])
        return labels

    def answer_cell(self, key: str, column: str, validation: DataValidation | None) -> None:
        cell = self.ws[f"{column}{self.row}"]
        cell.fill = ANSWER_FILL
        cell.border = BOX
        cell.font = Font(name=FONT, size=11)
        cell.protection = UNLOCKED
        cell.alignment = Alignment(vertical="top", wrap_text=True)
        if validation is not None:
            validation.add(cell.coordinate)
        dimension = self.ws.row_dimensions[self.row]
        dimension.height = max(dimension.height or 0, 21)  # room to write on a printed form
        self.cells.append((key, cell.coordinate))

    def put(self, column: str, value: str, *, bold: bool = False, italic: bool = False, size: int = 11,
            color: str | None = None, fill: PatternFill | None = None, merge_to: str | None = None) -> None:
        cell = self.ws[f"{column}{self.row}"]
        cell.value = value
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
        headed: set[str] = set()  # one column header per kind of scored question in a section
        for item in section.items:
            kind = type(item).__name__
            if isinstance(item, (m.StatementItem, m.ScoreItem)) and kind not in headed:
                headed.add(kind)
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
            if isinstance(item, (m.StatementItem, m.ScoreItem)):
                self._numbered(item.text, item.manager_text)
                validation = self._list_validation(item.scale)
                self.answer_cell(item.id, "C", validation)
                if item.desired:
                    self.answer_cell(f"{item.id}.desired", "D", validation)
                self.row += 1
            elif isinstance(item, m.ChoiceItem) and item.type == "single_choice":
                self._choice_row(item.id, item.text, item.manager_text, item.scale)
            elif isinstance(item, m.ChoiceItem):
                self._numbered(item.text, item.manager_text)
                self.put("C", w["tick_all"], italic=True, merge_to="D")
                self.row += 1
                tick = self._list_validation("tick", [w["tick_yes"]])
                for option in self.q.scales[item.scale].options:
                    self.put("B", f"    {option.text(self.lang, self.role == 'manager')}")
                    self.answer_cell(f"{item.id}.{option.code}", "C", tick)
                    self.row += 1
            elif isinstance(item, m.OpenItem):
                self._numbered(item.text, item.manager_text)
                self.row += 1
                self.ws.merge_cells(f"B{self.row}:D{self.row}")
                self.answer_cell(item.id, "B", None)
                self.ws.row_dimensions[self.row].height = 48
                self.row += 1
            elif isinstance(item, m.SituationGrid):
                self._numbered(item.text, item.manager_text, merge=True)
                self.row += 1
                manager = self.role == "manager"
                self._column_headers(w["situation"], w["grid_initiative"],
                                     w["grid_effect_manager"] if manager else w["grid_effect"])
                initiative = self._list_validation(item.initiative_scale)
                effect = self._list_validation(item.effect_scale)
                for situation in item.situations:
                    self.put("B", self.text(situation.text, situation.manager_text))
                    self.height_for(self.ws[f"B{self.row}"].value, 60)
                    self.answer_cell(f"{item.id}.{situation.id}.initiative", "C", initiative)
                    self.answer_cell(f"{item.id}.{situation.id}.effect", "D", effect)
                    self.row += 1
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

    def _write_meta_fields(self) -> None:
        for key in META_KEYS:  # values are set per personal form in save()
            self.meta.append([key, None])
        self.meta.append(["field", "cell"])
        for key, cell in self.cells:
            self.meta.append([key, cell])

    def save(self, meta: FormMeta, path: Path) -> None:
        values = {"marker": FORM_MARKER, "format": FORM_FORMAT, "scan_id": meta.scan_id,
                  "questionnaire_id": meta.questionnaire_id, "questionnaire_version": meta.questionnaire_version,
                  "questionnaire_hash": meta.questionnaire_hash, "form_id": meta.form_id,
                  "department": meta.department, "role": meta.role, "wave": meta.wave, "language": meta.language}
        for index, key in enumerate(META_KEYS, start=1):
            self.meta.cell(row=index, column=2, value=values[key])
        self.wb.properties.title = f"{self.q.title[self.lang]} - {meta.form_id}"
        self.wb.properties.creator = "survey"
        self.wb.save(path)


# Rows 1-11 of the meta sheet, in this order; row 12 is the header of the field -> cell table.
META_KEYS = ("marker", "format", "scan_id", "questionnaire_id", "questionnaire_version", "questionnaire_hash",
             "form_id", "department", "role", "wave", "language")
