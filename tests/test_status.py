"""`survey status` for HR: progress per department and role against the expected headcount,
forms in per day, what each group still needs, and every file's outcome."""

from __future__ import annotations

from click.testing import CliRunner

from survey.cli import cli
from survey.demo import fill_form
from survey.forms import write_forms
from survey.scan import Department, init_scan


def test_status_shows_progress_per_department_and_role(tmp_path):
    scan = init_scan(tmp_path / "scan", "Org", "werkgeluk", "nl", "2026", 5,
                     [Department("Zorg", 8, 2), Department("Keuken", 4, 1)])
    forms = write_forms(scan).forms
    zorg_employees = [f for f in forms if f.meta.department == "Zorg" and f.meta.role == "employee"]
    zorg_manager = next(f for f in forms if f.meta.department == "Zorg" and f.meta.role == "manager")
    for number, spec in enumerate(zorg_employees[:4] + [zorg_manager]):
        fill_form(scan, spec.path, {"plezier": 7}, scan.inbox / f"{number}.xlsx")
    (scan.inbox / "notes.txt").write_text("not a form")
    CliRunner().invoke(cli, ["collect", str(scan.folder)])
    result = CliRunner().invoke(cli, ["status", str(scan.folder)])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines() if line.startswith(("Zorg", "Keuken"))}
    # employees per department and their rate as the report has it; managers only as one group
    assert "4/6" in lines["Zorg"] and "67%" in lines["Zorg"] and "1/2" not in lines["Zorg"]
    assert "8" in lines["Zorg"].split()[2]
    assert "1 more needed" in lines["Zorg"]  # 4 employee answers, threshold 5
    assert "0/3" in lines["Keuken"] and "0/1" not in lines["Keuken"]
    assert "Forms in per day (that count): " in result.output and " 5" in result.output.split("per day")[1]
    assert "rejected: " in result.output and "notes.txt" in result.output
