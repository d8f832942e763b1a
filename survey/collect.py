"""Collect returned forms into the store.

Every file that is offered gets exactly one recorded outcome: accepted, duplicate, superseded
or rejected with the reason. Only an issued, signed form counts: its signature must verify
against the scan's secret and its id must be in the issue record; department and role come
from that record, never from the file. Answers are read by the field tags on each answer row,
so an inserted or deleted row can never move an answer to another question.

Copies of one form: the copy saved last (the time inside the file) counts, then the content
hash breaks a tie; the others are recorded as superseded or duplicate. The rule depends only
on the files, never on their names or the order of collecting; `--keep FILE` overrides it.
A file already collected (same name, same content) is recognised and adds nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import NamedTuple


from survey import entry as _entry  # paper forms typed in (issue 13)
from openpyxl.utils import column_index_from_string

from survey.errors import ScanError
from survey.forms import FORM_MARKER, META_SHEET, TAG_COLUMN, check_departments
from survey.questionnaire import model as m
from survey.isolation import Failure, run_isolated
from survey.scan import Scan, load_scan
from survey.signing import FORM_FORMAT, SignedClaims, load_secret, verify
from survey.store import Store, collect_lock
from survey.textsafety import clean_text
from survey.odsread import is_opendocument, read_ods
from survey.xlsxread import Limits as ReadLimits
from survey.xlsxread import PackageRejected, SheetInfo, read_workbook

MAX_FILE_BYTES = 20_000_000
MAX_UNZIPPED_BYTES = 100_000_000
MAX_ZIP_ENTRIES = 2_000
MAX_RATIO = 200
MAX_ROW = 5_000
MAX_COLUMN = 100
MAX_OPEN_ANSWER = 4_000
NOT_APPLICABLE = m.NOT_APPLICABLE
DECLINED = m.DECLINED
YES_WORDS = {"ja", "yes", "x", "1", "✓", "✔", "waar", "true", "j", "y"}
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
_TAG = re.compile(r"([A-Z]{1,2})=(\S+)")
_LETTERS = re.compile(r"[A-Z]+")
_SCORE = re.compile(r"\s*(\d+)(?:[.,]0+)?\s*")


class Rejected(Exception):
    """A file cannot be taken in; the message is the reason recorded for it."""


class AnswerValue(NamedTuple):
    field: str
    value_num: float | None
    value_text: str | None


# Every form read crosses from a worker process to this one: ReadForm and FileRead travel as
# plain tuples, which unpickle several times faster than the objects (a form has ~70 answers).
_answer = partial(tuple.__new__, AnswerValue)


@dataclass(frozen=True)
class ReadForm:
    """A returned form as read and verified: which issued form it is and what was answered.
    Department, role, wave and language come from the issue record, not from the file."""

    form_id: str
    department_key: str
    saved_at: str | None  # last-saved time inside the file (ISO 8601, UTC), if it has one
    answers: list[AnswerValue]
    issues: list[tuple[str, str]]  # (location, message)

    def __reduce__(self) -> tuple[object, ...]:
        return _read_form, (self.form_id, self.department_key, self.saved_at, tuple(map(tuple, self.answers)),
                            self.issues)


def _read_form(form_id: str, department_key: str, saved_at: str | None,
               answers: tuple[tuple[str, float | None, str | None], ...], issues: list[tuple[str, str]]) -> ReadForm:
    return ReadForm(form_id, department_key, saved_at, list(map(_answer, answers)), issues)


@dataclass(frozen=True)
class FileRead:
    """What reading one file gave: its bytes' hash and the form, or why it was rejected."""

    path: Path
    sha256: str | None
    size: int
    form: ReadForm | None
    reason: str | None
    rows: tuple[FileRead, ...] | None = None  # an entry workbook: one read per typed row (survey.entry)

    def __reduce__(self) -> tuple[object, ...]:
        return _file_read, (os.fspath(self.path), self.sha256, self.size, self.form, self.reason, self.rows)


def _file_read(path: str, sha256: str | None, size: int, form: ReadForm | None, reason: str | None,
               rows: tuple[FileRead, ...] | None = None) -> FileRead:
    return FileRead(Path(path), sha256, size, form, reason, rows)


@dataclass(frozen=True)
class FileOutcome:
    path: Path
    outcome: str  # accepted, duplicate, superseded, rejected, unchanged (collected before)
    reason: str | None = None
    form_id: str | None = None
    issues: int = 0
    sha256: str | None = None


@dataclass
class CollectResult:
    outcomes: list[FileOutcome] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)


@dataclass(frozen=True)
class ReadContext:
    """What reading a form needs, built once per collect (not per form)."""

    scan_id: str
    questionnaire: m.Questionnaire
    questionnaire_hash: str
    secret: bytes
    fields: tuple[m.AnswerField, ...]
    labels: _Labels  # every language's labels: paper entry and online imports (their own language)
    # a form is read with the labels of the language it was issued in only (its signed claims):
    # a label of another language may stand for another answer
    by_language: dict[str, _Labels] = field(default_factory=dict)

    def labels_for(self, language: str) -> _Labels:
        return self.by_language.get(language) or self.by_language.get("") or self.labels


