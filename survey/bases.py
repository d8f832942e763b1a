"""Response rate and n, defined once for every output (report cover and tables, `survey status`).

The response of a scan is everyone who answered (employees and managers) over the expected
headcount of departments.csv (which counts managers too), always shown split into employees
and managers. A department's scores are its employees' answers, so a department's own base is
its employees over its expected employees; managers form one group for the whole organisation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from survey.i18n import counted, number, percent, wording
from survey.scan import Department


@dataclass(frozen=True)
class Response:
    employees: int
    managers: int
    expected_employees: int
    expected_managers: int

    @property
    def total(self) -> int:
        return self.employees + self.managers

    @property
    def expected(self) -> int:
        return self.expected_employees + self.expected_managers

    @property
    def rate(self) -> float | None:
        return _rate(self.total, self.expected)

    @property
    def employee_rate(self) -> float | None:
        return _rate(self.employees, self.expected_employees)

    @property
    def manager_rate(self) -> float | None:
        return _rate(self.managers, self.expected_managers)

    def describe(self, lang: str, numbers: str | None = None) -> str:
        """One line, the same in the report and in status: 'Respons 86%: 292 van de 340
        verwachte mensen vulden de vragenlijst in (276 medewerkers, 86%; 16 leidinggevenden, 80%).'"""
        n = numbers or lang  # status speaks English but writes numbers the scan's way
        return wording(lang)["response_line"].format(
            rate=percent(self.rate, n), total=number(self.total, 0, n),
            expected=number(self.expected, 0, n), employees=counted(self.employees, "count_employees", lang),
            employee_rate=percent(self.employee_rate, n), managers=counted(self.managers, "count_managers", lang),
            manager_rate=percent(self.manager_rate, n))


def _rate(n: int, expected: int) -> float | None:
    return n / expected if expected else None


def response(departments: Iterable[Department], employees: int | Mapping[str, int],
             managers: int | Mapping[str, int]) -> Response:
    """The response of these departments: `employees` and `managers` are the numbers who
    answered, in total or per department name (only the named departments count)."""
    departments = list(departments)

    def total(counts: int | Mapping[str, int]) -> int:
        if isinstance(counts, Mapping):
            return sum(counts.get(d.name, 0) for d in departments)
        return counts

    return Response(total(employees), total(managers), sum(d.employees for d in departments),
                    sum(d.managers for d in departments))
