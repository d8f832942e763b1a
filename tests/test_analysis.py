"""The numbers: every statistic checked against an independent computation on known data,
and anonymity (directly and by subtraction)."""

from __future__ import annotations

import statistics

import pytest
from scipy import stats as scipy_stats

from survey.analysis import ORGANISATION, analyse_scan, write_results_workbook
from survey.disclosure import hide_groups
from survey.collect import collect
from survey.demo import fill_form
from survey.forms import write_forms
from survey.scan import Department, init_scan

QUESTIONNAIRE = """\
id: known
version: "1.0"
languages: [nl, en]
title: {nl: Bekend, en: Known}
scales:
  agree5:
    kind: ordinal
    options:
      - {code: 1, label: {nl: Helemaal oneens, en: Strongly disagree}}
      - {code: 2, label: {nl: Oneens, en: Disagree}}
      - {code: 3, label: {nl: Neutraal, en: Neutral}}
      - {code: 4, label: {nl: Eens, en: Agree}}
      - {code: 5, label: {nl: Helemaal eens, en: Strongly agree}}
    not_applicable: {nl: Weet ik niet, en: Don't know}
  initiative:
    kind: nominal
    options:
      - {code: self, label: {nl: Ik zelf, en: I myself}}
      - {code: together, label: {nl: Samen, en: Together}}
      - {code: manager, label: {nl: Mijn leidinggevende, en: My manager}}
      - {code: organisation, label: {nl: De organisatie, en: The organisation}}
    not_applicable: {nl: Komt niet voor, en: Does not happen}
  pace_effect:
    kind: nominal
    options:
      - {code: speeds_up, label: {nl: Helpt mij vooruit, en: Speeds me up}}
      - {code: no_effect, label: {nl: Geen invloed, en: No effect}}
      - {code: brakes, label: {nl: Remt mij af, en: Brakes me}}
  role:
    kind: nominal
    options:
      - {code: employee, label: {nl: Medewerker, en: Employee}}
      - {code: manager, label: {nl: Leidinggevende, en: Manager}}
dimensions:
  drives: {name: {nl: Kar, en: Drives}}
  pace: {name: {nl: Tempo, en: Pace}}
sections:
  - id: s
    title: {nl: S, en: S}
    items:
      - {id: d1, type: statement, scale: agree5, dimension: drives, pole: partnership, desired: true,
         text: {nl: d1, en: d1}}
      - {id: d2, type: statement, scale: agree5, dimension: drives, pole: traditional, text: {nl: d2, en: d2}}
      - {id: p1, type: statement, scale: agree5, dimension: pace, pole: partnership, text: {nl: p1, en: p1}}
      - {id: p2, type: statement, scale: agree5, dimension: pace, pole: traditional, text: {nl: p2, en: p2}}
      - id: grid
        type: situation_grid
        initiative_scale: initiative
        effect_scale: pace_effect
        text: {nl: Situaties, en: Situations}
        situations:
          - {id: talk, text: {nl: Gesprek, en: Talk}}
          - {id: course, text: {nl: Cursus, en: Course}}
background:
  - {id: role, text: {nl: Rol, en: Role}, scale: role, source: form, reporting: compare}
derived:
  - {id: index, name: {nl: Index, en: Index}, of: [drives, pace]}
"""

# Employees per department; C is below the threshold of 5, so A (the smallest other) is
# hidden too: otherwise C could be worked out from the organisation total minus the rest.
SIZES = {"A": 6, "B": 7, "C": 2, "D": 8}
INITIATIVES = ["self", "together", "manager", "organisation"]
EFFECTS = ["speeds_up", "no_effect", "brakes"]


def answers_for(index: int) -> dict[str, object]:
    """Deterministic, varied answers; 'd2' is 'don't know' (None) for every 5th person."""
    return {
        "d1": 1 + index % 5, "d1.desired": 1 + (index + 2) % 5,
        "d2": None if index % 5 == 4 else 1 + (index * 3) % 5,
        "p1": 1 + (index * 2) % 5, "p2": 1 + (index + 1) % 5,
        "grid.talk.initiative": INITIATIVES[index % 4], "grid.talk.effect": EFFECTS[index % 3],
        "grid.course.initiative": INITIATIVES[(index + 1) % 4], "grid.course.effect": EFFECTS[(index * 2) % 3],
    }


