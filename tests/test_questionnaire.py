"""The questionnaire format: validation messages with their line numbers, the bundled
library, the JSON Schema and versions across waves."""

from __future__ import annotations

import json

import jsonschema
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from survey.cli import cli
from survey.errors import QuestionnaireError
from survey.questionnaire import (
    Change,
    bundled_paths,
    compare_versions,
    json_schema,
    load_questionnaire,
    validate,
)

VALID = """\
id: mini
version: "1.0"
languages: [nl, en]
title: {nl: Mini, en: Mini}
scales:
  agree:
    kind: ordinal
    options:
      - {code: 1, label: {nl: Oneens, en: Disagree}}
      - {code: 2, label: {nl: Neutraal, en: Neutral}}
      - {code: 3, label: {nl: Eens, en: Agree}}
dimensions:
  drives:
    name: {nl: "Wie zet de eerste stap?", en: "Who takes the first step?"}
sections:
  - id: one
    title: {nl: Een, en: One}
    items:
      - id: a1
        type: statement
        scale: agree
        dimension: drives
        pole: partnership
        text: {nl: Ik plan zelf mijn gesprekken., en: I plan my own talks.}
      - id: a2
        type: statement
        scale: agree
        dimension: drives
        pole: traditional
        text: {nl: Mijn leidinggevende plant mijn gesprekken., en: My manager plans my talks.}
derived:
  - id: index
    name: {nl: Index, en: Index}
    of: [drives]
"""


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    count = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            count += 1
            if count == occurrence:
                return number
    raise AssertionError(fragment)


def problems_of(write_yaml, text: str):
    report = validate(write_yaml(text))
    return report


def test_minimal_questionnaire_is_valid(write_yaml):
    report = problems_of(write_yaml, VALID)
    assert report.ok, [p.message for p in report.errors]
    assert report.warnings == []
    q = report.questionnaire
    assert [i.id for i in q.items] == ["a1", "a2"]


@pytest.mark.parametrize("path", bundled_paths(), ids=lambda p: p.stem)
def test_every_bundled_questionnaire_validates_without_warnings(path):
    report = validate(path)
    assert report.ok, [p.message for p in report.errors]
    assert report.warnings == [], [p.message for p in report.warnings]
    assert {"nl", "en"} <= set(report.questionnaire.languages)


def test_bundled_library_has_the_four_questionnaires():
    assert {p.stem for p in bundled_paths()} >= {"partnership-scan", "werkgeluk", "behoud-en-ontwikkeling",
                                                 "organisatiescan"}


def test_misspelt_scale_names_line_and_suggests(write_yaml):
    text = VALID.replace("        scale: agree\n        dimension: drives\n        pole: traditional",
                         "        scale: agre\n        dimension: drives\n        pole: traditional")
    report = problems_of(write_yaml, text)
    assert not report.ok
    [problem] = report.errors
    assert problem.where.line == line_of(text, "scale: agre\n".strip(), 2) or problem.where.line == line_of(
        text, "scale: agre", 2)
    assert "unknown scale 'agre'" in problem.message
    assert "did you mean 'agree'?" in problem.message.lower()
    assert str(problem.where.file).endswith("q.yaml")


def test_misspelt_dimension_suggests(write_yaml):
    text = VALID.replace("dimension: drives\n        pole: partnership", "dimension: drivs\n        pole: partnership")
    [problem] = problems_of(write_yaml, text).errors
    assert problem.where.line == line_of(text, "dimension: drivs")
    assert "unknown dimension 'drivs'" in problem.message and "did you mean 'drives'" in problem.message.lower()


def test_misspelt_reference_in_derived_score(write_yaml):
    text = VALID.replace("of: [drives]", "of: [drivers]")
    [problem] = problems_of(write_yaml, text).errors
    assert problem.where.line == line_of(text, "of: [drivers]")
    assert "'drivers'" in problem.message and "did you mean 'drives'" in problem.message.lower()


def test_duplicate_item_id(write_yaml):
    text = VALID.replace("- id: a2", "- id: a1")
    [problem] = problems_of(write_yaml, text).errors
    assert problem.where.line == line_of(text, "- id: a1", 2)
    assert "item id 'a1' is used twice" in problem.message
    assert f"line {line_of(text, '- id: a1')}" in problem.message  # points to the first one too


def test_missing_translation(write_yaml):
    text = VALID.replace("title: {nl: Een, en: One}", "title: {nl: Een}")
    [problem] = problems_of(write_yaml, text).errors
    assert problem.where.line == line_of(text, "title: {nl: Een}")
    assert "missing the English text ('en')" in problem.message
    assert "add 'en: ...'" in problem.message.lower()


