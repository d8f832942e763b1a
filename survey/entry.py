"""Typing in paper forms: the entry workbook, reading it row by row, and double entry.

`survey forms DIR --entry-workbook` writes one workbook for typists: a row per paper form, a
column per answer field with the same choices and labels as the Excel form (dropdown lists),
and a form-id column. The workbook marks itself as an entry workbook: a very hidden sheet
holds the scan id, the questionnaire hash, the column -> field mapping and an HMAC signature
over all of it (`survey.signing`), so a column moved, removed or renamed is caught on collect.

Collect reads a typed entry workbook row by row (in the isolated reader, like any file);
every row becomes its own received entry (path ``entry.xlsx#row 7``) with its own outcome,
counts only under an issued form id (department and role from the issue record), and its
saved time is the workbook's saved time, so the rule for copies treats a typed row exactly
like a returned file. Typed values pass the same parsing and cleaning as form answers.

Double entry (`survey collect DIR --double-entry A.xlsx B.xlsx`): two typists type the same
paper forms; rows are compared by form id and field. A form typed the same in both is
collected once; a form with differences is not accepted: the differences are listed (form
id, question, value A, value B) until the typists agree.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from survey.errors import ScanError
from survey.formid import grouped, normalise
from survey.i18n import wording
from survey.questionnaire import model as m
from survey.scan import Scan
from survey.signing import SignedClaims, load_secret, sheet_password, sign, verify
from survey.textsafety import clean_text, text_cell

ENTRY_SHEET = "_entry"  # very hidden: marker, scan, questionnaire hash, signature, field -> column
ENTRY_LISTS = "_lists"
ENTRY_MARKER = "survey-entry"
ENTRY_FORM_ID = "ENTRY-WORKBOOK"  # the signed claims' form id: this is not a form
HEADER_ROW = 1  # question labels for the typist
KEY_ROW = 2  # field ids (small, grey, locked): checked against the signed mapping
FIRST_ROW = 3
ROWS = 1000  # rows prepared with dropdowns
ID_COLUMN = "A"
FIRST_ANSWER_COLUMN = 2
MAX_ENTRY_COLUMNS = 100  # collect reads at most 100 columns of any workbook
ENTRY_FILL = PatternFill("solid", fgColor="FFF6C8")
HEAD_FILL = PatternFill("solid", fgColor="E4EEF0")


# -- which fields, and how they are headed ------------------------------------------------

def entry_fields(q: m.Questionnaire) -> list[m.AnswerField]:
    """The fields a typist types: every answer field a paper form asks (not those the form
    itself fills in, such as the role)."""
    not_asked = {b.id for b in q.background if b.source != "respondent"}
    return [f for f in q.answer_fields() if f.key not in not_asked]


def numbers(q: m.Questionnaire) -> dict[str, int]:
    """Question numbers as printed on the forms (items in order, then background questions)."""
    out: dict[str, int] = {}
    for item in q.items:
        out[item.id] = len(out) + 1
    for question in q.background:
        if question.source == "respondent":
            out[question.id] = len(out) + 1
    return out


def field_label(q: m.Questionnaire, f: m.AnswerField, lang: str, number: int | None = None) -> str:
    """A short name of a field for people: '3. Ik weet wat ... (gewenst)'."""
    w = wording(lang)
    number = number if number is not None else numbers(q).get(f.item_id)
    try:
        item = q.item(f.item_id)
        text = item.text[lang]
    except KeyError:
        item = None
        text = next((b.text[lang] for b in q.background if b.id == f.item_id), f.item_id)
    text = " ".join(text.split())
    short = text if len(text) <= 50 else text[:48].rstrip() + "…"
    extra = ""
    if f.aspect == "desired":
        extra = w["answer_desired"]
    elif f.aspect == "current":
        extra = w["answer_now"]
    elif f.aspect in ("initiative", "effect") and isinstance(item, m.SituationGrid):
        situation = next(s for s in item.situations if s.id == f.situation)
        extra = f"{situation.text[lang]}: " + (w["grid_initiative"] if f.aspect == "initiative" else w["grid_effect"])
    elif f.aspect == "option" and f.scale:
        code = f.key.rsplit(".", 1)[1]
        extra = next((o.text(lang) for o in q.scales[f.scale].options if str(o.code) == code), code)
    prefix = f"{number}. " if number else ""
    if f.aspect in ("initiative", "effect") and extra:
        return f"{prefix}{extra}"  # the situation and the question about it say it all
    return f"{prefix}{short}" + (f" ({extra})" if extra else "")


def choices(q: m.Questionnaire, f: m.AnswerField, lang: str) -> list[str] | None:
    """The dropdown of a field: the same labels as the (employee) Excel form."""
    if f.kind is m.FieldKind.open:
        return None
    if f.kind is m.FieldKind.check:
        return [wording(lang)["tick_yes"]]
    scale = q.scales[f.scale]  # type: ignore[index]
    labels = [str(v) for v in scale.answer_labels(lang)]
    # a manager's paper form prints the manager wording ('My staff member'): typed as printed
    labels += [o.text(lang, True) for o in scale.options if o.text(lang, True) not in labels]
    return labels


def _claims(scan: Scan, mapping: tuple[tuple[str, str], ...]) -> SignedClaims:
    return SignedClaims(scan.scan_id, scan.questionnaire.content_hash, ENTRY_FORM_ID, "", "", "entry", scan.wave,
                        scan.language, mapping)


# -- writing -------------------------------------------------------------------------------

def write_entry_workbook(scan: Scan, out: Path | None = None, rows: int = ROWS) -> Path:
    """Write an empty entry workbook into the forms folder (never over an existing one: a
    typist may be working in it); returns its path."""
    q, lang, w = scan.questionnaire, scan.language, wording(scan.language)
    secret = load_secret(scan.folder)
    folder = out or scan.forms_dir
    folder.mkdir(parents=True, exist_ok=True)
    base = w["entry_file"]
    path, n = folder / f"{base}.xlsx", 1
    while path.exists():
        n += 1
        path = folder / f"{base}-{n}.xlsx"
    fields = entry_fields(q)
    if len(fields) + 1 > MAX_ENTRY_COLUMNS:
        raise ScanError(f"the questionnaire has {len(fields)} answers, more than an entry workbook can hold "
                        f"({MAX_ENTRY_COLUMNS - 1})", fix="type the paper forms into Excel forms instead")
    wb = Workbook()
    ws = wb.active
    ws.title = w["entry_sheet"]
    lists = wb.create_sheet(ENTRY_LISTS)
    lists.sheet_state = "hidden"
    meta = wb.create_sheet(ENTRY_SHEET)
    meta.sheet_state = "veryHidden"
    last = FIRST_ROW + rows - 1
    head = Font(name="Arial", bold=True, size=10)
    text_cell(ws[f"{ID_COLUMN}{HEADER_ROW}"], w["entry_form_id"])
    text_cell(ws[f"{ID_COLUMN}{KEY_ROW}"], "form_id")
    ws.column_dimensions[ID_COLUMN].width = 22
    id_check = DataValidation(type="textLength", operator="between", formula1="14", formula2="20", allow_blank=True,
                              showErrorMessage=True, errorTitle=w["entry_id_title"], error=w["entry_id_error"],
                              showInputMessage=True, promptTitle=w["entry_form_id"], prompt=w["entry_id_prompt"])
    ws.add_data_validation(id_check)
    id_check.add(f"{ID_COLUMN}{FIRST_ROW}:{ID_COLUMN}{last}")
    validations: dict[tuple[str, ...], DataValidation] = {}
    mapping: list[tuple[str, str]] = []
    number = numbers(q)
    for index, f in enumerate(fields):
        column = get_column_letter(FIRST_ANSWER_COLUMN + index)
        mapping.append((f.key, column))
        text_cell(ws[f"{column}{HEADER_ROW}"], field_label(q, f, lang, number.get(f.item_id)))
        text_cell(ws[f"{column}{KEY_ROW}"], f.key)
        ws.column_dimensions[column].width = 18 if f.kind is not m.FieldKind.open else 40
        labels = choices(q, f, lang)
        if labels is None:
            continue
        key = tuple(labels)
        if key not in validations:
            list_column = get_column_letter(len(validations) + 1)
            for i, label in enumerate(labels, start=1):
                text_cell(lists[f"{list_column}{i}"], label)
            validation = DataValidation(type="list", formula1=f"{ENTRY_LISTS}!${list_column}$1:${list_column}"
                                        f"${len(labels)}", allow_blank=True, showErrorMessage=True,
                                        errorTitle=w["invalid_title"], error=w["invalid_answer"])
            ws.add_data_validation(validation)
            validations[key] = validation
        validations[key].add(f"{column}{FIRST_ROW}:{column}{last}")
    last_column = get_column_letter(FIRST_ANSWER_COLUMN + len(fields) - 1)
    for row in ws.iter_rows(min_row=HEADER_ROW, max_row=HEADER_ROW):
        for cell in row:
            cell.font, cell.fill = head, HEAD_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in ws.iter_rows(min_row=KEY_ROW, max_row=KEY_ROW):
        for cell in row:
            cell.font = Font(name="Arial", size=7, color="808080")
    ws.row_dimensions[HEADER_ROW].height = 90
    unlocked = Protection(locked=False)
    for row in ws.iter_rows(min_row=FIRST_ROW, max_row=last, max_col=FIRST_ANSWER_COLUMN + len(fields) - 1):
        for cell in row:
            cell.protection = unlocked
            cell.number_format = "@"  # typed as text: an id or a mark stays as typed
    for cell in ws[f"A{FIRST_ROW}:{last_column}{FIRST_ROW}"][0]:
        cell.fill = ENTRY_FILL
    ws.freeze_panes = f"B{FIRST_ROW}"
    claims = _claims(scan, tuple(mapping))
    for key, value in (("marker", ENTRY_MARKER), ("scan_id", scan.scan_id),
                       ("questionnaire_hash", q.content_hash), ("wave", scan.wave), ("language", lang),
                       ("signature", sign(secret, claims))):
        meta.append([key, None])
        text_cell(meta.cell(row=meta.max_row, column=2), value)
    meta.append(["field", "column"])
    for key, column in mapping:
        meta.append([key, column])
    password = sheet_password(secret, scan.scan_id)
    for sheet in (ws, lists, meta):
        sheet.protection.sheet = True
        sheet.protection.password = password
    ws.protection.formatColumns = False  # typists may widen a column
    ws.protection.formatRows = False
    ws.protection.autoFilter = False
    ws.protection.sort = True
    wb.security = WorkbookProtection(workbookPassword=password, lockStructure=True)
    wb.properties.creator = "survey"
    wb.properties.title = w["entry_sheet"]
    partial = path.with_name(f".{path.name}.partial")
    wb.save(partial)
    partial.replace(path)
    return path


# -- reading -------------------------------------------------------------------------------

@dataclass(frozen=True)
class EntryRow:
    """One typed row: its number, the form id as typed, and the cleaned values by field."""

    row: int
    typed_id: str
    form_id: str | None  # normalised, None when not a valid id
    values: dict[str, str]  # field key -> cleaned text, non-empty only


@dataclass(frozen=True)
class EntryBook:
    sheet: str
    columns: dict[str, str]  # field key -> column letter
    rows: list[EntryRow]
    saved_at: str | None


class EntryWorkbookFound(Exception):
    """Raised by collect's form reader when a file is an entry workbook, not a form."""

    def __init__(self, workbook):
        super().__init__("entry workbook")
        self.workbook = workbook


