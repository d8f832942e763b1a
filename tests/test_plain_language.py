"""The plain-language check of `survey validate`: hard sentences from published guidance are
flagged, their plain rewrites pass, and the bundled questionnaires load with any YAML tool."""

from __future__ import annotations

import json

import pytest
import yaml as pyyaml
from click.testing import CliRunner
from ruamel.yaml import YAML

from survey.cli import cli
from survey.questionnaire import bundled_paths, load_questionnaire, validate
from survey.questionnaire.plain import builtin_jargon, check_sentence

# Hard sentences as published guidance quotes them ("before"), with the check that must fire.
HARD = [
    # Vlaamse overheid, schrijfafspraken webplatform, "Vermijd passiefconstructies" (schrijf niet)
    ("nl", "U wordt binnen 1 dag teruggebeld.", "passive"),
    ("nl", "De details hierover worden in dit hoofdstuk nader uiteengezet.", "passive"),
    # Iowa DX style guide "Use plain language", after plainlanguage.gov: passive (avoid)
    ("en", "The request form must be submitted to the approving official.", "passive"),
    # Federal Plain Language Guidelines (2011), "Write short sentences": don't say
    ("en", "The parameters of your responsibility are included in the job description you received "
           "on your initial day of work at the association.", "sentence"),
    # Federal Plain Language Guidelines (2011), "Omit unnecessary words": the 54-word sentence
    ("en", "If the State Secretary finds that an individual has received a payment to which the individual "
           "was not entitled, whether or not the payment was due to the individual's fault or "
           "misrepresentation, the individual shall be liable to repay to State the total sum of the "
           "payment to which the individual was not entitled.", "sentence"),
    # Weekblad Friso (1871), quoted by Westerhuis training as hard Dutch
    ("nl", "Zij hopen zich niet bedrogen te zien in hun meening dat zulk een blaadje, hetwelk toch "
           "mededeelingen zal kunnen leveren, welke geen ander geeft, in een wezenlijk bestaande behoefte "
           "zal blijken te voorzien.", "sentence"),
    # W3C readability guidelines, "Plain English": jargon ("Let's touch base ...")
    ("en", "Let's touch base in 10 and do some blue sky thinking.", "jargon"),
    # Dijk en Waard, heldere taal: "liever niet" words (trachten, indien, gaarne)
    ("nl", "Wij trachten uw vraag te beantwoorden indien u ons gaarne belt.", "jargon"),
    # The source method's own solution-focused questions (Leernetwerk Vitaliteit, "5
    # oplossingsgerichte vragen"): two questions behind one question mark
    ("nl", "Waar heb je last van en wat betekent dat voor je?", "double"),
    ("nl", "Wat zou een volgende stap kunnen zijn en welk verschil gaat dat voor jou maken?", "double"),
    ("en", "What could be a next step, and what difference will it make for you?", "double"),
    # The idioms
    ("nl", "Wie trekt de kar?", "jargon"),
    ("nl", "Wie bepaalt het tempo?", "jargon"),
    # Double negation, the pattern the Federal Plain Language Guidelines tell to avoid
    ("nl", "Ik ben het er niet mee oneens.", "negation"),
    ("en", "It is not impossible that nobody answers.", "negation"),
]

# Their plain rewrites as the same guidance publishes them ("after"), and plain form wording.
PLAIN = [
    ("nl", "Mijn collega belt u binnen de 24 uur."),  # Vlaamse overheid (schrijf wel)
    ("nl", "Dit hoofdstuk vertelt u er alles over."),  # Vlaamse overheid (schrijf wel)
    ("nl", "Je afdelingshoofd beoordeelt de strategie."),  # Vlaamse overheid, naamwoordstijl (schrijf wel)
    ("nl", "Wij vergoeden uw schade."),  # Somnium tekstentraining, zullen/worden/kunnen
    ("nl", "Dat regelen we."),  # Somnium tekstentraining
    ("en", "Submit the request form for approval."),  # Iowa DX style guide: active voice (use)
    ("en", "Your job description lists your responsibilities."),  # Federal PL Guidelines: use
    ("en", "You got your job description on the first day you worked here."),  # Federal PL Guidelines: use
    ("en", "Let's meet in 10 minutes to think of some ideas."),  # W3C readability guidelines
    # Alternatives and lists behind one question mark are one question, not two
    ("nl", "Wat wil je bereiken, leren of beter kunnen?"),
    ("nl", "Helpt de organisatie je vooruit, of remt ze je af?"),
    ("nl", "Wat heb je nodig voor die stap? Wie of wat kan je helpen?"),
    ("en", "Does the organisation help you move forward, or hold you back?"),
    # A negation repeated for emphasis is not a double negation
    ("en", "Nobody in your organisation sees your answers, not even your manager."),
    ("nl", "Is de situatie bij jou niet voorgekomen? Kies dan 'Komt niet voor'."),
    # 'zijn' + a verb that makes its perfect with 'zijn' is not passive
    ("nl", "Is de situatie bij jou voorgekomen?"),
    ("en", "I am interested in my work."),
]


