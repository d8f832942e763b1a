"""Forms that cannot be forged: every edit a respondent could make with a spreadsheet program
or openpyxl is caught on collect, ids never repeat, departments.csv can change after forms
are out, and copies of a form follow one rule whatever their names or order."""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from survey.cli import cli
from survey.collect import collect, form_id_in
from survey.demo import fill_form
from survey.errors import ScanError
from survey.formid import grouped, new_form_id, normalise
from survey.forms import META_KEYS, META_SHEET, write_forms
from survey.scan import Department, init_scan, load_scan
from survey.store import Store


@pytest.fixture
def scan(tmp_path):
    scan = init_scan(tmp_path / "scan", "Test org", "werkgeluk", "nl", "2026", 5,
                     [Department("Zorg", 6, 1), Department("Keuken", 4, 0)])
    write_forms(scan)
    return load_scan(scan.folder)


def forms_in(scan, department_slug=None):
    root = scan.forms_dir / department_slug if department_slug else scan.forms_dir
    return sorted(root.rglob("*.xlsx"))


def employee_forms(scan, slug="Zorg"):
    return [f for f in forms_in(scan, slug) if _meta(f)["role"] == "employee"]


def _meta(path: Path) -> dict[str, str]:
    sheet = load_workbook(path)[META_SHEET]
    return {str(r[0]): r[1] for r in sheet.iter_rows(max_row=len(META_KEYS), values_only=True)}


def edit_meta(source: Path, target: Path, **changes) -> None:
    """What a respondent with openpyxl does: open, change the hidden information, save."""
    book = load_workbook(source)
    sheet = book[META_SHEET]
    for row in sheet.iter_rows(max_row=len(META_KEYS)):
        if row[0].value in changes:
            row[1].value = changes[row[0].value]
    book.save(target)


def outcome_of(scan, name):
    with Store(scan.store_path) as store:
        rows = [r for r in store.received() if Path(r.path).name == name]
    assert len(rows) == 1, rows
    return rows[0].outcome, rows[0].reason


def counted(scan):
    with Store(scan.store_path) as store:
        return [(r.form_id, r.department, r.role) for r in store.responses()]


ANSWERS = {"plezier": 8, "zingeving": 6, "voldoening": 7}


# --------------------------------------------------------------------------- ids


def test_form_ids_are_random_checked_and_never_numbers():
    ids = {new_form_id() for _ in range(2000)}
    assert len(ids) == 2000
    for form_id in list(ids)[:200]:
        assert len(form_id) == 14 and form_id[0].isalpha() and not form_id.isdigit()
        assert normalise(form_id) == form_id
        assert normalise(grouped(form_id).lower()) == form_id  # typed in groups, any case
        # every single mistyped symbol is caught by the check symbol
        for position in range(len(form_id)):
            for wrong in "0A7Z":
                typo = form_id[:position] + wrong + form_id[position + 1:]
                if typo != form_id:
                    assert normalise(typo) is None
        # and every swap of two neighbouring symbols
        for position in range(len(form_id) - 1):
            swapped = form_id[:position] + form_id[position + 1] + form_id[position] + form_id[position + 2:]
            if swapped != form_id:
                assert normalise(swapped) is None


def test_issued_forms_are_recorded_with_their_department_and_role(scan):
    with Store(scan.store_path) as store:
        issued = store.issued()
    assert len(issued) == 10
    assert {(f.department, f.role) for f in issued} == {("Zorg", "employee"), ("Zorg", "manager"),
                                                         ("Keuken", "employee")}
    assert {form_id_in(p) for p in forms_in(scan)} == {f.form_id for f in issued}


# --------------------------------------------------------------------------- forgery


@pytest.mark.parametrize("changes, reason", [
    ({"department": "Keuken"}, "hidden information was changed"),
    ({"department_key": "keuken"}, "hidden information was changed"),
    ({"department": "Bestaat Niet", "department_key": "bestaat-niet"}, "hidden information was changed"),
    ({"role": "manager"}, "hidden information was changed"),
    ({"form_id": "ABCDEFGHJKMNPQ"}, "hidden information was changed"),
    ({"wave": "2025"}, "hidden information was changed"),
    ({"scan_id": "000000000000"}, "belongs to another scan"),
    ({"signature": "0" * 64}, "hidden information was changed"),
    ({"format": "1"}, "older version of survey"),
])
def test_edited_hidden_information_is_rejected(scan, tmp_path, changes, reason):
    form = employee_forms(scan)[0]
    filled = tmp_path / "filled.xlsx"
    fill_form(scan, form, ANSWERS, filled)
    edit_meta(filled, scan.inbox / "forged.xlsx", **changes)
    result = collect(scan)
    assert result.count("accepted") == 0
    outcome, why = outcome_of(scan, "forged.xlsx")
    assert outcome == "rejected" and reason in why
    assert counted(scan) == []


