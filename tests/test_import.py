"""Importing online tools' exports: every corpus export imports with a drafted and checked
mapping, with issued codes and without (rejected, or accepted as unverified); identifying
columns never reach the store; every row gets one outcome."""

from __future__ import annotations

import csv
import io
import re

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from survey.cli import cli
from survey.errors import Location
from survey.formid import grouped, new_form_id
from survey.forms import issue_codes
from survey.importing import (MappingError, draft_mapping, identifying, import_export, load_mapping, read_export,
                              write_draft)
from survey.scan import Department, init_scan
from survey.store import Store
from tests.conftest import corpus_dir

QUESTIONNAIRE = """
id: online-test
version: "1"
languages: [nl, en]
title: {nl: Werkgeluk en ontwikkeling, en: Happiness and development}
scales:
  agree:
    kind: ordinal
    options:
      - {code: 1, label: {nl: Helemaal mee oneens, en: Strongly disagree}}
      - {code: 2, label: {nl: Mee oneens, en: Disagree}}
      - {code: 3, label: {nl: Neutraal, en: Neither agree nor disagree}}
      - {code: 4, label: {nl: Mee eens, en: Agree}}
      - {code: 5, label: {nl: Helemaal mee eens, en: Strongly agree}}
sections:
  - id: s
    title: {nl: Stellingen, en: Statements}
    items:
      - id: gesprek
        type: statement
        scale: agree
        text: {nl: Ik bepaal zelf wanneer ik een ontwikkelgesprek heb., en: I decide when I have a development conversation.}
      - id: richting
        type: statement
        scale: agree
        text: {nl: Ik weet waar mijn afdeling naartoe wil., en: I know where my department is heading.}
      - id: dossier
        type: statement
        scale: agree
        text: {nl: Ik houd zelf mijn ontwikkeldossier bij., en: I keep my own development file up to date.}
      - id: remt
        type: statement
        scale: agree
        text: {nl: Mijn leidinggevende remt mij af als ik iets nieuws wil leren., en: My manager slows me down when I want to learn something new.}
      - id: nodig
        type: open
        text: {nl: Wat heb je nodig om je verder te ontwikkelen?, en: What do you need to develop further?}
"""
DEPARTMENTS = {"nl": ["Zorg", "Facilitair", "Administratie", "Management"],
               "en": ["Care", "Facilities", "Administration", "Management"]}
FIELDS = {"gesprek", "richting", "dossier", "remt", "nodig"}
# LimeSurvey "answer codes" export: AO01..AO05 are the tool's own codes, which no draft can
# know; the consultant fills them in when checking (the order of this synthetic survey).
LIME_CODES = {"AO01": "Zorg", "AO02": "Facilitair", "AO03": "Administratie", "AO04": "Management"}
LIME_ANSWERS = {"AO01": 1, "AO02": 2, "AO03": 3, "AO04": 4, "AO05": 5}

# (folder, file, scan language, columns to check do not reach the store)
EXPORTS = [
    ("google-forms", "google-forms_download-responses.csv", "nl"),
    ("google-forms", "google-sheets_form-responses-1_nl.csv", "nl"),
    ("kobotoolbox", "kobo_werkgeluk_formpack.csv", "nl"),
    ("kobotoolbox", "kobo_werkgeluk_formpack.xlsx", "nl"),
    ("limesurvey", "results-survey123456_code-short_semicolon.csv", "nl"),
    ("limesurvey", "results-survey123456_full-long_comma.csv", "nl"),
    ("limesurvey", "results-survey123456_full-long.xlsx", "nl"),
    ("limesurvey", "results-survey123456_formula-answers.xlsx", "nl"),
    ("microsoft-forms", "msforms_werkgeluk_named.xlsx", "nl"),
    ("microsoft-forms", "msforms_werkgeluk_anonymous.xlsx", "nl"),
    ("qualtrics", "qualtrics_werkgeluk_choice-text.csv", "en"),
    ("surveymonkey", "surveymonkey_werkgeluk_condensed.csv", "en"),
]