@pytest.mark.parametrize("lang,sentence,kind", HARD, ids=lambda v: v[:40] if isinstance(v, str) else v)
def test_hard_sentences_from_guidance_are_flagged(lang, sentence, kind):
    kinds = {f.kind for f in check_sentence(sentence, lang, builtin_jargon()[lang])}
    assert kind in kinds, kinds


@pytest.mark.parametrize("lang,text", PLAIN, ids=lambda v: v[:40])
def test_plain_sentences_from_guidance_pass(lang, text):
    from survey.questionnaire.plain import sentences

    findings = [f.what for s in sentences(text) for f in check_sentence(s, lang, builtin_jargon()[lang])]
    assert findings == []


QUESTIONNAIRE = """\
id: plain
version: "1.0"
languages: [nl, en]
title: {nl: Werk, en: Work}
scales:
  agree:
    kind: ordinal
    options:
      - {code: 1, label: {nl: Oneens, en: Disagree}}
      - {code: 2, label: {nl: Eens, en: Agree}}
sections:
  - id: one
    title: {nl: Je werk, en: Your work}
    items:
      - id: q1
        type: statement
        scale: agree
        text:
          nl: Het dossier wordt door mijn leidinggevende bijgehouden.
          en: My manager keeps the file.
      - id: q2
        type: open
        text:
          nl: Wanneer had je voor het laatst een bila?
          en: When did you last have a one-to-one?
"""


