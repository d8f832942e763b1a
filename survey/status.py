"""`survey status`: what has been received, accepted and rejected, per department."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from survey.anonymity import Suppression, protect
from survey.scan import load_scan
from survey.store import Received, Store


@dataclass(frozen=True)
class DepartmentStatus:
    name: str
    expected: int
    issued: int
    accepted: int
    reportable: str  # 'yes', or why not


@dataclass(frozen=True)
class ScanStatus:
    folder: Path
    threshold: int
    departments: list[DepartmentStatus]
    received: list[Received]
    issues: list[tuple[str, str, str]]
    unverified: int = 0  # accepted rows of online exports imported without an issued code

    def render(self) -> str:
        outcomes = Counter(r.outcome for r in self.received)
        lines = [(f"Scan {self.folder}: {len(self.received)} files received: {outcomes['accepted']} accepted, "
                 f"{outcomes['superseded']} superseded, {outcomes['duplicate']} duplicate, "
                 f"{outcomes['rejected']} rejected"
                  + (f"; {self.unverified} of the accepted were imported as unverified (no issued code)"
                     if self.unverified else "")), ""]
        width = max([len(d.name) for d in self.departments] + [10])
        lines.append(f"{'department':<{width}}  expected  issued  accepted  rate   reportable")
        for d in self.departments:
            rate = f"{d.accepted / d.issued:5.0%}" if d.issued else "    -"
            lines.append(f"{d.name:<{width}}  {d.expected:>8}  {d.issued:>6}  {d.accepted:>8}  {rate}  "
                         f"{d.reportable}")
        problems = [r for r in self.received if r.outcome != "accepted"]
        if problems:
            lines += ["", "Not counted (each file and why):"]
            lines += [f"  {r.outcome}: {r.path}: {r.reason}" for r in problems]
        if self.issues:
            lines += ["", "Answers to check (these forms were counted):"]
            lines += [f"  {path}, {where}: {message}" for path, where, message in self.issues]
        return "\n".join(lines)


def scan_status(folder: Path) -> ScanStatus:
    """Status is for the consultant and HR, not for a report: counts per department are shown
    so they can chase missing forms."""
    scan = load_scan(folder)
    received: list[Received] = []
    unverified = 0
    issues: list[tuple[str, str, str]] = []
    accepted: Counter[str] = Counter()
    employees: Counter[str] = Counter()
    issued: Counter[str] = Counter()
    if scan.store_path.exists():
        with Store(scan.store_path) as store:
            received = store.received()
            issues = store.issues()
            responses = store.responses()
            unverified = store.unverified_count()
            issued.update(f.department for f in store.issued() if f.wave == scan.wave)
        accepted.update(r.department for r in responses)
        employees.update(r.department for r in responses if r.role == "employee")
    names = [d.name for d in scan.departments] + sorted((set(accepted) | set(issued))
                                                        - {d.name for d in scan.departments})
    expected = {d.name: d.expected_headcount for d in scan.departments}
    # the same rule the report applies, so status never promises a department the report hides
    log: list[Suppression] = []
    protect({n: employees[n] for n in names}, scan.anonymity_threshold, "departments", log)
    why = {entry.group: f"no ({entry.reason})" for entry in log}
    departments = [DepartmentStatus(n, expected.get(n, 0), issued[n], accepted[n],
                                    why.get(n, "yes" if employees[n] else "no (no employee answers yet)"))
                   for n in names]
    return ScanStatus(folder, scan.anonymity_threshold, departments, received, issues, unverified)