MAX_DEPTH = 32  # folders in the inbox; deeper ones are recorded, not walked into


def gather(paths: Iterable[Path]) -> list[Path]:
    """Every entry under the given files and folders, in a stable order (nothing skipped; a
    folder named like a spreadsheet, or nested deeper than MAX_DEPTH, is listed itself, to be
    recorded as rejected). Walked with a stack, not recursion: no depth can stop a collect."""
    found: list[Path] = []
    for path in paths:
        if not (path.is_dir() and not path.is_symlink()):
            found.append(path)
            continue
        entries: list[Path] = []
        stack = [(path, 0)]
        while stack:
            folder, depth = stack.pop()
            try:
                children = list(os.scandir(folder))
            except OSError:
                entries.append(folder)  # unreadable folder: recorded with its reason
                continue
            for child in children:
                entry = Path(child.path)
                is_folder = child.is_dir(follow_symlinks=False)
                if is_folder and depth < MAX_DEPTH and entry.suffix.lower() not in SPREADSHEET_SUFFIXES:
                    stack.append((entry, depth + 1))
                else:
                    entries.append(entry)
        found.extend(sorted(entries))
    return found


def context(scan: Scan) -> ReadContext:
    from survey.questionnaire.translation import all_labels

    q = scan.questionnaire
    # a returned form is read by its labels in any language forms go out in (translations too)
    from survey.questionnaire.translation import localise

    labels = _Labels(all_labels(q, scan.translations),
                     {t.wording["tick_yes"].strip().casefold() for t in scan.translations.values()
                      if t.wording.get("tick_yes", "").strip()})
    by_language = {lang: _Labels(q, language=lang) for lang in q.languages}
    for lang, t in scan.translations.items():
        if lang not in q.languages:
            yes = {clean_text(t.wording.get("tick_yes", "")).strip().casefold()} - {""}
            by_language[lang] = _Labels(localise(q, t, strict=False), yes, language=lang)
    if scan.language in by_language:  # a form that names no language went out in the scan's
        by_language[""] = by_language[scan.language]
    return ReadContext(scan.scan_id, q, q.content_hash, load_secret(scan.folder), tuple(q.answer_fields()), labels,
                       by_language)


@dataclass(frozen=True)
class Limits:
    """Per file, whatever the file does. The memory limit holds on Linux only."""

    seconds: float = 30.0
    memory_mb: int = 1024
    workers: int | None = None  # every core


class _Sized:
    """An iterator that knows its length, so a progress bar can follow it as it goes."""

    def __init__(self, iterator: Iterator[FileRead], length: int):
        self.iterator, self.length = iterator, length

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[FileRead]:
        return self.iterator


def collect(scan: Scan, paths: list[Path] | None = None,
            progress: Callable[[Iterator[FileRead]], Iterator[FileRead]] | None = None,
            keep: list[Path] | None = None, limits: Limits = Limits()) -> CollectResult:
    """Read returned forms (default: the scan's inbox) into the store; `keep` names files the
    consultant chose to count for their form, whatever the rule for copies says.

    Files are read in worker processes on every core: a crash, hang or memory blow-up of a
    reader costs that one file (recorded as rejected), never the run. The store is written
    by this process only, one transaction per file."""
    files = gather(paths or [scan.inbox])
    _refuse_closed(scan)
    # built here once: a missing secret is one message, and forked workers inherit it
    _CONTEXTS[str(scan.folder)] = context(scan)
    result = CollectResult()
    with collect_lock(scan.folder), Store(scan.store_path) as store:
        _sync_department_names(scan, store)
        source = _read_all(scan, files, limits)
        try:
            reads: Iterator[FileRead] = _Sized(source, len(files))
            if progress is not None:
                reads = progress(reads)
            for read in reads:
                if read.rows is not None:  # an entry workbook: every typed row is recorded on its own
                    result.outcomes.extend(_record(store, _entry.bind_issue(store, replace(
                        row, path=_relative(row.path, scan.folder)))) for row in read.rows)
                    continue
                # names relative to the scan folder: moving or copying the folder changes nothing
                result.outcomes.append(_record(store, replace(read, path=_relative(read.path, scan.folder))))
        finally:
            source.close()  # should recording fail, the workers stop now, not when collected
        for path in keep or []:
            _keep(store, _relative(path, scan.folder))
        # a later copy may have superseded an earlier one of this run: report where each ended
        result.outcomes = [_final(store, o) for o in result.outcomes]
    return result


