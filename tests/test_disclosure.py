"""Disclosure control against the audit: adversarial scans, each run with protection on (the
audit must find nothing in the outputs) and off (the audit must find the leak).

The scans are built as response frames and handed to `analysis.analyse_frame`, the function
`analyse_scan` calls after reading the store: filling and collecting forms for a dozen scans
would take minutes, and the store is being rewritten in parallel. The pipeline itself
(forms, collect, analyse, report, audit) is covered by the demo test at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from survey.analysis import ORGANISATION, analyse_frame, write_results_workbook
from survey.audit import audit
from survey.disclosure import Register, decide, hide_groups
from survey.report import write_report
from survey.scan import Department, init_scan
from survey.status import reportability

QUESTIONNAIRE = """\
id: adversarial
version: "1.0"
languages: [en]
title: {en: Adversarial}
scales:
  agree5:
    kind: ordinal
    options:
      - {code: 1, label: {en: Strongly disagree}}
      - {code: 2, label: {en: Disagree}}
      - {code: 3, label: {en: Neutral}}
      - {code: 4, label: {en: Agree}}
      - {code: 5, label: {en: Strongly agree}}
    not_applicable: {en: Don't know}
  initiative:
    kind: nominal
    options:
      - {code: self, label: {en: I myself}}
      - {code: together, label: {en: Together}}
      - {code: manager, label: {en: My manager}}
      - {code: organisation, label: {en: The organisation}}
    not_applicable: {en: Does not happen}
  pace_effect:
    kind: nominal
    options:
      - {code: speeds_up, label: {en: Speeds me up}}
      - {code: no_effect, label: {en: No effect}}
      - {code: brakes, label: {en: Brakes me}}
  yesno:
    kind: nominal
    options:
      - {code: "yes", label: {en: "Yes"}}
      - {code: "no", label: {en: "No"}}
  role:
    kind: nominal
    options:
      - {code: employee, label: {en: Employee}}
      - {code: manager, label: {en: Manager}}
  tenure_band:
    kind: nominal
    options:
      - {code: short, label: {en: Less than 10 years}}
      - {code: long, label: {en: 10 years or more}}
dimensions:
  drives: {name: {en: Drives}}
  pace: {name: {en: Pace}}
sections:
  - id: s
    title: {en: S}
    items:
      - {id: d1, type: statement, scale: agree5, dimension: drives, pole: partnership, desired: true, text: {en: d1}}
      - {id: d2, type: statement, scale: agree5, dimension: drives, pole: traditional, text: {en: d2}}
      - {id: d3, type: statement, scale: agree5, dimension: drives, pole: partnership, text: {en: d3}}
      - {id: p1, type: statement, scale: agree5, dimension: pace, pole: partnership, text: {en: p1}}
      - {id: p2, type: statement, scale: agree5, dimension: pace, pole: partnership, text: {en: p2}}
      - {id: stay, type: statement, scale: agree5, text: {en: I want to stay}}
      - {id: course, type: single_choice, scale: yesno, text: {en: Did you follow a course?}}
      - id: grid
        type: situation_grid
        initiative_scale: initiative
        effect_scale: pace_effect
        text: {en: Situations}
        situations:
          - {id: talk, text: {en: Talk}}
      - {id: wish, type: open, text: {en: What would help you?}}
background:
  - {id: role, text: {en: Role}, scale: role, source: form, reporting: compare}
  - {id: tenure, text: {en: Years worked}, scale: tenure_band, reporting: compare}
derived:
  - {id: index, name: {en: Index}, of: [drives, pace]}
"""

STATEMENTS = ("d1", "d1.desired", "d2", "d3", "p1", "p2", "stay")
INITIATIVES = ("self", "together", "manager", "organisation")
EFFECTS = ("speeds_up", "no_effect", "brakes")
TEXT_FIELDS = {"course", "grid.talk.initiative", "grid.talk.effect", "wish", "tenure"}


def person(i: int) -> dict[str, object]:
    """Varied, deterministic answers (distinct per person, so a leak shows as an exact value)."""
    return {"d1": 1 + i % 5, "d1.desired": 1 + (i + 2) % 5, "d2": 1 + (i * 3) % 5, "d3": 1 + (i * 2 + 1) % 5,
            "p1": 1 + (i * 2) % 5, "p2": 1 + (i + 3) % 5, "stay": 1 + (i * 4 + 1) % 5,
            "course": "yes" if i % 3 else "no", "grid.talk.initiative": INITIATIVES[i % 4],
            "grid.talk.effect": EFFECTS[i % 3], "wish": f"answer {i % 4}", "tenure": "short"}


Answers = Callable[[str, int, dict[str, object]], dict[str, object]]


def build(tmp_path, sizes: dict[str, int], change: Answers | None = None, managers: int = 0,
          threshold: int = 5):
    """A scan folder with `sizes` employees per department and answers from `person`, changed
    per (department, number in it) by `change`; returns (scan, responses, wide)."""
    qpath = tmp_path / "q.yaml"
    qpath.write_text(QUESTIONNAIRE, encoding="utf-8")
    scan = init_scan(tmp_path / "scan", "Org", qpath, "en", "2026", threshold,
                     [Department(name, size + (1 if managers else 0), 1 if managers else 0)
                      for name, size in sizes.items()])
    rows, answers = [], []
    counter = 0
    for dept, size in sizes.items():
        for number in range(size):
            given = person(counter)
            if change:
                given = change(dept, number, given)
            rows.append({"id": counter + 1, "form_id": f"f{counter}", "department": dept, "role": "employee",
                         "wave": "2026"})
            answers.append(given)
            counter += 1
    for number in range(managers):
        rows.append({"id": counter + 1, "form_id": f"f{counter}", "department": next(iter(sizes)),
                     "role": "manager", "wave": "2026"})
        answers.append(person(counter))
        counter += 1
    responses = pd.DataFrame(rows).set_index("id")
    num = pd.DataFrame([{k: v for k, v in a.items() if k not in TEXT_FIELDS and v is not None} for a in answers],
                       index=responses.index, dtype=float)
    text = pd.DataFrame([{k: v for k, v in a.items() if k in TEXT_FIELDS and v is not None} for a in answers],
                        index=responses.index, dtype=object)
    return scan, responses, pd.concat({"num": num, "text": text}, axis=1)


def publish(scan, responses, wide, protection: bool = True):
    """Analyse, write the results workbook and the HTML report; return (results, audit result)."""
    results = analyse_frame(scan, responses, wide, protection=protection)
    out = scan.folder / ("output" if protection else "output-unprotected")
    write_results_workbook(results, out / "results.xlsx")
    write_report(scan, out, results=results, pdf=False)
    return results, audit(out)


def skip(fields: tuple[str, ...], where: dict[str, set[int]]) -> Answers:
    def change(dept, number, given):
        if number in where.get(dept, set()):
            given = {k: (None if k in fields else v) for k, v in given.items()}
        return given
    return change


def findings_about(result, variable: str) -> list[str]:
    return [str(f) for f in result.findings if f.variable == variable or variable in str(f)]


# --------------------------------------------------------------------------- adversarial scans


def test_exactly_the_threshold_with_one_skipped_question(tmp_path):
    # A has exactly 5; one of them skipped d2: A's d2 rests on 4, and the organisation minus
    # B and C would give those 4 as well
    scan, responses, wide = build(tmp_path, {"A": 5, "B": 7, "C": 9}, skip(("d2",), {"A": {0}}))
    results, safe = publish(scan, responses, wide)
    assert safe.ok, safe.render()
    groups = {g.key: g for g in results.groups}
    assert "d2" not in groups["A"].items
    shown = [key for key in ("B", "C") if "d2" in groups[key].items]
    assert "d2" in groups[ORGANISATION].items and len(shown) == 1  # secondary suppression: one more withdrawn
    assert any(s.table == "item:d2" and "subtraction" in s.reason for s in results.suppressed)
    # A's other figures and its part scores stay (d2 is one of three statements in 'drives')
    assert "d1" in groups["A"].items and "drives" in groups["A"].dimensions

    _, leaky = publish(scan, responses, wide, protection=False)
    assert not leaky.ok
    assert any(f.variable == "item:d2" and f.people == 4 for f in leaky.findings), leaky.render()


def test_two_departments_of_three(tmp_path):
    scan, responses, wide = build(tmp_path, {"A": 3, "B": 3, "C": 8, "D": 9})
    results, safe = publish(scan, responses, wide)
    assert safe.ok, safe.render()
    assert [g.key for g in results.departments] == ["C", "D"]
    assert {h.name: h.reason for h in results.hidden} == {"A": "small", "B": "small"}
    # together they are what subtraction gives anyway: shown as one combined group
    assert results.others is not None and results.others.n == 6 and results.others.members == 2
    html = (scan.folder / "output" / "report.html").read_text(encoding="utf-8")
    assert "Other departments (2)" in html
    assert "A: fewer than 5 answers" in html and "B: fewer than 5 answers" in html

    _, leaky = publish(scan, responses, wide, protection=False)
    assert any(f.people == 3 and "fewer than 5" in f.what for f in leaky.findings), leaky.render()


def test_departments_of_five_and_six_nested_bases_and_skipped_items(tmp_path):
    # In B (6), one person skipped 'how it should be' of d1 and another skipped d3
    scan, responses, wide = build(tmp_path, {"A": 5, "B": 6},
                                  lambda d, i, a: {**a, "d1.desired": None} if (d, i) == ("B", 0) else
                                  {**a, "d3": None} if (d, i) == ("B", 1) else a)
    results, safe = publish(scan, responses, wide)
    assert safe.ok, safe.render()
    b = {g.key: g for g in results.departments}["B"]
    # 'now' rests on the statement's own base (6), 'desired' on its own (5): no nested bases
    assert (b.desired["d1"].n_current, b.desired["d1"].n_desired) == (6, 5)
    assert b.items["d1"].n == 6
    # the part score is the mean of the statement figures, so it adds nothing to them
    scores = [b.items[i].mean for i in ("d1", "d3")] + [6 - b.items["d2"].mean]
    assert b.dimensions["drives"].mean == pytest.approx(np.mean([(s - 1) * 25 for s in scores]))

    _, leaky = publish(scan, responses, wide, protection=False)
    nested = [f for f in leaky.findings if f.variable == "item:d1" and f.people == 1]
    assert nested, leaky.render()  # now over 5 beside the statement over 6
    assert any(f.variable == "score drives" for f in leaky.findings), leaky.render()


def test_a_breakdown_row_with_one_answering_person(tmp_path):
    # five people worked 10 years or more; four of them left every statement blank
    blank = skip(STATEMENTS, {"C": {1, 2, 3, 4}})
    scan, responses, wide = build(tmp_path, {"A": 6, "B": 7, "C": 8},
                                  lambda d, i, a: blank(d, i, {**a, "tenure": "long" if d == "C" and i < 5
                                                               else "short"}))
    results, safe = publish(scan, responses, wide)
    assert safe.ok, safe.render()
    rows = {b.option: b for b in results.breakdowns if b.background == "tenure"}
    assert rows["long"].n == 5 and rows["long"].index is None  # counted, no score per band

    _, leaky = publish(scan, responses, wide, protection=False)
    band = [f for f in leaky.findings if "band:tenure=long" in f.what or "band tenure=long" in f.what]
    assert any(f.people == 1 for f in band), leaky.render()
    assert any("crossing" in f.what for f in leaky.findings)


def test_a_share_that_is_one_person(tmp_path):
    # in A only one person answered the course question
    scan, responses, wide = build(tmp_path, {"A": 6, "B": 7, "C": 8}, skip(("course",), {"A": {1, 2, 3, 4, 5}}))
    results, safe = publish(scan, responses, wide)
    assert safe.ok, safe.render()
    groups = {g.key: g for g in results.groups}
    assert "course" not in groups["A"].choices
    assert "course" in groups[ORGANISATION].choices

    _, leaky = publish(scan, responses, wide, protection=False)
    assert any(f.variable == "choice:course" and f.people == 1 for f in leaky.findings), leaky.render()


def test_small_category_counts_are_shown_under_the_same_rule(tmp_path):
    """One policy for shares and bands: a count of 1..k-1 in a category over a base of at
    least k people is published (it does not say who); the base itself must hold k."""
    scan, responses, wide = build(tmp_path, {"A": 6, "B": 7},
                                  lambda d, i, a: {**a, "course": "yes" if (d, i) == ("A", 0) else "no",
                                                   "tenure": "long" if (d, i) == ("A", 0) else "short"})
    results, safe = publish(scan, responses, wide)
    assert safe.ok, safe.render()
    a = {g.key: g for g in results.departments}["A"]
    assert a.choices["course"].shares["yes"] == pytest.approx(1 / 6)
    assert {b.option: b.n for b in results.breakdowns}["long"] == 1


def test_managers_below_the_threshold_are_named_and_their_quotes_left_out(tmp_path):
    scan, responses, wide = build(tmp_path, {"A": 6, "B": 7}, managers=3)
    results, safe = publish(scan, responses, wide)
    assert safe.ok
    assert results.managers is None and any(h.reason == "small" for h in results.hidden)
    html = (scan.folder / "output" / "report.html").read_text(encoding="utf-8")
    assert "Managers: fewer than 5 answers" in html


def test_quotes_leave_out_hidden_departments_and_are_the_same_every_run(tmp_path):
    scan, responses, wide = build(tmp_path, {"A": 2, "B": 6, "C": 7},
                                  lambda d, i, a: {**a, "wish": "Our team leader Jan ignores us" if d == "A"
                                                   else f"More time for training {i % 3}"})
    results, _ = publish(scan, responses, wide)
    html = (scan.folder / "output" / "report.html").read_text(encoding="utf-8")
    assert "Jan" not in html
    assert re.findall(r"<li>“(.*?)”</li>", html) == []  # nothing is quoted before a review
    from survey.quotes import approve_unflagged, chosen_quotes, load_review, write_review
    path, total, _ = write_review(scan, results)
    approve_unflagged(path)
    reviewed = load_review(scan)
    quotes = chosen_quotes(results, results.organisation_result, "wish", reviewed)
    assert quotes and all(q.startswith("More time for training") for q in quotes)
    from openpyxl import load_workbook
    texts = [str(row[3]) for row in load_workbook(path)["quotes"].iter_rows(min_row=2, values_only=True)]
    assert texts and not any("Jan" in t for t in texts)  # hidden A's answers are not even candidates
    order = np.random.default_rng(3).permutation(len(responses))  # the same answers, read in another order
    again = analyse_frame(scan, responses.iloc[order], wide.iloc[order])
    assert chosen_quotes(again, again.organisation_result, "wish", reviewed) == quotes


# --------------------------------------------------------------------------- the model itself


def test_decide_secondary_suppression_withdraws_the_smallest_department():
    import numpy as np

    from survey.disclosure import Group

    groups = {"org": Group("org", "organisation", frozenset("ABCD"), np.arange(0), float("inf")),
              **{u: Group(u, "department", frozenset(u), np.arange(0), n)
                 for u, n in {"A": 9, "B": 6, "C": 12}.items()}}
    register = Register(groups)
    counts = {"A": 9, "B": 6, "C": 12, "D": 2}  # D hidden, 2 people: org - A - B - C = D
    org = register.add("v", "org", "mean", unit_counts=counts)
    figures = {u: register.add("v", u, "mean", unit_counts={u: counts[u]}) for u in "ABC"}
    decision = decide(register, 5)
    assert decision.ok(org) and decision.ok(figures["A"]) and decision.ok(figures["C"])
    assert not decision.ok(figures["B"])  # the smallest goes: org - A - C = B + D = 8 people
    assert decide(register, 5, protection=False).allowed == {f.id for f in register.figures}


def test_status_says_how_many_more_forms_each_department_needs():
    employees = {"Big": 12, "Mid": 7, "Tiny": 3, "Empty": 0}
    why = reportability(employees, 5)
    assert why["Big"] == "yes"
    assert why["Tiny"] == "no (fewer than 5 employee answers: 2 more needed)"
    assert why["Mid"].startswith("no (hidden so that Tiny cannot be worked out; shown once Tiny has 2 more")
    assert why["Empty"].startswith("no (no employee answers yet")
    assert set(hide_groups(employees, 5)) == {"Tiny", "Mid"}


def test_audit_command_exit_codes(tmp_path):
    from survey.cli import cli

    scan, responses, wide = build(tmp_path, {"A": 3, "B": 6, "C": 7})
    publish(scan, responses, wide)
    ok = CliRunner().invoke(cli, ["audit", str(scan.folder)])
    assert ok.exit_code == 0, ok.output
    assert "No set of 1 to 4 people" in ok.output
    publish(scan, responses, wide, protection=False)
    leak = CliRunner().invoke(cli, ["audit", str(scan.folder / "output-unprotected")])
    assert leak.exit_code == 1 and "fewer than 5" in leak.output


# --------------------------------------------------------------------------- quotes review


def test_quote_review_flags_identifying_texts_and_the_report_uses_only_approved_ones(tmp_path):
    from openpyxl import load_workbook

    from survey.quotes import write_review

    texts = ["Our team leader Jan never listens", "Mail me at someone@example.org", "More time to learn",
             "Better rosters", "More time to learn"]
    scan, responses, wide = build(tmp_path, {"A": 6, "B": 7}, lambda d, i, a: {**a, "wish": texts[i % 5]})
    results = analyse_frame(scan, responses, wide)
    path, total, flagged = write_review(scan, results)
    assert (total, flagged) == (4, 2)
    book = load_workbook(path)
    sheet = book["quotes"]
    rows = {row[3].value: row for row in sheet.iter_rows(min_row=2)}
    assert "possible personal name (Jan)" in rows["Our team leader Jan never listens"][5].value
    assert "a role together with a name or team" in rows["Our team leader Jan never listens"][5].value
    assert rows["Mail me at someone@example.org"][6].value == "leave out"
    given = [texts[i % 5] for size in (6, 7) for i in range(size)]
    assert rows["More time to learn"][4].value == given.count("More time to learn")
    assert next(iter(rows)) == "More time to learn"  # the most frequent comes first
    assert {row[6].value for row in rows.values()} == {"leave out"}  # nothing is published unasked
    rows["More time to learn"][6].value = "publish"  # the consultant approves
    rows["Better rosters"][6].value = "publish"
    rows["Better rosters"][7].value = "Better work rosters"  # the consultant shortens or edits
    book.save(path)

    write_report(scan, scan.folder / "output", results=results, pdf=False)
    write_results_workbook(results, scan.folder / "output" / "results.xlsx")
    html = (scan.folder / "output" / "report.html").read_text(encoding="utf-8")
    quotes = re.findall(r"<li>“(.*?)”</li>", html)
    assert quotes == ["More time to learn", "Better work rosters"]
    assert "read beforehand by the consultant" in html
    assert audit(scan.folder).ok

    # a quote the review does not approve is caught by the audit
    rows["More time to learn"][6].value = "leave out"
    book.save(path)
    result = audit(scan.folder)
    assert not result.ok and "not approved" in result.render()


def test_a_damaged_review_names_the_cell(tmp_path):
    from openpyxl import load_workbook

    from survey.errors import SurveyError
    from survey.quotes import load_review, write_review

    scan, responses, wide = build(tmp_path, {"A": 6, "B": 7})
    path, _, _ = write_review(scan, analyse_frame(scan, responses, wide))
    book = load_workbook(path)
    book["quotes"]["G3"] = "maybe"
    book.save(path)
    with pytest.raises(SurveyError, match=r"sheet 'quotes', cell G3: the decision 'maybe'"):
        load_review(scan)


def test_combined_group_below_the_threshold_for_one_question_triggers_secondary_suppression(tmp_path):
    # the hidden departments (3 + 3) are shown together, but only 2 of them answered 'stay'
    scan, responses, wide = build(tmp_path, {"A": 3, "B": 3, "C": 8, "D": 9},
                                  skip(("stay",), {"A": {0, 1, 2}, "B": {0}}))
    results, safe = publish(scan, responses, wide)
    assert safe.ok, safe.render()
    groups = {g.key: g for g in results.groups}
    assert results.others is not None and "stay" not in results.others.items
    assert "stay" in groups[ORGANISATION].items
    assert sum("stay" in groups[key].items for key in ("C", "D")) == 1  # one more withdrawn
    assert "d1" in results.others.items  # other questions of the combined group stay

    _, leaky = publish(scan, responses, wide, protection=False)
    assert any(f.variable == "item:stay" and f.people == 2 for f in leaky.findings), leaky.render()


def test_the_audit_does_not_use_the_code_it_checks():
    import ast
    from pathlib import Path

    import survey.audit

    tree = ast.parse(Path(survey.audit.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert not imported & {"survey.analysis", "survey.disclosure", "survey.report", "survey.anonymity",
                           "survey.store"}
