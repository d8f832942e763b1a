"""The scan's store: one SQLite file with every issued form, every received file's outcome
and every answer.

The schema carries a version (``PRAGMA user_version``); opening an older store migrates it
forward in one transaction, so later work changes the schema by adding a migration, never by
editing an old one. ``application_id`` marks the file as a survey store, so a foreign SQLite
file is refused rather than written into.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np
from filelock import FileLock, Timeout

from survey.errors import Location, ScanError

APPLICATION_ID = 0x53525659  # 'SRVY'
SCHEMA_VERSION = 8
OUTCOMES = ("accepted", "duplicate", "superseded", "rejected")

# Version 1: the first store (no version number yet).
_V1 = """
CREATE TABLE IF NOT EXISTS received (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    received_at TEXT NOT NULL DEFAULT (datetime('now')),
    outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'duplicate', 'rejected')),
    reason TEXT,
    form_id TEXT
);
CREATE TABLE IF NOT EXISTS responses (
    id INTEGER PRIMARY KEY,
    received_id INTEGER NOT NULL REFERENCES received(id),
    form_id TEXT NOT NULL UNIQUE,
    department TEXT NOT NULL,
    role TEXT NOT NULL,
    wave TEXT NOT NULL,
    language TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS answers (
    response_id INTEGER NOT NULL REFERENCES responses(id),
    field TEXT NOT NULL,
    value_num REAL,
    value_text TEXT,
    PRIMARY KEY (response_id, field)
);
CREATE TABLE IF NOT EXISTS issues (
    received_id INTEGER NOT NULL REFERENCES received(id),
    location TEXT NOT NULL,
    message TEXT NOT NULL
);
"""

# Version 2: issued forms are a record; copies of a form are kept side by side and one of
# them counts (superseded/duplicate by a rule, or the consultant's decision); the same
# content may arrive under several names, each recorded.
_V2 = """
CREATE TABLE issued_forms (
    form_id TEXT PRIMARY KEY,
    department_key TEXT NOT NULL,
    department TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('employee', 'manager')),
    wave TEXT NOT NULL,
    language TEXT NOT NULL,
    issued_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S', 'now')),
    file TEXT NOT NULL
);
CREATE TABLE received_v2 (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S', 'now')),
    saved_at TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'duplicate', 'superseded', 'rejected')),
    reason TEXT,
    form_id TEXT,
    UNIQUE (path, sha256)
);
INSERT INTO received_v2 (id, path, sha256, size, received_at, outcome, reason, form_id)
    SELECT id, path, sha256, size, received_at, outcome, reason, form_id FROM received;
CREATE TABLE responses_v2 (
    id INTEGER PRIMARY KEY,
    received_id INTEGER NOT NULL REFERENCES received_v2(id),
    form_id TEXT NOT NULL,
    department_key TEXT NOT NULL,
    department TEXT NOT NULL,
    role TEXT NOT NULL,
    wave TEXT NOT NULL,
    language TEXT NOT NULL,
    counted INTEGER NOT NULL DEFAULT 1
);
INSERT INTO responses_v2 (id, received_id, form_id, department_key, department, role, wave, language, counted)
    SELECT id, received_id, form_id, department, department, role, wave, language, 1 FROM responses;