@pytest.fixture(scope="module")
def known_scan(tmp_path_factory):
    folder = tmp_path_factory.mktemp("known")
    qpath = folder / "known.yaml"
    qpath.write_text(QUESTIONNAIRE, encoding="utf-8")
    departments = [Department(name, size + 1, 1) for name, size in SIZES.items()]
    scan = init_scan(folder / "scan", "Known org", qpath, "nl", "2026", 5, departments)
    forms = write_forms(scan)
    given: dict[str, list[dict]] = {name: [] for name in SIZES}
    counter = 0
    for spec in forms.forms:
        if spec.meta.role != "employee":
            continue
        answers = answers_for(counter)
        counter += 1
        given[spec.meta.department].append(answers)
        fill_form(scan, spec.path, answers, scan.inbox / spec.path.name)
    outcome = collect(scan)
    assert outcome.count("accepted") == sum(SIZES.values())
    return scan, given, analyse_scan(scan)


def item_score(value, pole):
    score = (value - 1) / 4 * 100
    return 100 - score if pole == "traditional" else score


def person_dimension(answers, dim):
    pairs = {"drives": [("d1", "partnership"), ("d2", "traditional")],
             "pace": [("p1", "partnership"), ("p2", "traditional")]}[dim]
    scores = [item_score(answers[k], pole) for k, pole in pairs if answers.get(k) is not None]
    return statistics.fmean(scores) if scores else None


def interval(values):
    mean = statistics.fmean(values)
    low, high = scipy_stats.t.interval(0.95, len(values) - 1, loc=mean, scale=scipy_stats.sem(values))
    return mean, low, high


def test_departments_below_threshold_and_their_complement_are_hidden(known_scan):
    _, _, results = known_scan
    shown = [g.key for g in results.departments]
    assert shown == ["B", "D"]
    assert results.hidden_departments == ["A", "C"]
    reasons = {(s.group, s.table): s.reason for s in results.suppressed}
    assert "fewer than 5" in reasons[("C", "departments")]
    assert "subtraction" in reasons[("A", "departments")]


def test_scores_are_means_of_the_statement_figures_and_statements_have_intervals(known_scan):
    """A group's part score is the mean of its statement figures (each over those who answered
    it), so it tells nothing beyond them; the statements carry a t-interval."""
    _, given, results = known_scan
    groups = {g.key: g for g in results.departments} | {ORGANISATION: results.organisation_result}
    members = {"B": given["B"], "D": given["D"], ORGANISATION: [a for name in SIZES for a in given[name]]}
    pairs = {"drives": [("d1", "partnership"), ("d2", "traditional")],
             "pace": [("p1", "partnership"), ("p2", "traditional")]}
    for key, people in members.items():
        parts = []
        for dim, items in pairs.items():
            item_means = [statistics.fmean(item_score(a[i], pole) for a in people if a[i] is not None)
                          for i, pole in items]
            got = groups[key].dimensions[dim]
            assert got.mean == pytest.approx(statistics.fmean(item_means))
            assert got.n is None  # a composite has no single base
            parts.append(statistics.fmean(item_means))
        assert groups[key].derived["index"].mean == pytest.approx(statistics.fmean(parts))
        answered = [a["d2"] for a in people if a["d2"] is not None]
        mean, low, high = interval(answered)
        d2 = groups[key].items["d2"]
        assert (d2.n, d2.mean) == (len(answered), pytest.approx(mean))
        assert (d2.ci_low, d2.ci_high) == (pytest.approx(low), pytest.approx(high))


def test_pace_map_shares_match_independent_count(known_scan):
    _, given, results = known_scan
    people = given["D"]
    cell = {g.key: g for g in results.departments}["D"].pace["talk"]
    assert cell.n_initiative == cell.n_effect == len(people)
    for code in INITIATIVES:
        assert cell.initiative[code] == pytest.approx(sum(a["grid.talk.initiative"] == code for a in people) / len(people))
    speeds = sum(a["grid.talk.effect"] == "speeds_up" for a in people) / len(people)
    brakes = sum(a["grid.talk.effect"] == "brakes" for a in people) / len(people)
    assert cell.balance == pytest.approx(100 * (speeds - brakes))


