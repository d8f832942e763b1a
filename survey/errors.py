"""One family of project exceptions.

Every error a user can cause is a ``SurveyError``: it says where (file, sheet and cell, or
YAML line and column), what is wrong and what to do. The CLI prints it as one message
without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """Where a problem sits in a user's file."""

    file: Path | str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    sheet: str | None = None
    cell: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            parts.append(str(self.file))
        if self.sheet is not None:
            parts.append(f"sheet '{self.sheet}'")
        if self.cell is not None:
            parts.append(f"cell {self.cell}")
        if self.line is not None:
            pos = f"line {self.line}"
            if self.column is not None:
                pos += f", column {self.column}"
            parts.append(pos)
        return ", ".join(parts)


class SurveyError(Exception):
    """Base class of every error a user can cause."""

    def __init__(self, what: str, *, fix: str | None = None, where: Location | None = None):
        self.what = what
        self.fix = fix
        self.where = where
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = f"{self.where}: {self.what}" if self.where and str(self.where) else self.what
        return _join(text, self.fix)


def _join(text: str, fix: str | None) -> str:
    """'what is wrong. What to do.' as one sentence pair."""
    if not fix:
        return text
    return f"{text.rstrip('.')}. {fix[:1].upper()}{fix[1:]}"


class QuestionnaireError(SurveyError):
    """A questionnaire file is not valid; ``problems`` holds every error found."""

    def __init__(self, problems: list[Problem], file: Path | str | None = None):
        self.problems = problems
        head = f"{file}: " if file else ""
        count = len(problems)
        first = problems[0].message if problems else "invalid questionnaire"
        what = first if count == 1 else f"{count} problems, the first: {first}"
        super().__init__(what if not head or first.startswith(str(file)) else head + what)


class ScanError(SurveyError):
    """The scan folder is missing, incomplete or inconsistent."""


class FormError(SurveyError):
    """A returned form cannot be read or does not belong to this scan."""


class ReportError(SurveyError):
    """The report cannot be written."""


@dataclass(frozen=True)
class Problem:
    """One validation finding: an error or a warning, with its location."""

    what: str
    where: Location
    fix: str | None = None
    severity: str = "error"  # "error" or "warning"

    @property
    def message(self) -> str:
        return _join(f"{self.where}: {self.what}", self.fix)