CREATE TABLE answers_v2 (
    response_id INTEGER NOT NULL REFERENCES responses_v2(id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    value_num REAL,
    value_text TEXT,
    PRIMARY KEY (response_id, field)
);
INSERT INTO answers_v2 SELECT * FROM answers;
CREATE TABLE issues_v2 (
    received_id INTEGER NOT NULL REFERENCES received_v2(id),
    location TEXT NOT NULL,
    message TEXT NOT NULL
);
INSERT INTO issues_v2 SELECT * FROM issues;
DROP TABLE issues;
DROP TABLE answers;
DROP TABLE responses;
DROP TABLE received;
ALTER TABLE received_v2 RENAME TO received;
ALTER TABLE responses_v2 RENAME TO responses;
ALTER TABLE answers_v2 RENAME TO answers;
ALTER TABLE issues_v2 RENAME TO issues;
CREATE UNIQUE INDEX one_counted_copy ON responses (form_id) WHERE counted = 1;
CREATE INDEX responses_form ON responses (form_id);
CREATE INDEX received_sha ON received (sha256);
CREATE TABLE decisions (
    form_id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    decided_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S', 'now'))
);
CREATE TABLE scan_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

# Version 3: rows imported from an online tool without an issued code (`survey import
# --unverified`) are kept apart from verified responses.
_V3 = """
ALTER TABLE responses ADD COLUMN verified INTEGER NOT NULL DEFAULT 1
"""

# Version 4: the register of published editions: for every figure written, the variable, the
# response ids behind it and those of its group (sorted int64), so that no later figure can be set against an
# earlier one to work out a few people's answers (two reports a day apart would otherwise give
# away the one form that came in between).
_V4 = """
CREATE TABLE editions (
    id INTEGER PRIMARY KEY,
    published_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%S', 'now')),
    outputs TEXT NOT NULL
);
CREATE TABLE edition_figures (
    edition_id INTEGER NOT NULL REFERENCES editions(id) ON DELETE CASCADE,
    variable TEXT NOT NULL,
    members BLOB NOT NULL,
    base BLOB NOT NULL
)
"""

# Version 5: a form's file name carries no id and the store no file name: nothing links a
# handed-out file to its form id but the file itself. `file` ("Zorg/<form id>.xlsx") becomes
# `folder` ("Zorg"), the department folder the form was written into (codes keep
# "codes:<csv name>"); `paper_at` records that a form's paper PDF was written, so it is never
# written twice (a second copy of a form under the same id).
_V5 = """
ALTER TABLE issued_forms RENAME COLUMN file TO folder;
UPDATE issued_forms SET folder = rtrim(substr(folder, 1, length(folder) - length(form_id) - 5), '/\\')
    WHERE folder NOT LIKE 'codes:%' AND substr(folder, -length(form_id) - 5) = form_id || '.xlsx';
ALTER TABLE issued_forms ADD COLUMN paper_at TEXT
"""


# Version 6: answers as columns. Per response one BLOB of float32 (`answer_rows`), one value per
# column of `answer_columns` in position order (NaN = not answered): loading a million forms
# is one query and one `np.frombuffer`, with no Python object per answer. A field's numbers
# are one column; its text answers (choice codes, 'n/a', open answers) are another, holding
# the number of the text in `answer_codes` (a dictionary per column). Columns and codes are
# only ever appended, so an older row is shorter than the layout: the missing tail is NaN.
_V6_TABLES = """
CREATE TABLE answer_columns (
    position INTEGER PRIMARY KEY,
    field TEXT NOT NULL,
    coded INTEGER NOT NULL CHECK (coded IN (0, 1)),
    UNIQUE (field, coded)
);
CREATE TABLE answer_codes (
    position INTEGER NOT NULL REFERENCES answer_columns(position),
    code INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (position, code),
    UNIQUE (position, text)
);
CREATE TABLE answer_rows (
    response_id INTEGER PRIMARY KEY REFERENCES responses(id) ON DELETE CASCADE,
    answers BLOB NOT NULL
);
CREATE INDEX responses_counted ON responses (counted, department, role, wave, id)
"""


def _v6(db: sqlite3.Connection) -> None:
    """The narrow answers table (one row per answer) becomes one BLOB per response."""
    _script(db, _V6_TABLES)
    layout = _Layout(db)
    rows = db.cursor().execute("SELECT response_id, field, value_num, value_text FROM answers "
                               "ORDER BY response_id, rowid")
    current, given = None, []
    for response_id, field, value_num, value_text in rows:
        if response_id != current and current is not None:
            layout.write(current, given)
            given = []
        current = response_id
        given.append((field, value_num, value_text))
    if current is not None:
        layout.write(current, given)
    db.execute("DROP TABLE answers")


# Version 7: the register of editions as sets, each distinct set once. At a million respondents
# an edition holds thousands of figures whose member lists would be gigabytes as id lists (and
# many repeat: every figure of a group has the group's ids as its base). `edition_sets` holds
# each distinct set once, found by the SHA-256 of its sorted int64 ids: a group's ids as they
# are (`within` NULL: sorted int64), a figure's members as a bitmap over the set they lie in
# (`within`: its group's set; np.packbits over that set's ids in order), an eighth of a byte
# per group member. `edition_figures` refers to them. And a partial index that makes counting
# the unverified responses (every analysis does) a look-up instead of a pass over all rows.
_V7_TABLES = """
CREATE TABLE edition_sets (
    id INTEGER PRIMARY KEY,
    digest BLOB NOT NULL UNIQUE,
    within INTEGER REFERENCES edition_sets(id),
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_unverified ON responses (counted) WHERE verified = 0;
CREATE TABLE edition_figures_v7 (
    edition_id INTEGER NOT NULL REFERENCES editions(id) ON DELETE CASCADE,
    variable TEXT NOT NULL,
    members INTEGER NOT NULL REFERENCES edition_sets(id),
    base INTEGER NOT NULL REFERENCES edition_sets(id)
)
"""


def _v7(db: sqlite3.Connection) -> None:
    """Edition figures with their id lists inline become references to distinct sets."""
    _script(db, _V7_TABLES)
    writer = _SetWriter(db, "edition_figures_v7")
    rows = db.execute("SELECT edition_id, variable, members, base FROM edition_figures ORDER BY rowid").fetchall()
    for edition, variable, members, base in rows:
        writer.figure(edition, variable, np.unique(np.frombuffer(members, dtype=np.int64)),
                      np.unique(np.frombuffer(base, dtype=np.int64)))
    db.execute("DROP TABLE edition_figures")
    db.execute("ALTER TABLE edition_figures_v7 RENAME TO edition_figures")


# Version 8: editions written by a later wave (issue 12). A later wave shows this wave's figures
# beside its own (the change since this wave): those are figures over THIS store's people, so
# they are recorded here, in this store's ids, where this wave's own editions are checked
# against them and `close_scan` renumbers them with the rest. `written_by` names the later scan
# (NULL: this scan's own outputs), so that forgetting "the results written last" forgets only
# one's own edition.
_V8 = """
ALTER TABLE editions ADD COLUMN written_by TEXT
"""


def _digest(ids: np.ndarray) -> bytes:
    return hashlib.sha256(np.ascontiguousarray(ids, dtype="<i8").tobytes()).digest()


class _SetWriter:
    """Writes edition figures, each distinct set once (see version 7). Sets already stored are
    found by their digest; a base passed again as the same array object is hashed once."""

    def __init__(self, db: sqlite3.Connection, table: str = "edition_figures"):
        self.db, self.table = db, table  # the migration writes into the new table under its own name
        self._bases: dict[int, tuple[np.ndarray, int]] = {}  # id(array) -> (array, set id)
        self._table = np.zeros(0, dtype=bool)  # scratch: id -> in the members (all False between uses)

    def _set(self, ids: np.ndarray, within: tuple[int, np.ndarray] | None) -> int:
        """The set's number: found by digest, else stored (as ids, or as the bitmap `within`
        gives: (the set it lies in, per member of that set whether it is in this one))."""
        digest = _digest(ids)
        found = self.db.execute("SELECT id FROM edition_sets WHERE digest = ?", (digest,)).fetchone()
        if found:
            return found[0]
        if within is None:
            data, parent = np.ascontiguousarray(ids, dtype="<i8").tobytes(), None
        else:
            data, parent = np.packbits(within[1]).tobytes(), within[0]
        return self.db.execute("INSERT INTO edition_sets (digest, within, data) VALUES (?, ?, ?)",
                               (digest, parent, data)).lastrowid

    def base(self, ids: np.ndarray) -> int:
        known = self._bases.get(id(ids))
        if known is not None and known[0] is ids:
            return known[1]
        number = self._set(ids, None)
        self._bases[id(ids)] = (ids, number)
        return number

    def _inside(self, members: np.ndarray, base: np.ndarray) -> np.ndarray | None:
        """Per member of `base` whether it is in `members`; None when a member is not in base.
        A table over the ids where they are compact (no search per member)."""
        if not len(members):
            return np.zeros(len(base), dtype=bool)
        if not len(base):
            return None
        if min(members[0], base[0]) >= 0 and max(members[-1], base[-1]) < 8 * len(base) + 1_000_000:
            top = int(max(members[-1], base[-1])) + 1
            if len(self._table) < top:
                self._table = np.zeros(top, dtype=bool)
            self._table[members] = True
            inside = self._table[base]
            self._table[members] = False
            return inside if int(inside.sum()) == len(members) else None
        at = np.searchsorted(base, members)
        if at[-1] >= len(base) or not np.array_equal(base[at], members):
            return None
        inside = np.zeros(len(base), dtype=bool)
        inside[at] = True
        return inside

    def figure(self, edition: int, variable: str, members: np.ndarray, base: np.ndarray,
               known: set[tuple[str, int, int]] | None = None) -> None:
        """One figure (sorted unique int64 ids), unless `known` holds it already."""
        base_id = self.base(base)
        inside = self._inside(members, base)
        members_id = self._set(members, (base_id, inside) if inside is not None else None)
        if known is not None:
            if (variable, members_id, base_id) in known:
                return
            known.add((variable, members_id, base_id))
        self.db.execute(f"INSERT INTO {self.table} (edition_id, variable, members, base) VALUES (?, ?, ?, ?)",
                        (edition, variable, members_id, base_id))


class EarlierSets(Mapping):
    """Per variable, every distinct (people behind a figure, people of its group) published in
    an earlier edition, as sorted int64 response ids. Read from the store at once in its
    compact form (bitmaps, each set once) and decoded per variable when asked (a million
    respondents' editions would not fit in memory as id lists); a group's ids are decoded once."""

    def __init__(self, sets: dict[int, tuple[int | None, bytes]], figures: dict[str, list[tuple[int, int]]]):
        self._sets, self._figures = sets, figures
        self._decoded: dict[int, np.ndarray] = {}

    def ids(self, number: int) -> np.ndarray:
        if number in self._decoded:
            return self._decoded[number]
        within, data = self._sets[number]
        if within is None:
            found = np.frombuffer(data, dtype="<i8").astype(np.int64)
            self._decoded[number] = found  # a group's set: shared by many figures
            return found
        parent = self.ids(within)
        inside = np.unpackbits(np.frombuffer(data, dtype=np.uint8), count=len(parent)).view(bool)
        return parent[inside]

    def __getitem__(self, variable: str) -> list[tuple[np.ndarray, np.ndarray]]:
        return [(self.ids(members), self.ids(base)) for members, base in self._figures[variable]]

    def __iter__(self) -> Iterator[str]:
        return iter(self._figures)

    def __len__(self) -> int:
        return len(self._figures)


def _script(db: sqlite3.Connection, script: str) -> None:
    for statement in script.split(";\n"):
        if statement.strip():
            db.execute(statement)


# MIGRATIONS[i] takes a store from version i to i + 1: SQL, or a function for what SQL cannot
# do (building the BLOBs of version 6).
MIGRATIONS: tuple[str | Callable[[sqlite3.Connection], None], ...] = (_V1, _V2, _V3, _V4, _V5, _v6, _v7, _V8)

AnswerTuple = tuple[str, float | None, str | None]  # (field, value_num, value_text)
# Answers are whole numbers (marks, scale codes, ticks, text code numbers): float32 holds them
# exactly, at half the bytes to store and read. A value it cannot hold is refused, never rounded.
VALUE_TYPE = np.float32
VALUE_BYTES = 4


class _Layout:
    """The column layout and code dictionaries of `answer_rows`, as a writer sees them inside
    its transaction (read from the store each time: a rolled-back transaction leaves no stale
    columns behind)."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db
        self.columns = {(field, bool(coded)): position for position, field, coded in
                        db.execute("SELECT position, field, coded FROM answer_columns ORDER BY position")}
        self.codes: dict[int, dict[str, int]] = {}
        for position, code, text in db.execute("SELECT position, code, text FROM answer_codes"):
            self.codes.setdefault(position, {})[text] = code

    def column(self, field: str, coded: bool) -> int:
        position = self.columns.get((field, coded))
        if position is None:
            position = len(self.columns)
            self.db.execute("INSERT INTO answer_columns (position, field, coded) VALUES (?, ?, ?)",
                            (position, field, int(coded)))
            self.columns[(field, coded)] = position
        return position

    def code(self, position: int, text: str) -> int:
        table = self.codes.setdefault(position, {})
        code = table.get(text)
        if code is None:
            code = len(table)
            self.db.execute("INSERT INTO answer_codes (position, code, text) VALUES (?, ?, ?)", (position, code, text))
            table[text] = code
        return code

    def row(self, answers: Iterable[AnswerTuple]) -> bytes:
        placed: list[tuple[int, float]] = []
        for field, value_num, value_text in answers:
            if value_num is not None:
                placed.append((self.column(field, False), float(value_num)))
            if value_text is not None:
                position = self.column(field, True)
                placed.append((position, float(self.code(position, value_text))))
        values = np.full(len(self.columns), np.nan, dtype=VALUE_TYPE)
        for position, value in placed:
            values[position] = value
            if float(values[position]) != value:  # compared as float64 (NumPy 2 would compare as float32)
                raise ValueError(f"answer value {value!r} cannot be stored exactly")
        return values.tobytes()

    def write(self, response_id: int, answers: Iterable[AnswerTuple]) -> None:
        self.db.execute("INSERT INTO answer_rows (response_id, answers) VALUES (?, ?)",
                        (response_id, self.row(answers)))


@dataclass(frozen=True)
class AnswerColumns:
    """Every counted response's answers as columns (`Store.answer_columns`); both matrices in
    Fortran order, so that every column is one contiguous array."""

    ids: np.ndarray  # response ids, ascending
    number_fields: list[str]
    numbers: np.ndarray  # (responses, number_fields) float32 as stored (exact: whole numbers), NaN = no number
    text_fields: list[str]
    codes: np.ndarray  # (responses, text_fields) int32: position in texts[j], -1 = no text
    texts: list[list[str]]  # per text field its distinct texts


@dataclass(frozen=True)
class Received:
    path: str
    outcome: str
    reason: str | None
    form_id: str | None
    received_at: str
    saved_at: str | None = None
    sha256: str = ""


@dataclass(frozen=True)
class IssuedForm:
    form_id: str
    department_key: str
    department: str
    role: str
    wave: str
    language: str
    issued_at: str
    folder: str  # the department folder it was written into (relative to forms/), or "codes:<csv name>"
    paper_at: str | None = None  # when its paper PDF was written


@dataclass(frozen=True)
class Response:
    id: int
    form_id: str
    department: str
    role: str
    wave: str


@dataclass(frozen=True)
class Answer:
    response_id: int
    field: str
    value_num: float | None
    value_text: str | None


@dataclass(frozen=True)
class Copy:
    """One readable copy of a form: the file it came from and whether it counts."""

    received_id: int
    response_id: int
    path: str
    sha256: str
    saved_at: str | None
    counted: bool


class StoreError(ScanError):
    """The store cannot be opened or written: read-only, full, damaged or not ours."""


class Store:
    """Typed access to scan.db. Opening it migrates an older store to the current schema."""

    def __init__(self, path: Path, *, readonly: bool = False):
        self.path = path
        where = Location(file=path)
        if readonly and not path.exists():
            raise StoreError(f"{path} does not exist", fix="collect forms first: survey collect")
        try:
            uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
            self.db = sqlite3.connect(uri, uri=True, timeout=10)
            self.db.execute("PRAGMA foreign_keys = ON")
            self._prepare(readonly)
        except sqlite3.DatabaseError as exc:
            raise _store_error(exc, path) from None
        self._where = where

    def _prepare(self, readonly: bool) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        app = self.db.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if app not in (0, APPLICATION_ID) or (app == 0 and tables and "received" not in tables):
            raise StoreError(f"{self.path} is not the store of a survey scan (it is another SQLite database)",
                             fix="move that file away; the scan folder's scan.db belongs to survey")
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path} was written by a newer version of survey (store version {version})",
                             fix="update survey (pip install --upgrade survey) and run the command again")
        if version == 0 and "received" in tables:
            version = 1  # a store from before versioning
        if readonly:
            if version < SCHEMA_VERSION:
                raise StoreError(f"{self.path} is an older store that must be updated first",
                                 fix="run survey collect once (it updates the store), then try again")
            return
        if version < SCHEMA_VERSION:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                for step in MIGRATIONS[version:]:
                    if callable(step):
                        step(self.db)
                    else:
                        _script(self.db, step)
                self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                self.db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        # WAL: readers (status, analyse) never block on a collect; NORMAL: no disk sync per
        # file, still crash-safe (a crash loses at most the last transactions, never half one).
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One file, one transaction: a crash never leaves half a form in the store."""
        try:
            with self.db:
                yield self.db
        except sqlite3.DatabaseError as exc:
            raise _store_error(exc, self.path) from None

    # -- issued forms
    def issue(self, forms: list[IssuedForm]) -> None:
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO issued_forms (form_id, department_key, department, role, wave, language, folder) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(f.form_id, f.department_key, f.department, f.role, f.wave, f.language, f.folder) for f in forms])

    def mark_paper(self, form_ids: list[str]) -> None:
        """These forms have their paper PDF now."""
        with self.transaction() as db:
            db.executemany("UPDATE issued_forms SET paper_at = strftime('%Y-%m-%dT%H:%M:%S', 'now') "
                           "WHERE form_id = ? AND paper_at IS NULL", [(f,) for f in form_ids])

    def issued(self) -> list[IssuedForm]:
        rows = self.db.execute("SELECT form_id, department_key, department, role, wave, language, issued_at, folder, "
                               "paper_at FROM issued_forms ORDER BY rowid").fetchall()
        return [IssuedForm(*row) for row in rows]

    def issued_form(self, form_id: str) -> IssuedForm | None:
        row = self.db.execute("SELECT form_id, department_key, department, role, wave, language, issued_at, folder, "
                              "paper_at FROM issued_forms WHERE form_id = ?", (form_id,)).fetchone()
        return IssuedForm(*row) if row else None

    def forget_issued(self, form_ids: list[str]) -> None:
        """Undo an issue whose forms could not be written (no half set of forms)."""
        with self.transaction() as db:
            db.executemany("DELETE FROM issued_forms WHERE form_id = ?", [(f,) for f in form_ids])

    # -- received files
    def seen(self, path: str, sha256: str) -> bool:
        """This very file (same name, same content) was recorded before."""
        return self.db.execute("SELECT 1 FROM received WHERE path = ? AND sha256 = ?",
                               (path, sha256)).fetchone() is not None

    def first_with_hash(self, sha256: str) -> Received | None:
        row = self.db.execute(
            "SELECT path, outcome, reason, form_id, received_at, saved_at, sha256 FROM received "
            "WHERE sha256 = ? ORDER BY id LIMIT 1", (sha256,)).fetchone()
        return Received(*row) if row else None

    def copies(self, form_id: str) -> list[Copy]:
        rows = self.db.execute(
            "SELECT r.id, s.id, r.path, r.sha256, r.saved_at, s.counted FROM responses s "
            "JOIN received r ON r.id = s.received_id WHERE s.form_id = ? ORDER BY r.id", (form_id,)).fetchall()
        return [Copy(a, b, c, d, e, bool(f)) for a, b, c, d, e, f in rows]

    def decision(self, form_id: str) -> str | None:
        row = self.db.execute("SELECT sha256 FROM decisions WHERE form_id = ?", (form_id,)).fetchone()
        return row[0] if row else None

    def received(self) -> list[Received]:
        rows = self.db.execute(
            "SELECT path, outcome, reason, form_id, received_at, saved_at, sha256 FROM received ORDER BY id"
        ).fetchall()
        return [Received(*row) for row in rows]

    def issues(self) -> list[tuple[str, str, str]]:
        """(file, location, message) of every answer that could not be taken over, for
        copies that count."""
        return self.db.execute(
            "SELECT r.path, i.location, i.message FROM issues i JOIN received r ON r.id = i.received_id "
            "WHERE r.outcome = 'accepted' ORDER BY r.id").fetchall()

    # -- published editions
    def earlier_sets(self) -> EarlierSets:
        """Per variable, every distinct (people behind a figure, people of its group) published,
        as sorted int64 response ids (decoded per variable when asked, see `EarlierSets`)."""
        sets = {number: (within, data) for number, within, data in
                self.db.execute("SELECT id, within, data FROM edition_sets")}
        figures: dict[str, list[tuple[int, int]]] = {}
        for variable, members, base in self.db.execute(
                "SELECT DISTINCT variable, members, base FROM edition_figures ORDER BY variable, members, base"):
            figures.setdefault(variable, []).append((members, base))
        return EarlierSets(sets, figures)

    def record_edition(self, figures: Iterable[tuple[str, np.ndarray, np.ndarray]], outputs: str,
                       written_by: str | None = None) -> int:
        """Record what is about to be published (before the files are written: a file written
        half is published as far as a reader is concerned): per figure its variable, the sorted
        response ids behind it and those of its group (int64). `figures` may be a generator:
        one figure's ids are in memory at a time, and a group's ids passed as the same array
        object are hashed once. `written_by`: the later wave that publishes these figures of
        this store's people (None: this scan's own output). Returns the edition's id (a later
        wave ties what it records in an earlier wave's store to its own edition by it)."""
        with self.transaction() as db:  # an edition row even when nothing is new: it is what was written last
            edition = db.execute("INSERT INTO editions (outputs, written_by) VALUES (?, ?)",
                                 (outputs, written_by)).lastrowid
            if written_by is None:  # something new was written: the next replacement may forget it
                db.execute("DELETE FROM scan_state WHERE key = 'replaced'")
            known = set(db.execute("SELECT variable, members, base FROM edition_figures").fetchall())
            writer = _SetWriter(db)
            for variable, members, base in figures:
                writer.figure(edition, variable, members, base, known)
        return edition

    def forget_last_edition(self, written_by: str | None = None) -> int | None:
        """The results written last were never shared: forget them (only them), and return the
        id forgotten (None: nothing). Without `written_by`: this scan's own last edition, once:
        a run that forgot it and failed before writing leaves a mark, so a retry forgets no
        second, shared edition (the mark goes when an edition is recorded). With `written_by`:
        the edition a later wave recorded here under exactly that name (it names the later
        wave's own edition it belongs to, see survey/analysis/change.py), never another."""
        with self.transaction() as db:
            if written_by is None:
                if db.execute("SELECT 1 FROM scan_state WHERE key = 'replaced'").fetchone():
                    return None
                last = db.execute("SELECT max(id) FROM editions WHERE written_by IS NULL").fetchone()[0]
            else:
                last = db.execute("SELECT max(id) FROM editions WHERE written_by = ?", (written_by,)).fetchone()[0]
            if last is None:
                return None
            db.execute("DELETE FROM edition_figures WHERE edition_id = ?", (last,))
            db.execute("DELETE FROM editions WHERE id = ?", (last,))
            if written_by is None:
                db.execute("INSERT OR REPLACE INTO scan_state (key, value) VALUES ('replaced', ?)", (str(last),))
            _drop_unused_sets(db)
            return last

    # -- the end of a scan
    def closed_on(self) -> str | None:
        row = self.db.execute("SELECT value FROM scan_state WHERE key = 'closed'").fetchone()
        return row[0] if row else None

    def close_scan(self) -> int:
        """Keep only the anonymous answers with department, role and wave (no language): file
        names, receipt times, form ids, copies that did not count, the issue record and the
        consultant's decisions go, responses get new ids in random order (so the order of
        arrival is gone too), and the file is vacuumed so nothing deleted stays readable."""
        with self.transaction() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("CREATE TEMP TABLE kept AS SELECT id AS old, department_key, department, role, wave, language, "
                       "verified FROM responses WHERE counted = 1 ORDER BY random()")
            # the register of published editions stays (a next edition is checked against what
            # was published), in the new ids; a copy that did not count is the same person as the
            # copy that did
            renumber = dict(db.execute(
                "SELECT r.id, k.rowid FROM responses r JOIN responses c ON c.form_id = r.form_id AND c.counted = 1 "
                "JOIN kept k ON k.old = c.id").fetchall())

            _renumber_editions(db, renumber)
            kept_rows = _kept_answers(db)
            for table in ("answer_rows", "issues", "responses", "received", "decisions", "issued_forms"):
                db.execute(f"DELETE FROM {table}")
            placeholder = db.execute("INSERT INTO received (path, sha256, size, outcome, reason) VALUES "
                                     "('', 'closed', 0, 'accepted', 'scan closed')").lastrowid
            db.execute("INSERT INTO responses (id, received_id, form_id, department_key, department, role, wave, "
                       "language, counted, verified) SELECT rowid, ?, 'closed-' || rowid, department_key, department, "
                       "role, wave, '', 1, verified FROM kept", (placeholder,))  # language: never analysed, and one Polish form in a department singles someone out
            db.executemany("INSERT INTO answer_rows (response_id, answers) VALUES (?, ?)", kept_rows)
            count = db.execute("SELECT count(*) FROM kept").fetchone()[0]
            db.execute("DROP TABLE kept")
            db.execute("INSERT OR REPLACE INTO scan_state (key, value) VALUES ('closed', date('now'))")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.execute("VACUUM")
        return count

    # -- what counts
    def unverified_count(self) -> int:
        """Counted responses imported without an issued code (`survey import --unverified`)."""
        return self.db.execute("SELECT count(*) FROM responses WHERE counted = 1 AND verified = 0").fetchone()[0]

    def responses(self) -> list[Response]:
        rows = self.db.execute("SELECT id, form_id, department, role, wave FROM responses WHERE counted = 1 "
                               "ORDER BY id").fetchall()
        return [Response(*row) for row in rows]

    def response_groups(self) -> dict[str, tuple[np.ndarray, list[str]]]:
        """Department, role and wave of every counted response in the order of their ids, as
        (code per response, names): one query per distinct combination, not a string per row."""
        combos = self.db.execute("SELECT department, role, wave, count(*) FROM responses WHERE counted = 1 "
                                 "GROUP BY department, role, wave ORDER BY department, role, wave").fetchall()
        # one text of every id (SQLite's group_concat), parsed at once: no Python object per row
        ids = _int_list(self.db.execute("SELECT group_concat(id) FROM (SELECT id FROM responses WHERE counted = 1 "
                                        "ORDER BY department, role, wave, id)").fetchone()[0])
        combo = np.repeat(np.arange(len(combos)), [row[3] for row in combos])[np.argsort(ids, kind="stable")]
        found = {}
        for column, name in enumerate(("department", "role", "wave")):
            names = sorted({row[column] for row in combos})
            code = np.array([names.index(row[column]) for row in combos], dtype=np.int32)
            found[name] = (code[combo] if len(combos) else np.zeros(0, dtype=np.int32), names)
        return found

    def write_answers(self, db: sqlite3.Connection, response_id: int, answers: Iterable[AnswerTuple]) -> None:
        """Store one response's answers (inside the caller's transaction, `db`)."""
        _Layout(db).write(response_id, answers)

    def answer_columns(self, chunk: int = 65_536) -> AnswerColumns:
        """Every counted response's answers as columns. SQLite concatenates a chunk of rows'
        BLOBs into one (and their ids into one text): no Python object per answer or even per
        response; each chunk is one `np.frombuffer`, copied into the columns."""
        layout = self.db.execute("SELECT position, field, coded FROM answer_columns ORDER BY position").fetchall()
        width = len(layout)
        ids = _int_list(self.db.execute("SELECT group_concat(id) FROM (SELECT id FROM responses "
                                        "WHERE +counted = 1 ORDER BY id)").fetchone()[0])
        n = len(ids)
        number_at = [p for p, _, coded in layout if not coded]
        text_at = [p for p, _, coded in layout if coded]
        # filled by the chunks below (every counted response has its row of answers; a row
        # without one is filled with "no answer" at the end): not written twice
        numbers = np.empty((n, len(number_at)), dtype=VALUE_TYPE, order="F")  # half of float64
        codes = np.empty((n, len(text_at)), dtype=np.int32, order="F")
        filled = np.zeros(n, dtype=bool)
        last = self.db.execute("SELECT max(response_id) FROM answer_rows").fetchone()[0] or 0
        # both concatenations are fed row by row by the same scan: they are in the same order
        query = ("SELECT group_concat(response_id), CAST(group_concat(answers, '') AS BLOB), sum(length(answers)) "
                 "FROM answer_rows WHERE response_id >= ? AND response_id < ?")
        for low in range(1, last + 1, chunk):
            got_ids, joined, size = self.db.execute(query, (low, low + chunk)).fetchone()
            if got_ids is None:
                continue
            got = _int_list(got_ids)
            if size == VALUE_BYTES * width * len(got):
                values = np.frombuffer(joined, dtype=VALUE_TYPE).reshape(len(got), width)
            else:  # rows written before the layout grew: NaN beyond their end
                values = np.full((len(got), width), np.nan, dtype=VALUE_TYPE)
                for row, (blob,) in enumerate(self.db.execute(
                        "SELECT answers FROM answer_rows WHERE response_id >= ? AND response_id < ?",
                        (low, low + chunk))):
                    stored = np.frombuffer(blob, dtype=VALUE_TYPE)
                    values[row, :len(stored)] = stored
                got = _int_list(self.db.execute("SELECT group_concat(response_id) FROM answer_rows "
                                                "WHERE response_id >= ? AND response_id < ?",
                                                (low, low + chunk)).fetchone()[0])
            where = np.searchsorted(ids, got).clip(max=max(n - 1, 0))
            counted = (ids[where] == got) if n else np.zeros(len(got), dtype=bool)
            if counted.all() and len(where) and where[-1] - where[0] == len(where) - 1 \
                    and (np.diff(where) == 1).all():
                rows: slice | np.ndarray = slice(int(where[0]), int(where[-1]) + 1)  # the usual case
            else:
                values, rows = values[counted], where[counted]
            filled[rows] = True
            for target, source in _runs(number_at):  # slices copy fast; a fancy column index does not
                numbers[rows, target] = values[:, source]
            for target, source in _runs(text_at):
                block = values[:, source]
                codes[rows, target] = np.where(np.isnan(block), -1, block)
        if not filled.all():  # a counted response without answers: no answer to anything
            numbers[~filled] = np.nan
            codes[~filled] = -1
        texts: dict[int, list[str]] = {p: [] for p in text_at}
        for position, code, text in self.db.execute("SELECT position, code, text FROM answer_codes "
                                                    "ORDER BY position, code"):
            texts[position].append(text)
        return AnswerColumns(ids, [f for _, f, coded in layout if not coded], numbers,
                             [f for _, f, coded in layout if coded], codes, [texts[p] for p in text_at])

    def answers(self) -> list[Answer]:
        """One object per answer: for tests and small tools (the analysis reads `answer_columns`)."""
        c = self.answer_columns()
        found = []
        for row, response_id in enumerate(c.ids.tolist()):
            for j, field in enumerate(c.number_fields):
                if not np.isnan(c.numbers[row, j]):
                    found.append(Answer(response_id, field, float(c.numbers[row, j]), None))
            for j, field in enumerate(c.text_fields):
                if c.codes[row, j] >= 0:
                    found.append(Answer(response_id, field, None, c.texts[j][c.codes[row, j]]))
        return found