def _final(store: Store, outcome: FileOutcome) -> FileOutcome:
    if outcome.form_id is None or outcome.sha256 is None or outcome.outcome == "unchanged":
        return outcome
    row = store.db.execute("SELECT outcome, reason FROM received WHERE path = ? AND sha256 = ?",
                           (file_name(outcome.path), outcome.sha256)).fetchone()
    if row is None or (row[0], row[1]) == (outcome.outcome, outcome.reason):
        return outcome  # a later copy may have changed the outcome, or only its reason
    return FileOutcome(outcome.path, row[0], row[1], outcome.form_id,
                       outcome.issues if row[0] == "accepted" else 0, outcome.sha256)


def _read_all(scan: Scan, files: list[Path], limits: Limits) -> Iterator[FileRead]:
    """Every file read, in the order of `files`: workers finish in any order, but which of two
    identical files is the first copy must not depend on which worker was quicker."""
    items = [(str(path), str(scan.folder)) for path in files]
    waiting: dict[int, FileRead] = {}
    following = 0
    runs = run_isolated(_read_in_worker, items, workers=limits.workers, time_limit=limits.seconds,
                        memory_limit_mb=limits.memory_mb)
    try:
        for index, read in runs:
            if isinstance(read, Failure):
                read = FileRead(files[index], None, 0, None, f"{read.reason}; it was left out (possibly hostile)")
            waiting[index] = read
            while following in waiting:
                yield waiting.pop(following)
                following += 1
    finally:
        runs.close()


_CONTEXTS: dict[str, ReadContext] = {}


def _read_in_worker(item: tuple[str, str]) -> FileRead:
    """In a worker process: the context is built once per worker (inherited when forked)."""
    path, folder = item
    if folder not in _CONTEXTS:
        _CONTEXTS[folder] = context(load_scan(Path(folder)))
    return read_file(_CONTEXTS[folder], Path(path))


def _refuse_closed(scan: Scan) -> None:
    if not scan.store_path.exists():
        return
    with Store(scan.store_path) as store:
        closed = store.closed_on()
    if closed:
        raise ScanError(f"the scan in {scan.folder} was closed on {closed}; nothing more can be collected",
                        fix="start the next wave in a new scan folder with survey init")


def _sync_department_names(scan: Scan, store: Store) -> None:
    """A renamed department keeps its key: its earlier forms follow the new name."""
    check_departments(scan, store.issued())
    with store.transaction() as db:
        for d in scan.departments:
            if d.key:
                db.execute("UPDATE responses SET department = ? WHERE department_key = ? AND department != ?",
                           (d.name, d.key, d.name))
                db.execute("UPDATE issued_forms SET department = ? WHERE department_key = ? AND department != ?",
                           (d.name, d.key, d.name))


def read_file(ctx: ReadContext, path: Path) -> FileRead:
    """Read and verify one file. Never raises: whatever a file does, it gets a reason."""
    try:
        raw = _read_regular_file(path)
    except Rejected as exc:
        return FileRead(path, None, 0, None, str(exc))
    sha = hashlib.sha256(raw).hexdigest()
    try:
        return FileRead(path, sha, len(raw), read_form(ctx, path, raw), None)
    except _entry.EntryWorkbookFound as found:
        try:
            book = _entry.read_entry_book(ctx, found.workbook)
        except Rejected as exc:
            return FileRead(path, sha, len(raw), None, str(exc))
        return FileRead(path, sha, len(raw), None, None, tuple(_entry.row_reads(ctx, path, book)))
    except Rejected as exc:
        return FileRead(path, sha, len(raw), None, str(exc))
    except MemoryError:
        return FileRead(path, sha, len(raw), None, "needs more memory than a form can; it was left out "
                                                    "(possibly hostile)")
    except Exception as exc:  # noqa: BLE001 - whatever a file does, the run goes on and the file is recorded
        return FileRead(path, sha, len(raw), None,
                        f"could not be read ({type(exc).__name__}: {clean_text(str(exc))[:120]}); "
                        "please report this file")


