"""What goes together with the outcomes (survey/analysis/drivers.py): planted drivers found,
the published weights equal an independent computation on the same complete cases, the
thresholds (100 for the organisation, 50 for a department), disclosure, and what the report
and workbook show.

Scans are response frames handed to `analyse_frame` (as in test_disclosure.py): a few hundred
synthetic respondents per test, built in milliseconds."""

from __future__ import annotations

import re
from itertools import combinations
from math import factorial

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from survey.analysis import ORGANISATION, analyse_frame, write_results_workbook
from survey.analysis.drivers import MIN_DEPARTMENT, MIN_ORGANISATION, predictors
from survey.audit import audit
from survey.questionnaire import load_questionnaire
from survey.questionnaire.versions import Change, compare_versions
from survey.report import write_report
from survey.scan import Department, init_scan
from tests.scans import AGREE5, GRID, PACE_EFFECT, ROLE, ROLE_BACKGROUND, header

QUESTIONNAIRE = header("drivers-test", "{en: Drivers, nl: Drijfveren}") + AGREE5 + """\
  mark:
    kind: score
    min: 1
    max: 10
    anchors: {1: {en: very poor, nl: heel slecht}, 10: {en: excellent, nl: uitstekend}}
""" + PACE_EFFECT + """\
    not_applicable: {en: Does not happen, nl: Komt niet voor}
  initiative:
    kind: nominal
    options:
      - {code: self, label: {en: I myself, nl: Ik zelf}}
      - {code: together, label: {en: Together, nl: Samen}}
      - {code: manager, label: {en: My manager, nl: Mijn leidinggevende}}
      - {code: organisation, label: {en: The organisation, nl: De organisatie}}
    not_applicable: {en: Does not happen, nl: Komt niet voor}
""" + ROLE + """\
dimensions:
  autonomy: {name: {en: Autonomy, nl: Autonomie}}
  support: {name: {en: Support, nl: Steun}}
  growth: {name: {en: Growth, nl: Groei}}
sections:
  - id: s
    title: {en: S, nl: S}
    items:
      - {id: a1, type: statement, scale: agree5, dimension: autonomy, pole: partnership, text: {en: a1, nl: a1}}
      - {id: a2, type: statement, scale: agree5, dimension: autonomy, pole: partnership, text: {en: a2, nl: a2}}
      - {id: s1, type: statement, scale: agree5, dimension: support, pole: partnership, text: {en: s1, nl: s1}}
      - {id: s2, type: statement, scale: agree5, dimension: support, pole: traditional, text: {en: s2, nl: s2}}
      - {id: g1, type: statement, scale: agree5, dimension: growth, pole: partnership, text: {en: g1, nl: g1}}
      - {id: g2, type: statement, scale: agree5, dimension: growth, pole: partnership, text: {en: g2, nl: g2}}
""" + GRID + """\
          - {id: talk, text: {en: The yearly talk, nl: Het jaargesprek}}
          - {id: course, text: {en: Asking for a course, nl: Een cursus aanvragen}}
      - {id: m1, type: score, scale: mark, text: {en: m1, nl: m1}}
      - {id: m2, type: score, scale: mark, text: {en: m2, nl: m2}}
      - {id: m3, type: score, scale: mark, text: {en: m3, nl: m3}}
      - {id: st1, type: statement, scale: agree5, text: {en: st1, nl: st1}}
      - {id: st2, type: statement, scale: agree5, text: {en: st2, nl: st2}}
""" + ROLE_BACKGROUND + """\
derived:
  - {id: index, name: {en: Index, nl: Index}, of: [autonomy, support, growth]}
  - {id: happy, name: {en: Happiness, nl: Geluk}, of: [m1, m2, m3], outcome: true}
  - {id: staying, name: {en: Staying, nl: Blijven}, of: [st1, st2], outcome: true}
"""

DIMENSIONS = {"autonomy": (("a1", False), ("a2", False)), "support": (("s1", False), ("s2", True)),
              "growth": (("g1", False), ("g2", False))}
SITUATIONS = ("talk", "course")
TEXT_FIELDS = {"grid.talk.effect", "grid.course.effect", "grid.talk.initiative", "grid.course.initiative"}