def test_forged_forms_cannot_pad_a_small_department(scan, tmp_path):
    """Copies of a real form given new ids (the padding attack) never count."""
    genuine = employee_forms(scan, "Keuken")[0]
    fill_form(scan, genuine, ANSWERS, scan.inbox / "genuine.xlsx")
    for number in range(3):
        edit_meta(scan.inbox / "genuine.xlsx", scan.inbox / f"padding-{number}.xlsx", form_id=new_form_id())
    result = collect(scan)
    assert result.count("accepted") == 1 and result.count("rejected") == 3
    assert [d for _, d, _ in counted(scan)] == ["Keuken"]


def test_form_of_another_scan_with_its_scan_id_rewritten_is_rejected(scan, tmp_path):
    other = init_scan(tmp_path / "other", "Other", "werkgeluk", "nl", "2026", 5, [Department("Zorg", 6, 1)])
    write_forms(other)
    form = sorted(other.forms_dir.rglob("*.xlsx"))[0]
    fill_form(other, form, ANSWERS, tmp_path / "theirs.xlsx")
    edit_meta(tmp_path / "theirs.xlsx", scan.inbox / "theirs.xlsx", scan_id=scan.scan_id)
    collect(scan)
    outcome, why = outcome_of(scan, "theirs.xlsx")
    assert outcome == "rejected" and "hidden information was changed" in why


def test_department_and_role_come_from_the_issue_record(scan):
    form = next(f for f in forms_in(scan, "Zorg") if _meta(f)["role"] == "manager")
    fill_form(scan, form, ANSWERS, scan.inbox / "m.xlsx")
    collect(scan)
    assert counted(scan) == [(form_id_in(form), "Zorg", "manager")]


def test_sheets_and_structure_are_locked_with_a_password(scan):
    book = load_workbook(forms_in(scan)[0])
    assert book.security.lockStructure
    assert book.security.workbookPassword
    for sheet in book.worksheets:
        assert sheet.protection.sheet and sheet.protection.password
    secret = (scan.folder / ".survey-secret").read_text().strip()
    for path in forms_in(scan):  # the secret never travels in a form
        with __import__("zipfile").ZipFile(path) as archive:
            for name in archive.namelist():
                assert secret.encode() not in archive.read(name)


# --------------------------------------------------------------------------- shifted rows


def _answer_rows(path: Path) -> dict[str, int]:
    sheet = load_workbook(path).worksheets[0]
    rows = {}
    for row in sheet.iter_rows(min_col=5, max_col=5):
        value = row[0].value
        if isinstance(value, str):
            for tag in value.split():
                column, key = tag.split("=", 1)
                rows[key] = row[0].row
    return rows


def test_inserted_row_still_reads_every_answer_right(scan, tmp_path):
    form = employee_forms(scan)[0]
    filled = tmp_path / "filled.xlsx"
    fill_form(scan, form, ANSWERS, filled)
    book = load_workbook(filled)
    sheet = book.worksheets[0]
    first = min(_answer_rows(filled).values())
    sheet.insert_rows(first)  # what unprotecting and inserting a row does
    sheet[f"B{first}"] = "Een vraag die ik zelf toevoeg"
    sheet[f"C{first}"] = "1"
    book.save(scan.inbox / "inserted.xlsx")
    result = collect(scan)
    assert result.count("accepted") == 1
    with Store(scan.store_path) as store:
        answers = {a.field: a.value_num for a in store.answers()}
    assert {k: answers.get(k) for k in ANSWERS} == {k: float(v) for k, v in ANSWERS.items()}


def test_deleted_row_loses_only_that_answer_and_says_so(scan, tmp_path):
    form = employee_forms(scan)[0]
    filled = tmp_path / "filled.xlsx"
    fill_form(scan, form, ANSWERS, filled)
    rows = _answer_rows(filled)
    book = load_workbook(filled)
    book.worksheets[0].delete_rows(rows["zingeving"])
    book.save(scan.inbox / "deleted.xlsx")
    collect(scan)
    with Store(scan.store_path) as store:
        answers = {a.field: a.value_num for a in store.answers()}
        issues = store.issues()
    assert answers.get("plezier") == 8.0 and answers.get("voldoening") == 7.0
    assert "zingeving" not in answers
    assert any("deleted" in message for _, _, message in issues)