def make_scan(tmp_path, lang):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "q.yaml"
    path.write_text(QUESTIONNAIRE, encoding="utf-8")
    return init_scan(tmp_path / "scan", "Org", path, lang, "2026", 3,
                     [Department(name, 8, 1) for name in DEPARTMENTS[lang]])


def check(draft, lime_codes=False):
    """What the consultant does with a draft: look at it and fill in what it could not know."""
    data = draft.mapping
    if lime_codes:  # headers are the tool's question codes: nothing to match, mapped by hand
        assert not data["fields"] and "G01Q03" in data["ignore"]
        data["department"] = {"column": "G01Q01", "values": LIME_CODES}
        data["fields"] = [{"column": f"G01Q02[SQ00{i}]", "field": key, "answers": LIME_ANSWERS}
                          for i, key in enumerate(["gesprek", "richting", "dossier", "remt"], start=1)]
        data["fields"].append({"column": "G01Q03", "field": "nodig"})
        data.pop("ignore")
    assert all(v is not None for v in data["department"]["values"].values()), data["department"]
    for entry in data["fields"]:
        assert all(v is not None for v in entry.get("answers", {}).values()), entry
    return data


def export_rows(export):
    return [(number, row) for number, row in export.rows]


def with_codes(export_file, export, codes, target, header_rows, header="Code"):
    """A copy of the export with a code column filled in (what the online tool would export
    when its questionnaire asks for the code)."""
    raw = export_file.read_bytes()
    if export_file.suffix == ".xlsx":
        from openpyxl import Workbook
        book = Workbook()
        sheet = book.active
        sheet.append([header] + export.columns)
        for (_, row), code in zip(export.rows, codes):
            sheet.append([code] + row)
        target = target.with_suffix(".xlsx")
        book.save(target)
        return target
    text = raw.decode("utf-8-sig")
    delimiter = ";" if text.split("\n")[0].count(";") > text.split("\n")[0].count(",") else ","
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    records = [r for r in records if r]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    for index, record in enumerate(records):
        if index < header_rows:
            writer.writerow(([header] if index == 0 else [""]) + record)
        else:
            writer.writerow([codes[index - header_rows] if index - header_rows < len(codes) else ""] + record)
    target.write_text(out.getvalue(), encoding="utf-8")
    return target


def identifying_values(export):
    values = set()
    for col_index, col in enumerate(export.columns):
        if col in export.identifying:
            for _, row in export.rows:
                value = row[col_index].strip()
                if len(value) >= 6 and value.casefold() not in ("anonymous", "submitted_via_web"):
                    values.add(value)
    return values


