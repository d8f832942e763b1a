"""Editions: once results are written, a new edition that differs by fewer than the threshold
of people is refused (comparing the two would give those people's answers away)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from survey.cli import cli
from survey.demo import fill_form
from survey.forms import write_forms
from survey.scan import Department, init_scan
from tests.test_forms_trust import set_saved_time


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_a_late_form_cannot_be_worked_out_from_two_editions(tmp_path):
    scan = init_scan(tmp_path / "scan", "Org", "werkgeluk", "nl", "2026", 5,
                     [Department("A", 6, 0), Department("B", 5, 0)])
    write_forms(scan)
    a_forms = sorted((scan.forms_dir / "A").glob("*.xlsx"))
    b_forms = sorted((scan.forms_dir / "B").glob("*.xlsx"))
    for number, path in enumerate(a_forms[:5] + b_forms):
        fill_form(scan, path, {"plezier": 3 + number % 5}, scan.inbox / f"{number}.xlsx")
    assert run("collect", scan.folder).exit_code == 0
    first = run("analyse", scan.folder)
    assert first.exit_code == 0, first.output
    fill_form(scan, a_forms[5], {"plezier": 9}, scan.inbox / "late.xlsx")
    assert run("collect", scan.folder).exit_code == 0
    again = run("analyse", scan.folder)
    assert again.exit_code == 1 and "already written" in again.output and "A (1 form(s) new or changed)" in again.output
    assert "Hele organisatie (1 form(s) new or changed)" in again.output
    report = run("report", scan.folder, "--no-pdf")
    assert report.exit_code == 1 and "already written" in report.output
    # a corrected copy of a form is a change too
    fixed = run("analyse", scan.folder, "--replace-earlier")
    assert fixed.exit_code == 0, fixed.output
    fill_form(scan, b_forms[0], {"plezier": 1}, scan.inbox / "b0-corrected.xlsx")
    later = (datetime.now(timezone.utc) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    set_saved_time(scan.inbox / "b0-corrected.xlsx", later)  # saved after the original: it counts
    assert run("collect", scan.folder).exit_code == 0
    corrected = run("report", scan.folder, "--no-pdf")
    assert corrected.exit_code == 1 and "B (2 form(s) new or changed)" in corrected.output
    # the same responses again are the same edition: writing results twice is fine
    assert run("analyse", scan.folder, "--replace-earlier").exit_code == 0
    assert run("report", scan.folder, "--no-pdf").exit_code == 0
    assert run("analyse", scan.folder).exit_code == 0


def test_intervals_only_from_twice_the_threshold_and_rounded(tmp_path):
    """Mean, interval and n give the sum of squares: in a group of 5 that often pins down
    every answer, so such a group gets no interval."""
    from openpyxl import load_workbook

    scan = init_scan(tmp_path / "scan", "Org", "werkgeluk", "nl", "2026", 5,
                     [Department("A", 5, 0), Department("B", 6, 0)])
    write_forms(scan)
    for number, path in enumerate(sorted(scan.forms_dir.rglob("*.xlsx"))):
        fill_form(scan, path, {"plezier": 2 + number % 7, "zingeving": 1 + number % 9}, scan.inbox / f"{number}.xlsx")
    run("collect", scan.folder)
    assert run("analyse", scan.folder).exit_code == 0
    rows = list(load_workbook(scan.folder / "output" / "results.xlsx")["items"].iter_rows(values_only=True))
    header = rows[0]
    by_group = {}
    for row in rows[1:]:
        record = dict(zip(header, row))
        by_group.setdefault(record["group"], []).append(record)
    for group, records in by_group.items():
        for record in records:
            if record["n"] < 10:
                assert record["ci_low"] is None and record["ci_high"] is None, (group, record)
            else:
                assert record["ci_low"] is not None and round(record["ci_low"], 1) == record["ci_low"]
    assert any(r["n"] >= 10 for records in by_group.values() for r in records)
    assert any(r["n"] < 10 for records in by_group.values() for r in records)