def _record(store: Store, read: FileRead) -> FileOutcome:
    """Record one file's outcome in one transaction, and settle which copy of its form counts."""
    path = read.path
    name = file_name(path)
    if read.sha256 is None:  # nothing to hash: record it under its path
        key = "path:" + hashlib.sha256(name.encode()).hexdigest()
        if store.seen(name, key):
            return FileOutcome(path, "unchanged")
        with store.transaction() as db:
            db.execute("INSERT INTO received (path, sha256, size, outcome, reason) VALUES (?, ?, 0, 'rejected', ?)",
                       (name, key, read.reason))
        return FileOutcome(path, "rejected", read.reason)
    if store.seen(name, read.sha256):
        return FileOutcome(path, "unchanged")
    twin = store.first_with_hash(read.sha256)
    if twin is not None:
        if twin.outcome == "rejected":
            outcome, reason = "rejected", f"{twin.reason} (the same file as {Path(twin.path).name})"
        else:
            outcome, reason = "duplicate", (f"an identical copy of {Path(twin.path).name}; "
                                            "it was not counted again")
        with store.transaction() as db:
            db.execute("INSERT INTO received (path, sha256, size, outcome, reason, form_id) VALUES (?, ?, ?, ?, ?, ?)",
                       (name, read.sha256, read.size, outcome, reason, twin.form_id))
        return FileOutcome(path, outcome, reason, twin.form_id, 0, read.sha256)
    form = read.form
    reason = read.reason
    issued = store.issued_form(form.form_id) if form is not None else None
    if form is not None and issued is None:
        form, reason = None, (f"form id {form.form_id} was never issued in this scan; only forms made by "
                              "'survey forms' for this scan count")
    if form is not None and issued is not None and issued.department_key != form.department_key:
        form, reason = None, "the form's hidden information does not match how it was issued"
    if form is not None and form.saved_at and form.saved_at > _tomorrow():
        # a save time in the future would win every comparison of copies: it is not used
        form = replace(form, saved_at=None, issues=[*form.issues, (
            "docProps/core.xml", f"the save time inside the file ({form.saved_at}) lies in the future; it was "
                                 "not used to choose between copies of this form")])
    if form is None or issued is None:
        with store.transaction() as db:
            db.execute("INSERT INTO received (path, sha256, size, outcome, reason) VALUES (?, ?, ?, 'rejected', ?)",
                       (name, read.sha256, read.size, reason))
        return FileOutcome(path, "rejected", reason)
    with store.transaction() as db:
        received_id = db.execute(
            "INSERT INTO received (path, sha256, size, saved_at, outcome, form_id) "
            "VALUES (?, ?, ?, ?, 'accepted', ?)", (name, read.sha256, read.size, form.saved_at, form.form_id)
        ).lastrowid
        response_id = db.execute(
            "INSERT INTO responses (received_id, form_id, department_key, department, role, wave, language, counted) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 0)", (received_id, form.form_id, issued.department_key, issued.department,
                                                issued.role, issued.wave, issued.language)).lastrowid
        store.write_answers(db, response_id, form.answers)
        db.executemany("INSERT INTO issues (received_id, location, message) VALUES (?, ?, ?)",
                       [(received_id, loc, msg) for loc, msg in form.issues])
        row = _settle(store, db, form.form_id)[received_id]  # what it just wrote for this file
    return FileOutcome(path, row[0], row[1], form.form_id, len(form.issues) if row[0] == "accepted" else 0,
                       read.sha256)


def _tomorrow() -> str:
    return (datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(days=1)).isoformat(timespec="seconds")


def _settle(store: Store, db, form_id: str) -> dict[int, tuple[str, str | None]]:
    """Decide which copy of a form counts. The consultant's choice first; else the copy saved
    last (the time inside the file); a tie goes to the content hash, so the outcome depends on
    the set of files only, never on names or the order of collecting. Returns the outcome and
    reason written for each copy (by received id)."""
    copies = store.copies(form_id)
    chosen = store.decision(form_id)
    winner = next((c for c in copies if c.sha256 == chosen), None) if chosen else None
    if winner is None:
        winner = max(copies, key=lambda c: (c.saved_at or "", c.sha256))
    written: dict[int, tuple[str, str | None]] = {}
    for copy in copies:
        if copy is winner:
            if len(copies) > 1:  # else there is no other copy to stop counting
                db.execute("UPDATE responses SET counted = 0 WHERE form_id = ? AND id != ?",
                           (form_id, copy.response_id))
            db.execute("UPDATE responses SET counted = 1 WHERE id = ?", (copy.response_id,))
            reason = "kept by the consultant's decision" if chosen == copy.sha256 and len(copies) > 1 else None
            db.execute("UPDATE received SET outcome = 'accepted', reason = ? WHERE id = ?",
                       (reason, copy.received_id))
            written[copy.received_id] = ("accepted", reason)
            continue
        other = Path(winner.path).name
        if chosen == winner.sha256:
            outcome, reason = "superseded", f"the consultant chose {other} for form {form_id}"
        elif not copy.saved_at and winner.saved_at:
            outcome, reason = "superseded", (f"a copy of form {form_id} without a save time inside the file; "
                                             f"{other} has one ({winner.saved_at}) and counts instead (use "
                                             "'survey collect --keep FILE' to choose)")
        elif (copy.saved_at or "") < (winner.saved_at or ""):
            outcome, reason = "superseded", (f"an earlier version of form {form_id}: {other} was saved later "
                                             f"({winner.saved_at}) and counts instead (use 'survey collect --keep "
                                             "FILE' to choose)")
        else:
            outcome, reason = "duplicate", (f"another copy of form {form_id} saved at the same time as {other}, "
                                            "which counts (use 'survey collect --keep FILE' to choose)")
        db.execute("UPDATE received SET outcome = ?, reason = ? WHERE id = ?", (outcome, reason, copy.received_id))
        written[copy.received_id] = (outcome, reason)
    return written