@pytest.mark.parametrize("folder,name,lang", EXPORTS, ids=[e[1] for e in EXPORTS])
def test_corpus_export_imports_with_drafted_mapping(tmp_path, folder, name, lang):
    source = corpus_dir("online-exports") / folder / name
    scan = make_scan(tmp_path, lang)
    export = read_export(source)
    n = len(export.rows)
    assert n in (15, 16)
    draft = draft_mapping(scan, export)
    mapped = {e["field"] for e in draft.mapping["fields"]}
    if "code-short" not in name:
        assert mapped == FIELDS, draft.mapping
        assert draft.mapping["department"]["column"]
    assert not any(e["column"] in export.identifying for e in draft.mapping["fields"])
    assert identifying_values(export) or "anonymous" in name or "google" in name
    data = check(draft, lime_codes="code-short" in name)

    # without codes: every row rejected, then accepted explicitly as unverified
    mapping = tmp_path / "map.yaml"
    YAML().dump(data, mapping)
    result = import_export(scan, source, mapping, unverified=False) if "code" in data else None
    if result is None:
        with pytest.raises(MappingError, match="no 'code' column"):
            import_export(scan, source, mapping)
    else:
        assert result.count("rejected") == n
    result = import_export(scan, source, mapping, unverified=True)
    assert result.count("accepted", False) == n, [r.reason for r in result.rows if r.outcome != "accepted"]
    with Store(scan.store_path) as store:
        assert store.unverified_count() == n
        departments = {r.department for r in store.responses()}
        assert departments <= set(DEPARTMENTS[lang]) and len(departments) >= 3
        received = store.received()
        formula_issues = [i for i in store.issues() if "formula without its value" in i[2]]
    # LimeSurvey's xlsx writes answers starting with "=" as formulas without a value: never silently lost
    assert len(formula_issues) == (2 if "formula" in name else 0)
    assert len([r for r in received if r.path.startswith(str(source))]) >= n
    assert all(re.search(r"#row \d+$", r.path) for r in received)
    # again: nothing new
    again = import_export(scan, source, mapping, unverified=True)
    assert again.count("unchanged") == n

    # with codes, in a fresh scan: rows count verified, department from the issue record
    scan2 = make_scan(tmp_path / "coded", lang)
    codes = [grouped(code) for code in issue_codes(scan2, n, DEPARTMENTS[lang][0]).codes]
    header = "token" if folder == "limesurvey" else "Code"  # LimeSurvey carries it as the token
    # one row with a code from elsewhere, one mistyped
    typo = codes[-1][:-1] + ("X" if codes[-1][-1] != "X" else "Y")
    coded_file = with_codes(source, export, codes[:-2] + [new_form_id(), typo],
                            tmp_path / ("coded-" + name),
                            3 if export.tool == "qualtrics" else 2 if export.tool == "surveymonkey" else 1, header)
    coded = read_export(coded_file)
    draft2 = draft_mapping(scan2, coded)
    assert draft2.mapping["code"] == header
    data2 = check(draft2, lime_codes="code-short" in name)
    mapping2 = tmp_path / "map2.yaml"
    YAML().dump(data2, mapping2)
    result = import_export(scan2, coded_file, mapping2)
    assert result.count("accepted", True) == n - 2
    reasons = sorted(r.reason for r in result.rows if r.outcome == "rejected")
    assert len(reasons) == 2
    assert "never issued" in reasons[0] and "no valid code" in reasons[1], reasons
    with Store(scan2.store_path) as store:
        assert store.unverified_count() == 0
        assert {r.department for r in store.responses()} == {DEPARTMENTS[lang][0]}
        answers = store.answers()
    assert {a.field for a in answers} == FIELDS
    assert all(a.value_num in (1, 2, 3, 4, 5) for a in answers if a.field != "nodig")

    # identifying columns: none of their values anywhere in the store's bytes
    for db in (scan.store_path, scan2.store_path):
        with Store(db) as store:
            store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        blob = b"".join(p.read_bytes() for p in db.parent.glob("scan.db*"))
        for value in identifying_values(export):
            assert value.encode() not in blob, value

    # every row visible in survey status
    status = CliRunner().invoke(cli, ["status", str(scan2.folder)])
    assert status.exit_code == 0 and "#row" in status.output


SYNTHETIC = (
    "Timestamp;E-mailadres;Naam;IP Address;Toegangscode;Op welke afdeling werk je?;"
    "Ik weet waar mijn afdeling naartoe wil.;Wat heb je nodig om je verder te ontwikkelen?\r\n"
    "2026/03/02 10:05:46 AM GMT+1;anouk.vries@example.org;Anouk de Vries;192.0.2.30;{code};Zorg;Mee eens;"
    "\"Tijd; en \"\"ruimte\"\"\nvoor cursussen\"\r\n"
    "2026/03/02 11:19:40 AM GMT+1;bram.jansen@example.org;Bram Jansen;192.0.2.31;;Facilitair;helemaal MEE eens;\r\n"
    "2026/03/02 12:33:34 PM GMT+1;carla.smit@example.org;Carla Smit;192.0.2.32;;Onbekend;Neutraal;x\r\n")