def read_entry_book(ctx, workbook) -> EntryBook:
    """Verify an entry workbook (read by xlsxread) and return its typed rows."""
    from survey.collect import Rejected, _text, key_values

    entries, mapping = key_values(workbook.cells[ENTRY_SHEET], "column")
    meta = dict(entries)
    if meta.get("marker") != ENTRY_MARKER:
        raise Rejected("is an entry workbook whose hidden information is damaged; make a new one with "
                       "'survey forms DIR --entry-workbook' and copy the typed rows into it")
    if meta.get("scan_id") != ctx.scan_id:
        raise Rejected(f"is an entry workbook of another scan ({clean_text(meta.get('scan_id', ''))[:20]}); "
                       "collect it in its own scan folder")
    if meta.get("questionnaire_hash") != ctx.questionnaire_hash:
        raise Rejected("is an entry workbook made for another version of the questionnaire")
    claims = SignedClaims(meta["scan_id"], meta["questionnaire_hash"], ENTRY_FORM_ID, "", "", "entry",
                          meta.get("wave", ""), meta.get("language", ""), tuple(mapping))
    if not verify(ctx.secret, claims, meta.get("signature", "")):
        raise Rejected("is an entry workbook whose hidden information was changed (its signature does not match); "
                       "make a new one with 'survey forms DIR --entry-workbook'")
    sheet = next((name for name in workbook.cells if name != ENTRY_SHEET), None)
    if sheet is None:
        raise Rejected("is an entry workbook without its typing sheet")
    data = workbook.cells[sheet]
    columns = dict(mapping)
    known = {f.key for f in ctx.fields}
    for key, column in mapping:
        if key not in known:
            raise Rejected(f"is an entry workbook that does not fit this questionnaire (field {key})")
        found = _text(data.get((KEY_ROW, column_index_from_string(column)), ""))
        if found != key:
            raise Rejected(f"sheet '{sheet}', column {column}: the columns were moved, removed or renamed (column "
                           f"{column} should hold {key}, row {KEY_ROW} says '{clean_text(found)[:40]}'); make a new "
                           "entry workbook and copy the typed rows into it column by column")
    if _text(data.get((KEY_ROW, 1), "")) != "form_id":
        raise Rejected(f"sheet '{sheet}', column A: the form id column was moved; make a new entry workbook")
    by_number = {column_index_from_string(c): k for k, c in mapping}
    rows: dict[int, dict[str, str]] = {}
    typed: dict[int, str] = {}
    for (row, col), value in data.items():
        if row < FIRST_ROW:
            continue
        text = clean_text(_text(value))
        if not text:
            continue
        if col == 1:
            typed[row] = text
        elif col in by_number:
            rows.setdefault(row, {})[by_number[col]] = text
        else:
            rows.setdefault(row, {})
    out: list[EntryRow] = []
    for row in sorted(set(rows) | set(typed)):
        raw = typed.get(row, "")
        out.append(EntryRow(row, raw, normalise(raw) if raw else None, rows.get(row, {})))
    saved = workbook.modified
    if saved is not None and saved.tzinfo is not None:
        from datetime import timezone
        saved = saved.astimezone(timezone.utc).replace(tzinfo=None)
    return EntryBook(sheet, columns, out, saved.isoformat(timespec="seconds") if saved else None)


