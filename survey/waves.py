"""Waves: a scan linked to the scans before it (issue 12).

`survey init NEW --previous OLD` links a new wave to the one before; `DIR/waves.yaml` names
the earlier waves' folders and how departments continue (renamed, merged, split). This module
reads that link into typed data; the change analysis (`survey/analysis/change.py`) and the
disclosure model read earlier waves only through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from survey.scan import Scan


class Continuity(StrEnum):
    same = "same"  # the department has the same name in both waves
    renamed = "renamed"  # one department of the earlier wave, under a new name
    merged = "merged"  # several departments of the earlier wave became this one
    split = "split"  # one department of the earlier wave became several, this among them
    new = "new"  # nothing in the earlier wave


@dataclass(frozen=True)
class DepartmentLink:
    """How a department of this wave continues departments of an earlier wave."""

    department: str  # its name in this wave
    earlier: tuple[str, ...]  # its name(s) in the earlier wave (empty: new)
    continuity: Continuity

    @property
    def comparable(self) -> bool:
        """A change is shown only for a department that stayed itself (same or renamed)."""
        return self.continuity in (Continuity.same, Continuity.renamed)


@dataclass(frozen=True)
class EarlierWave:
    """One earlier wave as this scan sees it."""

    wave: str  # its label, e.g. "2025"
    folder: Path  # its scan folder (read only)
    scan: Scan
    links: tuple[DepartmentLink, ...]  # one per department of THIS wave
    comparable: frozenset[str] = frozenset()  # item keys with the same trend fingerprint in both
    changed: tuple[str, ...] = ()  # item keys present in both whose fingerprint changed: no trend, named
    gone: tuple[str, ...] = field(default=())  # earlier departments that continue nowhere (named)

    def link(self, department: str) -> DepartmentLink | None:
        return next((d for d in self.links if d.department == department), None)
