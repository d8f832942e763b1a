"""The scan folder: init, the frozen questionnaire, departments.csv and its errors."""

from __future__ import annotations

import json

from click.testing import CliRunner

from survey.cli import cli
from survey.questionnaire import json_schema
from tests.conftest import ROOT


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_init_creates_the_scan_folder(tmp_path):
    folder = tmp_path / "acme"
    result = run("init", folder, "--org", "Acme Zorg", "--questionnaire", "werkgeluk", "--lang", "en",
                 "--wave", "2027", "--threshold", "7")
    assert result.exit_code == 0, result.output
    assert (folder / "inbox").is_dir()
    assert (folder / "departments.csv").read_text().splitlines()[0] == "key,department,expected_headcount,managers"
    secret = folder / ".survey-secret"
    assert secret.is_file() and (secret.stat().st_mode & 0o077) == 0  # owner only
    settings = (folder / "scan.yaml").read_text()
    assert "organisation: Acme Zorg" in settings and "anonymity_threshold: 7" in settings
    assert "wave: '2027'" in settings or 'wave: "2027"' in settings or "wave: 2027" in settings
    assert "hash: " in settings
    from survey.scan import load_scan

    scan = load_scan(folder)
    assert scan.questionnaire.id == "werkgeluk" and scan.language == "en" and scan.anonymity_threshold == 7


def test_init_refuses_an_existing_scan(tmp_path):
    run("init", tmp_path / "s", "--org", "A", "--questionnaire", "werkgeluk")
    again = run("init", tmp_path / "s", "--org", "A")
    assert again.exit_code == 1 and "already exists" in again.output


def test_edited_frozen_questionnaire_is_refused(tmp_path):
    folder = tmp_path / "s"
    run("init", folder, "--org", "A", "--questionnaire", "werkgeluk")
    frozen = folder / "questionnaire.yaml"
    frozen.write_text(frozen.read_text().replace("Plezier", "Lol"))
    result = run("forms", folder)
    assert result.exit_code == 1
    assert "questionnaire.yaml was changed after the scan started" in result.output


def test_forms_without_departments_says_what_to_do(tmp_path):
    folder = tmp_path / "s"
    run("init", folder, "--org", "A", "--questionnaire", "werkgeluk")
    result = run("forms", folder)
    assert result.exit_code == 1 and "lists no departments" in result.output and "Add one line" in result.output


def test_departments_csv_errors_name_the_line(tmp_path):
    folder = tmp_path / "s"
    run("init", folder, "--org", "A", "--questionnaire", "werkgeluk")
    csv = folder / "departments.csv"
    csv.write_text("department,expected_headcount,managers\nZorg,12,1\nKeuken,veel,0\n")
    result = run("forms", folder)
    assert result.exit_code == 1
    assert "departments.csv, line 3" in result.output and "'veel'" in result.output
    csv.write_text("department;expected_headcount;managers\nZorg;12;1\nZorg;3;0\n")  # Dutch Excel CSV
    result = run("forms", folder)
    assert "line 3" in result.output and "listed twice" in result.output
    csv.write_text("department;expected_headcount;managers\nZorg;12;1\nKeuken;3;0\n")
    result = run("forms", folder)
    assert result.exit_code == 0 and "15 new forms written" in result.output


def test_committed_schema_is_up_to_date():
    committed = json.loads((ROOT / "docs" / "questionnaire.schema.json").read_text(encoding="utf-8"))
    assert committed == json_schema(), "run: survey schema --out docs/questionnaire.schema.json"


def test_damaged_scan_settings_get_a_message(tmp_path):
    folder = tmp_path / "s"
    run("init", folder, "--org", "A", "--questionnaire", "werkgeluk")
    settings = folder / "scan.yaml"
    text = settings.read_text()
    settings.write_text(text.replace("anonymity_threshold: 5", "anonymity_threshold: vijf"))
    result = run("status", folder)
    assert result.exit_code == 1 and "'anonymity_threshold' is missing or not a whole number" in result.output
    assert "scan.yaml, line" in result.output
    settings.write_text("questionnaire: oops\n" + text.split("questionnaire:")[0])
    result = run("status", folder)
    assert result.exit_code == 1 and "'questionnaire' entry" in result.output and "line 1" in result.output
    settings.write_text("organisation: [unclosed\n")
    result = run("status", folder)
    assert result.exit_code == 1 and "cannot be read" in result.output