def row_digest(form_id: str | None, values: dict[str, str], typed_id: str = "") -> str:
    """What identifies a typed row: the form and what was typed (not the row number or the
    workbook), so the same row typed again or moved is recognised as the same."""
    payload = json.dumps({"entry": form_id or typed_id, "values": sorted(values.items())}, ensure_ascii=False,
                         separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def row_path(path: Path, row: int) -> Path:
    return Path(f"{path}#row {row}")


def row_reads(ctx, path: Path, book: EntryBook, *, label: Path | None = None,
              saved_at: str | None = None) -> list:
    """One collect `FileRead` per typed row: parsed like a form's answers, or rejected with
    the reason."""
    from survey.collect import FileRead, ReadForm, _parse, drop_exclusive_conflicts

    fields = {f.key: f for f in ctx.fields}
    reads = []
    for entry in book.rows:
        where = row_path(label or path, entry.row)
        digest = row_digest(entry.form_id, entry.values, entry.typed_id)
        size = sum(len(v) for v in entry.values.values())
        if not entry.typed_id:
            reads.append(FileRead(where, digest, size, None, f"row {entry.row} has answers but no form id; type the "
                                                             "form id printed on the paper form"))
            continue
        if entry.form_id is None:
            reads.append(FileRead(where, digest, size, None, f"form id {entry.typed_id[:30]} on row {entry.row} is "
                                                             "not valid (mistyped?); check it against the paper form"))
            continue
        answers, issues = [], []
        for key, text in entry.values.items():
            cell = f"{book.columns[key]}{entry.row}"
            try:
                answers.append(_parse(ctx.questionnaire, ctx.labels, fields[key], text, text))
            except ValueError as exc:
                issues.append((f"sheet '{book.sheet}', cell {cell}", f"the answer {exc}; it was left out"))  # what was typed is not repeated: others read status
        answers, conflicts = drop_exclusive_conflicts(
            ctx.questionnaire, answers, lambda key: f"sheet '{book.sheet}', cell {book.columns[key]}{entry.row}")
        issues += conflicts
        if not answers:
            reads.append(FileRead(where, digest, size, None,
                                  f"form {grouped(entry.form_id)} on row {entry.row} is empty: no answer was typed"))
            continue
        form = ReadForm(entry.form_id, "", saved_at if saved_at is not None else book.saved_at, answers, issues)
        reads.append(FileRead(where, digest, size, form, None))
    return reads


def bind_issue(store, read):
    """Department (by key) of a typed row from the issue record: a typed row carries no
    department of its own, so collect's check that a form matches its issue holds."""
    if read.form is None:
        return read
    issued = store.issued_form(read.form.form_id)
    if issued is None:
        return read
    return replace(read, form=replace(read.form, department_key=issued.department_key))


# -- double entry --------------------------------------------------------------------------

@dataclass(frozen=True)
class Difference:
    form_id: str
    question: str  # label for people
    field: str
    value_a: str
    value_b: str
    row_a: int | None
    row_b: int | None


@dataclass
class DoubleEntryResult:
    outcomes: list = field(default_factory=list)  # collect.FileOutcome
    differences: list[Difference] = field(default_factory=list)


def compare(q: m.Questionnaire, lang: str, a: EntryBook, b: EntryBook) -> list[Difference]:
    """Differences between two typings of the same paper forms, by form id and field, in
    the order of workbook A. A form typed in one workbook only is a difference too."""
    number = numbers(q)
    fields = {f.key: f for f in q.answer_fields()}
    first_a = {r.form_id: r for r in reversed(a.rows) if r.form_id}
    first_b = {r.form_id: r for r in reversed(b.rows) if r.form_id}
    w = wording(lang)
    out: list[Difference] = []
    order = [r.form_id for r in a.rows if r.form_id] + [r.form_id for r in b.rows if r.form_id]
    for form_id in dict.fromkeys(order):
        ra, rb = first_a.get(form_id), first_b.get(form_id)
        if ra is None or rb is None:
            out.append(Difference(form_id, w["entry_whole_form"], "", "" if ra is None else w["entry_typed"],
                                  "" if rb is None else w["entry_typed"], ra.row if ra else None,
                                  rb.row if rb else None))
            continue
        for key in [k for k in fields if k in ra.values or k in rb.values]:
            va, vb = ra.values.get(key, ""), rb.values.get(key, "")
            if va.casefold() != vb.casefold():
                out.append(Difference(form_id, field_label(q, fields[key], lang, number.get(fields[key].item_id)),
                                      key, va, vb, ra.row, rb.row))
    return out


def collect_double_entry(scan: Scan, path_a: Path, path_b: Path) -> DoubleEntryResult:
    """Compare two typed entry workbooks; collect the forms typed the same in both (once),
    record the others as not accepted with their differences."""
    from survey import collect as c

    c._refuse_closed(scan)
    ctx = c.context(scan)
    c._CONTEXTS[str(scan.folder)] = ctx
    books: list[EntryBook] = []
    for path in (path_a, path_b):
        try:
            raw = c._read_regular_file(path)
        except c.Rejected as exc:
            raise ScanError(f"{path} {exc}") from None
        books.append(_entry_book_of(ctx, path, raw))
    a, b = books
    differences = compare(scan.questionnaire, scan.language, a, b)
    differing = {d.form_id for d in differences}
    saved = max(filter(None, (a.saved_at, b.saved_at)), default=None)
    label = Path(f"{path_a} = {path_b.name}")
    result = DoubleEntryResult(differences=differences)
    in_b = {r.form_id: r for r in b.rows if r.form_id}
    keep_rows = [r for r in a.rows if r.form_id is None or r.form_id not in differing]
    keep_rows += [r for r in b.rows if r.form_id is None]  # invalid ids in B get their own outcome
    reads = row_reads(ctx, path_a, replace(a, rows=[r for r in keep_rows if r in a.rows]), label=label,
                      saved_at=saved)
    reads += row_reads(ctx, path_b, replace(b, rows=[r for r in keep_rows if r in b.rows and r.form_id is None]),
                       saved_at=saved)
    held: list = []
    for form_id in dict.fromkeys(d.form_id for d in differences):
        ra = next((r for r in a.rows if r.form_id == form_id), None)
        rb = in_b.get(form_id)
        row = ra or rb
        where = row_path(label if ra else path_b, row.row)
        listed = [d for d in differences if d.form_id == form_id]
        shown = "; ".join(f"{d.question}: A '{d.value_a}', B '{d.value_b}'" for d in listed[:5])
        more = f" and {len(listed) - 5} more" if len(listed) > 5 else ""
        reason = (f"form {grouped(form_id)} was typed differently in {path_a.name} and {path_b.name} ({shown}{more}); "
                  "not accepted until both typists agree: check the paper form, correct the wrong workbook and "
                  "collect again")
        typed = {"A": json.dumps(ra.values if ra else None, sort_keys=True),
                 "B": json.dumps(rb.values if rb else None, sort_keys=True)}
        held.append(c.FileRead(where, "differs:" + row_digest(form_id, typed), 0, None, reason))
    with c.collect_lock(scan.folder), c.Store(scan.store_path) as store:
        c._sync_department_names(scan, store)
        for read in reads + held:
            result.outcomes.append(c._record(store, bind_issue(store, read)))
        result.outcomes = [c._final(store, o) for o in result.outcomes]
    return result


def _entry_book_of(ctx, path: Path, raw: bytes) -> EntryBook:
    from survey import collect as c
    from survey.xlsxread import PackageRejected, read_workbook

    try:
        workbook = read_workbook(raw, c._pick_sheets, c.READ_LIMITS)
    except PackageRejected as exc:
        raise ScanError(f"{path} {exc}") from None
    if ENTRY_SHEET not in workbook.cells:
        raise ScanError(f"{path} is not an entry workbook",
                        fix="give two entry workbooks made by 'survey forms DIR --entry-workbook' and typed in")
    try:
        return read_entry_book(ctx, workbook)
    except c.Rejected as exc:
        raise ScanError(f"{path} {exc}") from None
