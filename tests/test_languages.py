"""Issue 14, points 3 and 4: every question can be declined, and a form in the respondent's
language. The questionnaire is tests/data/languages/mini.yaml; mini.pl.yaml beside it is a
stand-in translation (English texts marked [pl]), not Polish."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from survey.collect import form_id_in
from click.testing import CliRunner
from openpyxl import load_workbook

from survey.analysis import analyse_scan
from survey.answer_counts import answer_counts
from survey.cli import cli
from survey.collect import collect
from survey.demo import fill_form
from survey.forms import ExtraForms, write_forms
from survey.questionnaire import Change, compare_versions, load_questionnaire, validate
from survey.questionnaire import model as m
from survey.scan import Department, init_scan, load_scan
from survey.store import Store

DATA = Path(__file__).parent / "data" / "languages"


@pytest.fixture
def mini(tmp_path) -> Path:
    """mini.yaml and its pl translation in a folder of their own."""
    folder = tmp_path / "q"
    folder.mkdir()
    for name in ("mini.yaml", "mini.pl.yaml"):
        shutil.copy(DATA / name, folder / name)
    return folder / "mini.yaml"


def new_scan(tmp_path: Path, questionnaire: Path, departments: list[Department]):
    return init_scan(tmp_path / "scan", "Test org", questionnaire, "nl", "2026", 5, departments)


def forms_in(scan, department: str) -> list[Path]:
    return sorted((scan.forms_dir / department).glob("*.xlsx"))


def answers_of(scan) -> list[tuple[str, float | None, str | None]]:
    with Store(scan.store_path) as store:
        return [(a.field, a.value_num, a.value_text) for a in store.answers()]


# --------------------------------------------------------------------------- hash and trends

def test_a_scan_started_before_decline_options_existed_still_opens(tmp_path):
    """The frozen questionnaire's hash (written by survey before issue 14) still matches: the
    new fields leave a questionnaire that does not use them as it was."""
    folder = tmp_path / "old"
    shutil.copytree(Path(__file__).parent / "data" / "scan-before-issue-14", folder)
    scan = load_scan(folder)
    assert scan.questionnaire.id == "organisatiescan"
    assert "decline" not in str(scan.questionnaire.content())


def test_decline_option_and_translation_keep_fingerprints_and_hash(mini, tmp_path):
    with_all = load_questionnaire(mini).questionnaire
    plain_text = mini.read_text(encoding="utf-8").replace(
        '    decline: {nl: Zeg ik liever niet, en: "I\'d rather not say"}\n', "")
    plain_path = tmp_path / "plain" / "mini.yaml"
    plain_path.parent.mkdir()
    plain_path.write_text(plain_text, encoding="utf-8")
    plain = load_questionnaire(plain_path).questionnaire
    assert plain.scales["score10"].decline is None and with_all.scales["score10"].decline is not None
    assert plain.item_fingerprints() == with_all.item_fingerprints()
    result = CliRunner().invoke(cli, ["compare", str(plain_path), str(mini)])
    assert result.exit_code == 0 and "trend broken" not in result.output
    assert "0 with a broken trend" in result.output
    # the translation file beside it changes neither the hash nor the fingerprints
    (mini.parent / "mini.pl.yaml").rename(tmp_path / "away.yaml")
    without_translation = load_questionnaire(mini).questionnaire
    assert without_translation.content_hash == with_all.content_hash
    assert without_translation.item_fingerprints() == with_all.item_fingerprints()


def test_rewording_in_any_language_both_carry_breaks_the_trend(mini, tmp_path):
    before = load_questionnaire(mini).questionnaire
    changed = tmp_path / "v2" / "mini.yaml"
    changed.parent.mkdir()
    changed.write_text(mini.read_text(encoding="utf-8").replace("Ik leer veel in mijn werk.",
                                                                "Ik leer genoeg in mijn werk."), encoding="utf-8")
    english_only = tmp_path / "v3" / "mini.yaml"
    english_only.parent.mkdir()
    english_only.write_text(mini.read_text(encoding="utf-8").replace("I learn a lot in my work.",
                                                                     "I learn much in my work."), encoding="utf-8")
    changes = {c.key: c.change for c in compare_versions(before, load_questionnaire(changed).questionnaire)}
    assert changes["leren"] is Change.reworded
    kept = {c.key: c for c in compare_versions(before, load_questionnaire(english_only).questionnaire)}
    # every language both carry counts (issue 12): English readers read another question
    assert kept["leren"].trend_broken and kept["leren"].language == "en"


# --------------------------------------------------------------------------- declining

def test_declines_are_stored_counted_and_analysed_as_missing(mini, tmp_path):
    scan = new_scan(tmp_path, mini, [Department("Zorg", 8, 0)])
    write_forms(scan)
    marks = [8, 6, 7, 9, 5, m.DECLINED, m.DECLINED, 4]
    learn = [4, 5, None, 3, 4, 2, 5, 4]  # None: 'don't know'
    tenure = ["lt5", "ge5", m.DECLINED, "lt5", "lt5", "ge5", "ge5", "lt5"]
    for form, mark, agree, band in zip(forms_in(scan, "Zorg"), marks, learn, tenure):
        fill_form(scan, form, {"plezier": mark, "leren": agree, "tenure": band}, scan.inbox / form.name)
    assert collect(scan).count("accepted") == 8
    stored = answers_of(scan)
    assert sum(1 for f, num, text in stored if f == "plezier" and text == m.DECLINED and num is None) == 2
    assert sum(1 for f, _, text in stored if f == "tenure" and text == m.DECLINED) == 1

    counts = {c.key: c for c in answer_counts(scan)}
    assert (counts["plezier"].answered, counts["plezier"].declined, counts["plezier"].dont_know) == (6, 2, 0)
    assert (counts["leren"].answered, counts["leren"].dont_know, counts["leren"].declined) == (7, 1, 0)
    assert (counts["tenure"].declined, counts["tenure"].blank) == (1, 0)
    assert counts["bronnen"].blank == 8  # nobody ticked anything: skipped, not 'none'

    result = analyse_scan(scan)
    given = [v for v in marks if v != m.DECLINED]
    figure = result.organisation_result.items["plezier"]
    assert figure.n == len(given) == 6
    assert figure.mean == pytest.approx(sum(given) / len(given))
    learned = [v for v in learn if v is not None]
    assert result.organisation_result.items["leren"].mean == pytest.approx(sum(learned) / len(learned))
    # the quality figures count declines and "don't know" apart from blanks (survey/analysis/quality.py)
    from survey.disclosure import ORGANISATION

    quality = {iq.item_id: iq for iq in result.item_quality[ORGANISATION]}
    assert (quality["plezier"].n_answered, quality["plezier"].n_declined, quality["plezier"].n_dont_know) == (6, 2, 0)
    assert (quality["leren"].n_dont_know, quality["leren"].n_declined) == (1, 0)
    bands = {(b.background, b.option): b.n for b in result.breakdowns}
    assert bands[("tenure", "lt5")] + bands[("tenure", "ge5")] == 7  # the decline is in no band


def test_none_of_these_with_another_option_is_an_answer_problem(mini, tmp_path):
    scan = new_scan(tmp_path, mini, [Department("Zorg", 6, 0)])
    write_forms(scan)
    first, second = forms_in(scan, "Zorg")[:2]
    fill_form(scan, first, {"plezier": 7, "leren": 3, "bronnen.none": 1, "bronnen.clients": 1}, scan.inbox / first.name)
    fill_form(scan, second, {"plezier": 6, "leren": 3, "bronnen.none": 1}, scan.inbox / second.name)
    collect(scan)
    meta = load_workbook(first)["_meta"]
    cells = {r[0]: r[1] for r in meta.iter_rows(values_only=True) if r[0]}
    with Store(scan.store_path) as store:
        issues = store.issues()
        by_form = {}
        for response in store.responses():
            by_form[response.form_id] = response.id
        answers = [(a.response_id, a.field) for a in store.answers()]
    [(_, where, message)] = issues
    assert cells["bronnen.none"] in where and "'Geen van deze' is ticked together with another answer" in message
    fields_first = {f for r, f in answers if r == by_form[form_id_in(first)]}
    fields_second = {f for r, f in answers if r == by_form[form_id_in(second)]}
    assert "plezier" in fields_first and not any(f.startswith("bronnen.") for f in fields_first)
    assert "bronnen.none" in fields_second  # alone it is an answer: this one did not skip the question


def test_multiple_choice_does_not_offer_a_decline_answer(mini, tmp_path):
    text = mini.read_text(encoding="utf-8").replace(
        "      - {code: none, label: {nl: Geen van deze, en: None of these}, exclusive: true}\n",
        "    decline: {nl: Zeg ik liever niet, en: \"I'd rather not say\"}\n")
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    report = validate(path)
    [problem] = report.warnings
    assert report.ok and "multiple-choice question 'bronnen' does not offer" in problem.message
    assert "exclusive: true" in problem.message


def test_paper_entry_and_import_offer_the_decline_answer(mini, tmp_path):
    from survey.entry import choices
    from survey.importing import _codes
    from survey.paper import form_model

    scan = new_scan(tmp_path, mini, [Department("Zorg", 6, 0)])
    q = scan.questionnaire
    fields = {f.key: f for f in q.answer_fields()}
    assert choices(q, fields["plezier"], "nl")[-1] == "Zeg ik liever niet"
    assert choices(q, fields["tenure"], "en")[-1] == "I'd rather not say"
    assert m.DECLINED in _codes(q, fields["tenure"]) and m.NOT_APPLICABLE in _codes(q, fields["leren"])
    model = form_model(scan, "Zorg", "employee")
    printed = [option for s in model["sections"] for b in s["blocks"] for option in b.get("options", [])]
    assert "Zeg ik liever niet" in printed and "Geen van deze" in printed


# --------------------------------------------------------------------------- languages

def test_forms_in_two_languages_collect_and_report_as_one(mini, tmp_path):
    scan = new_scan(tmp_path, mini, [Department("Zorg", 5, 0), Department("Keuken", 5, 0)])
    assert scan.form_languages == ["nl", "en", "pl"]
    assert (scan.folder / "questionnaire.pl.yaml").is_file()  # frozen beside the scan's questionnaire
    # the kitchen works in Polish: its language column in departments.csv
    csv_path = scan.folder / "departments.csv"
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    csv_path.write_text("\n".join([lines[0] + ",language", lines[1] + ",", lines[2] + ",pl"]) + "\n", encoding="utf-8")
    scan = load_scan(scan.folder)
    write_forms(scan)
    polish, dutch = forms_in(scan, "Keuken"), forms_in(scan, "Zorg")
    sheet = load_workbook(polish[0]).worksheets[0]
    texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert "[pl] Enjoyment: do you enjoy your work?" in texts and sheet.title == "pl Questionnaire"
    assert not any("Plezier" in t for t in texts)
    with Store(scan.store_path) as store:
        languages = {f.department: f.language for f in store.issued()}
    assert languages == {"Zorg": "nl", "Keuken": "pl"}

    marks = {"Zorg": [8, 7, 6, 9, 5], "Keuken": [4, 6, 5, 3, m.DECLINED]}
    for department, forms in (("Zorg", dutch), ("Keuken", polish)):
        for form, mark in zip(forms, marks[department]):
            fill_form(scan, form, {"plezier": mark, "leren": 4, "bronnen.colleagues": 1}, scan.inbox / form.name)
    assert collect(scan).count("accepted") == 10
    with Store(scan.store_path) as store:
        assert store.issues() == []  # every Polish label and tick was read
    result = analyse_scan(scan)
    given = [v for values in marks.values() for v in values if v != m.DECLINED]
    assert result.organisation_result.items["plezier"].n == 9
    assert result.organisation_result.items["plezier"].mean == pytest.approx(sum(given) / len(given))
    assert result.organisation_result.choices["bronnen"].shares["colleagues"] == 1.0
    # the report stays in the scan's language, and no output shows anything per language
    status = CliRunner().invoke(cli, ["status", str(scan.folder)])
    assert status.exit_code == 0 and "pl" not in status.output.replace("Keuken", "").split()


def test_hr_picks_the_language_per_person(mini, tmp_path):
    scan = new_scan(tmp_path, mini, [Department("Zorg", 5, 0)])
    write_forms(scan)
    result = CliRunner().invoke(cli, ["forms", str(scan.folder), "--add", "1", "--department", "Zorg",
                                      "--language", "pl"])
    assert result.exit_code == 0, result.output
    with Store(scan.store_path) as store:
        assert sorted(f.language for f in store.issued()) == ["nl"] * 5 + ["pl"]


def test_issuing_in_a_language_with_missing_texts_is_refused(mini, tmp_path):
    scan = new_scan(tmp_path, mini, [Department("Zorg", 5, 0)])
    translation = scan.folder / "questionnaire.pl.yaml"
    translation.write_text(translation.read_text(encoding="utf-8").replace(
        "  items.leren.text: '[pl] I learn a lot in my work.'\n", ""), encoding="utf-8")
    assert "items.leren.text" not in translation.read_text(encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["forms", str(scan.folder), "--add", "2", "--department", "Zorg", "--language", "pl"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "cannot be issued in 'pl'" in result.output and "items.leren.text" in result.output
    assert str(translation) in result.output
    unknown = runner.invoke(cli, ["forms", str(scan.folder), "--add", "2", "--department", "Zorg", "--language", "de"])
    assert unknown.exit_code == 1 and "no 'de' version" in unknown.output and "nl, en, pl" in unknown.output
    with Store(scan.store_path) as store:
        assert store.issued() == []  # nothing issued by either


def test_validate_lists_missing_translations_by_file_and_key(mini):
    translation = mini.parent / "mini.pl.yaml"
    text = translation.read_text(encoding="utf-8")
    translation.write_text(text.replace('  scales.source.options.none.label: "[pl] None of these"\n', "")
                           .replace('  tick_yes: "Tak"\n', "")
                           .replace("texts:\n", "texts:\n  items.lerem.text: \"[pl] typo\"\n"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(mini)])
    assert result.exit_code == 0  # missing texts are warnings: forms in nl and en can go out
    lines = [line for line in result.output.splitlines() if line.startswith("warning")]
    assert any(str(translation) in line and "scales.source.options.none.label" in line for line in lines)
    assert any(str(translation) in line and "'tick_yes'" in line for line in lines)
    assert any("items.lerem.text" in line and "Did you mean 'items.leren.text'" in line for line in lines)
    assert len(lines) == 3


def test_right_to_left_language_gives_a_right_to_left_form(mini, tmp_path):
    arabic = mini.parent / "mini.ar.yaml"
    arabic.write_text((mini.parent / "mini.pl.yaml").read_text(encoding="utf-8")
                      .replace("language: pl", "language: ar").replace("[pl]", "[ar]").replace('"Tak"', '"Na"'),
                      encoding="utf-8")
    scan = new_scan(tmp_path, mini, [Department("Zorg", 5, 0)])
    write_forms(scan, extra=ExtraForms("Zorg", 1, language="ar"))
    [form] = forms_in(scan, "Zorg")
    assert load_workbook(form).worksheets[0].sheet_view.rightToLeft is True
    write_forms(scan, extra=ExtraForms("Zorg", 1, language="nl"))
    dutch = next(f for f in forms_in(scan, "Zorg") if f != form)
    assert not load_workbook(dutch).worksheets[0].sheet_view.rightToLeft


def test_translation_schema_is_committed_and_accepts_the_files(mini, tmp_path):
    import json

    import jsonschema
    from ruamel.yaml import YAML

    from survey.questionnaire.translation import json_schema

    committed = json.loads((Path(__file__).parent.parent / "docs" / "translation.schema.json").read_text("utf-8"))
    assert committed == json_schema(), "run: survey schema --translation --out docs/translation.schema.json"
    yaml = YAML(typ="safe")
    jsonschema.validate(yaml.load((mini.parent / "mini.pl.yaml").read_text("utf-8")), committed)
    folder = tmp_path / "own"
    folder.mkdir()
    shutil.copy(mini, folder / "mini.yaml")
    result = CliRunner().invoke(cli, ["translation", str(folder / "mini.yaml"), "tr"])
    assert result.exit_code == 0, result.output
    written = yaml.load((folder / "mini.tr.yaml").read_text("utf-8"))
    jsonschema.validate(written, committed)
    assert set(written["texts"]) >= {"items.plezier.text", "scales.score10.decline", "scales.source.options.none.label"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"language": "pl", "wording": {"form_shet": "x"}}, committed)


def test_each_form_is_read_with_the_labels_of_its_own_language(mini, tmp_path):
    """Two translations may share a label for different answers ('[pl] Agree' is 4 in Polish
    and 2 in this 'ar'): each form is read with its own language's labels, never another's."""
    arabic = mini.parent / "mini.ar.yaml"
    arabic.write_text((mini.parent / "mini.pl.yaml").read_text(encoding="utf-8")
                      .replace("language: pl", "language: ar").replace("[pl]", "[ar]").replace('"Tak"', '"Na"')
                      .replace('options.2.label: "[ar] Disagree"', 'options.2.label: "[pl] Agree"'),
                      encoding="utf-8")
    scan = new_scan(tmp_path, mini, [Department("Zorg", 5, 0)])
    assert validate(scan.folder / "questionnaire.yaml").ok  # each translation alone is sound
    write_forms(scan, extra=ExtraForms("Zorg", 1, language="pl"))
    [polish] = forms_in(scan, "Zorg")
    write_forms(scan, extra=ExtraForms("Zorg", 1, language="ar"))
    [arabic_form] = [f for f in forms_in(scan, "Zorg") if f != polish]
    fill_form(scan, polish, {"plezier": 7, "leren": 4}, scan.inbox / "pl.xlsx")
    fill_form(scan, arabic_form, {"plezier": 7, "leren": 2}, scan.inbox / "ar.xlsx")
    sheet = load_workbook(scan.inbox / "ar.xlsx").worksheets[0]
    assert "[pl] Agree" in [c.value for row in sheet.iter_rows() for c in row]  # the shared label was written
    assert collect(scan).count("accepted") == 2
    with Store(scan.store_path) as store:
        forms = {r.id: r.form_id for r in store.responses()}
        leren = {forms[a.response_id]: a.value_num for a in store.answers() if a.field == "leren"}
    assert leren == {form_id_in(polish): 4.0, form_id_in(arabic_form): 2.0}


def test_issuing_in_a_language_whose_translation_has_an_error_is_refused(mini, tmp_path):
    scan = new_scan(tmp_path, mini, [Department("Zorg", 5, 0)])
    translation = scan.folder / "questionnaire.pl.yaml"
    text = translation.read_text(encoding="utf-8")
    assert "options.2.label: '[pl] Disagree'" in text
    translation.write_text(text.replace("options.2.label: '[pl] Disagree'", "options.2.label: Eens"),
                           encoding="utf-8")  # the Dutch label of 4
    assert not validate(scan.folder / "questionnaire.yaml").ok
    result = CliRunner().invoke(cli, ["forms", str(scan.folder), "--add", "1", "--department", "Zorg",
                                      "--language", "pl"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "cannot be issued in 'pl'" in result.output and "scales.agree5.options.2.label" in result.output
    assert str(translation) in result.output.replace("\n", "")
    with Store(scan.store_path) as store:
        assert store.issued() == []
    assert not list(scan.forms_dir.glob("*/*.xlsx"))


def test_a_label_with_bidi_controls_reads_back_and_validate_warns(mini, tmp_path):
    translation = mini.parent / "mini.pl.yaml"
    translation.write_text(translation.read_text(encoding="utf-8").replace(
        'options.4.label: "[pl] Agree"', 'options.4.label: "\\u202b[pl] Agree\\u202c\\u2067"'), encoding="utf-8")
    report = validate(mini)
    assert report.ok and any("scales.agree5.options.4.label" in p.message and "control characters" in p.message
                             for p in report.warnings)
    scan = new_scan(tmp_path, mini, [Department("Zorg", 5, 0)])
    write_forms(scan, extra=ExtraForms("Zorg", 1, language="pl"))
    [form] = forms_in(scan, "Zorg")
    fill_form(scan, form, {"plezier": 7, "leren": 4}, scan.inbox / form.name)
    assert collect(scan).count("accepted") == 1
    assert ("leren", 4.0, None) in answers_of(scan)
    with Store(scan.store_path) as store:
        assert store.issues() == []
