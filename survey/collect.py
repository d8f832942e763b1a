"""Collect returned forms into the store.

Every file that is offered gets exactly one recorded outcome: accepted, duplicate (the same
form came in before) or rejected with the reason. A file already collected (same content)
is recognised and adds nothing, so collecting again is safe. Hostile files are checked
before a spreadsheet reader touches them.
"""

from __future__ import annotations

import hashlib
import io
import re
import stat
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from python_calamine import CalamineWorkbook

from survey.forms import FORM_MARKER, META_KEYS, META_SHEET
from survey.questionnaire import model as m
from survey.scan import Scan
from survey.store import Store

MAX_FILE_BYTES = 20_000_000
MAX_UNZIPPED_BYTES = 100_000_000
MAX_ZIP_ENTRIES = 2_000
MAX_RATIO = 200
MAX_ROW = 5_000
MAX_COLUMN = 100
MAX_OPEN_ANSWER = 4_000
NOT_APPLICABLE = "n/a"
YES_WORDS = {"ja", "yes", "x", "1", "✓", "✔", "waar", "true", "j", "y"}
_CELL_REF = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,8})"')


class Rejected(Exception):
    """A file cannot be taken in; the message is the reason recorded for it."""


@dataclass(frozen=True)
class AnswerValue:
    field: str
    value_num: float | None
    value_text: str | None


@dataclass(frozen=True)
class ReadForm:
    """A returned form as read: who it is from and what was answered."""

    form_id: str
    department: str
    role: str
    wave: str
    language: str
    answers: list[AnswerValue]
    issues: list[tuple[str, str]]  # (location, message)


@dataclass(frozen=True)
class FileOutcome:
    path: Path
    outcome: str  # accepted, duplicate, rejected, unchanged (collected before)
    reason: str | None = None
    form_id: str | None = None
    issues: int = 0


@dataclass
class CollectResult:
    outcomes: list[FileOutcome] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)


