"""Paper forms (issue 13): print-ready PDFs per issued form, and typing them in through an
entry workbook (single and double entry), each typed row with its own outcome."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from survey.collect import collect, form_id_in
from survey.entry import collect_double_entry, write_entry_workbook
from survey.formid import grouped
from survey.forms import write_forms
from survey.scan import Department, Handout, init_scan, load_scan
from survey.store import Store
from tests.scans import outcomes as received


@pytest.fixture
def scan(tmp_path):
    scan = init_scan(tmp_path / "scan", "Test org", "werkgeluk", "nl", "2026", 5,
                     [Department("Zorg", 3, 1), Department("Klein", 2, 0)])
    write_forms(scan)
    return scan


def issued(scan):
    with Store(scan.store_path) as store:
        return store.issued()


def type_rows(path, rows, out):
    """A typist at work: fills rows of the entry workbook (row 3 onwards) by field key."""
    book = load_workbook(path)
    sheet = book.worksheets[0]
    columns = {sheet.cell(row=2, column=c).value: c for c in range(1, sheet.max_column + 1)}
    for index, values in enumerate(rows):
        for key, value in values.items():
            sheet.cell(row=3 + index, column=columns[key], value=value)
    book.save(out)
    return out


def test_entry_workbook_rows_collect_with_their_own_outcomes(scan):
    entry = write_entry_workbook(scan)
    forms = [f for f in issued(scan)]
    zorg_manager = next(f for f in forms if f.role == "manager")
    good = next(f for f in forms if f.role == "employee").form_id
    mistyped = good[:-1] + ("A" if good[-1] != "A" else "B")
    type_rows(entry, [
        {"form_id": grouped(good).lower(), "plezier": "8", "zingeving": 6, "plezier_beter": "Meer collega's"},
        {"form_id": mistyped, "plezier": "7"},
        {"form_id": zorg_manager.form_id, "plezier": "11", "zingeving": "5"},
        {"plezier": "5"},
        {"form_id": "AAAAAAAAAAAAAA", "plezier": "5"},
    ], scan.inbox / "invoer.xlsx")
    result = collect(scan)
    outcomes = received(scan)
    assert outcomes["invoer.xlsx#row 3"] == ("accepted", None)
    assert outcomes["invoer.xlsx#row 4"][0] == "rejected"
    assert f"form id {mistyped} on row 4 is not valid (mistyped?)" in outcomes["invoer.xlsx#row 4"][1]
    assert outcomes["invoer.xlsx#row 5"] == ("accepted", None)  # 11 is no mark: left out, the rest counts
    assert "no form id" in outcomes["invoer.xlsx#row 6"][1]
    assert outcomes["invoer.xlsx#row 7"][0] == "rejected"
    assert result.count("accepted") == 2
    with Store(scan.store_path) as store:
        responses = {r.form_id: r for r in store.responses()}
        answers = {(a.response_id, a.field): (a.value_num, a.value_text) for a in store.answers()}
        issues = store.issues()
    assert responses[zorg_manager.form_id].role == "manager"  # from the issue record
    assert responses[zorg_manager.form_id].department == "Zorg"
    first = responses[good].id
    assert answers[first, "plezier"] == (8.0, None)
    assert answers[first, "plezier_beter"] == (None, "Meer collega's")
    assert any("is not a mark" in message for _, _, message in issues)
    assert collect(scan).count("unchanged") == 5  # collecting again adds nothing


def test_a_moved_column_is_caught(scan):
    entry = write_entry_workbook(scan)
    book = load_workbook(entry)
    sheet = book.worksheets[0]
    sheet["B2"], sheet["D2"] = sheet["D2"].value, sheet["B2"].value  # two columns swapped
    book.save(scan.inbox / "invoer.xlsx")
    collect(scan)
    outcome, reason = received(scan)["invoer.xlsx"]
    assert outcome == "rejected" and "columns were moved" in reason


def test_typed_row_and_returned_file_follow_the_rule_of_copies(scan):
    from survey.demo import fill_form

    form_id = issued(scan)[0].form_id
    xlsx = next(p for p in scan.forms_dir.rglob("*.xlsx") if form_id_in(p) == form_id)
    fill_form(scan, xlsx, {"plezier": 4}, scan.inbox / "returned.xlsx")
    collect(scan)
    type_rows(write_entry_workbook(scan), [{"form_id": form_id, "plezier": "9"}], scan.inbox / "invoer.xlsx")
    collect(scan)
    with Store(scan.store_path) as store:
        copies = store.copies(form_id)
    assert len(copies) == 2 and sum(c.counted for c in copies) == 1


def test_double_entry_collects_agreed_forms_once_and_lists_differences(scan, tmp_path):
    ids = [f.form_id for f in issued(scan)]
    entry = write_entry_workbook(scan)
    rows_a = [{"form_id": ids[0], "plezier": "8", "zingeving": "6"},
              {"form_id": ids[1], "plezier": "7", "zingeving": "6"}]
    rows_b = [{"form_id": ids[1], "plezier": "7", "zingeving": "5"},
              {"form_id": grouped(ids[0]), "plezier": "8", "zingeving": "6"}]
    a = type_rows(entry, rows_a, tmp_path / "typist-a.xlsx")
    b = type_rows(entry, rows_b, tmp_path / "typist-b.xlsx")
    result = collect_double_entry(scan, a, b)
    assert [(d.form_id, d.field, d.value_a, d.value_b) for d in result.differences] == [(ids[1], "zingeving", "6", "5")]
    assert "Zingeving" in result.differences[0].question
    by_outcome = sorted(o.outcome for o in result.outcomes)
    assert by_outcome == ["accepted", "rejected"]
    with Store(scan.store_path) as store:
        assert [r.form_id for r in store.responses()] == [ids[0]]  # collected once; the differing one not at all
    held = next(o for o in result.outcomes if o.outcome == "rejected")
    assert "typed differently" in held.reason and "A '6', B '5'" in held.reason
    # the typists agree: B corrected, collect again: now it counts
    rows_b[0]["zingeving"] = "6"
    type_rows(entry, rows_b, b)
    again = collect_double_entry(scan, a, b)
    assert not again.differences
    with Store(scan.store_path) as store:
        assert sorted(r.form_id for r in store.responses()) == sorted(ids[:2])


def _pdf_text(path):
    from pypdf import PdfReader

    reader = PdfReader(path)
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def test_paper_form_pdf_prints_every_option_page_numbers_the_id_and_the_handout(tmp_path):
    from pypdf import PdfReader

    from survey.paper import _renderer, write_paper_forms
    from survey.questionnaire import model as m

    handout = Handout(date(2026, 12, 15), "de brievenbus bij de receptie", "Anna de Vries, 06-12345678")
    scan = init_scan(tmp_path / "scan", "Zorggroep", "organisatiescan", "nl", "2026", 5,
                     [Department("Thuiszorg", 2, 1)], handout=handout)
    write_forms(scan)
    result = write_paper_forms(scan)
    forms = issued(scan)
    assert len(result.forms) == len(forms) == 2 and len(result.print_files) == 1
    employee = next(f for f in forms if f.role == "employee")
    pdf = next(p for p in result.forms if form_id_in(p.with_suffix(".xlsx")) == employee.form_id)
    pages = _pdf_text(pdf)
    text = " ".join(pages)
    squashed = text.replace(" ", "")
    q = scan.questionnaire
    for f in q.answer_fields():
        if f.scale is None or f.key == "role":
            continue
        scale = q.scales[f.scale]
        labels = [str(v) for v in scale.values] if scale.kind is m.ScaleKind.score else \
            [o.text("nl") for o in scale.options]
        if scale.not_applicable:
            labels.append(scale.not_applicable["nl"])
        for label in labels:  # header cells may wrap: compare without spaces
            assert label.replace(" ", "") in squashed, (f.key, label)
    for number, page in enumerate(pages, start=1):
        assert f"Pagina {number} van {len(pages)}" in page
        assert grouped(employee.form_id) in page  # the id on every page, for typing in
    for item in q.items:
        assert " ".join(item.text["nl"].split()).replace(" ", "")[:30] in squashed
    # what the Excel form says about handing in and privacy, the paper form says too
    assert "Lever je formulier in vóór 15 december 2026" in text
    assert "Inleveren: de brievenbus bij de receptie" in text
    assert "Vragen over deze vragenlijst? Anna de Vries, 06-12345678" in text
    assert "In het rapport staan alleen uitkomsten van groepen van minstens 5 mensen" in text
    assert "kan in het rapport komen, zonder je naam. De adviseur leest het eerst na" in text
    # the form stamped with its id over the shared layout reads as the form laid out whole
    whole = PdfReader(io.BytesIO(_renderer(scan).document(employee).write_pdf())).pages
    assert [sorted(p.split()) for p in pages] == [sorted(p.extract_text().split()) for p in whole]
    # a second run writes nothing new; the print file holds every page of the department's forms
    assert not write_paper_forms(scan).forms
    total = sum(len(PdfReader(p).pages) + len(PdfReader(p).pages) % 2 for p in result.forms)  # duplex: even
    assert len(PdfReader(result.print_files[0]).pages) == total


def test_english_paper_form_has_the_handout_in_english(tmp_path):
    from survey.paper import write_paper_forms

    handout = Handout(date(2026, 12, 15), "the box at reception", "Anna, 06-1234")
    scan = init_scan(tmp_path / "scan", "Org", "werkgeluk", "en", "2026", 7, [Department("Care", 1, 0)],
                     handout=handout)
    write_forms(scan)
    text = " ".join(_pdf_text(write_paper_forms(scan).forms[0]))
    assert "Hand in your form by 15 December 2026" in text
    assert "Where to hand it in: the box at reception" in text and "Questions about this questionnaire? Anna, 06-1234" in text
    assert "The report only shows results of groups of at least 7 people" in text


def _ids_in(text: str, ids: list[str]) -> list[str]:
    squashed = text.replace("-", "").replace(" ", "").upper()
    return [i for i in ids if i in squashed]


def test_file_names_and_document_properties_carry_no_form_id(tmp_path):
    """Nothing HR sees without opening a form (its name, its title, its properties) and
    nothing in the store leads from a file to a form id."""
    import sqlite3
    import zipfile

    from pypdf import PdfReader

    from survey.paper import write_paper_forms

    scan = init_scan(tmp_path / "scan", "Org", "werkgeluk", "nl", "2026", 5,
                     [Department("Zorg", 4, 1), Department("Keuken", 2, 0)])
    write_forms(scan)
    paper = write_paper_forms(scan)
    ids = [f.form_id for f in issued(scan)]
    files = sorted(p for p in scan.forms_dir.rglob("*") if p.is_file())
    assert len([p for p in files if p.suffix == ".pdf"]) == len(ids) + 2  # and a print file per department
    for path in files:
        assert not _ids_in(str(path.relative_to(scan.folder)), ids), path
    names = sorted(p.name for p in files if p.suffix == ".xlsx" and p.parent.name == "Zorg")
    assert names == ["Werkgeluk - Zorg - leidinggevende 1.xlsx"] + [f"Werkgeluk - Zorg - medewerker {n}.xlsx"
                                                                   for n in range(1, 4)]
    for path in files:
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as package:
                for part in ("docProps/core.xml", "docProps/app.xml"):
                    assert not _ids_in(package.read(part).decode(), ids), (path, part)
    for path in paper.forms + paper.print_files:
        reader = PdfReader(path)
        assert not _ids_in(repr(dict(reader.metadata or {})), ids), path
        assert reader.metadata.title == "Werkgeluk"
    # the store: ids with their department folder, no file name, no number
    db = sqlite3.connect(scan.store_path)
    rows = db.execute("SELECT * FROM issued_forms").fetchall()
    assert {row[7] for row in rows} == {"Zorg", "Keuken"}
    assert not any(".xlsx" in str(v) or ".pdf" in str(v) for row in rows for v in row)


def test_forms_again_numbers_on_and_collect_reads_any_name(tmp_path):
    from survey.demo import fill_form
    from survey.paper import write_paper_forms

    scan = init_scan(tmp_path / "scan", "Org", "werkgeluk", "nl", "2026", 5, [Department("Zorg", 3, 0)])
    first = write_forms(scan).forms
    before = {p: p.read_bytes() for p in (s.path for s in first)}
    handed_out = first[0].path  # HR took this one to hand out: the next batch never reuses its name
    handed_out.rename(tmp_path / "elsewhere.xlsx")
    (scan.folder / "departments.csv").write_text("key,department,expected_headcount,managers\nzorg,Zorg,6,0\n")
    second = write_forms(load_scan(scan.folder)).forms
    assert sorted(s.path.name for s in second) == [f"Werkgeluk - Zorg - medewerker {n}.xlsx" for n in (4, 5, 6)]
    assert all(p.read_bytes() == raw for p, raw in before.items() if p.exists())  # nothing rewritten
    assert len(issued(scan)) == 6
    # paper forms only for forms whose Excel file is still there: the one out gets none
    paper = write_paper_forms(load_scan(scan.folder))
    assert len(paper.forms) == 5 and paper.without_excel == 1
    assert all(p.with_suffix(".xlsx").exists() for p in paper.forms)
    # a returned form is read by what is inside, whatever it is called
    fill_form(scan, tmp_path / "elsewhere.xlsx", {"plezier": 7}, scan.inbox / "Mijn formulier (2).xlsx")
    fill_form(scan, second[0].path, {"plezier": 8}, scan.inbox / "scan.xlsx")
    assert collect(scan).count("accepted") == 2
    with Store(scan.store_path) as store:
        assert {r.form_id for r in store.responses()} == {form_id_in(tmp_path / "elsewhere.xlsx"),
                                                          second[0].meta.form_id}


def test_cli_paper_entry_workbook_and_double_entry(scan, tmp_path):
    from click.testing import CliRunner

    from survey.cli import cli

    run = CliRunner().invoke(cli, ["forms", str(scan.folder), "--paper", "--entry-workbook"])
    assert run.exit_code == 0, run.output
    assert "paper forms (PDF)" in run.output and "invoer.xlsx" in run.output
    assert len(list(scan.forms_dir.rglob("*.pdf"))) == len(issued(scan)) + 2  # + a print file per department
    ids = [f.form_id for f in issued(scan)]
    entry = scan.forms_dir / "invoer.xlsx"
    a = type_rows(entry, [{"form_id": ids[0], "plezier": "8"}], tmp_path / "a.xlsx")
    b = type_rows(entry, [{"form_id": ids[0], "plezier": "3"}], tmp_path / "b.xlsx")
    run = CliRunner().invoke(cli, ["collect", str(scan.folder), "--double-entry", str(a), str(b)])
    assert run.exit_code == 0, run.output
    assert f"form {ids[0]}" in run.output and "A '8', B '3'" in run.output
    assert "0 accepted" in run.output


def test_a_changed_mapping_on_the_hidden_sheet_is_caught(scan):
    entry = write_entry_workbook(scan)
    book = load_workbook(entry)
    hidden = book["_entry"]
    for row in hidden.iter_rows():
        if row[0].value == "plezier":
            row[1].value = "D"  # the mapping says plezier sits elsewhere
    book.save(scan.inbox / "invoer.xlsx")
    collect(scan)
    outcome, reason = received(scan)["invoer.xlsx"]
    assert outcome == "rejected" and "signature does not match" in reason


def test_manager_wording_typed_as_printed_is_read(tmp_path):
    scan = init_scan(tmp_path / "scan", "Org", "organisatiescan", "en", "2026", 5, [Department("Care", 2, 1)])
    write_forms(scan)
    manager = next(f for f in issued(scan) if f.role == "manager")
    key = "pace_map.planning_talk.initiative"
    type_rows(write_entry_workbook(scan), [{"form_id": manager.form_id, key: "I, the manager"}],
              scan.inbox / "entry.xlsx")
    assert collect(scan).count("accepted") == 1
    with Store(scan.store_path) as store:
        assert [(a.field, a.value_text) for a in store.answers()] == [(key, "manager")]


def test_the_qr_code_on_a_paper_form_reads_as_its_form_id(tmp_path):
    """What a typist's scanner would type into the entry workbook's form-number column."""
    import shutil
    import subprocess

    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    from survey.paper import write_paper_forms

    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    scan = init_scan(tmp_path / "scan", "Org", "werkgeluk", "en", "2026", 5, [Department("Care", 1, 0)])
    write_forms(scan)
    pdf = write_paper_forms(scan).forms[0]
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    image = Image.open(next(tmp_path.glob("page*.png")))
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [issued(scan)[0].form_id]
