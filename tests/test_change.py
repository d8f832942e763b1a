"""Change since the previous wave (survey/analysis/change.py): numbers against scipy and
statsmodels, no false claims on data without change, renamed/merged departments, changed
questions, three waves, and anonymity across waves (the subtraction attack, hidden groups, the
record of what a later wave published of an earlier wave's people)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep

from survey.analysis import ORGANISATION, analyse_scan, publish
from survey.analysis.change import EarlierFigures
from survey.questionnaire.versions import Change as Versioned, compare_versions
from survey.scan import Department, init_scan
from survey.store import Store
from survey.waves import Continuity, DepartmentLink, EarlierWave

QUESTIONNAIRE = """\
id: change
version: "1.0"
languages: [en, nl]
title: {en: Change, nl: Verandering}
scales:
  agree5:
    kind: ordinal
    options:
      - {code: 1, label: {en: Strongly disagree, nl: Helemaal oneens}}
      - {code: 2, label: {en: Disagree, nl: Oneens}}
      - {code: 3, label: {en: Neutral, nl: Neutraal}}
      - {code: 4, label: {en: Agree, nl: Eens}}
      - {code: 5, label: {en: Strongly agree, nl: Helemaal eens}}
  mark:
    kind: score
    min: 1
    max: 10
    anchors:
      1: {en: very poor, nl: heel slecht}
      10: {en: excellent, nl: uitstekend}
  initiative:
    kind: nominal
    options:
      - {code: self, label: {en: I myself, nl: Ikzelf}}
      - {code: together, label: {en: Together, nl: Samen}}
      - {code: manager, label: {en: My manager, nl: Mijn leidinggevende}}
      - {code: organisation, label: {en: The organisation, nl: De organisatie}}
    not_applicable: {en: Does not happen, nl: Komt niet voor}
  pace_effect:
    kind: nominal
    options:
      - {code: speeds_up, label: {en: Speeds me up, nl: Helpt mij vooruit}}
      - {code: no_effect, label: {en: No effect, nl: Geen invloed}}
      - {code: brakes, label: {en: Brakes me, nl: Remt mij af}}
  role:
    kind: nominal
    options:
      - {code: employee, label: {en: Employee, nl: Medewerker}}
      - {code: manager, label: {en: Manager, nl: Leidinggevende}}
dimensions:
  drives: {name: {en: Drives, nl: Kar}}
  pace: {name: {en: Pace, nl: Tempo}}
sections:
  - id: s
    title: {en: S, nl: S}
    items:
      - {id: d1, type: statement, scale: agree5, dimension: drives, pole: partnership, text: {en: d1, nl: d1}}
      - {id: d2, type: statement, scale: agree5, dimension: drives, pole: traditional, text: {en: d2, nl: d2}}
      - {id: p1, type: statement, scale: agree5, dimension: pace, pole: partnership, text: {en: P1TEXT, nl: p1}}
      - {id: p2, type: statement, scale: agree5, dimension: pace, pole: partnership, text: {en: p2, nl: p2}}
      - {id: m1, type: score, scale: mark, text: {en: m1, nl: m1}}
      - {id: m2, type: score, scale: mark, text: {en: m2, nl: m2}}
      - id: grid
        type: situation_grid
        initiative_scale: initiative
        effect_scale: pace_effect
        text: {en: Situations, nl: Situaties}
        situations:
          - {id: talk, text: {en: Talk, nl: Gesprek}}
          - {id: course, text: {en: Course, nl: Cursus}}
background:
  - {id: role, text: {en: Role, nl: Rol}, scale: role, source: form, reporting: compare}
derived:
  - {id: index, name: {en: Index, nl: Index}, of: [drives, pace]}
  - {id: happy, name: {en: Happy, nl: Blij}, of: [m1, m2]}