def test_synthetic_export_without_corpus(tmp_path):
    """Runs without the corpus: BOM, ';', quoted newline; identifying values never stored."""
    scan = make_scan(tmp_path, "nl")
    code = issue_codes(scan, 1, "Administratie").codes[0]
    source = tmp_path / "export.csv"
    source.write_bytes(b"\xef\xbb\xbf" + SYNTHETIC.format(code=grouped(code)).encode("utf-8"))
    export = read_export(source)
    assert [n for n, _ in export.rows] == [2, 3, 4]  # a quoted newline stays inside its cell, as a spreadsheet shows it
    assert set(export.identifying) == {"Timestamp", "E-mailadres", "Naam", "IP Address"}
    draft = draft_mapping(scan, export)
    assert draft.mapping["code"] == "Toegangscode"
    assert {e["field"]: e["column"] for e in draft.mapping["fields"]} == {
        "richting": "Ik weet waar mijn afdeling naartoe wil.", "nodig": "Wat heb je nodig om je verder te ontwikkelen?"}
    assert draft.mapping["department"]["values"] == {"Facilitair": "Facilitair", "Onbekend": None, "Zorg": "Zorg"}
    draft.mapping["department"]["values"].pop("Onbekend")  # checked: not a department of ours
    mapping = tmp_path / "map.yaml"
    write_draft(draft, mapping)
    assert load_mapping(mapping).mapping.code == "Toegangscode"
    result = import_export(scan, source, mapping)
    assert [r.outcome for r in result.rows] == ["accepted", "rejected", "rejected"]
    assert "has no code" in result.rows[1].reason
    # the consultant then takes the rows without a code explicitly, as unverified
    result = import_export(scan, source, mapping, unverified=True)
    assert [r.outcome for r in result.rows] == ["unchanged", "accepted", "rejected"]
    with Store(scan.store_path) as store:
        assert [r.outcome for r in store.received()] == ["accepted", "accepted", "rejected"]
    assert [r.verified for r in result.rows[:2]] == [True, False]
    assert "Onbekend" in result.rows[2].reason and "departments.csv" in result.rows[2].reason
    with Store(scan.store_path) as store:
        assert sorted((r.department, r.form_id == code) for r in store.responses()) == [
            ("Administratie", True), ("Facilitair", False)]
        texts = {a.value_text for a in store.answers()}
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert 'Tijd; en "ruimte"\nvoor cursussen' in texts
    blob = b"".join(p.read_bytes() for p in scan.folder.glob("scan.db*"))
    for secret in ("anouk", "Vries", "bram.jansen", "Carla", "192.0.2.3", "10:05:46", "2026/03/02", "AM GMT"):
        assert secret.encode() not in blob, secret