def test_dimension_without_reverse_keyed_item_is_a_warning(write_yaml):
    text = VALID.replace("pole: traditional", "pole: partnership")
    report = problems_of(write_yaml, text)
    assert report.ok
    [warning] = report.warnings
    assert warning.severity == "warning"
    assert "no reverse-keyed" in warning.message
    assert warning.where.line == line_of(text, "  drives:")


def test_scale_without_labels(write_yaml):
    text = VALID.replace("""    options:
      - {code: 1, label: {nl: Oneens, en: Disagree}}
      - {code: 2, label: {nl: Neutraal, en: Neutral}}
      - {code: 3, label: {nl: Eens, en: Agree}}
""", "")
    errors = problems_of(write_yaml, text).errors
    assert any("scale 'agree' has no labels" in p.message and p.where.line == line_of(text, "  agree:")
               for p in errors), [p.message for p in errors]


def test_empty_section(write_yaml):
    text = VALID + """  - id: two
    title: {nl: Twee, en: Two}
    items: []
"""
    text = text.replace("derived:\n  - id: index\n    name: {nl: Index, en: Index}\n    of: [drives]\n", "") + \
        "derived:\n  - id: index\n    name: {nl: Index, en: Index}\n    of: [drives]\n"
    # sections must stay contiguous: rebuild with the empty section right after the first
    text = VALID.replace("derived:", """  - id: two
    title: {nl: Twee, en: Two}
    items: []
derived:""")
    [problem] = problems_of(write_yaml, text).errors
    assert "section 'two' has no questions" in problem.message
    assert problem.where.line == line_of(text, "items: []")


def test_unknown_key_and_wrong_enum_value(write_yaml):
    text = VALID.replace("pole: partnership", "pole: partnersip").replace("scale: agree\n        dimension: drives\n"
                                                                         "        pole: traditional",
                                                                         "scael: agree\n        dimension: drives\n"
                                                                         "        pole: traditional")
    errors = problems_of(write_yaml, text).errors
    messages = " | ".join(p.message for p in errors)
    assert "'partnersip' is not allowed for 'pole'" in messages and "did you mean 'partnership'" in messages.lower()
    assert "unknown key 'scael'" in messages and "did you mean 'scale'" in messages.lower()
    lines = {p.where.line for p in errors}
    assert line_of(text, "pole: partnersip") in lines
    assert line_of(text, "scael: agree") in lines


def test_unknown_item_type(write_yaml):
    text = VALID.replace("type: statement", "type: statment", 1)
    [problem] = problems_of(write_yaml, text).errors
    assert "unknown item type 'statment'" in problem.message
    assert "did you mean 'statement'" in problem.message.lower()
    assert problem.where.line == line_of(text, "type: statment")


def test_yaml_syntax_error_names_line(write_yaml):
    text = VALID.replace("title: {nl: Mini, en: Mini}", "title: {nl: Mini, en: Mini")
    [problem] = problems_of(write_yaml, text).errors
    assert "YAML syntax error" in problem.message
    assert problem.where.line is not None and abs(problem.where.line - line_of(text, "title: {nl: Mini")) <= 2


def test_empty_file(write_yaml):
    [problem] = problems_of(write_yaml, "\n# nothing here\n").errors
    assert "the file is empty" in problem.message


def test_file_that_is_not_a_mapping(write_yaml):
    [problem] = problems_of(write_yaml, "- just\n- a list\n").errors
    assert "holds a list, not a questionnaire" in problem.message


def test_load_raises_typed_error_with_all_problems(write_yaml):
    text = VALID.replace("dimension: drives\n        pole: partnership", "dimension: drivs\n        pole: partnership")
    text = text.replace("of: [drives]", "of: [drivers]")
    with pytest.raises(QuestionnaireError) as caught:
        load_questionnaire(write_yaml(text))
    assert len(caught.value.problems) == 2