"""

STATEMENTS = ("d1", "d2", "p1", "p2")
SITUATIONS = ("talk", "course")
EFFECTS = ("speeds_up", "no_effect", "brakes")
K = 5


def make_scan(root, wave: str, sizes: dict[str, int], questionnaire: str = QUESTIONNAIRE):
    (root / f"q{wave}.yaml").write_text(questionnaire, encoding="utf-8")
    return init_scan(root / f"scan{wave}", "Org", root / f"q{wave}.yaml", "en", wave, K,
                     [Department(d, n, 0) for d, n in sizes.items()])


def people(rng, sizes: dict[str, int], shift: dict[str, float] | None = None,
           brakes: dict[str, float] | None = None) -> list[tuple[str, dict[str, object]]]:
    """(department, answers) per employee: statements around 3 (+ shift), marks around 6
    (+ 2 * shift), pace effects at random, 'brakes me' on talks with the given chance."""
    found = []
    for dept, n in sizes.items():
        centre = 3.0 + (shift or {}).get(dept, 0.0)
        for _ in range(n):
            answers: dict[str, object] = {}
            for k in STATEMENTS:
                c = 6 - centre if k == "d2" else centre
                answers[k] = float(np.clip(np.rint(rng.normal(c, 1.0)), 1, 5))
            for k in ("m1", "m2"):
                answers[k] = float(np.clip(np.rint(rng.normal(2 * centre, 1.5)), 1, 10))
            for s in SITUATIONS:
                p = (brakes or {}).get(dept)
                if s == "talk" and p is not None:
                    answers[f"grid.{s}.effect"] = "brakes" if rng.random() < p else "speeds_up"
                else:
                    answers[f"grid.{s}.effect"] = EFFECTS[int(rng.integers(3))]
                answers[f"grid.{s}.initiative"] = "self"
            found.append((dept, answers))
    return found


def fill(scan, crowd) -> None:
    """The answers into the scan's store, as collect writes them (one response per person)."""
    with Store(scan.store_path) as store, store.transaction() as db:
        for number, (dept, answers) in enumerate(crowd, start=1):
            received = db.execute("INSERT INTO received (path, sha256, size, outcome, form_id) VALUES "
                                  "(?, ?, 1, 'accepted', ?)", (f"f{number}", f"{scan.wave}-{number}",
                                                               f"F{number}")).lastrowid
            response = db.execute(
                "INSERT INTO responses (received_id, form_id, department_key, department, role, wave, language) "
                "VALUES (?, ?, ?, ?, 'employee', ?, 'en')",
                (received, f"F{number}", dept.lower(), dept, scan.wave)).lastrowid
            store.write_answers(db, response, [(k, v, None) if isinstance(v, float) else (k, None, v)
                                               for k, v in answers.items()])


def wave_of(earlier, now, links: dict[str, tuple[Continuity, tuple[str, ...]]] | None = None) -> EarlierWave:
    """`EarlierWave` as survey.waves builds it: fingerprints compared, departments linked (same
    name unless `links` says otherwise)."""
    changes = compare_versions(earlier.questionnaire, now.questionnaire)
    links = links or {}
    made = tuple(DepartmentLink(d.name, links[d.name][1], links[d.name][0]) if d.name in links
                 else DepartmentLink(d.name, (d.name,), Continuity.same) for d in now.departments)
    return EarlierWave(earlier.wave, earlier.folder, earlier, made,
                       frozenset(c.key for c in changes if c.change is Versioned.same),
                       tuple(c.key for c in changes if c.change is Versioned.reworded))


def score(dept_answers, var: str) -> float:
    """A person's score computed here, independently of the Scorer (complete answers)."""
    a = dept_answers

    def item(k):
        s = (a[k] - 1) / 4 * 100
        return 100 - s if k == "d2" else s

    drives, pace = (item("d1") + item("d2")) / 2, (item("p1") + item("p2")) / 2
    return {"dim:drives": drives, "dim:pace": pace, "derived:index": (drives + pace) / 2,
            "derived:happy": (a["m1"] + a["m2"]) / 2}[var]


def scores(crowd, var: str, dept: str | None) -> np.ndarray:
    return np.array([score(a, var) for d, a in crowd if dept is None or d == dept])


SCORES = ("dim:drives", "dim:pace", "derived:index", "derived:happy")


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """Two waves of A, B, C (20 each): A moved up by one answer point on every statement and
    half a mark... and braked far less on talks; B and C did not change."""
    root = tmp_path_factory.mktemp("planted")
    sizes = {"A": 20, "B": 20, "C": 20}
    before, after = make_scan(root, "2025", sizes), make_scan(root, "2026", sizes)
    rng = np.random.default_rng(5)
    first = people(rng, sizes, brakes={"A": 0.8, "B": 0.3, "C": 0.3})
    second = people(rng, sizes, shift={"A": 1.0}, brakes={"A": 0.1, "B": 0.3, "C": 0.3})
    fill(before, first)
    fill(after, second)
    result = analyse_scan(after, earlier_waves=[wave_of(before, after)])
    return before, after, first, second, result