def test_mapping_errors_name_the_line(tmp_path):
    scan = make_scan(tmp_path, "nl")
    source = tmp_path / "export.csv"
    source.write_text(SYNTHETIC.format(code=""), encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("department:\n  column: Op welke afdeling werk je?\nfields:\n"
                       "  - column: Naam\n    field: nodig\n"
                       "  - column: Wat heb je nodig om je verder te ontwikkelen\n    field: nodg\n", encoding="utf-8")
    with pytest.raises(MappingError) as info:
        import_export(scan, source, mapping, unverified=True)
    messages = [p.message for p in info.value.problems]
    assert any("line 4" in msg and "identifies people" in msg for msg in messages), messages
    assert any("line 6" in msg and "no column" in msg and "did you mean" in msg.lower() for msg in messages), messages
    assert any("line 7" in msg and "mean 'nodig'" in msg for msg in messages), messages
    mapping.write_text("code: IP Address\nfields:\n  - column: Naam\n    field: role\n", encoding="utf-8")
    with pytest.raises(MappingError) as info:
        import_export(scan, source, mapping)
    messages = [p.message for p in info.value.problems]
    assert any("line 1" in msg and "never read" in msg for msg in messages), messages
    assert any("line 4" in msg and "issue record" in msg for msg in messages), messages
    mapping.write_text("fields:\n  - column: x\n    feld: y\n", encoding="utf-8")
    with pytest.raises(MappingError) as info:
        load_mapping(mapping)
    messages = [p.message for p in info.value.problems]
    assert any("line 3" in msg and "unknown key 'feld'" in msg and "'field'" in msg for msg in messages), messages


def test_cli_codes_draft_and_import(tmp_path):
    source = corpus_dir("online-exports") / "qualtrics" / "qualtrics_werkgeluk_choice-text.csv"
    scan = make_scan(tmp_path, "en")
    runner = CliRunner()
    result = runner.invoke(cli, ["forms", str(scan.folder), "--codes", "4", "--department", "Care"])
    assert result.exit_code == 0, result.output
    codes_csv = next((scan.forms_dir / "codes").glob("*.csv"))
    assert len(codes_csv.read_text().splitlines()) == 5
    with Store(scan.store_path) as store:
        assert all(f.folder == f"codes:{codes_csv.name}" for f in store.issued())
    result = runner.invoke(cli, ["import", str(scan.folder), str(source), "--draft-mapping"])
    assert result.exit_code == 0, result.output
    drafted = scan.folder / "mappings" / (source.stem + ".yaml")
    assert "IP Address" in result.output and drafted.exists()
    result = runner.invoke(cli, ["import", str(scan.folder), str(source), "--mapping", str(drafted), "--unverified"])
    assert result.exit_code == 0, result.output
    assert "16 accepted as unverified" in result.output
    status = runner.invoke(cli, ["status", str(scan.folder)])
    assert "Care" in status.output and "16 of the accepted were imported as unverified" in status.output
    result = runner.invoke(cli, ["report", str(scan.folder), "--no-pdf"])
    assert result.exit_code == 0, result.output
    html = (scan.output_dir / "report.html").read_text(encoding="utf-8")
    assert "16 responses came from an online questionnaire without an issued code" in html


@pytest.mark.parametrize("name,header_rows", [("qualtRics__sample.csv", 3), ("qualtRics__sample_legacy.csv", 2)])
def test_real_qualtrics_exports_are_read_and_identifying_columns_found(name, header_rows):
    export = read_export(corpus_dir("online-exports") / "qualtrics" / name)
    assert export.index()["Q1"] == export.columns.index("This is a multiple choice question.")
    assert len(export.rows) == 1 and export.rows[0][0] == header_rows + 1
    dropped = set(export.identifying)
    assert {"Nachname des Empfängers", "Vorname des Empfängers"} <= dropped or header_rows == 2
    assert {"This is a multiple choice question.", "This is a free text question."} <= set(export.columns)
    row = export.rows[0][1]
    kept = [row[i] for i, col in enumerate(export.columns) if col not in dropped]
    for secret in ("130.92.34.66", "R_2YPOQ602ER1jkf1", "47.115097045898", "2017-07-18 08:28:09"):
        assert secret in row and secret not in kept, (secret, sorted(dropped))


def test_two_rows_with_one_code_one_counts_and_english_export_in_dutch_scan(tmp_path):
    source = corpus_dir("online-exports") / "surveymonkey" / "surveymonkey_werkgeluk_condensed.csv"
    scan = make_scan(tmp_path, "nl")  # English export, Dutch scan: answer labels of every language match
    export = read_export(source)
    code = issue_codes(scan, 1, "Zorg").codes[0]
    coded = with_codes(source, export, [code, code.lower()], tmp_path / "coded.csv", 2)
    draft = draft_mapping(scan, read_export(coded))
    assert {e["field"] for e in draft.mapping["fields"]} == FIELDS
    assert draft.mapping["department"]["values"]["Care"] is None  # no Dutch department called Care: to check
    draft.mapping["department"]["values"] = {k: "Zorg" for k in draft.mapping["department"]["values"]}
    YAML().dump(draft.mapping, tmp_path / "map.yaml")
    result = import_export(scan, coded, tmp_path / "map.yaml")
    assert result.count("accepted") == 1 and result.count("duplicate") + result.count("superseded") == 1
    assert result.count("rejected") == 13  # no code
    with Store(scan.store_path) as store:
        assert len(store.responses()) == 1


# --------------------------------------------------------------------------- multiple choice

SOURCES = """  bron:
    kind: nominal
    options:
      - {code: new_tasks, label: {nl: Nieuwe taken, en: New tasks}}
      - {code: course, label: {nl: "Een cursus, training of opleiding", en: "A course, training or study"}}
      - {code: colleagues, label: {nl: Collega's, en: Colleagues}}
      - {code: colleagues_wide, label: {nl: "Collega's, ook van andere afdelingen", en: "Colleagues, also from other departments"}}
      - {code: other, label: {nl: Iets anders, en: Something else}}
"""
SOURCES_ITEM = """      - id: bronnen
        type: multiple_choice
        scale: bron
        required: false
        text: {nl: Waar komen jouw ontwikkelvragen vandaan?, en: Where do your development questions come from?}
"""
MULTI_HEADER = "Waar komen jouw ontwikkelvragen vandaan?"
# a Google Forms checkbox answer as written (", " between the chosen options), and what it means
GOOGLE_CELLS = [
    ("Nieuwe taken, Een cursus, training of opleiding", {"new_tasks", "course"}),
    ("Collega's, ook van andere afdelingen", {"colleagues_wide"}),  # the longest option text wins
    ("Collega's, Iets anders", {"colleagues", "other"}),
    ("Collega's, Mijn coach", {"colleagues"}),  # "Other" typed in: no option
    ("", set()),
]


def multi_scan(tmp_path, lang="nl"):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "q.yaml"
    path.write_text(QUESTIONNAIRE.replace("scales:\n", "scales:\n" + SOURCES, 1) + SOURCES_ITEM, encoding="utf-8")
    return init_scan(tmp_path / "scan", "Org", path, lang, "2026", 3,
                     [Department(name, 8, 1) for name in DEPARTMENTS[lang]])


def ticks(scan):
    with Store(scan.store_path) as store:
        by_response: dict[str, set[str]] = {}
        forms = {r.id: r.form_id for r in store.responses()}
        for a in store.answers():
            if a.field.startswith("bronnen."):
                by_response.setdefault(forms[a.response_id], set()).add(a.field.split(".", 1)[1])
    return by_response


def test_multiple_choice_in_one_cell_split_by_option_texts(tmp_path):
    """Google Forms (", "), Microsoft Forms (";", one at the end) and KoboToolbox (codes and
    spaces) list the chosen options in one cell; the draft maps the column to the question."""
    from survey.importing import split_choices

    scan = multi_scan(tmp_path)
    codes = issue_codes(scan, 7, "Zorg").codes
    cells = GOOGLE_CELLS + [("Nieuwe taken;Collega's, ook van andere afdelingen;", {"new_tasks", "colleagues_wide"}),
                            ("new_tasks course", {"new_tasks", "course"})]
    rows = [["Tijdstempel", "Code", MULTI_HEADER]] + [["2-3-2026 10:05:46", grouped(code), cell]
                                                     for code, (cell, _) in zip(codes, cells)]
    export = tmp_path / "google.csv"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    export.write_text(out.getvalue(), encoding="utf-8")
    draft = draft_mapping(scan, read_export(export))
    entry = next(e for e in draft.mapping["fields"] if e["column"] == MULTI_HEADER)
    assert entry["field"] == "bronnen"
    # a typed "Other" text is the respondent's own words: counted in the draft, never copied
    assert "Mijn coach" not in entry["answers"] and draft.unmatched_answers[MULTI_HEADER] == 1
    assert entry["answers"]["Een cursus, training of opleiding"] == "course"
    mapping = tmp_path / "map.yaml"
    write_draft(draft, mapping)
    assert "Mijn coach" not in mapping.read_text(encoding="utf-8")
    assert "1 other answer text(s) not matched" in mapping.read_text(encoding="utf-8")
    entry["answers"]["Mijn coach"] = "other"  # the consultant decides what it stands for
    YAML().dump(draft.mapping, mapping)
    result = import_export(scan, export, mapping)
    assert result.count("accepted") == 6  # the empty row answered nothing
    expected = {code: want for code, (_, want) in zip(codes, cells) if want}
    expected[codes[3]] = {"colleagues", "other"}  # "Mijn coach" mapped to other
    assert ticks(scan) == expected
    # an option text the mapping does not know is left out, and said
    assert split_choices("Collega's, Mijn coach", [("Collega's", "colleagues")]) == (["colleagues"], ["Mijn coach"])


def test_multiple_choice_one_column_per_option(tmp_path):
    """LimeSurvey ("Y"), KoboToolbox (1/0) and Qualtrics (the choice text) give each option a column."""
    scan = multi_scan(tmp_path)
    codes = issue_codes(scan, 3, "Zorg").codes
    header = [f"{MULTI_HEADER} [{label}]" for label in ("Nieuwe taken", "Collega's", "Iets anders")]
    rows = [["token"] + header,
            [codes[0], "Y", "", "Y"],
            [codes[1], "1", "0", "0"],
            [codes[2], "Nieuwe taken", "Collega's", ""]]
    export = tmp_path / "lime.csv"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    export.write_text(out.getvalue(), encoding="utf-8")
    draft = draft_mapping(scan, read_export(export))
    assert [(e["field"], e.get("answers", {})) for e in draft.mapping["fields"]] == [
        ("bronnen.new_tasks", {"Nieuwe taken": "new_tasks"}), ("bronnen.colleagues", {"Collega's": "colleagues"}),
        ("bronnen.other", {})]
    mapping = tmp_path / "map.yaml"
    YAML().dump(draft.mapping, mapping)
    assert import_export(scan, export, mapping).count("accepted") == 3
    assert ticks(scan) == {codes[0]: {"new_tasks", "other"}, codes[1]: {"new_tasks"},
                           codes[2]: {"new_tasks", "colleagues"}}
    with Store(scan.store_path) as store:
        assert not store.issues()  # a 0 is an option not chosen, not a wrong answer


def test_corpus_google_export_with_a_checkbox_question(tmp_path):
    """The corpus's Google Forms export with a checkbox column as Forms writes it."""
    source = corpus_dir("online-exports") / "google-forms" / "google-forms_download-responses.csv"
    scan = multi_scan(tmp_path)
    records = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8-sig"), newline="")))
    records = [r for r in records if r]
    cells = [GOOGLE_CELLS[i % 3][0] for i in range(len(records) - 1)]  # options only, no "Other"
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL).writerows([records[0] + [MULTI_HEADER]] +
                                                     [r + [cell] for r, cell in zip(records[1:], cells)])
    export = tmp_path / source.name
    export.write_text(out.getvalue(), encoding="utf-8")
    draft = draft_mapping(scan, read_export(export))
    assert {e["field"] for e in draft.mapping["fields"]} == FIELDS | {"bronnen"}
    mapping = tmp_path / "map.yaml"
    YAML().dump(check(draft), mapping)
    result = import_export(scan, export, mapping, unverified=True)
    assert result.count("accepted", False) == len(cells)
    with Store(scan.store_path) as store:
        assert not [i for i in store.issues() if "no option" in i[2]]
    got = sorted(sorted(v) for v in ticks(scan).values())
    want = sorted(sorted(GOOGLE_CELLS[i % 3][1]) for i in range(len(cells)))
    assert got == want