def people(n: int, rng: np.random.Generator) -> list[dict[str, object]]:
    """Answers with planted drivers: happiness follows autonomy (strongly) and the talk
    situation (a little); staying follows growth. Support is keyed both ways."""
    out = []
    for _ in range(n):
        a, s, g, t, c = rng.normal(size=5)

        def agree(latent: float, reverse: bool = False) -> int:
            return int(np.clip(round(3 + (-1 if reverse else 1) * 1.1 * latent + rng.normal(0, 0.6)), 1, 5))

        def effect(latent: float) -> str:
            return "speeds_up" if latent > 0.5 else "brakes" if latent < -0.5 else "no_effect"

        person: dict[str, object] = {"a1": agree(a), "a2": agree(a), "s1": agree(s), "s2": agree(s, True),
                                     "g1": agree(g), "g2": agree(g),
                                     "grid.talk.effect": effect(t), "grid.course.effect": effect(c),
                                     "grid.talk.initiative": "self", "grid.course.initiative": "manager"}
        for m in ("m1", "m2", "m3"):
            person[m] = int(np.clip(round(6.5 + 1.5 * a + 0.5 * t + rng.normal(0, 0.8)), 1, 10))
        for item in ("st1", "st2"):
            person[item] = agree(g)
        out.append(person)
    return out


def build(tmp_path, plan: dict[str, tuple[int, int]], seed: int = 1, lang: str = "en", threshold: int = 5):
    """`plan`: department -> (employees, of whom answered 'does not happen' for the talk)."""
    qpath = tmp_path / "q.yaml"
    qpath.write_text(QUESTIONNAIRE, encoding="utf-8")
    scan = init_scan(tmp_path / "scan", "Org", qpath, lang, "2026", threshold,
                     [Department(name, size, 0) for name, (size, _) in plan.items()])
    rng = np.random.default_rng(seed)
    rows, answers = [], []
    for dept, (size, missing) in plan.items():
        for number, given in enumerate(people(size, rng)):
            if number < missing:
                given["grid.talk.effect"] = None  # 'does not happen': missing, not 'no effect'
            rows.append({"id": len(rows) + 1, "form_id": f"f{len(rows)}", "department": dept, "role": "employee",
                         "wave": "2026"})
            answers.append(given)
    responses = pd.DataFrame(rows).set_index("id")
    num = pd.DataFrame([{k: v for k, v in a.items() if k not in TEXT_FIELDS} for a in answers],
                       index=responses.index, dtype=float)
    text = pd.DataFrame([{k: v for k, v in a.items() if k in TEXT_FIELDS and v is not None} for a in answers],
                        index=responses.index, dtype=object)
    return scan, responses, pd.concat({"num": num, "text": text}, axis=1), answers


# --------------------------------------------------------------------------- independent computation


def person_level(answers: list[dict[str, object]]) -> pd.DataFrame:
    """Outcomes and predictors per person, straight from the answers: 0-100 item scores
    (reversed when traditional-keyed), dimension = their mean, pace +1/0/-1."""
    rows = []
    for a in answers:
        row = {"happy": np.mean([a["m1"], a["m2"], a["m3"]]), "staying": np.mean([a["st1"], a["st2"]])}
        for dim, items in DIMENSIONS.items():
            scores = [(a[i] - 1) / 4 * 100 for i, _ in items]
            row[dim] = np.mean([100 - s if rev else s for s, (_, rev) in zip(scores, items)])
        for s in SITUATIONS:
            code = a[f"grid.{s}.effect"]
            row[s] = {"speeds_up": 1.0, "no_effect": 0.0, "brakes": -1.0}.get(code, np.nan)  # type: ignore[arg-type]
        rows.append(row)
    return pd.DataFrame(rows)


def johnson_svd(y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, float]:
    """Johnson's (2000) relative weights the way the paper computes them: the singular value
    decomposition of the standardised predictors (survey uses an eigen-decomposition of their
    correlations instead)."""
    zx = (x - x.mean(axis=0)) / x.std(axis=0)
    zy = (y - y.mean()) / y.std()
    p, delta, qt = np.linalg.svd(zx, full_matrices=False)
    z = p @ qt  # the orthogonal counterparts of the predictors
    lam = qt.T @ np.diag(delta) @ qt / np.sqrt(len(y))
    beta = np.linalg.lstsq(z * np.sqrt(len(y)), zy, rcond=None)[0]
    raw = (lam**2) @ (beta**2)
    return raw, float(raw.sum())