def test_a_planted_change_is_found_with_its_sign_and_size_as_scipy_computes_it(planted):
    _, _, first, second, result = planted
    groups = {ORGANISATION: None, "A": "A", "B": "B", "C": "C"}
    by_group = {g.key: g for g in result.groups}
    # every score of every group: the shown change and Welch's p as scipy computes them, Holm
    # over the whole family as statsmodels does
    labels, raw = [], []
    for key, dept in groups.items():
        for var in SCORES:
            now, then = scores(second, var, dept), scores(first, var, dept)
            c = by_group[key].change[var]
            assert c.n_now == len(now) and c.n_earlier == len(then)
            assert c.estimate == pytest.approx(now.mean() - then.mean(), abs=1e-9)  # complete answers
            welch = stats.ttest_ind(now, then, equal_var=False)
            assert c.p == pytest.approx(welch.pvalue, rel=1e-9)
            v1, v2 = now.var(ddof=1) / len(now), then.var(ddof=1) / len(then)
            df = (v1 + v2) ** 2 / (v1 ** 2 / (len(now) - 1) + v2 ** 2 / (len(then) - 1))
            half = stats.t.ppf(0.975, df) * math.sqrt(v1 + v2)
            assert (c.low, c.high) == pytest.approx((c.estimate - half, c.estimate + half), abs=1e-9)
            labels.append((key, var))
            raw.append(welch.pvalue)
    reject, adjusted, *_ = multipletests(raw, alpha=0.05, method="holm")
    for (key, var), adj, rej in zip(labels, adjusted, reject):
        c = by_group[key].change[var]
        assert c.p_adjusted == pytest.approx(adj, rel=1e-9) and c.family == len(labels)
        assert c.claimed == (bool(rej) and (c.low > 0 or c.high < 0))
    # the planted change: A up on every score (1 answer point = 25 on 0-100, 2 marks on 1-10)
    a = by_group["A"].change
    assert all(a[var].claimed and a[var].estimate > 0 for var in SCORES)
    assert a["dim:drives"].estimate == pytest.approx(25, abs=8) and a["derived:happy"].estimate == pytest.approx(2, abs=0.8)
    assert not any(by_group[d].change[var].claimed for d in ("B", "C") for var in SCORES)
    # the shown change is the difference of the two shown scores
    assert a["dim:pace"].now == pytest.approx(by_group["A"].dimensions["pace"].mean)


def test_a_planted_change_in_a_share_matches_newcombe_and_fisher(planted):
    _, _, first, second, result = planted
    c = next(g for g in result.groups if g.key == "A").change["pace:talk.brakes"]
    x1 = sum(a["grid.talk.effect"] == "brakes" for d, a in second if d == "A")
    x0 = sum(a["grid.talk.effect"] == "brakes" for d, a in first if d == "A")
    assert (c.n_now, c.n_earlier) == (20, 20)
    assert c.estimate == pytest.approx(x1 / 20 - x0 / 20)
    low, high = confint_proportions_2indep(x1, 20, x0, 20, method="newcomb", compare="diff")
    assert (c.low, c.high) == pytest.approx((low, high), abs=1e-9)
    assert c.p == pytest.approx(stats.fisher_exact([[x1, 20 - x1], [x0, 20 - x0]]).pvalue)
    assert c.claimed and c.estimate < -0.4
    assert result.change.families["shares"] == 4 * 2 * 2  # groups x situations x (brakes, speeds up)
    assert result.change.previous == "2025" and result.change.waves == ("2025", "2026")


def _refill(scan, crowd) -> None:
    for suffix in ("", "-wal", "-shm"):
        scan.store_path.with_name(scan.store_path.name + suffix).unlink(missing_ok=True)
    fill(scan, crowd)


def test_no_change_is_claimed_on_data_without_change_at_more_than_the_stated_rate(tmp_path):
    # 100 pairs of waves from one distribution, 3 departments of 8: each Holm family (scores;
    # shares) keeps the chance of any false claim per report at 5 %. Allow 10 of 100 per
    # family (the binomial 99th percentile at 5 % is 11); the claims must also be there to
    # count (every group has its changes).
    sizes = {"A": 8, "B": 8, "C": 8}
    before, after = make_scan(tmp_path, "2025", sizes), make_scan(tmp_path, "2026", sizes)
    wave = wave_of(before, after)
    false = {"scores": 0, "shares": 0}
    for seed in range(100):
        rng = np.random.default_rng(2000 + seed)
        _refill(before, people(rng, sizes))
        _refill(after, people(rng, sizes))
        result = analyse_scan(after, earlier_waves=[wave], bootstrap=False)
        changes = [c for g in result.groups for c in g.change.values()]
        assert len(changes) == 4 * (len(SCORES) + 2 * 2)
        false["scores"] += any(c.claimed for c in changes if not c.variable.startswith("pace:"))
        false["shares"] += any(c.claimed for c in changes if c.variable.startswith("pace:"))
    print("false claims per 100:", false)
    assert false["scores"] <= 10 and false["shares"] <= 10, false