def _relative(path: Path, folder: Path) -> Path:
    try:
        return path.absolute().relative_to(folder.absolute())
    except ValueError:
        return path


def file_name(path: Path) -> str:
    """A file's name as recorded and shown: cleaned, on one line (a newline in a name could
    fake a line of `survey status`), valid text even when the name on disk is not UTF-8."""
    # bytes that are not UTF-8 are written as \xff: two different names never become one
    return " ".join(clean_text(os.fsencode(path).decode("utf-8", "backslashreplace")).splitlines())


def _keep(store: Store, path: Path) -> None:
    name = file_name(path)
    rows = store.db.execute("SELECT sha256, form_id FROM received WHERE path = ? AND form_id IS NOT NULL "
                            "AND outcome != 'rejected' ORDER BY id DESC", (name,)).fetchall()
    if not rows:
        rows = store.db.execute("SELECT sha256, form_id FROM received WHERE form_id IS NOT NULL AND outcome != "
                                "'rejected' AND (path = ? OR path LIKE ?) ORDER BY id DESC",
                                (path.name, f"%/{path.name}")).fetchall()
    if not rows:
        raise ScanError(f"{path} is not a collected copy of a form",
                        fix="give the path of a file that 'survey status' lists as accepted, superseded or "
                            "duplicate")
    sha, form_id = rows[0]
    if not store.copies(form_id) or all(c.sha256 != sha for c in store.copies(form_id)):
        raise ScanError(f"{path} is an identical copy of another file; keep that one instead")
    with store.transaction() as db:
        db.execute("INSERT OR REPLACE INTO decisions (form_id, sha256) VALUES (?, ?)", (form_id, sha))
        _settle(store, db, form_id)


def _read_regular_file(path: Path) -> bytes:
    try:
        info = path.lstat()
    except OSError as exc:
        raise Rejected(f"cannot be opened ({exc.strerror})")
    if stat.S_ISLNK(info.st_mode):
        raise Rejected("is a link, not a file; put the form itself in the inbox")
    if stat.S_ISDIR(info.st_mode):
        raise Rejected("is a folder, not a form (or folders nested too deep); put the form file itself in the inbox")
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