def _drop_unused_sets(db: sqlite3.Connection) -> None:
    """Sets no figure refers to any more (bitmaps before the sets they lie in)."""
    while db.execute("DELETE FROM edition_sets WHERE id NOT IN (SELECT members FROM edition_figures) "
                     "AND id NOT IN (SELECT base FROM edition_figures) "
                     "AND id NOT IN (SELECT within FROM edition_sets WHERE within IS NOT NULL)").rowcount:
        pass


def _renumber_editions(db: sqlite3.Connection, renumber: dict[int, int]) -> None:
    """The register of editions in new response ids (closing a scan renumbers them): every
    figure decoded, renumbered and written again (digests change with the ids)."""
    earlier = Store.__new__(Store)
    earlier.db = db
    sets = earlier.earlier_sets()
    rows = db.execute("SELECT edition_id, variable, members, base FROM edition_figures ORDER BY rowid").fetchall()
    old = np.array(sorted(renumber), dtype=np.int64)
    new = np.array([renumber[i] for i in old.tolist()], dtype=np.int64)

    def mapped(ids: np.ndarray) -> np.ndarray:
        at = np.searchsorted(old, ids).clip(max=max(len(old) - 1, 0))
        kept = (old[at] == ids) if len(old) else np.zeros(len(ids), dtype=bool)
        return np.unique(new[at[kept]])

    db.execute("DELETE FROM edition_figures")
    db.execute("DELETE FROM edition_sets")
    writer = _SetWriter(db)
    bases: dict[int, np.ndarray] = {}
    for edition, variable, members, base in rows:
        if base not in bases:
            bases[base] = mapped(sets.ids(base))
        writer.figure(edition, variable, mapped(sets.ids(members)), bases[base])