# --------------------------------------------------------------------------- strict multiple choice

MINI = __import__("pathlib").Path(__file__).parent / "data" / "languages" / "mini.yaml"
MINI_HEADER = "Van wie leer je? Kies alles wat past."


def mini_import(tmp_path, cells, answers=None):
    """A Google-like export of the mini questionnaire, one row per cell of its multiple-choice
    question, imported with a hand-written mapping: (scan, codes, result)."""
    import shutil
    folder = tmp_path / "q"
    folder.mkdir()
    shutil.copy(MINI, folder / "mini.yaml")
    scan = init_scan(tmp_path / "scan", "Org", folder / "mini.yaml", "nl", "2026", 3, [Department("Zorg", 8, 0)])
    codes = issue_codes(scan, len(cells), "Zorg").codes
    out = io.StringIO()
    csv.writer(out).writerows([["Code", "Plezier", MINI_HEADER]] +
                              [[grouped(code), str(5 + i), cell] for i, (code, cell) in enumerate(zip(codes, cells))])
    export = tmp_path / "export.csv"
    export.write_text(out.getvalue(), encoding="utf-8")
    mapping = tmp_path / "map.yaml"
    YAML().dump({"export": "export.csv", "code": "Code",
                 "fields": [{"column": "Plezier", "field": "plezier"},
                            {"column": MINI_HEADER, "field": "bronnen", "answers": answers or {}}]}, mapping)
    return scan, codes, import_export(scan, export, mapping)