def write(tmp_path, text, name="plain.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def plain_warnings(report):
    return [p for p in report.warnings if "plain language" in p.what]


def test_warnings_carry_file_and_line_and_never_block(tmp_path):
    path = write(tmp_path, QUESTIONNAIRE)
    report = validate(path)
    assert report.ok
    lines = QUESTIONNAIRE.splitlines()
    passive = [p for p in plain_warnings(report) if "passive" in p.what]
    assert len(passive) == 1 and passive[0].where.file == path
    assert "wordt door mijn leidinggevende" in lines[passive[0].where.line - 1]
    jargon = [p for p in plain_warnings(report) if "'bila'" in p.what]
    assert len(jargon) == 1 and "een bila" in lines[jargon[0].where.line - 1]
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert f"plain.yaml, line {passive[0].where.line}" in result.output
    assert "plain language (nl): Flesch-Douma" in result.output
    assert "plain language (en): Flesch reading ease" in result.output
    assert "words a minute" in result.output


def test_strict_turns_warnings_into_errors(tmp_path):
    path = write(tmp_path, QUESTIONNAIRE)
    result = CliRunner().invoke(cli, ["validate", "--strict", str(path)])
    assert result.exit_code == 1
    assert "error:" in result.output and "passive voice" in result.output
    plain = write(tmp_path, QUESTIONNAIRE.replace(
        "Het dossier wordt door mijn leidinggevende bijgehouden.", "Mijn leidinggevende houdt het dossier bij.")
        .replace("Wanneer had je voor het laatst een bila?", "Wanneer had je voor het laatst een gesprek?"),
        "clean.yaml")
    clean = CliRunner().invoke(cli, ["validate", "--strict", str(plain)])
    assert clean.exit_code == 0, clean.output


def test_verbatim_texts_are_skipped_but_their_help_is_checked(tmp_path):
    quoted = QUESTIONNAIRE.replace("      - id: q2\n        type: open\n",
                                   "      - id: q2\n        type: open\n        verbatim: true\n")
    report = validate(write(tmp_path, quoted))
    assert not any("'bila'" in p.what for p in plain_warnings(report))
    assert any("passive" in p.what for p in plain_warnings(report))  # q1 is not verbatim
    helped = quoted.replace("          en: When did you last have a one-to-one?\n",
                            "          en: When did you last have a one-to-one?\n        help:\n"
                            "          nl: Dit wordt gevraagd door de adviseur.\n"
                            "          en: The consultant asks this.\n")
    flagged = [p.what for p in plain_warnings(validate(write(tmp_path, helped, "helped.yaml")))]
    assert any("passive" in what and "gevraagd" in what for what in flagged)
    # verbatim and help change neither the question's trend fingerprint nor, when absent, the hash
    before = load_questionnaire(write(tmp_path, QUESTIONNAIRE, "a.yaml")).questionnaire
    after = load_questionnaire(write(tmp_path, helped, "b.yaml")).questionnaire
    assert before.item_fingerprints() == after.item_fingerprints()
    assert "verbatim" not in json.dumps(before.content()) and "help" not in json.dumps(before.content())
    assert after.item("q2").help["en"] == "The consultant asks this."


def test_an_explanation_beside_a_term_satisfies_the_check(tmp_path):
    explained = QUESTIONNAIRE.replace("          en: When did you last have a one-to-one?\n",
                                      "          en: When did you last have a one-to-one?\n        help:\n"
                                      "          nl: Een bila is een kort gesprek met je leidinggevende.\n"
                                      "          en: A one-to-one is a short talk with your manager.\n")
    assert not any("'bila'" in p.what for p in plain_warnings(validate(write(tmp_path, explained))))
    inline = QUESTIONNAIRE.replace("een bila?", "een bila (een kort gesprek met je leidinggevende)?")
    assert not any("'bila'" in p.what for p in plain_warnings(validate(write(tmp_path, inline, "i.yaml"))))


def test_a_consultants_jargon_list_extends_the_built_in_one(tmp_path):
    text = QUESTIONNAIRE.replace("Het dossier wordt door mijn leidinggevende bijgehouden.",
                                 "Mijn leidinggevende bespreekt het dossier met mij.")
    assert not any("dossier" in p.what for p in plain_warnings(validate(write(tmp_path, text))))
    extended = text + "plain_language:\n  jargon:\n    nl: {dossier: de map met je afspraken}\n"
    flagged = [p for p in plain_warnings(validate(write(tmp_path, extended, "x.yaml"))) if "dossier" in p.what]
    assert len(flagged) == 1 and "de map met je afspraken" in flagged[0].fix
    assert any("'bila'" in p.what for p in plain_warnings(validate(write(tmp_path, extended, "x.yaml"))))
    # the list is the consultant's tool, not content: it leaves the questionnaire's hash alone
    assert load_questionnaire(write(tmp_path, text, "t.yaml")).questionnaire.content_hash == \
        load_questionnaire(write(tmp_path, extended, "x.yaml")).questionnaire.content_hash


@pytest.mark.parametrize("path", bundled_paths(), ids=lambda p: p.stem)
def test_bundled_questionnaires_load_alike_with_pyyaml_and_ruamel(path):
    text = path.read_text(encoding="utf-8")
    assert pyyaml.safe_load(text) == YAML(typ="safe", pure=True).load(text)


def test_forms_show_help_lines_and_a_header_that_fits_the_question(demo_run):
    from openpyxl import load_workbook

    from survey.i18n import wording

    w = wording("nl")
    q = load_questionnaire("organisatiescan").questionnaire
    form = next((demo_run.folder / "forms").rglob("*.xlsx"))
    sheet = load_workbook(form)[w["form_sheet"]]
    column_b = [str(row[1].value or "") for row in sheet.iter_rows()]
    leave = column_b.index(q.item("leave_reason").text["nl"])
    header = next(v for v in reversed(column_b[:leave]) if v in (w["statement"], w["question"]))
    assert header == w["question"]
    trouble = column_b.index(q.item("sf_trouble").text["nl"])
    assert column_b[trouble + 1] == q.item("sf_trouble").help["nl"]