def _int_list(text: str | None) -> np.ndarray:
    """'3,4,7' (SQLite's group_concat of integers) as an int64 array."""
    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


def _runs(positions: list[int]) -> list[tuple[slice, slice]]:
    """Consecutive stretches of `positions`: (slice of the list, slice of the positions)."""
    found = []
    start = 0
    for i in range(1, len(positions) + 1):
        if i == len(positions) or positions[i] != positions[i - 1] + 1:
            found.append((slice(start, i), slice(positions[start], positions[i - 1] + 1)))
            start = i
    return found


def _kept_answers(db: sqlite3.Connection) -> list[tuple[int, bytes]]:
    """The answers of the responses kept at closing (temp table `kept`: new id = its rowid), as
    (new id, BLOB). Text codes are renumbered in the order of their text and codes no kept
    response uses are dropped: numbered in order of arrival, they would tell it, and a copy
    that did not count could leave its text behind."""
    rows = db.execute("SELECT k.rowid, a.answers FROM kept k JOIN answer_rows a ON a.response_id = k.old "
                      "ORDER BY k.rowid").fetchall()
    width = db.execute("SELECT count(*) FROM answer_columns").fetchone()[0]
    values = np.full((len(rows), width), np.nan, dtype=VALUE_TYPE)
    for i, (_, blob) in enumerate(rows):
        row = np.frombuffer(blob, dtype=VALUE_TYPE)
        values[i, :len(row)] = row
    for (position,) in db.execute("SELECT position FROM answer_columns WHERE coded = 1").fetchall():
        texts = dict(db.execute("SELECT code, text FROM answer_codes WHERE position = ?", (position,)).fetchall())
        column = values[:, position]
        used = sorted({int(c) for c in np.unique(column[~np.isnan(column)])}, key=lambda c: texts[c])
        renumber = {old: new for new, old in enumerate(used)}
        db.execute("DELETE FROM answer_codes WHERE position = ?", (position,))
        db.executemany("INSERT INTO answer_codes (position, code, text) VALUES (?, ?, ?)",
                       [(position, new, texts[old]) for old, new in renumber.items()])
        lookup = np.full(len(texts) + 1, np.nan, dtype=VALUE_TYPE)
        for old, new in renumber.items():
            lookup[old] = new
        answered = ~np.isnan(column)
        column[answered] = lookup[column[answered].astype(np.int64)]
    return [(new, values[i].tobytes()) for i, (new, _) in enumerate(rows)]