def test_moved_tags_cannot_put_an_answer_under_another_question(scan, tmp_path):
    """Swapping two answer columns is caught; the cell is named."""
    form = employee_forms(scan)[0]
    filled = tmp_path / "filled.xlsx"
    fill_form(scan, form, ANSWERS, filled)
    book = load_workbook(filled)
    sheet = book.worksheets[0]
    row = _answer_rows(filled)["plezier"]
    sheet[f"E{row}"] = sheet[f"E{row}"].value.replace("C=", "D=")
    book.save(scan.inbox / "moved.xlsx")
    collect(scan)
    outcome, why = outcome_of(scan, "moved.xlsx")
    assert outcome == "rejected" and f"row {row}" in why


# --------------------------------------------------------------------------- copies


def set_saved_time(path: Path, moment: str) -> None:
    """Rewrite dcterms:modified in docProps/core.xml (openpyxl would stamp 'now' on save)."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as archive:
        parts = {info: archive.read(info.filename) for info in archive.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in parts.items():
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + moment.encode(), data)
            archive.writestr(info.filename, data)


def _copies(scan, tmp_path):
    form = employee_forms(scan)[0]
    made = []
    for number, mark in enumerate((6, 7, 9)):
        target = tmp_path / f"v{number}.xlsx"
        fill_form(scan, form, {"plezier": mark}, target)
        set_saved_time(target, f"2026-03-0{1 + number}T10:00:00Z")  # as Excel records a save
        made.append(target)
    return form, made


def test_copies_follow_one_rule_in_every_order_and_name(scan, tmp_path):
    form, made = _copies(scan, tmp_path)
    names = ["a.xlsx", "b.xlsx", "c.xlsx"]
    results = set()
    for order in itertools.permutations(range(3)):
        for name_order in (names, names[::-1]):
            if scan.store_path.exists():
                os.remove(scan.store_path)
                for suffix in ("-wal", "-shm"):
                    Path(str(scan.store_path) + suffix).unlink(missing_ok=True)
                shutil.rmtree(scan.inbox)
                scan.inbox.mkdir()
                with Store(scan.store_path) as store:  # the issue record is what collect checks
                    from survey.store import IssuedForm
                    store.issue([IssuedForm(form_id_in(form), "zorg", "Zorg", "employee", "2026", "nl", "", "x")])
            outcome_by_version = {}
            for step, index in enumerate(order):
                shutil.copy(made[index], scan.inbox / name_order[index])
                collect(scan)  # one at a time: the order of arrival differs
            for index in range(3):
                outcome_by_version[index] = outcome_of(scan, name_order[index])[0]
            with Store(scan.store_path) as store:
                value = [a.value_num for a in store.answers() if a.field == "plezier"]
            results.add((tuple(sorted(outcome_by_version.items())), tuple(value)))
    assert results == {(((0, "superseded"), (1, "superseded"), (2, "accepted")), (9.0,))}


def test_identical_copy_is_recorded_as_duplicate(scan, tmp_path):
    form = employee_forms(scan)[0]
    fill_form(scan, form, ANSWERS, scan.inbox / "one.xlsx")
    shutil.copy(scan.inbox / "one.xlsx", scan.inbox / "two.xlsx")
    result = collect(scan)
    assert sorted(o.outcome for o in result.outcomes) == ["accepted", "duplicate"]
    # which of two identical files is called the copy does not matter for the data; the other is named
    first, second = sorted(("one.xlsx", "two.xlsx"), key=lambda n: outcome_of(scan, n)[0])
    assert outcome_of(scan, first)[0] == "accepted"
    assert f"identical copy of {first}" in outcome_of(scan, second)[1]
    status = CliRunner().invoke(cli, ["status", str(scan.folder)])
    assert "duplicate: " in status.output and second in status.output


def test_keep_lets_the_consultant_choose_and_is_recorded(scan, tmp_path):
    form, made = _copies(scan, tmp_path)
    for index, path in enumerate(made):
        shutil.copy(path, scan.inbox / f"copy{index}.xlsx")
    collect(scan)
    assert outcome_of(scan, "copy2.xlsx")[0] == "accepted"
    result = CliRunner().invoke(cli, ["collect", str(scan.folder), "--keep", str(scan.inbox / "copy0.xlsx")])
    assert result.exit_code == 0, result.output
    assert outcome_of(scan, "copy0.xlsx")[0] == "accepted"
    assert outcome_of(scan, "copy2.xlsx") == ("superseded", f"the consultant chose copy0.xlsx for form {form_id_in(form)}")
    with Store(scan.store_path) as store:
        assert [a.value_num for a in store.answers() if a.field == "plezier"] == [6.0]
    collect(scan)  # the decision holds on the next collect
    assert outcome_of(scan, "copy0.xlsx")[0] == "accepted"


# --------------------------------------------------------------------------- departments.csv changes


def _csv(scan, text):
    (scan.folder / "departments.csv").write_text(text, encoding="utf-8")


def _digest(paths):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_departments_gain_lose_reorder_and_rename_without_touching_forms_out(scan, tmp_path):
    before = _digest(forms_in(scan))
    returned = employee_forms(scan, "Keuken")[0]
    fill_form(scan, returned, ANSWERS, tmp_path / "keuken.xlsx")
    # reorder, rename Zorg (same key), add Schoonmaak, grow Keuken by 2
    _csv(scan, "key,department,expected_headcount,managers\n"
               "keuken,Keuken,6,0\nnieuw,Schoonmaak,3,0\nzorg,Wijkzorg,6,1\n")
    result = CliRunner().invoke(cli, ["forms", str(scan.folder)])
    assert result.exit_code == 0, result.output
    assert "Keuken: 2 employee forms issued" in result.output
    assert "Schoonmaak: 3 employee forms issued" in result.output
    assert "Wijkzorg: nothing new" in result.output
    after = _digest(forms_in(scan))
    assert {k: v for k, v in after.items() if k in before} == before  # nothing rewritten
    assert len(after) == len(before) + 5
    # remove Keuken: no new forms, its return still counts for it
    _csv(scan, "key,department,expected_headcount,managers\nnieuw,Schoonmaak,3,0\nzorg,Wijkzorg,6,1\n")
    result = CliRunner().invoke(cli, ["forms", str(scan.folder)])
    assert "Keuken: no longer in departments.csv" in result.output
    shutil.copy(tmp_path / "keuken.xlsx", scan.inbox / "keuken.xlsx")
    assert collect(load_scan(scan.folder)).count("accepted") == 1
    assert [d for _, d, _ in counted(scan)] == ["Keuken"]


def test_csv_without_keys_gets_keys_and_rename_keeps_forms(tmp_path):
    folder = tmp_path / "s"
    CliRunner().invoke(cli, ["init", str(folder), "--org", "A", "--questionnaire", "werkgeluk"])
    (folder / "departments.csv").write_text("department,expected_headcount,managers\nZorg,5,0\n")
    first = CliRunner().invoke(cli, ["forms", str(folder)])
    assert first.exit_code == 0 and "5 new forms" in first.output
    assert (folder / "departments.csv").read_text().splitlines()[1].startswith("zorg,Zorg,5,0")
    text = (folder / "departments.csv").read_text().replace(",Zorg,", ",Zorg Noord,")
    (folder / "departments.csv").write_text(text)
    again = CliRunner().invoke(cli, ["forms", str(folder)])
    assert "0 new forms" in again.output and "Zorg Noord: nothing new" in again.output


def test_add_issues_extra_forms(scan):
    result = CliRunner().invoke(cli, ["forms", str(scan.folder), "--add", "2", "--department", "Keuken"])
    assert result.exit_code == 0, result.output
    assert "2 new forms" in result.output
    assert len(employee_forms(scan, "Keuken")) == 6
    wrong = CliRunner().invoke(cli, ["forms", str(scan.folder), "--add", "2", "--department", "Nergens"])
    assert wrong.exit_code == 1 and "no department 'Nergens'" in wrong.output


def test_failed_forms_run_leaves_no_half_set(scan, monkeypatch):
    import survey.forms as forms_module

    _csv(scan, "key,department,expected_headcount,managers\nzorg,Zorg,6,1\nkeuken,Keuken,4,0\nx,Extra,5,0\n")
    calls = {"n": 0}
    original = forms_module._FormBuilder.save

    def failing(self, meta, path):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device", str(path))
        return original(self, meta, path)

    monkeypatch.setattr(forms_module._FormBuilder, "save", failing)
    before = sorted(forms_in(scan))
    result = CliRunner().invoke(cli, ["forms", str(scan.folder)])
    assert result.exit_code == 1 and "No space left" in result.output
    assert sorted(forms_in(scan)) == before
    with Store(scan.store_path) as store:
        assert len(store.issued()) == 10
    assert not list(scan.forms_dir.glob(".incoming-*"))


def test_large_headcount_asks_for_confirmation(scan):
    _csv(scan, "key,department,expected_headcount,managers\nzorg,Zorg,6,1\nkeuken,Keuken,4,0\nx,Groot,2500,0\n")
    result = CliRunner().invoke(cli, ["forms", str(scan.folder)])
    assert result.exit_code == 1 and "Groot would get 2500 forms" in result.output and "--yes" in result.output
    assert len(forms_in(scan)) == 10


# --------------------------------------------------------------------------- set-up


def test_init_never_destroys_work(tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "departments.csv").write_text("department,expected_headcount,managers\nZorg,12,1\n")
    refused = CliRunner().invoke(cli, ["init", str(folder), "--org", "A"])
    assert refused.exit_code == 1 and "filled departments.csv" in refused.output and "--force" in refused.output
    assert "Zorg,12,1" in (folder / "departments.csv").read_text()
    (folder / "scan.db").write_bytes(b"")
    refused = CliRunner().invoke(cli, ["init", str(folder), "--org", "A"])
    assert refused.exit_code == 1 and "scan.db" in refused.output
    forced = CliRunner().invoke(cli, ["init", str(folder), "--org", "A", "--force"])
    assert forced.exit_code == 0 and "Replaced: scan.db" in forced.output


def test_formula_like_department_names_are_text_and_collect(tmp_path):
    names = ["=HYPERLINK(\"http://x\";\"klik\")", "+31 Zorg", "-Keuken", "@Team"]
    scan = init_scan(tmp_path / "s", "A", "werkgeluk", "nl", "2026", 5, [Department(n, 5, 0) for n in names])
    write_forms(scan)
    for path in sorted(scan.forms_dir.rglob("*.xlsx")):
        book = load_workbook(path)
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path, cell.coordinate, cell.value)
        fill_form(scan, path, ANSWERS, scan.inbox / path.name)
    result = collect(scan)
    assert result.count("accepted") == 20
    assert sorted({d for _, d, _ in counted(scan)}) == sorted(names)


def test_departments_csv_control_characters_and_binary_are_refused(tmp_path):
    folder = tmp_path / "s"
    CliRunner().invoke(cli, ["init", str(folder), "--org", "A", "--questionnaire", "werkgeluk"])
    (folder / "departments.csv").write_text("department,expected_headcount,managers\nZorg,5,0\nKe\x1b[31muken,5,0\n")
    result = CliRunner().invoke(cli, ["forms", str(folder)])
    assert result.exit_code == 1 and "line 3" in result.output and "control characters" in result.output
    (folder / "departments.csv").write_bytes(b"PK\x03\x04" + os.urandom(200))
    result = CliRunner().invoke(cli, ["forms", str(folder)])
    assert result.exit_code == 1 and "not a text file" in result.output and "Traceback" not in result.output


# --------------------------------------------------------------------------- found by the forging attack


def _unprotected(path: Path, edit) -> Path:
    """What a respondent does after stripping the sheet protection: edit with openpyxl."""
    book = load_workbook(path)
    for sheet in book.worksheets:
        sheet.protection.sheet = False
    edit(book)
    book.save(path)
    return path


def test_swapped_or_merged_tags_are_refused(scan, tmp_path):
    form = employee_forms(scan)[0]
    for name, edit in (
        ("swap.xlsx", lambda book, rows: (
            book.worksheets[0].__setitem__(f"E{rows['plezier']}", f"C=zingeving"),
            book.worksheets[0].__setitem__(f"E{rows['zingeving']}", f"C=plezier"))),
        ("merge.xlsx", lambda book, rows: (
            book.worksheets[0].__setitem__(f"E{rows['plezier']}", "C=plezier C=zingeving C=voldoening"),
            book.worksheets[0].__setitem__(f"E{rows['zingeving']}", None),
            book.worksheets[0].__setitem__(f"E{rows['voldoening']}", None))),
    ):
        target = scan.inbox / name
        fill_form(scan, form, {"plezier": 10, "zingeving": 1, "voldoening": 5}, target)
        rows = _answer_rows(target)
        _unprotected(target, lambda book: edit(book, rows))
    collect(scan)
    for name in ("swap.xlsx", "merge.xlsx"):
        outcome, why = outcome_of(scan, name)
        assert outcome == "rejected" and "hidden tags" in why, (name, why)
    assert counted(scan) == []


def test_a_hidden_sheet_in_front_is_not_read_as_the_answers(scan):
    form = employee_forms(scan)[0]
    target = scan.inbox / "hidden-first.xlsx"
    fill_form(scan, form, {"plezier": 9, "zingeving": 9, "voldoening": 9}, target)

    def add_decoy(book):
        decoy = book.copy_worksheet(book.worksheets[0])
        for row in decoy.iter_rows():
            for cell in row:
                if cell.value == 9:
                    cell.value = 1
        decoy.title = "Zzz"
        decoy.sheet_state = "hidden"
        book.move_sheet(decoy, offset=-len(book.worksheets) + 1)

    _unprotected(target, add_decoy)
    collect(scan)
    with Store(scan.store_path) as store:
        assert {a.field: a.value_num for a in store.answers()}["plezier"] == 9.0


def test_marks_that_are_not_whole_are_not_cut_off(scan):
    form = employee_forms(scan)[0]
    fill_form(scan, form, {"plezier": "7.5", "zingeving": "8 maar slecht", "voldoening": "9,0"},
              scan.inbox / "marks.xlsx")
    collect(scan)
    with Store(scan.store_path) as store:
        answers = {a.field: a.value_num for a in store.answers()}
        issues = [message for _, _, message in store.issues()]
    assert answers.get("voldoening") == 9.0
    assert "plezier" not in answers and "zingeving" not in answers
    assert sum("is not a mark from 1 to 10" in m for m in issues) == 2


def test_inserted_column_is_named_not_called_empty(scan):
    form = employee_forms(scan)[0]
    target = scan.inbox / "column.xlsx"
    fill_form(scan, form, ANSWERS, target)
    _unprotected(target, lambda book: book.worksheets[0].insert_cols(1))
    collect(scan)
    outcome, why = outcome_of(scan, "column.xlsx")
    assert outcome == "rejected" and "columns were inserted or deleted" in why


def test_a_save_time_in_the_future_does_not_win(scan, tmp_path):
    form = employee_forms(scan)[0]
    fill_form(scan, form, {"plezier": 9}, scan.inbox / "alice.xlsx")
    set_saved_time(scan.inbox / "alice.xlsx", "2026-03-01T10:00:00Z")
    fill_form(scan, form, {"plezier": 1}, scan.inbox / "mallory.xlsx")
    set_saved_time(scan.inbox / "mallory.xlsx", "2099-12-31T23:59:59Z")
    collect(scan)
    assert outcome_of(scan, "alice.xlsx")[0] == "accepted"
    assert outcome_of(scan, "mallory.xlsx")[0] == "superseded"
    with Store(scan.store_path) as store:
        assert [a.value_num for a in store.answers() if a.field == "plezier"] == [9.0]


def test_moving_the_scan_folder_adds_nothing(scan, tmp_path):
    for number, form in enumerate(employee_forms(scan)[:3]):
        fill_form(scan, form, ANSWERS, scan.inbox / f"{number}.xlsx")
    collect(scan)
    moved = tmp_path / "moved"
    shutil.copytree(scan.folder, moved)
    again = collect(load_scan(moved))
    assert again.count("unchanged") == 3 and again.count("duplicate") == 0


def test_key_case_names_moved_without_keys_and_keys_removed_on_rename(scan):
    # a key typed in another case is the same key
    _csv(scan, "key,department,expected_headcount,managers\nZORG,Zorg,6,1\nkeuken,Keuken,4,0\n")
    same = CliRunner().invoke(cli, ["forms", str(scan.folder)])
    assert same.exit_code == 0 and "0 new forms" in same.output
    # names sorted without their keys
    _csv(scan, "key,department,expected_headcount,managers\nzorg,Keuken,6,1\nkeuken,Zorg,4,0\n")
    swapped = CliRunner().invoke(cli, ["forms", str(scan.folder)])
    assert swapped.exit_code == 1 and "names moved without their keys" in swapped.output
    refused = CliRunner().invoke(cli, ["collect", str(scan.folder)])
    assert refused.exit_code == 1 and "names moved without their keys" in refused.output
    # the key column emptied while a department was renamed
    _csv(scan, "department,expected_headcount,managers\nWijkzorg,6,1\nKeuken,4,0\n")
    unkeyed = CliRunner().invoke(cli, ["forms", str(scan.folder)])
    assert unkeyed.exit_code == 1 and "has no key" in unkeyed.output and "'zorg' (Zorg)" in unkeyed.output
    assert len(forms_in(scan)) == 10
