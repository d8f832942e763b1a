"""Collecting returned forms: every file gets exactly one outcome, nothing is lost,
collecting again adds nothing, and hostile or foreign files never crash a run."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from survey.cli import cli
from survey.collect import collect
from survey.demo import fill_form
from survey.forms import write_forms
from survey.scan import Department, init_scan
from survey.store import Store
from tests.conftest import corpus_dir
from tests.scans import outcomes


@pytest.fixture
def scan(tmp_path):
    scan = init_scan(tmp_path / "scan", "Test org", "werkgeluk", "nl", "2026", 5,
                     [Department("Zorg", 6, 1), Department("Klein", 2, 0)])
    write_forms(scan)
    return scan


def forms_of(scan):
    return sorted(scan.forms_dir.rglob("*.xlsx"))


def fill(scan, form, answers, name=None):
    target = scan.inbox / (name or form.name)
    fill_form(scan, form, answers, target)
    return target


def test_forms_are_written_per_person_and_role(scan):
    forms = forms_of(scan)
    assert len(forms) == 8
    book = load_workbook(forms[0])
    assert book["_meta"].sheet_state == "veryHidden"
    assert book.worksheets[0].protection.sheet is True


def test_accepts_filled_forms_and_reads_the_answers(scan):
    form = forms_of(scan)[0]
    fill(scan, form, {"plezier": 8, "zingeving": 6, "voldoening": 7, "plezier_beter": "Meer tijd"})
    result = collect(scan)
    assert result.count("accepted") == 1
    with Store(scan.store_path) as store:
        answers = {a.field: (a.value_num, a.value_text) for a in store.answers()}
    assert answers["plezier"] == (8.0, None)
    assert answers["zingeving"] == (6.0, None)
    assert answers["plezier_beter"] == (None, "Meer tijd")


def test_rerun_adds_nothing_and_second_copy_is_recorded(scan):
    form = forms_of(scan)[1]
    fill(scan, form, {"plezier": 8})
    fill(scan, form, {"plezier": 9}, name="copy-of-" + form.name)
    first = collect(scan)
    assert first.count("accepted") == 1
    assert first.count("duplicate") + first.count("superseded") == 1
    again = collect(scan)
    assert again.count("unchanged") == 2 and again.count("accepted") == 0
    recorded = outcomes(scan)
    assert len(recorded) == 2
    other = next(reason for outcome, reason in recorded.values() if outcome != "accepted")
    assert "counts" in other


def test_bad_files_are_rejected_with_a_reason(scan, tmp_path):
    (scan.inbox / "notes.txt").write_text("hello")
    (scan.inbox / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not a zip")
    foreign = Workbook()
    foreign.active["A1"] = "some other spreadsheet"
    foreign.save(scan.inbox / "foreign.xlsx")
    form = forms_of(scan)[2]
    (scan.inbox / "empty.xlsx").write_bytes(form.read_bytes())
    (scan.inbox / "~$lock.xlsx").write_bytes(b"lock")
    result = collect(scan)
    assert result.count("rejected") == 5 and result.count("accepted") == 0
    recorded = outcomes(scan)
    assert "not a form (.txt file)" in recorded["notes.txt"][1]
    assert "incomplete workbook" in recorded["broken.xlsx"][1]
    assert "not a form of this scan" in recorded["foreign.xlsx"][1]
    assert "is empty" in recorded["empty.xlsx"][1]
    assert "lock file" in recorded["~$lock.xlsx"][1]


def test_form_of_another_scan_is_rejected(scan, tmp_path):
    other = init_scan(tmp_path / "other", "Other", "werkgeluk", "nl", "2026", 5, [Department("Zorg", 3, 0)])
    write_forms(other)
    fill_form(other, forms_of(other)[0], {"plezier": 5}, scan.inbox / "stray.xlsx")
    collect(scan)
    outcome, reason = outcomes(scan)["stray.xlsx"]
    assert outcome == "rejected" and "belongs to another scan" in reason


def test_invalid_answer_is_left_out_and_recorded(scan):
    form = forms_of(scan)[3]
    target = fill(scan, form, {"plezier": 8, "zingeving": 6})
    book = load_workbook(target)
    cells = {r[0]: r[1] for r in book["_meta"].iter_rows(min_row=13, values_only=True)}
    book.worksheets[0][cells["zingeving"]] = "heel goed"
    book.save(target)
    collect(scan)
    with Store(scan.store_path) as store:
        fields = {a.field for a in store.answers()}
        issues = store.issues()
    assert "plezier" in fields and "zingeving" not in fields
    [(_, where, message), (_, _, missing)] = issues
    assert cells["zingeving"] in where and "is not a mark from 1 to 10" in message
    assert "1 required question(s) not answered" in missing and cells["voldoening"] in missing
    status = CliRunner().invoke(cli, ["status", str(scan.folder)])
    # the cell and what is wrong are shown; what the respondent typed is not (others read status)
    assert status.exit_code == 0 and cells["zingeving"] in status.output and "heel goed" not in status.output


def test_hostile_zip_bomb_and_absurd_cell_are_rejected(scan):
    bomb = scan.inbox / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 150_000_000)
    absurd = scan.inbox / "absurd.xlsx"
    with zipfile.ZipFile(absurd, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", '<worksheet><sheetData><row r="1048576">'
                         '<c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>')
    collect(scan)
    recorded = outcomes(scan)
    assert recorded["bomb.xlsx"][0] == "rejected" and "absurd size" in recorded["bomb.xlsx"][1]
    assert recorded["absurd.xlsx"][0] == "rejected" and "row 1048576" in recorded["absurd.xlsx"][1]


def test_fifo_is_rejected_without_hanging(scan):
    os.mkfifo(scan.inbox / "pipe.xlsx")
    collect(scan)
    assert outcomes(scan)["pipe.xlsx"][0] == "rejected"


def test_realworld_spreadsheets_each_get_an_outcome(scan):
    folder = corpus_dir("realworld-xlsx")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".xlsx", ".xlsm"))
    result = collect(scan, files)
    assert len(result.outcomes) == len(files)
    assert result.count("rejected") == len(files)  # none of them is a form of this scan
    assert all(o.reason for o in result.outcomes)


def test_form_saved_by_libreoffice_is_collected(scan, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed")
    form = forms_of(scan)[4]
    filled = tmp_path / "filled.xlsx"
    fill_form(scan, form, {"plezier": 9, "zingeving": 4, "voldoening_beter": "Meer scholing"}, filled)
    out = tmp_path / "resaved"
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path / 'lo-profile'}",
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(filled)],
                   check=True, capture_output=True, timeout=180)
    shutil.copy(out / "filled.xlsx", scan.inbox / "resaved.xlsx")
    result = collect(scan)
    assert result.count("accepted") == 1, result.outcomes
    with Store(scan.store_path) as store:
        answers = {a.field: (a.value_num, a.value_text) for a in store.answers()}
    assert answers["plezier"] == (9.0, None) and answers["zingeving"] == (4.0, None)
    assert answers["voldoening_beter"] == (None, "Meer scholing")


def test_online_survey_exports_each_get_a_clear_rejection(scan):
    folder = corpus_dir("online-exports")
    result = collect(scan, [folder])
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert len(result.outcomes) == len(files)
    assert all(o.outcome == "rejected" and o.reason for o in result.outcomes)


def test_damaged_zip_and_old_excel_files_are_rejected(scan):
    form = forms_of(scan)[5]
    filled = scan.inbox / "crc.xlsx"
    fill_form(scan, form, {"plezier": 7}, filled)
    data = bytearray(filled.read_bytes())
    # flip bytes inside the compressed worksheet so its checksum no longer matches
    start = data.find(b"xl/worksheets/sheet1.xml") + 200
    data[start:start + 40] = bytes(40)
    filled.write_bytes(bytes(data))
    (scan.inbox / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    result = collect(scan)
    assert result.count("rejected") == 2
    recorded = outcomes(scan)
    # random damage to deflated data shows up as a bad checksum, bad data or more data than declared
    assert any(why in recorded["crc.xlsx"][1] for why in ("damaged", "not an Excel workbook",
                                                          "unpacks to more than it declares")), recorded
    assert "password-protected or an old .xls" in recorded["old.xls"][1]


def test_manager_forms_use_manager_wording_and_scan_threshold(tmp_path):
    scan = init_scan(tmp_path / "s", "Org", "organisatiescan", "nl", "2026", 7, [Department("Zorg", 2, 1)])
    forms = write_forms(scan).forms
    manager = next(f for f in forms if f.meta.role == "manager")
    employee = next(f for f in forms if f.meta.role == "employee")
    book = load_workbook(manager.path)
    texts = [c for row in book.worksheets[0].iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert any("minstens 7" in t for t in texts)  # '{threshold}' in the introduction
    assert any(t.startswith("Mijn medewerkers bepalen zelf") for t in texts)
    lists = [c for row in book["_lists"].iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "Mijn medewerker zelf" in lists and "Ik zelf" not in lists
    # a manager picks the manager label; it is stored as the same code an employee's 'Ik zelf' gives
    fill_form(scan, manager.path, {"pace_map.planning_talk.initiative": "self", "kar_01": 4},
              scan.inbox / "m.xlsx")
    fill_form(scan, employee.path, {"pace_map.planning_talk.initiative": "self", "kar_01": 4},
              scan.inbox / "e.xlsx")
    assert collect(scan).count("accepted") == 2
    with Store(scan.store_path) as store:
        values = [a.value_text for a in store.answers() if a.field == "pace_map.planning_talk.initiative"]
    assert values == ["self", "self"]
