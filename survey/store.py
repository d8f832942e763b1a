"""The scan's store: one SQLite file with every received file's outcome and every answer."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Self

SCHEMA = """
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


@dataclass(frozen=True)
class Received:
    path: str
    outcome: str
    reason: str | None
    form_id: str | None
    received_at: str


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


class Store:
    """Thin typed access to scan.db."""

    def __init__(self, path: Path):
        self.path = path
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One file, one transaction: a crash never leaves half a form in the store."""
        with self.db:
            yield self.db

    def known_hash(self, sha256: str) -> bool:
        return self.db.execute("SELECT 1 FROM received WHERE sha256 = ?", (sha256,)).fetchone() is not None

    def accepted_form(self, form_id: str) -> Received | None:
        row = self.db.execute(
            "SELECT r.path, r.outcome, r.reason, r.form_id, r.received_at FROM responses s "
            "JOIN received r ON r.id = s.received_id WHERE s.form_id = ?", (form_id,)).fetchone()
        return Received(*row) if row else None

    def received(self) -> list[Received]:
        rows = self.db.execute(
            "SELECT path, outcome, reason, form_id, received_at FROM received ORDER BY id").fetchall()
        return [Received(*row) for row in rows]

    def issues(self) -> list[tuple[str, str, str]]:
        """(file, location, message) of every answer that could not be taken over."""
        return self.db.execute(
            "SELECT r.path, i.location, i.message FROM issues i JOIN received r ON r.id = i.received_id "
            "ORDER BY r.id").fetchall()

    def responses(self) -> list[Response]:
        rows = self.db.execute("SELECT id, form_id, department, role, wave FROM responses ORDER BY id").fetchall()
        return [Response(*row) for row in rows]

    def answers(self) -> list[Answer]:
        rows = self.db.execute("SELECT response_id, field, value_num, value_text FROM answers").fetchall()
        return [Answer(*row) for row in rows]
