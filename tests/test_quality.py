"""survey/analysis/quality.py and what it adds to the workbook and the report, each number
checked against an independent computation: R's psych and pingouin for reliability, a hand
count for rates and distributions, statsmodels for Wilson, scipy and a bootstrap for the
interval of a part score."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from survey.analysis import ORGANISATION, analyse_frame, quality, write_results_workbook
from survey.analysis.frame import estimate
from survey.audit import audit
from survey.i18n import wording
from survey.report import build_report_model, shown, write_report
from survey.scan import Department, init_scan
from survey.stats import reliability as rel
from tests.scans import AGREE5, ROLE, ROLE_BACKGROUND, header

DATA = Path(__file__).parent / "data" / "stats"

QUESTIONNAIRE = header("quality", "{en: Quality, nl: Kwaliteit}") + AGREE5 + """\
    not_applicable: {en: Don't know, nl: Weet ik niet}
  mark:
    kind: score
    min: 1
    max: 10
    anchors: {1: {en: Very bad, nl: Heel slecht}, 10: {en: Excellent, nl: Uitstekend}}
""" + ROLE + """\
dimensions:
  a: {name: {en: Part A, nl: Deel A}}
  b: {name: {en: Part B, nl: Deel B}}
  c: {name: {en: Part C, nl: Deel C}}
sections:
  - id: s
    title: {en: S, nl: S}
    items:
%(items)s
      - {id: fun, type: score, scale: mark, text: {en: Enjoyment, nl: Plezier}}
""" + ROLE_BACKGROUND + """\
derived:
  - {id: index, name: {en: Index, nl: Index}, of: [a, b, c]}
"""

# b2 is keyed the traditional way: its raw answer is mirrored before scoring
POLES = {"b2": "traditional"}
ITEMS = {"a": [f"a{i}" for i in range(1, 7)], "b": [f"b{i}" for i in range(1, 5)], "c": ["c1", "c2"]}


def questionnaire(items: dict[str, list[str]] = ITEMS) -> str:
    lines = [f"      - {{id: {i}, type: statement, scale: agree5, dimension: {dim}, "
             f"pole: {POLES.get(i, 'partnership')}, text: {{en: Statement {i}, nl: Stelling {i}}}}}"
             for dim, ids in items.items() for i in ids]
    return QUESTIONNAIRE % {"items": "\n".join(lines)}


def make_scan(tmp_path: Path, rows: list[dict[str, object]], departments: list[str], lang: str = "en",
              threshold: int = 5, text: str | None = None):
    """A scan folder and a response frame (as `load_frame` gives it). A row maps item -> raw
    answer; "dk" is "don't know" (stored as text, like collect does), None or absent is empty."""
    qpath = tmp_path / "q.yaml"
    qpath.write_text(text or questionnaire(), encoding="utf-8")
    names = sorted(set(departments))
    scan = init_scan(tmp_path / "scan", "Org", qpath, lang, "2026", threshold,
                     [Department(n, departments.count(n), 0) for n in names])
    responses = pd.DataFrame([{"id": i + 1, "form_id": f"f{i}", "department": d, "role": "employee", "wave": "2026"}
                              for i, d in enumerate(departments)]).set_index("id")
    num = pd.DataFrame([{k: float(v) for k, v in r.items() if v not in (None, "dk")} for r in rows],
                       index=responses.index, dtype=float)
    txt = pd.DataFrame([{k: "n/a" for k, v in r.items() if v == "dk"} for r in rows], index=responses.index,
                       dtype=object)
    return scan, responses, pd.concat({"num": num, "text": txt}, axis=1)


def sheet(path: Path, name: str) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name=name, engine="openpyxl")


# --------------------------------------------------------------------------- reliability vs psych


@pytest.fixture(scope="module")
def reference_scan(tmp_path_factory):
    """The stored synthetic data of tests/test_stats_reliability.py (keyed 0-100 scores) turned
    back into answers: parts a and b on a 1-5 scale (b2 mirrored, as its keying requires), and
    every second empty a3 answered "don't know" instead of left empty."""
    frame = pd.read_csv(DATA / "reliability_synthetic.csv")
    rows = []
    for index, record in frame.iterrows():
        row: dict[str, object] = {}
        for dim in ("a", "b"):
            for item in ITEMS[dim]:
                value = record[item]
                if pd.isna(value):
                    row[item] = "dk" if item == "a3" and index % 2 == 0 else None
                    continue
                answer = value / 25 + 1
                row[item] = 6 - answer if POLES.get(item) == "traditional" else answer
        row["c1"], row["c2"] = 1 + index % 5, 1 + (index * 3) % 5
        row["fun"] = 1 + index % 10
        rows.append(row)
    departments = [f"D{i % 4}" for i in range(len(rows))]
    folder = tmp_path_factory.mktemp("reference")
    scan, responses, wide = make_scan(folder, rows, departments)
    results = analyse_frame(scan, responses, wide)
    out = scan.folder / "output"
    write_results_workbook(results, out / "results.xlsx")
    write_report(scan, out, results=results, pdf=False)
    return frame, rows, results, out


def test_reliability_sheet_matches_r_psych_and_pingouin(reference_scan):
    pingouin = pytest.importorskip("pingouin")
    frame, _, _, out = reference_scan
    reference = json.loads((DATA / "reliability_reference.json").read_text())
    table = sheet(out / "results.xlsx", "reliability").set_index(["group", "dimension"])
    for dim in ("a", "b"):
        row = table.loc[("Whole organisation", dim)]
        ref = reference[dim]
        assert row["n_complete"] == ref["n"]
        assert row["alpha"] == pytest.approx(ref["alpha"], abs=5e-4)
        assert (row["alpha_ci_low"], row["alpha_ci_high"]) == pytest.approx(ref["feldt"], abs=5e-4)
        assert row["omega"] == pytest.approx(ref["omega_tot"], abs=2e-3)  # psych's minres, 3 decimals
        expected, _ = pingouin.cronbach_alpha(frame[ITEMS[dim]].dropna())
        assert row["alpha"] == pytest.approx(expected, abs=5e-4)
        assert row["omega_ci_low"] < row["omega"] < row["omega_ci_high"]
    items = sheet(out / "results.xlsx", "item_quality").set_index(["group", "item"])
    for dim in ("a", "b"):
        for item, r_drop in zip(ITEMS[dim], reference[dim]["r_drop"]):
            assert items.loc[("Whole organisation", item), "item_rest"] == pytest.approx(r_drop, abs=5e-4)
    # part b is weak in these data (alpha .23): flagged in the workbook and in the report's methods
    assert table.loc[("Whole organisation", "b"), "verdict"] == "weak"
    assert table.loc[("Whole organisation", "a"), "verdict"] == "questionable"  # .696 < .70
    html = (out / "report.html").read_text(encoding="utf-8")
    methods = html[html.index('<section class="methods">'):]
    w = wording("en")
    weak = w["quality_dimension_weak"].format(name="Part B", value="0.23", threshold="0.60")
    questionable = w["quality_dimension_questionable"].format(name="Part A", value="0.70", threshold="0.70")
    assert weak in methods.replace("&#39;", "'")
    assert "Part A: the statements of this part do not measure the same thing well enough" in methods
    assert questionable.split("(")[0] in methods
    # the weakest statements of b are named with their item-rest correlation
    assert "“Statement b3” (Part B) fits weakly with the other statements of its part" in methods


def test_the_reliability_figures_are_registered_on_the_complete_cases(reference_scan):
    frame, _, results, _ = reference_scan
    figures = {f.variable: f for f in results.register.figures if f.group == ORGANISATION}
    assert figures["reliability:a"].n == frame[ITEMS["a"]].dropna().shape[0]
    assert results.decision.ok(figures["reliability:a"])


def test_dont_know_and_missing_rates_and_distributions_by_hand(tmp_path):
    answers = {  # a1 for 12 employees: three "don't know", two empty
        "a1": [1, 2, 2, 3, "dk", 5, 5, None, "dk", 4, "dk", None],
        "b2": [1, 1, 2, 2, 3, 4, 5, 5, 1, 2, 3, 4],  # traditional-keyed
    }
    rows = [{k: v[i] for k, v in answers.items()} | {"a2": 3, "b1": 2, "c1": 3, "c2": 4, "fun": 5 + i % 5}
            for i in range(12)]
    scan, responses, wide = make_scan(tmp_path, rows, ["X"] * 6 + ["Y"] * 6)
    results = analyse_frame(scan, responses, wide)
    path = write_results_workbook(results, scan.folder / "output" / "results.xlsx")
    quality_rows = sheet(path, "item_quality").set_index(["group", "item"])
    a1 = quality_rows.loc[("Whole organisation", "a1")]
    assert (a1["n_group"], a1["n_answered"]) == (12, 7)
    assert a1["dont_know_pct"] == round(100 * 3 / 12, 1) and a1["missing_pct"] == round(100 * 2 / 12, 1)
    assert "left it empty" in a1["flag"] and "don't know" in a1["flag"]  # 17% > 10%, 25% > 20%
    dist = sheet(path, "distributions")
    org = dist[(dist.group == "Whole organisation") & (dist.item == "a1")].set_index("value")
    assert list(org.index) == [1, 2, 3, 4, 5] and set(org["n"]) == {7}
    assert list(org["share"]) == [round(100 * c / 7, 1) for c in (1, 2, 1, 1, 2)]
    assert org.loc[4, "option"] == "Agree"
    x = dist[(dist.group == "X") & (dist.item == "b2")].set_index("value")
    assert list(x["share"]) == [round(100 * c / 6, 1) for c in (2, 2, 1, 1, 0)]


def test_share_favourable_of_a_traditional_item_and_wilson_against_statsmodels(tmp_path):
    proportion_confint = pytest.importorskip("statsmodels.stats.proportion").proportion_confint
    b2 = [1, 1, 2, 2, 3, 4, 5, 5, 1, 2, 3, 4, 2, 5, 1]
    a1 = [5, 4, 4, 1, 2, 3, 5, 5, 3, 4, 2, 1, 4, 4, 3]
    rows = [{"a1": a1[i], "a2": 3, "b1": 2, "b2": b2[i], "c1": 3, "c2": 4, "fun": [3, 5, 6, 7, 8, 9, 10][i % 7]}
            for i in range(15)]
    scan, responses, wide = make_scan(tmp_path, rows, ["X"] * 15)
    results = analyse_frame(scan, responses, wide)
    path = write_results_workbook(results, scan.folder / "output" / "results.xlsx")
    items = sheet(path, "items").set_index(["group", "item"])
    for item, values, favourable in (("b2", b2, {1, 2}), ("a1", a1, {4, 5})):
        row = items.loc[("Whole organisation", item)]
        count = sum(v in favourable for v in values)
        low, high = proportion_confint(count, len(values), alpha=0.05, method="wilson")
        assert row["favourable"] == round(100 * count / len(values), 1)
        assert (row["favourable_low"], row["favourable_high"]) == (round(100 * low, 1), round(100 * high, 1))
    marks = [rows[i]["fun"] for i in range(15)]
    row = items.loc[("Whole organisation", "fun")]
    assert row["insufficient"] == round(100 * sum(v < 6 for v in marks) / 15, 1)
    assert row["good"] == round(100 * sum(v >= 8 for v in marks) / 15, 1)
    assert math.isnan(row["favourable"])  # marks have no share favourable


# --------------------------------------------------------------------------- intervals


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=40), st.sampled_from(["partnership", "traditional"]))
def test_item_intervals_never_leave_the_scale(answers, pole):
    e = estimate(pd.Series(answers, dtype=float), (1.0, 5.0))
    assert 1.0 <= e.ci_low <= e.mean <= e.ci_high <= 5.0
    from survey.questionnaire import model as m

    item = m.StatementItem(id="x", type="statement", scale="agree5", pole=pole, text={"en": "x"})
    scale = m.Scale(kind="ordinal", options=[m.ScaleOption(code=c, label={"en": str(c)}) for c in range(1, 6)])
    score = quality.on_0_100(e, item, scale)
    assert 0.0 <= score.ci_low <= score.mean <= score.ci_high <= 100.0


def test_item_intervals_stay_on_the_scale_in_the_workbook(tmp_path):
    # everyone strongly agrees but one: the t-interval would run past 5
    rows = [{"a1": 5 if i else 4, "a2": 3, "b1": 2, "b2": 2, "c1": 3, "c2": 4, "fun": 10 if i else 9}
            for i in range(12)]
    scan, responses, wide = make_scan(tmp_path, rows, ["X"] * 12)
    results = analyse_frame(scan, responses, wide)
    path = write_results_workbook(results, scan.folder / "output" / "results.xlsx")
    items = sheet(path, "items").set_index(["group", "item"])
    a1, fun = items.loc[("Whole organisation", "a1")], items.loc[("Whole organisation", "fun")]
    unclipped = scipy_stats.t.interval(0.95, 11, loc=np.mean([4] + [5] * 11), scale=scipy_stats.sem([4] + [5] * 11))
    assert unclipped[1] > 5  # the case the clipping is for
    assert a1["ci_high"] == 5.0 and a1["score_ci_high"] == 100.0 and fun["ci_high"] == 10.0


def test_part_score_interval_without_missing_is_the_t_interval_of_person_scores(rng=np.random.default_rng(5)):
    data = rng.integers(0, 5, (60, 4)) * 25.0
    mean, low, high = quality.composite_interval(list(data.T))
    person = data.mean(axis=1)
    expected = scipy_stats.t.interval(0.95, 59, loc=person.mean(), scale=scipy_stats.sem(person))
    assert mean == pytest.approx(person.mean())
    assert (low, high) == pytest.approx(expected)


def test_part_score_interval_with_missing_answers_matches_a_bootstrap(rng=np.random.default_rng(6)):
    n = 400
    common = rng.normal(size=(n, 1))
    data = np.clip(np.round(50 + 20 * common + 15 * rng.normal(size=(n, 4))), 0, 100)
    data[rng.random((n, 4)) < 0.25] = np.nan  # a quarter missing, at random
    mean, low, high = quality.composite_interval(list(data.T))
    assert mean == pytest.approx(np.nanmean(data, axis=0).mean())
    boot = [np.nanmean(data[rng.integers(0, n, n)], axis=0).mean() for _ in range(3000)]
    se = (high - low) / 2 / scipy_stats.t.ppf(0.975, int((~np.isnan(data)).sum(axis=0).min()) - 1)
    assert se == pytest.approx(np.std(boot, ddof=1), rel=0.08)


def test_part_scores_in_the_workbook_have_n_and_interval(reference_scan):
    _, rows, results, out = reference_scan
    dims = sheet(out / "results.xlsx", "dimensions").set_index(["group", "dimension"])
    overview = sheet(out / "results.xlsx", "overview").set_index("group")
    row = dims.loc[("Whole organisation", "a")]
    answered = [r for r in rows if any(r.get(i) not in (None, "dk") for i in ITEMS["a"])]
    assert row["n"] == len(answered) and row["statements"] == 6
    assert row["score"] == overview.loc["Whole organisation", "a"]
    assert overview.loc["Whole organisation", "a_n"] == row["n"]
    scores = [[(r[i] - 1) * 25 if r.get(i) not in (None, "dk") else np.nan for r in rows] for i in ITEMS["a"]]
    _, low, high = quality.composite_interval([np.array(s, dtype=float) for s in scores])
    assert (row["ci_low"], row["ci_high"]) == (round(low, 1), round(high, 1))


# --------------------------------------------------------------------------- report and disclosure


def test_methods_are_rendered_from_the_constants_and_counts_come_from_the_questionnaire(reference_scan,
                                                                                        monkeypatch):
    _, _, results, _ = reference_scan
    model = build_report_model(results)
    methods = " ".join(map(shown, model.methods_quality))  # rendered in the scan's language
    assert "From 0.70 a part is good enough" in methods and "below 0.60 it is weak" in methods
    assert "below 0.30" in methods and "more than 10%" in methods and "more than 20%" in methods
    assert "its 3 parts" in shown(model.partnership_map_intro)  # the questionnaire has three
    monkeypatch.setattr(rel, "QUESTIONABLE", 0.75)
    monkeypatch.setattr(quality, "MISSING_HIGH", 0.05)
    model = build_report_model(results)
    assert "From 0.75 a part is good enough" in " ".join(map(shown, model.methods_quality))
    assert "more than 5%" in " ".join(map(shown, model.methods_quality))


def test_no_count_or_name_of_parts_is_written_into_templates_or_wording():
    from survey.resources import reports_dir

    for path in [*(reports_dir() / "wording").glob("*.yaml"), *(reports_dir() / "templates").glob("*.html")]:
        text = path.read_text(encoding="utf-8").casefold()
        for word in ("four parts", "vier onderdelen", "five parts", "vijf onderdelen", "three parts",
                     "drie onderdelen", "plezier, zingeving", "enjoyment, meaning", "1 to 5", "1 tot 5",
                     "(1–10)", "partnership index, the", "partnershipindex, de"):
            assert word not in text, f"{path.name}: '{word}'"


def test_the_interval_is_explained_correctly_in_both_languages():
    for lang in ("nl", "en"):
        text = wording(lang)["methods_margin"]
        assert "95" in text and "100" in text
        assert not re.search(r"95 ?% (certain|zeker)|with 95 ?% certainty|met 95 ?% zekerheid", text)


def test_too_few_complete_cases_give_no_alpha_and_the_audit_stays_clean(tmp_path):
    # 12 employees, but only 4 answered both statements of part c: no reliability for c
    rows = [{"a1": 1 + i % 5, "a2": 1 + (i * 2) % 5, "b1": 1 + (i * 3) % 5, "b2": 1 + i % 3,
             "c1": 1 + i % 5 if i < 8 else None, "c2": 1 + (i + 1) % 5 if i >= 4 else None, "fun": 6}
            for i in range(12)]
    items = {"a": ["a1", "a2"], "b": ["b1", "b2"], "c": ["c1", "c2"]}
    scan, responses, wide = make_scan(tmp_path, rows, ["X"] * 6 + ["Y"] * 6, text=questionnaire(items))
    results = analyse_frame(scan, responses, wide)
    # 8 answered c1, 8 answered c2, 4 both: the complete cases leave out 4 of each statement's
    # people (fewer than 5), so reliability of c is not even a candidate (disclosure.apart)
    figure = next((f for f in results.register.figures if f.variable == "reliability:c" and f.group == ORGANISATION),
                  None)
    assert figure is None or not results.decision.ok(figure)
    c = next(d for d in results.reliability if d.dimension == "c" and d.group == ORGANISATION)
    assert c.alpha is None and c.omega is None and c.n_complete is None
    out = scan.folder / "output"
    write_results_workbook(results, out / "results.xlsx")
    write_report(scan, out, results=results, pdf=False)
    table = sheet(out / "results.xlsx", "reliability").set_index(["group", "dimension"])
    assert math.isnan(table.loc[("Whole organisation", "c"), "n_complete"])
    assert math.isnan(table.loc[("Whole organisation", "c"), "alpha"])
    assert "reliability:c" not in (out / "report.html").read_text(encoding="utf-8")
    result = audit(out)
    assert result.ok, result.render()

    # without protection the same figure is published, and the audit finds it
    leaky = analyse_frame(scan, responses, wide, protection=False)
    write_results_workbook(leaky, scan.folder / "output-unprotected" / "results.xlsx")
    found = audit(scan.folder / "output-unprotected")
    assert any(f.variable == "reliability:c" and f.people == 4 for f in found.findings), found.render()


def test_demo_workbook_and_report_show_the_quality_figures(demo_run):
    assert demo_run.exit_code == 0, demo_run.output
    book = demo_run.workbook
    reliability = sheet(book, "reliability")
    org = reliability[reliability.group == "Hele organisatie"]
    assert len(org) == 4 and org["alpha"].notna().all() and org["omega_ci_low"].notna().all()
    dims = sheet(book, "dimensions")
    assert dims["n"].notna().any() and dims["ci_low"].notna().any()
    html = demo_run.html.read_text(encoding="utf-8")
    assert 'data-var="reliability:drives"' in html and "de 4 onderdelen" in html
    result = audit(demo_run.folder)
    assert result.ok, result.render()