def mini_answers(scan):
    with Store(scan.store_path) as store:
        forms = {r.id: r.form_id for r in store.responses()}
        found: dict[str, set[str]] = {}
        for a in store.answers():
            found.setdefault(forms[a.response_id], set()).add(a.field)
        issues = [(where, message) for _, where, message in store.issues()]
        texts = {a.value_text for a in store.answers()}
    return found, issues, texts


def test_none_of_these_with_another_option_in_one_cell_is_an_answer_problem_not_a_crash(tmp_path):
    scan, codes, result = mini_import(tmp_path, ["Collega's, Geen van deze", "Cliënten"])
    assert [r.outcome for r in result.rows] == ["accepted", "accepted"]  # the row after it too
    found, issues, _ = mini_answers(scan)
    assert found[codes[0]] == {"plezier"}  # the question left out, the rest of the row counts
    assert found[codes[1]] == {"plezier", "bronnen.clients"}
    [(where, message)] = issues
    assert where == f"column '{MINI_HEADER}'" and "'Geen van deze' is ticked together" in message


def test_multiple_choice_cell_ticks_only_whole_options(tmp_path):
    """A typed "Other" text holding an option's code or label ticks nothing; KoboToolbox codes
    (the cell is codes alone) and Microsoft's ';' list still read."""
    scan, codes, result = mini_import(tmp_path, ["Clients of my colleagues", "colleagues clients",
                                                 "Colleagues;Clients;", "Collega's, None really, I learn alone"])
    assert [r.outcome for r in result.rows] == ["accepted"] * 4
    found, issues, texts = mini_answers(scan)
    assert found[codes[0]] == {"plezier"}
    assert found[codes[1]] == found[codes[2]] == {"plezier", "bronnen.colleagues", "bronnen.clients"}
    assert found[codes[3]] == {"plezier", "bronnen.colleagues"}  # not "none": "None really" is no option
    assert [w for w, msg in issues if "no option of bronnen" in msg] == [f"column '{MINI_HEADER}'"] * 2
    assert not any("colleagues" in (t or "") or "alone" in (t or "") for t in texts)  # free text is not stored


