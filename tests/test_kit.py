"""The HR kit and the hand-out settings: deadline, return route and contact reach the forms
and every kit text; the forms say truthfully who sees what."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from survey.cli import cli
from survey.collect import form_id_in


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize("lang, deadline_text", [("nl", "15 december 2026"), ("en", "15 December 2026")])
def test_forms_and_kit_carry_deadline_route_and_contact(tmp_path, lang, deadline_text):
    folder = tmp_path / "scan"
    made = run("init", folder, "--org", "De Linde", "--questionnaire", "werkgeluk", "--lang", lang,
               "--deadline", "2026-12-15", "--return-to", "brievenbus receptie", "--contact", "Anna, 06-1234")
    assert made.exit_code == 0, made.output
    (folder / "departments.csv").write_text("department,expected_headcount,managers\nZorg,6,1\n")
    result = run("forms", folder)
    assert result.exit_code == 0, result.output
    kit = folder / "output" / "kit"
    for name in ("invitation", "reminder", "managers"):
        text = (kit / f"{name}-{lang}.txt").read_text(encoding="utf-8")
        assert deadline_text in text and "brievenbus receptie" in text and "Anna, 06-1234" in text
        assert "{{" not in text and "{%" not in text
    assert (kit / f"poster-{lang}.pdf").read_bytes()[:4] == b"%PDF"
    form = next((folder / "forms").rglob("*.xlsx"))
    cells = [c.value for row in load_workbook(form).worksheets[0].iter_rows() for c in row if isinstance(c.value, str)]
    text = " ".join(cells)
    assert deadline_text in text and "brievenbus receptie" in text and "Anna, 06-1234" in text
    assert ("minstens 5 mensen" if lang == "nl" else "at least 5 people") in text
    assert ("zonder je naam" if lang == "nl" else "without your name") in text  # quotes may be used
    assert form_id_in(form) not in text  # the form id is not printed on the questionnaire sheet


def test_missing_settings_are_named_and_a_bad_deadline_gets_its_line(tmp_path):
    folder = tmp_path / "scan"
    run("init", folder, "--org", "De Linde", "--questionnaire", "werkgeluk")
    (folder / "departments.csv").write_text("department,expected_headcount,managers\nZorg,6,1\n")
    result = run("forms", folder)
    assert result.exit_code == 0 and "Fill in deadline, return_to, contact" in result.output
    settings = (folder / "scan.yaml").read_text().replace("deadline: ''", "deadline: next friday")
    (folder / "scan.yaml").write_text(settings)
    result = run("kit", folder)
    assert result.exit_code == 1 and "scan.yaml, line" in result.output and "not a date" in result.output