# What a file that is not a form is told, all in one place: what it is and what to do instead.
_FORM_BACK = "a form must come back as the .xlsx (or .ods) file"
_PAPER = "paper forms are typed in with the entry workbook (survey forms --entry-workbook)"
NOT_A_FORM = {
    "pdf": f"is a PDF, not a form: {_PAPER}; {_FORM_BACK}",
    "image": "is a photo or scan of a form ({}), not the form itself: " + f"{_PAPER}; {_FORM_BACK}",
    "xls": ("is password-protected or an old .xls file; save it as .xlsx without a password "
            "(Excel: File > Save as > Excel workbook)"),
    "word": f"is a Word document, not a form: {_PAPER}; {_FORM_BACK}",
    "other": "is not a form ({}): " + f"{_PAPER}; {_FORM_BACK}",
}
_IMAGES = ((b"\x89PNG\r\n\x1a\n", "PNG"), (b"\xff\xd8\xff", "JPEG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
           (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"))
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1", b"avif")


def _not_a_form(path: Path, raw: bytes) -> str | None:
    """The reason for a file that cannot be a form, by its content (the name may lie either way)."""
    if raw[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return NOT_A_FORM["xls"]
    if raw[:2] != b"PK" and b"%PDF-" in raw[:1024]:  # readers allow junk before the header
        return NOT_A_FORM["pdf"]
    image = next((kind for magic, kind in _IMAGES if raw.startswith(magic)), None)
    if image is None and raw[4:8] == b"ftyp" and raw[8:12] in _HEIF_BRANDS:
        image = "HEIC"
    if image is None and raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        image = "WebP"
    if image is not None:
        return NOT_A_FORM["image"].format(f"{image} image")
    if raw[:2] == b"PK":
        if is_opendocument(raw):
            return None  # odsread tells a spreadsheet from a Writer or Impress file
        directory = raw[-70_000:]  # the zip's directory names its parts in plain bytes
        if b"word/document.xml" in directory and b"xl/workbook.xml" not in directory:
            return NOT_A_FORM["word"]
        return None
    if raw[:5] == b"{\\rtf":
        return NOT_A_FORM["word"]
    if not raw or path.suffix.lower() in (".xlsx", ".xlsm", ".ods"):
        return None  # empty, or damaged beyond recognition: the reader says which
    return NOT_A_FORM["other"].format(f"{path.suffix} file" if path.suffix else "a file without extension")


def read_form(ctx: ReadContext, path: Path, raw: bytes) -> ReadForm:
    """Read and verify one returned form (the bytes of `path`); raise `Rejected` with the
    reason if it cannot be taken in. The bytes that were hashed are the bytes that are read:
    `xlsxread` (or `odsread`, for a file that is an OpenDocument package by its content)
    checks every part of the package and reads the two sheets in one pass."""
    reason = _not_a_form(path, raw)
    if reason is not None:
        raise Rejected(reason)
    try:
        if is_opendocument(raw):
            workbook = read_ods(raw, _pick_sheets, READ_LIMITS)
        else:
            workbook = read_workbook(raw, _pick_sheets, READ_LIMITS)
    except PackageRejected as exc:
        raise Rejected(str(exc)) from None
    if _entry.ENTRY_SHEET in workbook.cells:
        raise _entry.EntryWorkbookFound(workbook)
    if META_SHEET not in workbook.cells:
        raise Rejected("is not a form of this scan (it has no survey form information); "
                       "use the forms made by 'survey forms'")
    form_sheet = next((name for name in workbook.cells if name != META_SHEET), None)
    if form_sheet is None:
        raise Rejected("has no questionnaire sheet")
    meta, fields = _read_meta(workbook.cells[META_SHEET])
    claims = _verify(ctx, meta, fields)
    answers, issues = _read_answers(ctx, claims, workbook.cells[form_sheet], form_sheet)
    if not answers:
        raise Rejected(f"form {claims.form_id} is empty: no question was answered")
    saved = workbook.modified
    if saved is not None and saved.tzinfo is not None:
        saved = saved.astimezone(timezone.utc).replace(tzinfo=None)
    return ReadForm(claims.form_id, claims.department_key, saved.isoformat(timespec="seconds") if saved else None,
                    answers, issues)


def form_id_in(path: Path) -> str | None:
    """The form id a form of ours carries inside (its file name carries none), unverified;
    None for anything else."""
    try:
        workbook = read_workbook(path.read_bytes(), lambda sheets: {META_SHEET}, READ_LIMITS)
    except (OSError, PackageRejected):
        return None
    if META_SHEET not in workbook.cells:
        return None
    meta = dict(key_values(workbook.cells[META_SHEET], "cell")[0])
    return meta.get("form_id") if meta.get("marker") == FORM_MARKER else None


READ_LIMITS = ReadLimits(max_file_bytes=MAX_FILE_BYTES, max_total_bytes=MAX_UNZIPPED_BYTES, max_members=MAX_ZIP_ENTRIES,
                     max_ratio=MAX_RATIO, max_row=MAX_ROW, max_column=MAX_COLUMN)


def _pick_sheets(sheets: list[SheetInfo]) -> set[str]:
    """The meta sheet and the questionnaire sheet: the first visible worksheet that is not one of
    ours (a sheet hidden in front of it is never read as the answers)."""
    wanted = {n for n in (META_SHEET, _entry.ENTRY_SHEET) if any(s.name == n for s in sheets)}
    candidates = [s for s in sheets if s.kind == "worksheet" and not s.name.startswith("_")]
    visible = [s for s in candidates if s.state == "visible"]
    form = next((s.name for s in visible or candidates), None)
    return wanted | ({form} if form else set())


Cells = dict[tuple[int, int], "str | float | bool"]


def key_values(cells: Cells, table: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """A hidden sheet of ours: key/value rows in columns A and B, then after the header row
    'field' | `table` a field -> cell (or column) table. Both as (key, value) in sheet order."""
    entries: list[tuple[str, str]] = []
    fields: list[tuple[str, str]] = []
    in_fields = False
    for row in sorted({r for r, _ in cells}):
        key, value = cells.get((row, 1)), _text(cells.get((row, 2)))
        if not isinstance(key, str) or not key:
            continue
        if in_fields:
            fields.append((key, value))
        elif key == "field" and value == table:
            in_fields = True
        else:
            entries.append((key, value))
    return entries, fields


def _read_meta(cells: Cells) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Keys and values (columns A and B), then the field -> cell table after the 'field' header."""
    entries, fields = key_values(cells, "cell")
    meta: dict[str, str] = {}
    for key, value in entries:
        if key in meta:
            raise Rejected("has damaged form information (an entry appears twice)")
        meta[key] = value
    if meta.get("marker") != FORM_MARKER:
        raise Rejected("is not a form of this scan (its form information is missing or damaged)")
    return meta, fields


def _verify(ctx: ReadContext, meta: dict[str, str], fields: list[tuple[str, str]]) -> SignedClaims:
    if meta.get("format") != FORM_FORMAT:
        raise Rejected("was made by an older version of survey and carries no signature; hand out the forms "
                       "of this scan made by 'survey forms'")
    missing = [k for k in ("scan_id", "form_id", "department_key", "role", "questionnaire_hash", "signature")
               if not meta.get(k)]
    if missing:
        raise Rejected(f"has damaged form information ({', '.join(missing)} missing); the form's hidden "
                       "information was changed")
    form_id = clean_text(meta["form_id"])[:40]
    if meta["scan_id"] != ctx.scan_id:
        raise Rejected(f"form {form_id} belongs to another scan (scan {clean_text(meta['scan_id'])[:20]}, this is "
                       f"{ctx.scan_id}); collect it in its own scan folder")
    if meta["questionnaire_hash"] != ctx.questionnaire_hash:
        raise Rejected(f"form {form_id} was made from another version of the questionnaire")
    claims = SignedClaims(meta["scan_id"], meta["questionnaire_hash"], meta["form_id"], meta["department_key"],
                          meta.get("department", ""), meta["role"], meta.get("wave", ""), meta.get("language", ""),
                          tuple(fields))
    if not verify(ctx.secret, claims, meta["signature"]):
        raise Rejected("the form's hidden information was changed (its signature does not match, so even the "
                       "form id it shows cannot be trusted); it does not count. Ask for the original form to be "
                       "filled in again")
    return claims


def _text(value: object) -> str:
    if type(value) is str:  # most values: the same as below, sooner
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return "" if value is None else str(value).strip()


def label_key(text: str) -> str:
    """A label as it is looked up: cleaned as an answer read from a cell is (bidi controls
    removed), so a label holding them still reads back."""
    return clean_text(text).strip().casefold()


class _Labels:
    """Answer texts and codes of every scale, for reading back: in one language (`language`),
    or in every language."""

    def __init__(self, questionnaire: m.Questionnaire, yes: set[str] = frozenset(), language: str | None = None):
        self.yes = YES_WORDS | set(yes)
        self.lookup: dict[str, dict[str, int | str]] = {}
        self.not_applicable: dict[str, set[str]] = {}
        self.declined: dict[str, set[str]] = {}

        def texts(text: dict[str, str] | None) -> list[str]:
            text = text or {}
            return list(text.values()) if language is None else [text[language]] if language in text else []

        for name, scale in questionnaire.scales.items():
            table: dict[str, int | str] = {}
            for option in scale.options:
                table[str(option.code).casefold()] = option.code
                for label in [*texts(option.label), *texts(option.manager_label)]:
                    table[label_key(label)] = option.code
            self.lookup[name] = table
            # the stored code is accepted too: an online export mapped to codes (survey import)
            self.not_applicable[name] = {label_key(t) for t in texts(scale.not_applicable)} | (
                {NOT_APPLICABLE} if scale.not_applicable else set())
            self.declined[name] = {label_key(t) for t in texts(scale.decline)} | (
                {DECLINED} if scale.decline else set())


def exclusive_conflicts(q: m.Questionnaire, answers: list[AnswerValue]) -> dict[str, str]:
    """Multiple-choice questions whose 'none of these' (an exclusive option) is ticked together
    with another option: item id -> the field of the exclusive tick. The answer contradicts
    itself, so the caller leaves the question out and records where."""
    ticked: dict[str, set[str]] = {}
    for answer in answers:
        item_id, _, code = answer.field.partition(".")
        if code and answer.value_num:
            ticked.setdefault(item_id, set()).add(code)
    found: dict[str, str] = {}
    for item in q.items:
        if isinstance(item, m.ChoiceItem) and item.type == "multiple_choice" and len(ticked.get(item.id, ())) > 1:
            exclusive = [str(o.code) for o in q.scales[item.scale].options if o.exclusive]
            hit = [code for code in exclusive if code in ticked[item.id]]
            if hit:
                found[item.id] = f"{item.id}.{hit[0]}"
    return found


EXCLUSIVE_PROBLEM = ("'{label}' is ticked together with another answer of the same question; the question's "
                     "answer was left out")


def drop_exclusive_conflicts(q: m.Questionnaire, answers: list[AnswerValue],
                             where: Callable[[str], str]) -> tuple[list[AnswerValue], list[tuple[str, str]]]:
    """The answers without self-contradicting multiple-choice questions, and an issue per such
    question at `where(field)`: the cell of its 'none of these' tick."""
    conflicts = exclusive_conflicts(q, answers)
    if not conflicts:
        return answers, []
    issues = []
    for item_id, key in conflicts.items():
        code = key.partition(".")[2]
        option = next(o for o in q.scales[q.item(item_id).scale].options if str(o.code) == code)
        issues.append((where(key), EXCLUSIVE_PROBLEM.format(label=option.label[q.source_language])))
    return [a for a in answers if a.field.partition(".")[0] not in conflicts], issues


def _read_answers(ctx: ReadContext, claims: SignedClaims, cells: Cells,
                  sheet: str) -> tuple[list[AnswerValue], list[tuple[str, str]]]:
    """Answers by their tags: each signed field is read from the row whose hidden tag names it."""
    tags = _tag_positions(cells, sheet)
    signed = dict(claims.fields)
    _check_tag_order(signed, tags, sheet)
    answers: list[AnswerValue] = []
    issues: list[tuple[str, str]] = []
    unanswered: list[str] = []  # cells of required questions left empty
    labels = ctx.labels_for(claims.language)
    for answer_field in ctx.fields:
        cell = signed.get(answer_field.key)
        if answer_field.key == "role" or cell is None:
            continue
        letters = _LETTERS.match(cell)
        column = letters.group(0) if letters else ""
        position = tags.get(answer_field.key)
        if position is None:
            issues.append((f"sheet '{sheet}', cell {cell}",
                           "the row of this question was deleted or its tag changed; its answer is missing"))
            continue
        row, tagged_column = position
        if tagged_column != column:
            raise Rejected(f"sheet '{sheet}', row {row}: the answer columns were changed (the answer to "
                           f"{answer_field.key} should be in column {column}); ask for a fresh copy of the form")
        where_cell = f"{column}{row}"
        value = cells.get((row, _COLUMN_NUMBERS.get(column) or column_index_from_string(column)), "")
        text = clean_text(_text(value)).strip()
        if not text:
            if answer_field.required and answer_field.kind not in (m.FieldKind.open, m.FieldKind.check):
                unanswered.append(where_cell)
            continue
        try:
            answers.append(_parse(ctx.questionnaire, labels, answer_field, value, text))
        except ValueError as exc:
            # what was typed is not repeated here: status is read by others than the respondent
            issues.append((f"sheet '{sheet}', cell {where_cell}", f"the answer {exc}; it was left out"))
    answers, conflicts = drop_exclusive_conflicts(
        ctx.questionnaire, answers, lambda key: f"sheet '{sheet}', cell {tags[key][1]}{tags[key][0]}")
    issues += conflicts
    if unanswered:
        shown = ", ".join(unanswered[:10]) + (", ..." if len(unanswered) > 10 else "")
        issues.append((f"sheet '{sheet}'", (f"{len(unanswered)} required question(s) not answered (cells {shown}); "
                                           "the form was counted without them")))
    return answers, issues


_COLUMN_NUMBERS = {chr(64 + n): n for n in range(1, 27)}  # one-letter columns, as forms use


def _check_tag_order(signed: dict[str, str], tags: dict[str, tuple[int, str]], sheet: str) -> None:
    """An inserted or deleted row shifts tags and answers together and keeps their order; tags
    that were swapped, merged or spread over other rows do not. Then the form is refused rather
    than read with answers under other questions."""
    placed = []
    for key, cell in signed.items():
        match = re.fullmatch(r"([A-Z]+)(\d+)", cell)
        if match and key in tags:
            placed.append((int(match.group(2)), tags[key][0], key))
    placed.sort()
    for (signed_a, tag_a, key_a), (signed_b, tag_b, key_b) in zip(placed, placed[1:]):
        if (signed_a == signed_b) != (tag_a == tag_b) or (signed_a < signed_b and tag_a >= tag_b):
            raise Rejected(f"sheet '{sheet}': the hidden tags of the answers were changed (rows {tag_a} and "
                           f"{tag_b}, questions {key_a} and {key_b}); ask for a fresh copy of the form")


def _tag_positions(cells: Cells, sheet: str) -> dict[str, tuple[int, str]]:
    """field id -> (row, column letter) from the hidden tag column."""
    tag_column = column_index_from_string(TAG_COLUMN)
    positions: dict[str, tuple[int, str]] = {}
    if not any(c == tag_column and isinstance(v, str) and _TAG.search(v) for (_, c), v in cells.items()) and any(
            isinstance(v, str) and _TAG.fullmatch(v.split()[0] if v.split() else "") for v in cells.values()):
        raise Rejected(f"sheet '{sheet}': columns were inserted or deleted, so the answers are no longer where the "
                       "form put them; ask for a fresh copy of the form")
    tagged = sorted((position, value) for position, value in cells.items()
                    if position[1] == tag_column and isinstance(value, str))
    for (row_number, _), value in tagged:
        for column, key in _TAG.findall(value):
            if key in positions:
                raise Rejected(f"sheet '{sheet}': the row of question {key} appears twice (rows "
                               f"{positions[key][0]} and {row_number}); ask for a fresh copy of the form")
            positions[key] = (row_number, column)
    return positions


def _parse(q: m.Questionnaire, labels: _Labels, f: m.AnswerField, value: object, text: str) -> AnswerValue:
    if f.kind is m.FieldKind.open:
        return AnswerValue(f.key, None, text[:MAX_OPEN_ANSWER])
    if f.kind is m.FieldKind.check:
        if text.casefold() in labels.yes:
            return AnswerValue(f.key, 1.0, None)
        raise ValueError("is not a tick (choose 'Ja' / 'Yes')")
    assert f.scale is not None
    scale = q.scales[f.scale]
    folded = text.casefold()
    if folded in labels.not_applicable[f.scale]:
        return AnswerValue(f.key, None, NOT_APPLICABLE)
    if folded in labels.declined[f.scale]:
        return AnswerValue(f.key, None, DECLINED)
    if scale.kind is m.ScaleKind.score:
        # whole marks only: '7.5', '8 but bad' or 3.7 are not read as a mark (nothing cut off silently)
        match = _SCORE.fullmatch(text)
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