def r_squared(y: np.ndarray, x: np.ndarray) -> float:
    design = np.column_stack([np.ones(len(y)), x])
    resid = y - design @ np.linalg.lstsq(design, y, rcond=None)[0]
    return float(1 - resid @ resid / ((y - y.mean()) @ (y - y.mean())))


def dominance(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """General dominance weights (each predictor's R^2 gain averaged over all subsets)."""
    p = x.shape[1]
    r2 = {(): 0.0} | {s: r_squared(y, x[:, s]) for size in range(1, p + 1) for s in combinations(range(p), size)}
    weights = np.zeros(p)
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for size in range(p):
            for s in combinations(others, size):
                weights[j] += factorial(size) * factorial(p - size - 1) / factorial(p) * (
                    r2[tuple(sorted((*s, j)))] - r2[s])
    return weights


def sheet(path) -> list[dict[str, object]]:
    rows = list(load_workbook(path, read_only=True)["drivers"].iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


PREDICTORS = ["autonomy", "support", "growth", "talk", "course"]


# --------------------------------------------------------------------------- tests


def test_planted_drivers_and_workbook_equal_an_independent_computation(tmp_path):
    plan = {"North": (90, 8), "South": (80, 5)}
    scan, responses, wide, answers = build(tmp_path, plan)
    results = analyse_frame(scan, responses, wide)
    book = write_results_workbook(results, tmp_path / "results.xlsx")
    rows = sheet(book)
    frame = person_level(answers)
    dept = responses["department"].to_numpy()
    groups = {"Whole organisation": np.ones(len(frame), bool), "North": dept == "North", "South": dept == "South"}
    for outcome, planted in (("happy", "autonomy"), ("staying", "growth")):
        for label, members in groups.items():
            data = frame[members][[outcome, *PREDICTORS]].dropna()
            assert len(data) == sum(size - missing for name, (size, missing) in plan.items()
                                    if label in (name, "Whole organisation"))
            y, x = data[outcome].to_numpy(), data[PREDICTORS].to_numpy()
            raw, r2 = johnson_svd(y, x)
            got = {r["predictor"]: r for r in rows if r["outcome"] == outcome and r["group"] == label}
            assert set(got) == set(PREDICTORS)
            for j, name in enumerate(PREDICTORS):
                assert got[name]["importance"] == pytest.approx(100 * raw[j] / r2, abs=0.051)
                assert got[name]["n"] == len(data)
                assert got[name]["r_squared"] == pytest.approx(r_squared(y, x), abs=0.0006)
                assert got[name]["ci_low"] <= got[name]["importance"] + 0.05 <= got[name]["ci_high"] + 0.1
            # the planted driver comes first, with most of the explained variance
            ranked = sorted(got.values(), key=lambda r: -r["importance"])
            assert ranked[0]["predictor"] == planted and ranked[0]["importance"] > 60
            # and dominance analysis (an independent method) tells the same story
            shares = 100 * dominance(y, x) / r_squared(y, x)
            assert shares[PREDICTORS.index(planted)] == pytest.approx(got[planted]["importance"], abs=3)
    # happiness also follows the talk a little; its current score is the published balance, rescaled
    org = results.organisation_result
    talk = next(w for w in org.drivers["happy"].weights if w.predictor == "talk")
    assert talk.current == pytest.approx(50 + org.pace["talk"].balance / 2)
    autonomy = next(w for w in org.drivers["happy"].weights if w.predictor == "autonomy")
    assert autonomy.current == pytest.approx(org.dimensions["autonomy"].mean)


@pytest.mark.parametrize("complete, shown", [(MIN_ORGANISATION - 1, False), (MIN_ORGANISATION, True)])
def test_organisation_needs_100_complete_cases(tmp_path, complete, shown):
    # 130 employees; those who answered 'does not happen' for the talk do not count
    scan, responses, wide, _ = build(tmp_path, {"North": (65, 65 - complete // 2),
                                                "South": (65, 65 - (complete - complete // 2))})
    results = analyse_frame(scan, responses, wide)
    org = results.organisation_result
    assert ("happy" in org.drivers) is shown
    if shown:
        assert org.drivers["happy"].n == complete
    else:
        assert results.drivers.refused == {"happy": "too_few", "staying": "too_few"}
        write_report(scan, tmp_path / "out", results=results, pdf=False)
        html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
        assert "Happiness: not computed for the whole organisation. That needs at least 100 people" in html
        assert not re.search(r'data-var="drivers:\w+" data-group="Whole organisation"', html)
        book = write_results_workbook(results, tmp_path / "results.xlsx")
        assert "Whole organisation" not in {r["group"] for r in sheet(book)}
        # a department with 50 complete cases still has its own (South: 50 of 65)
        assert [g.key for g in results.departments if g.drivers] == ["South"]


def test_departments_from_50_complete_cases(tmp_path):
    scan, responses, wide, _ = build(tmp_path, {"North": (60, 60 - MIN_DEPARTMENT), "South": (60, 11),
                                                "East": (40, 0)})
    results = analyse_frame(scan, responses, wide)
    by_name = {g.key: g for g in results.departments}
    assert by_name["North"].drivers["happy"].n == MIN_DEPARTMENT
    assert by_name["South"].drivers == {}  # 49 complete cases
    assert by_name["East"].drivers == {}
    assert results.organisation_result.drivers["happy"].n == 50 + 49 + 40
    write_report(scan, tmp_path / "out", results=results, pdf=False)
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    pages = html.split('<article class="department">')[1:]
    north = next(p for p in pages if "<h2>North</h2>" in p)
    south = next(p for p in pages if "<h2>South</h2>" in p)
    assert "What goes together with happiness?" in north and "What goes together with staying?" in north
    assert 'data-var="drivers:happy" data-group="North" data-n="50"' in north
    assert "<svg" in north.split("What goes together with happiness?")[1]
    assert "What goes together with" not in south


def test_report_shows_the_section_and_its_methods(tmp_path):
    scan, responses, wide, _ = build(tmp_path, {"North": (70, 0), "South": (70, 0)}, lang="nl")
    results = analyse_frame(scan, responses, wide)
    write_report(scan, tmp_path / "out", results=results, pdf=False)
    html = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    section = html.split('<h2 id="drivers">')[1].split("</section>")[0]
    assert section.startswith("Wat hangt samen met geluk en blijven?</h2>")
    assert "dit laat zien wat samengaat, niet wat de oorzaak is" in section
    org = results.organisation_result
    for outcome, name in (("happy", "Geluk"), ("staying", "Blijven")):
        d = org.drivers[outcome]
        heading = f"Wat hangt samen met {name.lower()}?</h3>"
        block = section.split(heading)[1].split('<div class="drivers">')[0]
        assert "<svg" in block and "Eerst aanpakken" in block
        # the table: importance in order, with its margin, on the complete cases
        cells = re.findall(rf'data-var="drivers:{outcome}" data-group="Hele organisatie" data-n="(\d+)">(\d+)<', block)
        assert [int(v) for _, v in cells] == [round(w.importance) for w in d.weights]
        assert {int(n) for n, _ in cells} == {140}
        assert f"{round(d.weights[0].low)}–{round(d.weights[0].high)}" in block
        assert f"140 mensen vulden alles in. Samen verklaren deze onderdelen en situaties " \
               f"{round(100 * d.r_squared)}% van de verschillen in {name.lower()}." in block
        first = [w for w in d.weights if w.low is not None and w.low > 100 / len(d.weights)
                 and round(w.current) < np.mean([v.current for v in d.weights])]
        assert ("Eerst aanpakken: “" in block) is bool(first)
    methods = html.split('<section class="methods">')[1]
    assert "relatieve gewichten (Johnson, 2000)" in methods
    assert f"minstens {MIN_ORGANISATION} mensen alles invulden, en voor een afdeling vanaf {MIN_DEPARTMENT}" in methods
    assert f"Hele organisatie, Geluk: 140 mensen, R² = {round(100 * org.drivers['happy'].r_squared)}%" in methods
    assert "North, Blijven: 70 mensen" in methods


def test_only_allowed_figures_reach_the_outputs(tmp_path):
    """North and South reach 50 complete cases; Small has 3, so the organisation's complete
    cases minus North's and South's would be 3 people: one department's figure must go. The
    audit, reading only the outputs, finds nothing; without protection it finds the 3."""
    plan = {"North": (60, 0), "South": (62, 0), "Small": (20, 17)}
    scan, responses, wide, _ = build(tmp_path, plan)
    results = analyse_frame(scan, responses, wide)
    with_drivers = [g.key for g in results.departments if g.drivers]
    assert len(with_drivers) == 1 and "happy" in results.organisation_result.drivers
    allowed = {(f.variable, f.group) for f in results.register.figures
               if f.variable.startswith("drivers:") and results.decision.ok(f)}
    assert allowed == {(f"drivers:{o}", key) for o in ("happy", "staying") for key in (ORGANISATION, *with_drivers)}
    out = scan.folder / "output"
    write_results_workbook(results, out / "results.xlsx")
    write_report(scan, out, results=results, pdf=False)
    assert {r["group"] for r in sheet(out / "results.xlsx")} == {"Whole organisation", *with_drivers}
    assert audit(out).findings == []

    naive = analyse_frame(scan, responses, wide, protection=False)
    assert all(g.drivers for g in naive.departments if g.key != "Small")
    bare = scan.folder / "output-unprotected"
    write_results_workbook(naive, bare / "results.xlsx")
    write_report(scan, bare, results=naive, pdf=False)
    leaks = [f for f in audit(bare).findings if f.variable.startswith("drivers:")]
    assert leaks and all(f.people == 3 for f in leaks)


def test_outcomes_are_declared_not_hard_coded():
    q = load_questionnaire("organisatiescan").questionnaire
    declared = {d.id: d for d in q.derived if d.outcome}
    assert set(declared) == {"werkgeluk", "intent_to_stay"}
    assert declared["werkgeluk"].of == ["plezier", "zingeving", "voldoening"]
    # intent to stay: the stay statements, scored so that higher = more likely to stay
    for item_id in declared["intent_to_stay"].of:
        item = q.item(item_id)
        assert item.pole is None and q.scales[item.scale].options[-1].label["en"] == "Definitely"
        assert item.text["en"].endswith("I will still work here.")
    kinds = {kind for kind, _ in predictors(q, declared["werkgeluk"])}
    assert kinds == {"dimension", "pace"} and len(predictors(q, declared["werkgeluk"])) == len(q.dimensions) + 8
    # an outcome made of dimensions does not predict itself
    index = next(d for d in q.derived if d.id == "partnership_index")
    assert [p for p in predictors(q, index) if p[0] == "dimension"] == []


def test_declaring_outcomes_keeps_hashes_and_trends():
    q = load_questionnaire("organisatiescan").questionnaire
    # without the new derived score and flags: every question's trend goes on
    before = q.model_copy(update={"derived": [d.model_copy(update={"outcome": False}) for d in q.derived
                                              if d.id != "intent_to_stay"]})
    assert all(c.change is Change.same for c in compare_versions(before, q))
    # a derived score that is not an outcome hashes as before the flag existed
    assert all("outcome" not in d for d in before.content()["derived"])
    assert [d["outcome"] for d in q.content()["derived"] if "outcome" in d] == [True, True]


def test_demo_report_shows_what_goes_together(demo_run):
    html = demo_run.html.read_text(encoding="utf-8")
    assert "Wat hangt samen met werkgeluk en willen blijven?" in html
    assert 'data-var="drivers:werkgeluk" data-group="Hele organisatie"' in html
    assert 'data-var="drivers:intent_to_stay"' in html
    rows = sheet(demo_run.workbook)
    assert {r["outcome"] for r in rows} == {"werkgeluk", "intent_to_stay"}
    # at least one department reaches 50 complete cases, so a department page shows its matrix
    assert {r["group"] for r in rows} - {"Hele organisatie"}


def test_nothing_is_named_to_work_on_first_when_nothing_goes_together(tmp_path):
    """Outcomes shuffled between people (no relation left): the weights still add up to
    100 %, but 'work on first' names nothing in (nearly) every run (the F-test of R² and a
    margin above an equal share)."""
    from survey.report import _Builder

    named = 0
    for seed in range(8):
        (tmp_path / str(seed)).mkdir()
        scan, responses, wide, _ = build(tmp_path / str(seed), {"North": (70, 0), "South": (70, 0)}, seed=seed)
        rng = np.random.default_rng(seed)
        for column in ("m1", "m2", "m3", "st1", "st2"):
            wide[("num", column)] = rng.permutation(wide[("num", column)].to_numpy())
        results = analyse_frame(scan, responses, wide)
        builder = _Builder(results)
        views = builder.driver_views(results.organisation_result)
        assert views  # the section is there
        named += sum(v.first != builder.w["drivers_first_none"] for v in views)
    assert named <= 1