LOCK_FILE = ".collect.lock"


@contextmanager
def collect_lock(folder: Path) -> Iterator[None]:
    """One collect per scan at a time; a second one says so instead of waiting unseen."""
    lock = FileLock(str(folder / LOCK_FILE))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise StoreError(f"another collect is running on {folder}",
                         fix="wait until it has finished (survey status shows what came in), then try again") from None
    except OSError as exc:
        raise _store_error(sqlite3.OperationalError(f"readonly: {exc}"), folder / LOCK_FILE) from None
    try:
        yield
    finally:
        lock.release()


def collect_running(folder: Path) -> bool:
    """A collect holds the lock right now (analyse and report refuse to read half an inbox)."""
    path = folder / LOCK_FILE
    if not path.exists():
        return False
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return True
    except OSError:
        return False
    lock.release()
    return False


def _store_error(exc: sqlite3.DatabaseError, path: Path) -> StoreError:
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text:
        return StoreError(f"{path} cannot be written (the file or its folder is read-only)",
                          fix="copy the scan folder to a place where you may write, or ask for write access")
    if "full" in text:
        return StoreError(f"the disk holding {path} is full; nothing of the last file was stored",
                          fix="free disk space and run the command again")
    if "locked" in text or "busy" in text:
        return StoreError(f"{path} is in use by another survey command",
                          fix="wait until the other command (a collect) has finished, then try again")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError(f"{path} is damaged ({exc})",
                          fix="restore scan.db from a backup, or move it away and collect the inbox again")
    if "unable to open" in text:
        return StoreError(f"{path} cannot be opened ({exc})",
                          fix="check that the scan folder exists and that you may write in it")
    return StoreError(f"{path}: {exc}", fix="check the scan folder, or restore scan.db from a backup")