def test_a_cell_that_reads_two_ways_leaves_the_question_out():
    from survey.importing import AmbiguousChoices, split_choices

    options = [("Tijd", "time"), ("Geld", "money"), ("Tijd, geld", "time_money")]
    assert split_choices("Tijd, Geld", options) == (["time", "money"], [])  # as Google writes two options
    assert split_choices("Tijd, geld", options) == (["time_money"], [])  # as Google writes the third
    with pytest.raises(AmbiguousChoices):
        split_choices("tijd, geld", options)  # written otherwise: either reading is a guess
    assert split_choices("Tijd Geld", options) == ([], ["Tijd Geld"])  # a space is no separator


def test_ambiguous_cell_in_an_import_is_an_issue(tmp_path):
    scan, codes, result = mini_import(tmp_path, ["collega's, cliënten", "Cliënten"],
                                      answers={"Collega's, Cliënten": "none"})
    assert [r.outcome for r in result.rows] == ["accepted", "accepted"]
    found, issues, _ = mini_answers(scan)
    assert found[codes[0]] == {"plezier"} and found[codes[1]] == {"plezier", "bronnen.clients"}
    [(where, message)] = issues
    assert where == f"column '{MINI_HEADER}'" and "more than one set of options" in message


def test_draft_mapping_never_copies_free_answer_texts(tmp_path):
    scan, _, _ = mini_import(tmp_path, ["Collega's, Mijn buurvrouw Joke", "Cliënten", "Hoofd P. de Vries"])
    export = read_export(tmp_path / "export.csv")
    draft = draft_mapping(scan, export)
    path = tmp_path / "draft.yaml"
    write_draft(draft, path)
    text = path.read_text(encoding="utf-8")
    assert "Joke" not in text and "Vries" not in text
    assert "Collega's: colleagues" in text and "Cliënten: clients" in text
    assert "2 other answer text(s) not matched" in text