def gather(paths: Iterable[Path]) -> list[Path]:
    """Every entry under the given files and folders, in a stable order (nothing skipped)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir() and not path.is_symlink():
            found.extend(sorted(p for p in path.rglob("*") if not p.is_dir() or p.is_symlink()))
        else:
            found.append(path)
    return found


def collect(scan: Scan, paths: list[Path] | None = None,
            progress: Callable[[Iterator[Path]], Iterator[Path]] | None = None) -> CollectResult:
    """Read returned forms (default: the scan's inbox) into the store."""
    files = gather(paths or [scan.inbox])
    result = CollectResult()
    iterator: Iterator[Path] = iter(files)
    if progress is not None:
        iterator = progress(iterator)
    with Store(scan.store_path) as store:
        for path in iterator:
            result.outcomes.append(_collect_one(scan, store, path))
    return result


def _collect_one(scan: Scan, store: Store, path: Path) -> FileOutcome:
    try:
        raw = _read_regular_file(path)
    except Rejected as exc:
        # Unreadable entries have no content to hash; record them under their path.
        key = "path:" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()
        if store.known_hash(key):
            return FileOutcome(path, "unchanged")
        with store.transaction() as db:
            db.execute("INSERT INTO received (path, sha256, size, outcome, reason) VALUES (?, ?, 0, 'rejected', ?)",
                       (str(path), key, str(exc)))
        return FileOutcome(path, "rejected", str(exc))
    sha = hashlib.sha256(raw).hexdigest()
    if store.known_hash(sha):
        return FileOutcome(path, "unchanged")
    try:
        form = read_form(scan, path, raw)
    except Exception as exc:  # noqa: BLE001 - whatever a file does, the run goes on and the file is recorded
        reason = str(exc) if isinstance(exc, Rejected) else (
            f"could not be read ({type(exc).__name__}: {str(exc)[:120]}); please report this file")
        with store.transaction() as db:
            db.execute("INSERT INTO received (path, sha256, size, outcome, reason) VALUES (?, ?, ?, 'rejected', ?)",
                       (str(path), sha, len(raw), reason))
        return FileOutcome(path, "rejected", reason)
    earlier = store.accepted_form(form.form_id)
    with store.transaction() as db:
        if earlier is not None:
            reason = (f"form {form.form_id} was already collected from {Path(earlier.path).name} "
                      f"({earlier.received_at[:16]}); this copy was not counted again")
            db.execute("INSERT INTO received (path, sha256, size, outcome, reason, form_id) "
                       "VALUES (?, ?, ?, 'duplicate', ?, ?)", (str(path), sha, len(raw), reason, form.form_id))
            return FileOutcome(path, "duplicate", reason, form.form_id)
        cursor = db.execute("INSERT INTO received (path, sha256, size, outcome, form_id) "
                            "VALUES (?, ?, ?, 'accepted', ?)", (str(path), sha, len(raw), form.form_id))
        received_id = cursor.lastrowid
        cursor = db.execute("INSERT INTO responses (received_id, form_id, department, role, wave, language) "
                            "VALUES (?, ?, ?, ?, ?, ?)", (received_id, form.form_id, form.department, form.role,
                                                           form.wave, form.language))
        response_id = cursor.lastrowid
        db.executemany("INSERT INTO answers (response_id, field, value_num, value_text) VALUES (?, ?, ?, ?)",
                       [(response_id, a.field, a.value_num, a.value_text) for a in form.answers])
        db.executemany("INSERT INTO issues (received_id, location, message) VALUES (?, ?, ?)",
                       [(received_id, loc, msg) for loc, msg in form.issues])
    return FileOutcome(path, "accepted", None, form.form_id, len(form.issues))


def _read_regular_file(path: Path) -> bytes:
    try:
        info = path.lstat()
    except OSError as exc:
        raise Rejected(f"cannot be opened ({exc.strerror})")
    if stat.S_ISLNK(info.st_mode):
        raise Rejected("is a link, not a file; put the form itself in the inbox")
    if not stat.S_ISREG(info.st_mode):
        raise Rejected("is not a regular file (a pipe, device or socket)")
    if info.st_size > MAX_FILE_BYTES:
        raise Rejected(f"is {info.st_size // 1_000_000} MB, far larger than a form can be")
    if path.name.startswith("~$"):
        raise Rejected("is an Excel lock file (the form was open when it was copied); the form itself counts")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise Rejected(f"cannot be read ({exc.strerror})")


def _check_zip(raw: bytes) -> None:
    """Refuse what would make a spreadsheet reader blow up, before it reads anything."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise Rejected("is not an Excel workbook (.xlsx); hand out and collect the forms as .xlsx")
    except OSError as exc:
        raise Rejected(f"cannot be read ({exc})")
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ZIP_ENTRIES:
            raise Rejected(f"holds {len(entries)} parts, far more than a form (possibly hostile)")
        names = [e.filename for e in entries]
        if len(set(names)) != len(names):
            raise Rejected("holds the same part twice (damaged or tampered with)")
        if "EncryptedPackage" in names or "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
            raise Rejected("is not a readable Excel workbook (is it password-protected?); "
                           "save it without a password")
        total = 0
        for entry in entries:
            total += entry.file_size
            if entry.file_size > MAX_UNZIPPED_BYTES or total > MAX_UNZIPPED_BYTES or (
                    entry.compress_size and entry.file_size / entry.compress_size > MAX_RATIO
                    and entry.file_size > 1_000_000):
                raise Rejected("unpacks to an absurd size (a zip bomb?)")
        try:
            _check_parts(archive, entries)
        except Rejected:
            raise
        except Exception as exc:  # noqa: BLE001 - bad CRC, unknown compression, truncated data...
            raise Rejected(f"is a damaged workbook ({type(exc).__name__}); ask for the form to be saved again")


def _check_parts(archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]) -> None:
    """No XML entity declarations anywhere, no cell far outside a form."""
    for entry in entries:
        if entry.filename.endswith((".xml", ".rels")):
            with archive.open(entry) as handle:
                head = handle.read(2048)
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise Rejected(f"part {entry.filename} declares XML entities (possibly hostile)")
                if entry.filename.startswith("xl/worksheets/"):
                    data = head + handle.read()
                    for column, row in _CELL_REF.findall(data):
                        if int(row) > MAX_ROW or len(column) > 2 or _column_number(column) > MAX_COLUMN:
                            raise Rejected(f"uses cell {column.decode()}{row.decode()}, far outside any form")


def _column_number(letters: bytes) -> int:
    number = 0
    for char in letters:
        number = number * 26 + (char - 64)
    return number


def read_form(scan: Scan, path: Path, raw: bytes) -> ReadForm:
    """Read one returned form (the bytes of `path`); raise `Rejected` with the reason if it
    cannot be taken in. The bytes that were hashed are the bytes that are read."""
    if raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # OLE: an old .xls, or an encrypted .xlsx
        raise Rejected("is password-protected or an old .xls file; save it as .xlsx without a password")
    if path.suffix.lower() not in (".xlsx", ".xlsm") and raw[:2] != b"PK":
        raise Rejected(f"is not an Excel form ({path.suffix or 'no extension'}); only .xlsx forms are collected")
    _check_zip(raw)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(raw))
        sheet_names = list(workbook.sheet_names)
        if META_SHEET not in sheet_names:
            raise Rejected("is not a form of this scan (it has no survey form information); "
                           "use the forms made by 'survey forms'")
        meta_rows = workbook.get_sheet_by_name(META_SHEET).to_python(skip_empty_area=False)
        meta = _read_meta(meta_rows)
        fields = _read_field_cells(meta_rows)
        form_sheet = next((n for n in sheet_names if not n.startswith("_")), None)
        if form_sheet is None:
            raise Rejected("has no questionnaire sheet")
        max_row = max((_cell_position(c)[0] for c in fields.values()), default=0) + 1
        rows = workbook.get_sheet_by_name(form_sheet).to_python(skip_empty_area=False, nrows=max_row)
    except Rejected:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure on a foreign file is a rejection
        raise Rejected(f"cannot be read as an Excel workbook ({type(exc).__name__}: {str(exc)[:120]})")
    _check_belongs(scan, meta)
    answers, issues = _read_answers(scan.questionnaire, meta, fields, rows, form_sheet)
    if not any(a.field != "role" for a in answers):
        raise Rejected(f"form {meta['form_id']} is empty: no question was answered")
    return ReadForm(meta["form_id"], meta["department"], meta["role"], meta["wave"],
                    meta.get("language", scan.language), answers, issues)


def _read_meta(rows: list[list]) -> dict[str, str]:
    meta: dict[str, str] = {}
    for row in rows[: len(META_KEYS)]:
        if len(row) >= 2 and isinstance(row[0], str):
            meta[row[0]] = _text(row[1])
    if meta.get("marker") != FORM_MARKER:
        raise Rejected("is not a form of this scan (its form information is missing or damaged)")
    missing = [k for k in ("scan_id", "form_id", "department", "role", "questionnaire_hash") if not meta.get(k)]
    if missing:
        raise Rejected(f"has damaged form information ({', '.join(missing)} missing)")
    return meta


def _read_field_cells(rows: list[list]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for row in rows[len(META_KEYS) + 1:]:
        if len(row) >= 2 and row[0] and row[1]:
            fields[_text(row[0])] = _text(row[1])
    return fields


def _check_belongs(scan: Scan, meta: dict[str, str]) -> None:
    if meta["scan_id"] != scan.scan_id:
        raise Rejected(f"form {meta['form_id']} belongs to another scan (scan {meta['scan_id']}, "
                       f"this is {scan.scan_id}); collect it in its own scan folder")
    if meta["questionnaire_hash"] != scan.questionnaire.content_hash:
        raise Rejected(f"form {meta['form_id']} was made from another version of the questionnaire")
    if meta["role"] not in ("employee", "manager"):
        raise Rejected(f"form {meta['form_id']} has an unknown role '{meta['role']}'")


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return "" if value is None else str(value).strip()


def _cell_position(cell: str) -> tuple[int, int]:
    match = re.fullmatch(r"([A-Z]{1,3})([0-9]{1,7})", cell)
    if not match:
        raise Rejected(f"has damaged form information (cell '{cell}')")
    return int(match.group(2)) - 1, _column_number(match.group(1).encode()) - 1


class _Labels:
    """Answer texts and codes of every scale, in every language, for reading back."""

    def __init__(self, questionnaire: m.Questionnaire):
        self.lookup: dict[str, dict[str, int | str]] = {}
        self.not_applicable: dict[str, set[str]] = {}
        for name, scale in questionnaire.scales.items():
            table: dict[str, int | str] = {}
            for option in scale.options:
                table[str(option.code).casefold()] = option.code
                for label in [*option.label.values(), *(option.manager_label or {}).values()]:
                    table[label.strip().casefold()] = option.code
            self.lookup[name] = table
            self.not_applicable[name] = {t.strip().casefold() for t in (scale.not_applicable or {}).values()}


def _read_answers(q: m.Questionnaire, meta: dict[str, str], cells: dict[str, str], rows: list[list],
                  sheet: str) -> tuple[list[AnswerValue], list[tuple[str, str]]]:
    labels = _Labels(q)
    answers: list[AnswerValue] = []
    issues: list[tuple[str, str]] = []
    unanswered: list[str] = []  # cells of required questions left empty
    for answer_field in q.answer_fields():
        if answer_field.key == "role":
            answers.append(AnswerValue("role", None, meta["role"]))
            continue
        cell = cells.get(answer_field.key)
        if cell is None:
            continue
        row, column = _cell_position(cell)
        value = rows[row][column] if row < len(rows) and column < len(rows[row]) else ""
        text = _text(value)
        if not text:
            if answer_field.required and answer_field.kind not in (m.FieldKind.open, m.FieldKind.check):
                unanswered.append(cell)
            continue
        where = f"sheet '{sheet}', cell {cell}"
        try:
            answers.append(_parse(q, labels, answer_field, value, text))
        except ValueError as exc:
            issues.append((where, f"'{text[:60]}' {exc}; the answer was left out"))
    if unanswered:
        shown = ", ".join(unanswered[:10]) + (", ..." if len(unanswered) > 10 else "")
        issues.append((f"sheet '{sheet}'", (f"{len(unanswered)} required question(s) not answered (cells {shown}); "
                                           "the form was counted without them")))
    return answers, issues


def _parse(q: m.Questionnaire, labels: _Labels, f: m.AnswerField, value: object, text: str) -> AnswerValue:
    if f.kind is m.FieldKind.open:
        return AnswerValue(f.key, None, text[:MAX_OPEN_ANSWER])
    if f.kind is m.FieldKind.check:
        if text.casefold() in YES_WORDS:
            return AnswerValue(f.key, 1.0, None)
        raise ValueError("is not a tick (choose 'Ja' / 'Yes')")
    assert f.scale is not None
    scale = q.scales[f.scale]
    folded = text.casefold()
    if folded in labels.not_applicable[f.scale]:
        return AnswerValue(f.key, None, NOT_APPLICABLE)
    if scale.kind is m.ScaleKind.score:
        match = re.match(r"^\s*(\d+)(?:[.,]0+)?\b", text)
        number = int(match.group(1)) if match else None
        if number is None or not (scale.min <= number <= scale.max):  # type: ignore[operator]
            raise ValueError(f"is not a mark from {scale.min} to {scale.max}")
        return AnswerValue(f.key, float(number), None)
    code = labels.lookup[f.scale].get(folded)
    if code is None:
        raise ValueError("is not one of the answers in the list")
    if isinstance(code, int):
        return AnswerValue(f.key, float(code), None)
    return AnswerValue(f.key, None, code)