def test_current_versus_desired(known_scan):
    _, given, results = known_scan
    people = given["B"]
    gap = {g.key: g for g in results.departments}["B"].desired["d1"]
    assert gap.current == pytest.approx(statistics.fmean(item_score(a["d1"], "partnership") for a in people))
    assert gap.desired == pytest.approx(statistics.fmean(item_score(a["d1.desired"], "partnership") for a in people))


def test_dont_know_is_not_scored(known_scan):
    _, given, results = known_scan
    people = given["D"]
    item = {g.key: g for g in results.departments}["D"].items["d2"]
    answered = [a["d2"] for a in people if a["d2"] is not None]
    assert item.n == len(answered) < len(people)
    assert item.mean == pytest.approx(statistics.fmean(answered))


def test_no_figure_for_hidden_departments_in_workbook(known_scan, tmp_path):
    _, _, results = known_scan
    from openpyxl import load_workbook

    path = write_results_workbook(results, tmp_path / "results.xlsx")
    book = load_workbook(path)
    for sheet in ("overview", "pace_map", "items"):
        groups = {row[0] for row in book[sheet].iter_rows(min_row=2, values_only=True)}
        assert "A" not in groups and "C" not in groups
        assert "B" in groups


def test_hide_groups_complementary_suppression():
    assert set(hide_groups({"x": 3, "y": 10, "z": 20}, 5)) == {"x", "y"}
    assert hide_groups({"x": 3, "y": 10, "z": 20}, 5)["y"].protects == ("x",)
    assert set(hide_groups({"x": 3, "w": 4, "y": 10}, 5)) == {"x", "w"}  # 3 + 4 >= 5 already
    assert hide_groups({"x": 6, "y": 10}, 5) == {}
    assert hide_groups({"x": 0, "y": 10}, 5) == {}  # no answers: absent, not hidden


def test_choice_shares_match_independent_count(tmp_path):
    text = QUESTIONNAIRE.replace("      - id: grid\n", """      - {id: often, type: single_choice, scale: agree5, text: {nl: Vaak, en: Often}}
      - {id: where, type: multiple_choice, scale: initiative, text: {nl: Waar, en: Where}}
      - id: grid
""")
    qpath = tmp_path / "choice.yaml"
    qpath.write_text(text, encoding="utf-8")
    scan = init_scan(tmp_path / "scan", "Org", qpath, "nl", "2026", 5, [Department("A", 8, 0)])
    given = []
    for number, spec in enumerate(write_forms(scan).forms):
        answers = {"often": 1 + number % 3, "d1": 3}
        if number % 4:
            answers |= {"where.self": True, **({"where.manager": True} if number % 2 else {})}
        given.append(answers)
        fill_form(scan, spec.path, answers, scan.inbox / spec.path.name)
    collect(scan)
    org = analyse_scan(scan).organisation_result
    often = org.choices["often"]
    assert often.n == 8
    for code in ("1", "2", "3", "4"):
        assert often.shares[code] == pytest.approx(sum(str(a["often"]) == code for a in given) / 8)
    where = org.choices["where"]
    ticked = [a for a in given if "where.self" in a]
    assert where.n == len(ticked)
    assert where.shares["manager"] == pytest.approx(sum("where.manager" in a for a in ticked) / len(ticked))
    assert where.shares["self"] == 1.0


def test_audit_finds_nothing_in_the_known_scan_and_finds_the_leaks_without_protection(known_scan):
    """Through the whole pipeline (forms, collect): A and C hidden, every fifth person skipped d2."""
    from survey.audit import audit
    from survey.report import write_report

    scan, _, results = known_scan
    write_results_workbook(results, scan.output_dir / "results.xlsx")
    write_report(scan, results=results, pdf=False)
    assert audit(scan.folder).ok, audit(scan.folder).render()
    leaky = analyse_scan(scan, protection=False)
    out = scan.folder / "unprotected"
    write_results_workbook(leaky, out / "results.xlsx")
    write_report(scan, out, results=leaky, pdf=False)
    found = audit(out)
    assert any(f.people == SIZES["C"] for f in found.findings), found.render()  # C's figures, 2 people
