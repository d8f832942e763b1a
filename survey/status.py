"""`survey status`: what has been received, accepted and rejected, per department."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from survey.bases import Response, response
from survey.disclosure import hide_groups
from survey.i18n import percent
from survey.scan import load_scan
from survey.store import Received, Store


@dataclass(frozen=True)
class DepartmentStatus:
    name: str
    expected: int  # headcount in departments.csv, managers included
    issued: int
    accepted: int  # employees and managers
    reportable: str  # 'yes', or why not (and how many more employee forms it needs)
    employees: int = 0  # accepted employee forms
    expected_employees: int = 0
    managers: int = 0  # accepted manager forms
    expected_managers: int = 0


@dataclass(frozen=True)
class ScanStatus:
    folder: Path
    threshold: int
    departments: list[DepartmentStatus]
    received: list[Received]
    issues: list[tuple[str, str, str]]
    managers: str = ""  # the managers' group: answers and whether it is reportable
    per_day: tuple[tuple[str, int], ...] = ()  # (day, forms that came in and count)
    unverified: int = 0  # accepted rows of online exports imported without an issued code
    response: Response | None = None  # everyone who answered over the expected headcount (survey/bases.py)
    language: str = "en"  # numbers are written the scan's way
    waves: tuple[str, ...] = ()  # the earlier waves and how departments continue, or a warning (waves.py)

    def rate(self, d: DepartmentStatus) -> str:
        """Employees who answered over the employees expected: the report's department rate
        (managers are one group for the whole organisation, never counted per department:
        '1/1' would tell HR that a department's only manager took part)."""
        base = Response(d.employees, 0, d.expected_employees, 0)
        return percent(base.rate, self.language) if base.rate is not None else "-"

    def render(self) -> str:
        outcomes = Counter(r.outcome for r in self.received)
        lines = [(f"Scan {self.folder}: {len(self.received)} files received: {outcomes['accepted']} accepted, "
                 f"{outcomes['superseded']} superseded, {outcomes['duplicate']} duplicate, "
                 f"{outcomes['rejected']} rejected"
                  + (f"; {self.unverified} of the accepted were imported as unverified (no issued code)"
                     if self.unverified else ""))]
        lines += [*self.waves, ""]
        width = max([len(d.name) for d in self.departments] + [10])
        lines.append(f"{'department':<{width}}  expected  issued  employees   rate  reportable")
        for d in self.departments:
            rate = f"{self.rate(d):>5}"
            lines.append(f"{d.name:<{width}}  {d.expected:>8}  {d.issued:>6}  "
                         f"{f'{d.employees}/{d.expected_employees}':>9}  {rate}  {d.reportable}")
        lines.append("(rate: employees who answered over the employees expected, as in the report)")
        if self.managers:
            lines.append(f"managers (one group for the whole organisation): {self.managers}")
        if self.response is not None:
            lines += ["", self.response.describe("en", self.language)]
        if self.per_day:
            lines += ["", "Forms in per day (that count): " + ", ".join(f"{day} {n}" for day, n in self.per_day)]
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
    listed = {d.name: d for d in scan.departments}
    departments = [DepartmentStatus(n, expected.get(n, 0), issued[n], accepted[n], why, employees[n],
                                    listed[n].employees if n in listed else 0, accepted[n] - employees[n],
                                    listed[n].managers if n in listed else 0)
                   for n, why in reportability({n: employees[n] for n in names}, scan.anonymity_threshold).items()]
    per_day = Counter(r.received_at[:10] for r in received if r.outcome == "accepted")
    managers = sum(accepted.values()) - sum(employees.values())
    k = scan.anonymity_threshold
    manager_line = f"{managers} answered, reportable " + (
        "yes" if managers >= k else f"no (fewer than {k} answers: {k - managers} more needed)")
    base = response(scan.departments, sum(employees.values()), managers)
    return ScanStatus(folder, scan.anonymity_threshold, departments, received, issues, manager_line,
                      tuple(sorted(per_day.items())), unverified, base, scan.language, _waves(scan))


def _waves(scan) -> tuple[str, ...]:
    """One line per earlier wave; a broken link is a warning here (the scan itself works)."""
    from survey.errors import ScanError
    from survey.waves import earlier_waves

    try:
        earlier = earlier_waves(scan)
    except ScanError as exc:
        return (f"warning: earlier waves: {exc.message}",)
    return tuple(f"Earlier {e.describe()}" for e in reversed(earlier))


def reportability(employees: dict[str, int], threshold: int) -> dict[str, str]:
    """Per department: 'yes', or why not and how many more employee forms it needs. The same
    rule the report applies (survey/disclosure.py), so status never promises a department the
    report hides."""
    hidden = hide_groups(employees, threshold)
    small_total = sum(h.n for h in hidden.values() if h.reason == "small")
    result = {}
    for name, n in employees.items():
        h = hidden.get(name)
        if n == 0:
            result[name] = f"no (no employee answers yet: {threshold} needed)"
        elif h is None:
            result[name] = "yes"
        elif h.reason == "small":
            result[name] = f"no (fewer than {threshold} employee answers: {h.needs(threshold)} more needed)"
        else:
            them = ", ".join(h.protects)
            have = "has" if len(h.protects) == 1 else "together have"
            result[name] = (f"no (hidden so that {them} cannot be worked out; shown once {them} {have} "
                            f"{threshold - small_total} more)")
    return result