def test_json_schema_accepts_bundled_and_rejects_broken(write_yaml):
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    yaml = YAML(typ="safe")
    for path in bundled_paths():
        jsonschema.validate(yaml.load(path.read_text(encoding="utf-8")), schema)
    broken = yaml.load(VALID.replace("pole: partnership", "pole: sideways"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
    broken = yaml.load(VALID.replace("type: statement", "type: poem", 1))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_validate_command_exit_codes(write_yaml):
    runner = CliRunner()
    good = write_yaml(VALID, "good.yaml")
    bad = write_yaml(VALID.replace("of: [drives]", "of: [drivers]"), "bad.yaml")
    ok = runner.invoke(cli, ["validate", str(good)])
    assert ok.exit_code == 0 and "valid" in ok.output
    failed = runner.invoke(cli, ["validate", str(good), str(bad)])
    assert failed.exit_code == 1
    assert f"line {line_of(VALID, 'of: [drives]')}" in failed.output
    assert "Traceback" not in failed.output


def test_questionnaires_command_lists_bundled():
    result = CliRunner().invoke(cli, ["questionnaires"])
    assert result.exit_code == 0
    for name in ("organisatiescan", "partnership-scan", "werkgeluk", "behoud-en-ontwikkeling"):
        assert name in result.output
    assert "nl,en" in result.output


def test_schema_command_writes_json(tmp_path):
    out = tmp_path / "schema.json"
    result = CliRunner().invoke(cli, ["schema", "--out", str(out)])
    assert result.exit_code == 0
    assert json.loads(out.read_text())["title"] == "survey questionnaire"


def test_reworded_item_breaks_the_trend(write_yaml):
    old = load_questionnaire(write_yaml(VALID, "v1.yaml")).questionnaire
    # the source language (nl, listed first) carries the trend; English-only rewording keeps it
    new_text = VALID.replace('version: "1.0"', 'version: "1.1"').replace(
        "Ik plan zelf mijn gesprekken.", "Ik plan zelf mijn ontwikkelgesprekken.")
    new = load_questionnaire(write_yaml(new_text, "v2.yaml")).questionnaire
    changes = {c.key: c for c in compare_versions(old, new)}
    assert changes["a1"].change is Change.reworded and changes["a1"].trend_broken
    assert changes["a2"].change is Change.same and not changes["a2"].trend_broken
    assert old.content_hash != new.content_hash
    result = CliRunner().invoke(cli, ["compare", str(write_yaml(VALID, "v1.yaml")), str(write_yaml(new_text, "v2.yaml"))])
    assert "a1" in result.output and "trend broken" in result.output and "1 questions comparable" in result.output


def test_include_merges_and_reports_conflicts(write_yaml, tmp_path):
    write_yaml(VALID, "mini.yaml")
    top = write_yaml("""\
id: top
version: "1.0"
languages: [nl, en]
title: {nl: Samen, en: Together}
include: [mini, werkgeluk]
""", "top.yaml")
    q = load_questionnaire(top).questionnaire
    assert {"a1", "a2", "plezier"} <= {i.id for i in q.items}
    assert {d.id for d in q.derived} == {"index", "werkgeluk"}
    clash = write_yaml(VALID.replace("Oneens", "Niet eens"), "mini2.yaml")
    top2 = write_yaml("id: top2\nversion: '1'\nlanguages: [nl, en]\ntitle: {nl: T, en: T}\n"
                      f"include: [mini, {clash}]\n", "top2.yaml")
    report = validate(top2)
    assert not report.ok
    assert any("scale 'agree' is defined differently" in p.message for p in report.errors)
    missing = write_yaml("id: t3\nversion: '1'\nlanguages: [nl, en]\ntitle: {nl: T, en: T}\ninclude: [werkgeluck]\n",
                         "t3.yaml")
    [problem] = validate(missing).errors
    assert "did you mean 'werkgeluk'" in problem.message.lower() and problem.where.line == 5


def test_only_role_can_come_from_the_form(write_yaml):
    text = VALID.replace("derived:", """background:
  - {id: tenure, text: {nl: Jaren, en: Years}, scale: agree, source: form}
derived:""")
    [problem] = validate(write_yaml(text)).errors
    assert "only the 'role' question" in problem.message
    assert problem.where.line == line_of(text, "id: tenure")


def test_partnership_scan_covers_the_brief():
    q = load_questionnaire("partnership-scan").questionnaire
    assert set(q.dimensions) == {"drives", "pace", "responsibility", "demand_driven"}
    for name in q.dimensions:
        items = q.dimension_items(name)
        assert len(items) >= 4, name
        assert {i.pole.value for i in items} == {"partnership", "traditional"}, name
        assert all(i.manager_text for i in items), name
        assert any(i.desired for i in items), name
    [grid] = q.grids
    assert len(grid.situations) >= 8
    assert {"planning_talk", "progress_talk", "appraisal_talk", "training_request", "career_step",
            "goal_setting", "workload_roster", "new_tasks"} <= {s.id for s in grid.situations}
    assert {b.id for b in q.background} >= {"role", "tenure", "hours"}
    assert any(d.id == "partnership_index" and set(d.of) == set(q.dimensions) for d in q.derived)


def test_werkgeluk_and_retention_content():
    happiness = load_questionnaire("werkgeluk").questionnaire
    scores = [i for i in happiness.items if i.type == "score"]
    assert [i.id for i in scores] == ["plezier", "zingeving", "voldoening"]
    assert sum(1 for i in happiness.items if i.type == "open") == 3
    assert happiness.scales[scores[0].scale].min == 1 and happiness.scales[scores[0].scale].max == 10
    retention = load_questionnaire("behoud-en-ontwikkeling").questionnaire
    ids = {i.id for i in retention.items}
    assert {"stay_1y", "stay_3y", "growth_inside", "growth_sector"} <= ids
    assert sum(1 for i in ids if i.startswith("sf_")) == 5
    combined = load_questionnaire("organisatiescan").questionnaire
    assert ids | {i.id for i in happiness.items} < {i.id for i in combined.items}
    assert {d.id for d in combined.derived} == {"partnership_index", "werkgeluk", "intent_to_stay"}


def test_situation_grid_codes_must_be_known(write_yaml):
    text = VALID.replace("derived:", """  - id: grid_section
    title: {nl: Situaties, en: Situations}
    items:
      - id: grid
        type: situation_grid
        initiative_scale: who
        effect_scale: effect
        text: {nl: Wie?, en: Who?}
        situations:
          - {id: talk, text: {nl: Gesprek, en: Talk}}
derived:""").replace("dimensions:", """  who:
    kind: nominal
    options:
      - {code: self, label: {nl: Ik, en: Me}}
      - {code: boss, label: {nl: Baas, en: Boss}}
  effect:
    kind: nominal
    options:
      - {code: speeds_up, label: {nl: Vooruit, en: Faster}}
      - {code: brakes, label: {nl: Rem, en: Brake}}
dimensions:""")
    [problem] = validate(write_yaml(text)).errors
    assert "code 'boss', which the pace map does not know" in problem.message
    assert "self, together, manager, organisation" in problem.message
    assert problem.where.line == line_of(text, "code: boss")


def test_yaml_alias_bomb_is_refused_quickly(write_yaml):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    [problem] = validate(write_yaml("\n".join(lines) + "\n")).errors
    assert "too many entries" in problem.message


@pytest.mark.parametrize("change, expected, fragment", [
    (("text: {nl: Ik plan zelf mijn gesprekken., en: I plan my own talks.}", "text: Ik plan zelf mijn gesprekken."),
     "'text' needs a text per language", "text: Ik plan zelf"),
    (("  - id: one", "\t- id: one"), "Indent with spaces, not tabs", "- id: one"),
    (("pole: partnership\n", "pole: partnership\n        pole: traditional\n"), "remove or rename one of them",
     "pole: traditional"),
    (("pole: partnership\n", "pole: partnership\n        desired: ja\n"), "'desired' must be true or false",
     "desired: ja"),
])
def test_common_mistakes_get_plain_messages(write_yaml, change, expected, fragment):
    text = VALID.replace(*change)
    [problem] = validate(write_yaml(text)).errors
    assert expected in problem.message
    assert problem.where.line == line_of(text, fragment)


def test_version_may_be_written_as_a_number(write_yaml):
    report = validate(write_yaml(VALID.replace('version: "1.0"', "version: 1.0")))
    assert report.ok and report.questionnaire.version == "1.0"


def test_one_label_may_stand_for_one_answer_only(write_yaml):
    text = VALID.replace("{code: 2, label: {nl: Neutraal, en: Neutral}}", "{code: 2, label: {nl: Eens, en: Neutral}}")
    [problem] = validate(write_yaml(text)).errors
    assert "'eens' stands for two answers" in problem.message
    text = VALID.replace("      - {code: 3, label: {nl: Eens, en: Agree}}\n",
                         "      - {code: 3, label: {nl: Eens, en: Agree}}\n    not_applicable: {nl: Eens, en: Skip}\n")
    [problem] = validate(write_yaml(text)).errors
    assert "'does not apply' label 'Eens' is also an answer" in problem.message


def test_derived_score_refuses_traditional_statement(write_yaml):
    text = VALID.replace("of: [drives]", "of: [a1, a2]")
    [problem] = validate(write_yaml(text)).errors
    assert "'a2' as answered, but it is traditional-keyed" in problem.message
    assert problem.where.line == line_of(text, "of: [a1, a2]")


def test_moving_a_statement_to_another_dimension_breaks_its_trend(write_yaml):
    two = VALID.replace("dimensions:\n", "dimensions:\n  other:\n    name: {nl: Ander, en: Other}\n")
    old = load_questionnaire(write_yaml(two, "a.yaml")).questionnaire
    moved = two.replace("dimension: drives\n        pole: partnership", "dimension: other\n        pole: partnership")
    new = load_questionnaire(write_yaml(moved, "b.yaml")).questionnaire
    assert {c.key: c.change for c in compare_versions(old, new)}["a1"] is Change.reworded