def test_a_renamed_department_gets_a_change_a_merged_one_does_not_the_organisation_does(tmp_path):
    before = make_scan(tmp_path, "2025", {"A": 10, "B": 6, "C": 6, "D": 10})
    after = make_scan(tmp_path, "2026", {"Alpha": 10, "BC": 12, "D": 10})
    rng = np.random.default_rng(3)
    fill(before, people(rng, {"A": 10, "B": 6, "C": 6, "D": 10}))
    fill(after, people(rng, {"Alpha": 10, "BC": 12, "D": 10}))
    wave = wave_of(before, after, {"Alpha": (Continuity.renamed, ("A",)), "BC": (Continuity.merged, ("B", "C"))})
    result = analyse_scan(after, earlier_waves=[wave])
    by_group = {g.key: g for g in result.groups}
    assert set(by_group) == {ORGANISATION, "Alpha", "BC", "D"}
    assert by_group[ORGANISATION].change and by_group["D"].change
    assert by_group["BC"].change == {}
    alpha = by_group["Alpha"].change["dim:drives"]
    # Alpha's earlier figure is department A's of 2025, as 2025's own analysis shows it
    a_2025 = next(g for g in analyse_scan(before).groups if g.key == "A")
    assert alpha.earlier == pytest.approx(a_2025.dimensions["drives"].mean) and alpha.n_earlier == 10
    left = [x for x in result.change.left_out if x.group == "BC"]
    assert [(x.reason, x.items) for x in left] == [("merged", ("B", "C"))]
    assert result.change.links == {"Alpha": ("renamed", ("A",)), "BC": ("merged", ("B", "C")), "D": ("same", ("D",))}
    # the organisation's earlier figure covers all of 2025's employees
    assert by_group[ORGANISATION].change["dim:drives"].n_earlier == 32


def test_a_changed_question_has_no_change_or_trend_and_is_named(tmp_path):
    sizes = {"A": 10, "B": 10}
    reworded = QUESTIONNAIRE.replace("P1TEXT", "P1 asked another way")
    scans = [make_scan(tmp_path, "2024", sizes), make_scan(tmp_path, "2025", sizes),
             make_scan(tmp_path, "2026", sizes, reworded)]
    rng = np.random.default_rng(4)
    for scan in scans:
        fill(scan, people(rng, sizes))
    waves = [wave_of(s, scans[2]) for s in scans[:2]]
    result = analyse_scan(scans[2], earlier_waves=waves)
    assert result.change.changed_items == {"2024": ("p1",), "2025": ("p1",)}
    for g in result.groups:
        # pace and the index rest on p1: no change, no trend; drives and the marks do change
        assert "dim:pace" not in g.change and "derived:index" not in g.change
        assert "dim:pace" not in g.trend and "derived:index" not in g.trend
        assert "dim:drives" in g.change and "derived:happy" in g.change and "dim:drives" in g.trend
    named = {(x.wave, x.variable, x.reason, x.items) for x in result.change.left_out if x.group is None}
    assert named == {(w, v, "changed", ("p1",)) for w in ("2024", "2025") for v in ("dim:pace", "derived:index")}


def test_three_waves_give_a_series_per_group(tmp_path):
    sizes = {"A": 12, "B": 10}
    scans = [make_scan(tmp_path, w, sizes) for w in ("2024", "2025", "2026")]
    crowds = []
    for number, scan in enumerate(scans):
        crowds.append(people(np.random.default_rng(10 + number), sizes, shift={"A": 0.5 * number}))
        fill(scan, crowds[-1])
    result = analyse_scan(scans[2], earlier_waves=[wave_of(s, scans[2]) for s in scans[:2]])
    by_group = {g.key: g for g in result.groups}
    series = by_group["A"].trend["dim:drives"]
    assert [p.wave for p in series] == ["2024", "2025", "2026"]
    for point, crowd in zip(series, crowds):
        values = scores(crowd, "dim:drives", "A")
        assert point.value == pytest.approx(values.mean()) and point.n == 12
        half = stats.t.ppf(0.975, 11) * values.std(ddof=1) / math.sqrt(12)
        assert (point.low, point.high) == (round(values.mean() - half, 1), round(values.mean() + half, 1))
    assert series[0].value < series[2].value
    # B has 10 people: exactly 2k, so intervals are shown; shares get Wilson's interval
    assert all(p.low is not None for p in by_group["B"].trend["dim:drives"])
    brakes = by_group[ORGANISATION].trend["pace:talk.brakes"]
    assert [p.n for p in brakes] == [22, 22, 22] and all(p.low <= p.value <= p.high for p in brakes)
    # the change is against the previous wave only
    assert by_group["A"].change["dim:drives"].earlier_wave == "2025"
    assert by_group["A"].change["dim:drives"].earlier == pytest.approx(series[1].value)


def test_no_series_from_two_waves(planted):
    assert all(g.trend == {} for g in planted[4].groups)
