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
from tests.scans import (AGREE5, DRIVES_AND_PACE, GRID_TALK_COURSE, INITIATIVE, PACE_EFFECT, ROLE, ROLE_BACKGROUND,
                         header)

QUESTIONNAIRE = header("change", "{en: Change, nl: Verandering}") + AGREE5 + """\
  mark:
    kind: score
    min: 1
    max: 10
    anchors:
      1: {en: very poor, nl: heel slecht}
      10: {en: excellent, nl: uitstekend}
""" + INITIATIVE + PACE_EFFECT + ROLE + DRIVES_AND_PACE + """\
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
""" + GRID_TALK_COURSE + ROLE_BACKGROUND + """\
derived:
  - {id: index, name: {en: Index, nl: Index}, of: [drives, pace]}
  - {id: happy, name: {en: Happy, nl: Blij}, of: [m1, m2]}
"""

STATEMENTS = ("d1", "d2", "p1", "p2")
SITUATIONS = ("talk", "course")
EFFECTS = ("speeds_up", "no_effect", "brakes")
K = 5


def make_scan(root, wave: str, sizes: dict[str, int], questionnaire: str = QUESTIONNAIRE):
    root.mkdir(parents=True, exist_ok=True)
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


def _welch_t(x, y, axis=-1):
    return stats.ttest_ind(x, y, equal_var=False, axis=axis).statistic


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
            # the p: a permutation test with Welch's t as its statistic, as scipy runs it
            # (its own random permutations: equal within Monte Carlo error)
            perm = stats.permutation_test((now, then), _welch_t, vectorized=True, n_resamples=9_999,
                                          random_state=1).pvalue
            assert c.p == pytest.approx(perm, abs=max(0.02, 0.2 * perm))
            v1, v2 = now.var(ddof=1) / len(now), then.var(ddof=1) / len(then)
            df = (v1 + v2) ** 2 / (v1 ** 2 / (len(now) - 1) + v2 ** 2 / (len(then) - 1))
            half = stats.t.ppf(0.975, df) * math.sqrt(v1 + v2)
            assert (c.low, c.high) == pytest.approx((c.estimate - half, c.estimate + half), abs=1e-9)
            labels.append((key, var))
            raw.append(c.p)
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


# --------------------------------------------------------------------------- anonymity across waves


def published(scan):
    """The scan analysed and its report published (the register of editions records it)."""
    result = analyse_scan(scan)
    publish(result, "report")
    return result


def test_last_years_merged_group_beside_last_years_published_department_is_refused(tmp_path):
    # 2025: A (6) shown; B (3) and C (2) hidden, together 'other departments' (5); D (5) shown
    sizes = {"A": 6, "B": 3, "C": 2, "D": 5}
    before = make_scan(tmp_path, "2025", sizes)
    crowd = people(np.random.default_rng(6), sizes)
    fill(before, crowd)
    first = published(before)
    assert [g.key for g in first.departments] == ["A", "D"] and first.others is not None
    after = make_scan(tmp_path, "2026", {"AB": 9, "C": 2, "D": 5})
    fill(after, people(np.random.default_rng(7), {"AB": 9, "D": 6}))
    wave = wave_of(before, after, {"AB": (Continuity.merged, ("A", "B"))})
    # 2025's AB (9) beside 2025's published A (6) gives B's three answers: refused, with the reason
    figures = EarlierFigures(wave, K)
    figures.decide({ORGANISATION: frozenset(), "AB": frozenset({"A", "B"})},
                   {ORGANISATION: ["dim:drives"], "AB": ["dim:drives"]})
    assert (ORGANISATION, "dim:drives") in figures.values and ("AB", "dim:drives") not in figures.values
    assert "compared with results written earlier" in figures.withheld[("AB", "dim:drives")]
    # the same people with nothing published before: 2025's AB is allowed (the refusal is the
    # earlier edition's doing; the organisation minus AB is C and D, 7 people)
    fresh = make_scan(tmp_path / "fresh", "2025", sizes)
    fill(fresh, crowd)
    control = EarlierFigures(wave_of(fresh, after, {"AB": (Continuity.merged, ("A", "B"))}), K)
    control.decide({ORGANISATION: frozenset(), "AB": frozenset({"A", "B"})}, {"AB": ["dim:drives"]})
    assert ("AB", "dim:drives") in control.values
    # and the analysis itself: the merged department gets no change, the organisation does
    result = analyse_scan(after, earlier_waves=[wave])
    by_group = {g.key: g for g in result.groups}
    assert by_group["AB"].change == {} and by_group[ORGANISATION].change["dim:drives"].n_earlier == 16


def test_a_group_hidden_in_one_wave_and_shown_in_the_other_gets_no_change(tmp_path):
    # 2025: B (3) is too small, so A (6) was hidden too (else the organisation minus C gives B)
    before = make_scan(tmp_path, "2025", {"A": 6, "B": 3, "C": 6})
    fill(before, people(np.random.default_rng(8), {"A": 6, "B": 3, "C": 6}))
    first = published(before)
    assert [g.key for g in first.departments] == ["C"]
    after = make_scan(tmp_path, "2026", {"A": 10, "C": 10})
    fill(after, people(np.random.default_rng(9), {"A": 10, "C": 10}))
    wave = wave_of(before, after)
    result = analyse_scan(after, earlier_waves=[wave])
    by_group = {g.key: g for g in result.groups}
    assert by_group["A"].change == {} and by_group["C"].change
    assert [(x.reason, x.items) for x in result.change.left_out if x.group == "A"] == [("hidden", ("A",))]
    # the disclosure rule alone refuses it too: 2025's A beside 2025's published 'other departments' (A, B)
    figures = EarlierFigures(wave, K)
    figures.decide({ORGANISATION: frozenset(), "A": frozenset({"A"})}, {"A": ["dim:drives"]})
    assert ("A", "dim:drives") not in figures.values
    # the other way round: shown in 2025, hidden in 2026 (too few answers): no group, no change
    later = make_scan(tmp_path, "2027", {"A": 3, "C": 10, "D": 10})
    fill(later, people(np.random.default_rng(10), {"A": 3, "C": 10, "D": 10}))
    result = analyse_scan(later, earlier_waves=[wave_of(after, later)])
    assert "A" not in {g.key for g in result.groups} and any(g.change for g in result.groups)


def add_one(scan, dept: str, answers: dict[str, object]) -> None:
    """One more (late) form in a scan's store."""
    with Store(scan.store_path) as store, store.transaction() as db:
        number = db.execute("SELECT count(*) FROM responses").fetchone()[0] + 1000
        received = db.execute("INSERT INTO received (path, sha256, size, outcome, form_id) VALUES "
                              "(?, ?, 1, 'accepted', ?)", (f"late{number}", f"late{number}", f"L{number}")).lastrowid
        response = db.execute("INSERT INTO responses (received_id, form_id, department_key, department, role, wave, "
                              "language) VALUES (?, ?, ?, ?, 'employee', ?, 'en')",
                              (received, f"L{number}", dept.lower(), dept, scan.wave)).lastrowid
        store.write_answers(db, response, [(k, v, None) if isinstance(v, float) else (k, None, v)
                                           for k, v in answers.items()])


def test_what_a_later_wave_shows_of_an_earlier_wave_is_recorded_there_and_checked(tmp_path):
    sizes = {"A": 10, "B": 10}
    before, after = make_scan(tmp_path, "2025", sizes), make_scan(tmp_path, "2026", sizes)
    crowd = people(np.random.default_rng(12), sizes)
    fill(before, crowd)  # 2025 itself never published: only 2026's record is in its store
    fill(after, people(np.random.default_rng(13), sizes))
    wave = wave_of(before, after)
    result = analyse_scan(after, earlier_waves=[wave])
    happy = result.organisation_result.change["derived:happy"]
    publish(result, "report")
    with Store(before.store_path) as store:
        by = store.db.execute("SELECT written_by, outputs FROM editions").fetchall()
        recorded = store.earlier_sets()["claims:derived:happy"]
    assert len(by) == 1 and "2026" in by[0][0] and by[0][1] == "report of wave 2026"
    assert sorted(len(members) for members, _ in recorded) == [10, 10, 20]
    # a late 2025 form: 2025's organisation figure would now rest on 21 people, one more than
    # the 20 that 2026 showed: refused (the difference is that person's answer)
    add_one(before, "A", crowd[0][1])
    again = analyse_scan(after, earlier_waves=[wave])
    assert "derived:happy" not in again.organisation_result.change
    assert any(x.variable == "derived:happy" and x.group == ORGANISATION and x.reason == "withheld"
               and "written earlier" in x.detail for x in again.change.left_out)
    # --replace-earlier: 2026's last record in 2025's store is forgotten (never shared), so the
    # 21-person figure is allowed again; 2025's own editions are not touched
    replaced = analyse_scan(after, earlier_waves=[wave], replace_earlier=True)
    assert replaced.organisation_result.change["derived:happy"].n_earlier == 21
    assert happy.n_earlier == 20


def test_the_record_survives_closing_the_earlier_wave(tmp_path):
    sizes = {"A": 10, "B": 10}
    before, after = make_scan(tmp_path, "2025", sizes), make_scan(tmp_path, "2026", sizes)
    fill(before, people(np.random.default_rng(14), sizes))
    fill(after, people(np.random.default_rng(15), sizes))
    published(before)
    wave = wave_of(before, after)
    first = analyse_scan(after, earlier_waves=[wave])
    publish(first, "report")
    with Store(before.store_path) as store:
        assert store.close_scan() == 20  # new ids in random order; the register follows them
        recorded = store.earlier_sets()["claims:derived:happy"]
        ids = dict(store.db.execute("SELECT department, group_concat(id) FROM responses GROUP BY department"))
    a_ids = np.array(sorted(int(i) for i in ids["A"].split(",")))
    assert any(np.array_equal(members, a_ids) for members, _ in recorded)
    # analysed again after the close: the very same figures, all still allowed
    second = analyse_scan(after, earlier_waves=[wave])
    for g1, g2 in zip(first.groups, second.groups):
        assert g1.change.keys() == g2.change.keys() and g1.change
        for var, c in g1.change.items():  # the same people in another order: sums may differ in the last bit
            d = g2.change[var]
            assert (c.n_now, c.n_earlier, c.claimed) == (d.n_now, d.n_earlier, d.claimed)
            assert (c.earlier, c.estimate, c.low, c.high) == pytest.approx((d.earlier, d.estimate, d.low, d.high))


def test_a_version_7_store_migrates_with_its_editions(tmp_path):
    import sqlite3

    path = tmp_path / "scan.db"
    group = np.arange(1, 11, dtype=np.int64)
    with Store(path) as store:
        store.record_edition([("item:x", group[:6], group)], "report")
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE editions DROP COLUMN written_by")  # as version 7 had it
    db.execute("PRAGMA user_version = 7")
    db.commit()
    db.close()
    with Store(path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == 8
        assert store.db.execute("SELECT outputs, written_by FROM editions").fetchall() == [("report", None)]
        assert [(m.tolist(), b.tolist()) for m, b in store.earlier_sets()["item:x"]] == [(list(range(1, 7)),
                                                                                          list(range(1, 11)))]
        store.record_edition([("item:x", group[:5], group)], "report of wave 2026", written_by="2026")
        store.forget_last_edition()  # this scan's own last edition; the later wave's stays
        assert store.db.execute("SELECT outputs FROM editions").fetchall() == [("report of wave 2026",)]
        store.forget_last_edition(written_by="2026")
        assert store.db.execute("SELECT count(*) FROM editions").fetchone()[0] == 0


def test_the_workbook_has_the_change_with_the_n_of_both_waves_and_the_trend(tmp_path):
    from openpyxl import load_workbook

    from survey.analysis import write_results_workbook

    sizes = {"A": 12, "B": 6}
    reworded = QUESTIONNAIRE.replace("P1TEXT", "P1 asked another way")
    scans = [make_scan(tmp_path, "2024", sizes), make_scan(tmp_path, "2025", sizes),
             make_scan(tmp_path, "2026", sizes, reworded)]
    for number, scan in enumerate(scans):
        fill(scan, people(np.random.default_rng(20 + number), sizes, shift={"A": 0.5 * number}))
    result = analyse_scan(scans[2], earlier_waves=[wave_of(s, scans[2]) for s in scans[:2]])
    book = load_workbook(write_results_workbook(result, tmp_path / "results.xlsx"))

    def rows(sheet):
        values = list(book[sheet].iter_rows(values_only=True))
        return [dict(zip(values[0], row)) for row in values[1:]]

    change = {(r["group"], r["variable"]): r for r in rows("change")}
    a = result.departments[0]
    assert a.key == "A"
    drives = change[("A", "dim:drives")]
    c = a.change["dim:drives"]
    assert (drives["earlier_wave"], drives["n_earlier"], drives["wave"], drives["n_now"]) == ("2025", 12, "2026", 12)
    assert drives["change"] == round(c.estimate, 2) and drives["claimed"] == ("yes" if c.claimed else "no")
    assert (drives["ci_low"], drives["ci_high"]) == c.shown(K) == (round(c.low, 1), round(c.high, 1))
    # B has 6 people in each wave: its change has no interval (fewer than 2k), a share always has one
    assert change[("B", "dim:drives")]["ci_low"] is None and change[("B", "pace:talk.brakes")]["ci_low"] is not None
    brakes = a.change["pace:talk.brakes"]
    assert change[("A", "pace:talk.brakes")]["change"] == round(100 * brakes.estimate, 1)
    assert ("A", "dim:pace") not in change
    left = rows("change_left_out")
    assert {(r["variable"], r["reason"], r["questions_or_departments"]) for r in left if r["group"] is None} == {
        ("dim:pace", "changed", "p1"), ("derived:index", "changed", "p1")}
    trend = [r for r in rows("trend") if r["group"] == "A" and r["variable"] == "dim:drives"]
    assert [(r["wave"], r["n"]) for r in trend] == [("2024", 12), ("2025", 12), ("2026", 12)]
    assert trend[1]["value"] == round(c.earlier, 2)


def test_an_earlier_wave_without_answers_is_named_not_fatal(tmp_path):
    before, after = make_scan(tmp_path, "2025", {"A": 10}), make_scan(tmp_path, "2026", {"A": 10})
    fill(after, people(np.random.default_rng(30), {"A": 10}))
    result = analyse_scan(after, earlier_waves=[wave_of(before, after)])  # 2025 collected nothing
    assert all(g.change == {} for g in result.groups)
    assert [(x.wave, x.reason) for x in result.change.left_out] == [("2025", "not_computable")]
    assert "no responses collected yet" in result.change.left_out[0].detail


TOP_HEAVY = [.02, .03, .05, .2, .7]  # answers piled at the top, as in a content team


def test_the_permutation_p_keeps_its_rate_where_welchs_t_distribution_does_not():
    # one wave of 5, the other of 40, both from one top-heavy distribution: Welch's t
    # distribution rejects far above 5 % (the 5 often have almost no spread); the studentised
    # permutation test keeps its level, also at a Holm-like cut-off
    from survey.stats import CannotCompute, welch_difference
    from survey.stats.permutation import welch_permutation

    reps, welch, perm, perm_holm = 300, 0, 0, 0
    for seed in range(reps):
        rng = np.random.default_rng(seed)
        big, small = (((rng.choice([1, 2, 3, 4, 5], p=TOP_HEAVY, size=(n, 2)) - 1) * 25.0).mean(1) for n in (40, 5))
        w, p = welch_difference(big, small), welch_permutation(big, small)
        if isinstance(w, CannotCompute):
            continue
        welch += w.p < 0.05
        perm += p.p < 0.05
        perm_holm += p.p < 0.05 / 16
    assert welch / reps > 0.09  # the scenario does fool Welch's t distribution
    assert perm / reps <= 0.07 and perm_holm / reps <= 0.01, (perm, perm_holm)


def test_a_small_wave_with_the_wider_spread_does_not_fool_the_test_in_holms_tail():
    # the reverse case: 10 people answering all over the scale against 100 close together, equal
    # means. Permuting the labels alone rejects about 0.65 % of the time at Holm's first cut-off
    # (0.05/35), four times its level; the larger of that p and Welch's t on Hsu's degrees of
    # freedom keeps it (about 0.1 %)
    from survey.stats.permutation import welch_permutation

    rng = np.random.default_rng(7)
    wide, tight = [.2] * 5, [.02, .13, .7, .13, .02]
    reps, cut, claimed = 2000, 0.05 / 35, 0
    for seed in range(reps):
        big, small = (((rng.choice([1, 2, 3, 4, 5], p=p, size=(n, 2)) - 1) * 25.0).mean(1)
                      for n, p in ((100, tight), (10, wide)))
        claimed += welch_permutation(big, small, 2999, seed).p < cut
    assert claimed <= 8, claimed  # level 0.14 %: 2.9 expected; the permutation p alone gives about 13


def test_five_people_all_at_the_top_against_25_claim_no_change(tmp_path):
    # the attack: last year's A were 5 people all at the top; this year's 25 come from the same
    # distribution. No interval can be shown (fewer than 2k in a wave), so nothing is claimed.
    sizes = {"A": 30, "B": 30}
    before, after = make_scan(tmp_path, "2025", sizes), make_scan(tmp_path, "2026", sizes)
    rng = np.random.default_rng(11)

    def drawn(dept, n):
        crowd = people(rng, {dept: n})
        for _, a in crowd:
            for k in STATEMENTS:
                v = float(rng.choice([1, 2, 3, 4, 5], p=TOP_HEAVY))
                a[k] = 6 - v if k == "d2" else v
        return crowd

    top = [("A", {**a, **{k: (1.0 if k == "d2" else 5.0) for k in STATEMENTS}, "m1": 10.0, "m2": 10.0})
           for _, a in people(rng, {"A": 5})]
    fill(before, top + drawn("B", 30))
    fill(after, drawn("A", 25) + drawn("B", 30))
    result = analyse_scan(after, earlier_waves=[wave_of(before, after)], bootstrap=False)
    a = next(g for g in result.groups if g.key == "A").change
    assert {var: a[var].n_earlier for var in SCORES} == dict.fromkeys(SCORES, 5)
    assert a["dim:drives"].estimate < -5  # a visible drop, but resting on 5 people
    assert not any(a[var].claimed for var in SCORES)
    assert all(a[var].shown(K) == (None, None) for var in SCORES)


def test_replace_earlier_forgets_only_the_record_tied_to_the_edition_it_replaces_and_only_once(tmp_path):
    # 2026 (reorganised: only the organisation compares) shares an edition showing 2025's
    # organisation (20 people); a late 2025 form; 2026's next edition withholds 2025's figure
    # (21 beside the 20 shown) and so records nothing in 2025's store; that edition is then
    # replaced. The shared record in 2025's store must stay, also when the replacing run is
    # retried.
    from survey.waves import Continuity

    before = make_scan(tmp_path, "2025", {"A": 10, "B": 10})
    after = make_scan(tmp_path, "2026", {"X": 10, "Y": 10})
    crowd = people(np.random.default_rng(3), {"A": 10, "B": 10})
    fill(before, crowd)
    fill(after, people(np.random.default_rng(4), {"X": 10, "Y": 10}))
    wave = wave_of(before, after, {"X": (Continuity.new, ()), "Y": (Continuity.new, ())})

    def earlier_records():
        with Store(before.store_path) as store:
            return store.db.execute("SELECT id, written_by FROM editions").fetchall()

    def own_editions():
        with Store(after.store_path) as store:
            return [i for (i,) in store.db.execute("SELECT id FROM editions")]

    shared = analyse_scan(after, earlier_waves=[wave])
    assert shared.organisation_result.change["derived:happy"].n_earlier == 20
    publish(shared, "workbook")
    assert len(earlier_records()) == 1 and earlier_records()[0][1].endswith(f"#{own_editions()[0]}")
    add_one(before, "A", crowd[0][1])
    draft = analyse_scan(after, earlier_waves=[wave])
    assert draft.organisation_result.change == {}  # 21 beside the 20 shown: withheld
    publish(draft, "workbook")
    assert len(earlier_records()) == 1 and len(own_editions()) == 2
    for attempt in range(2):  # the replacing run, then its retry (say the first failed after analysing)
        replaced = analyse_scan(after, earlier_waves=[wave], replace_earlier=True)
        assert replaced.organisation_result.change == {}, attempt  # the shared 20 still count
        assert len(earlier_records()) == 1 and len(own_editions()) == 1, attempt
    # once something is written again, the next replacement forgets that (and its tie) only
    publish(replaced, "workbook")
    assert len(own_editions()) == 2
    analyse_scan(after, earlier_waves=[wave], replace_earlier=True)
    assert len(own_editions()) == 1 and len(earlier_records()) == 1


def test_the_audit_reads_the_change_sheet_and_finds_a_cross_wave_leak_there(tmp_path, monkeypatch):
    # the cross-wave check switched off on purpose: 2026's change sheet shows 2025's A over 11
    # (a late form) beside 2025's own workbook showing A over 10: the audit must find it
    import survey.analysis.change as change
    from survey.analysis import write_results_workbook
    from survey.audit import audit_folders

    sizes = {"A": 10, "B": 10}
    before, after = make_scan(tmp_path, "2025", sizes), make_scan(tmp_path, "2026", sizes)
    crowd = people(np.random.default_rng(4), sizes)
    fill(before, crowd)
    fill(after, people(np.random.default_rng(5), sizes))
    write_results_workbook(analyse_scan(before), before.output_dir / "results.xlsx")
    add_one(before, "A", crowd[0][1])
    decide = change.EarlierFigures.decide

    def blind(self, groups, wanted):
        self.earlier_sets = {}
        return decide(self, groups, wanted)

    monkeypatch.setattr(change.EarlierFigures, "decide", blind)
    write_results_workbook(analyse_scan(after, earlier_waves=[wave_of(before, after)]), after.output_dir / "results.xlsx")
    *_, both = audit_folders([before.folder, after.folder])
    found = [f for f in both.findings if "change row" in f.where]
    assert found and all(f.people == 1 for f in found)
    assert any("(wave 2025)" in f.variable and "A (2025) (n=11)" in f.what for f in found)


def test_the_organisations_change_from_who_answered_alone_is_not_claimed_and_the_departments_are_named(tmp_path):
    # A (low scores) answered with 60 people, then 15; B (high) with 60 both times; neither
    # department changed: the organisation's raw difference is large (+~14 on the index) but
    # vanishes with the earlier wave weighted to this wave's mix
    before, after = make_scan(tmp_path, "2025", {"A": 80, "B": 70}), make_scan(tmp_path, "2026", {"A": 80, "B": 70})
    rng = np.random.default_rng(1)
    fill(before, people(rng, {"A": 60, "B": 60}, shift={"A": -1.0, "B": 1.0}))
    fill(after, people(rng, {"A": 15, "B": 60}, shift={"A": -1.0, "B": 1.0}))
    result = analyse_scan(after, earlier_waves=[wave_of(before, after)], bootstrap=False)
    org = next(g for g in result.groups if g.key == ORGANISATION).change["derived:index"]
    assert org.estimate > 8 and org.p < 0.05 / 12  # the test alone would claim it
    assert not org.claimed and set(org.composition) == {"A", "B"}
    assert not any(c.claimed for g in result.groups for c in g.change.values() if not c.variable.startswith("pace:"))
    from survey.report.build import build_report_model

    words = [s for s in build_report_model(result).change.organisation.sentences if s.kind == "composition"]
    assert any("may come from who answered" in str(s) and "B and A" in str(s) for s in words)


def test_a_share_that_moved_only_because_who_answered_changed_is_not_claimed_for_the_organisation(tmp_path):
    # A feels braked in talks (95 %), B helped (5 % braked), in both waves; A answered with 90,
    # then 10: the organisation's share 'brakes' falls from about 59 % to 18 % with no team changing
    sizes = {"A": 100, "B": 100}
    before, after = make_scan(tmp_path, "2025", sizes), make_scan(tmp_path, "2026", sizes)
    rng = np.random.default_rng(3)
    fill(before, people(rng, {"A": 90, "B": 60}, brakes={"A": 0.95, "B": 0.05}))
    fill(after, people(rng, {"A": 10, "B": 60}, brakes={"A": 0.95, "B": 0.05}))
    result = analyse_scan(after, earlier_waves=[wave_of(before, after)], bootstrap=False)
    org = next(g for g in result.groups if g.key == ORGANISATION).change["pace:talk.brakes"]
    assert org.estimate < -0.3 and org.p < 0.05 / 12  # Fisher's test alone would claim it
    assert not org.claimed and set(org.composition) == {"A", "B"}
    from survey.report.build import build_report_model

    words = [str(s) for s in build_report_model(result).change.organisation.sentences if s.kind == "composition"]
    assert any("may come from who answered" in s and "Brakes" in s for s in words), words
    # the same mix with a real fall in A: still claimed
    again = make_scan(tmp_path / "real", "2026", sizes)
    fill(again, people(rng, {"A": 10, "B": 60}, brakes={"A": 0.05, "B": 0.05}))
    real = analyse_scan(again, earlier_waves=[wave_of(before, again)], bootstrap=False)
    org = next(g for g in real.groups if g.key == ORGANISATION).change["pace:talk.brakes"]
    assert org.claimed and org.composition is None and org.estimate < 0


def test_a_real_change_of_every_department_is_still_claimed_for_the_organisation(tmp_path):
    before, after = make_scan(tmp_path, "2025", {"A": 80, "B": 70}), make_scan(tmp_path, "2026", {"A": 80, "B": 70})
    rng = np.random.default_rng(2)
    fill(before, people(rng, {"A": 60, "B": 60}, shift={"A": -1.0, "B": 0.0}))
    fill(after, people(rng, {"A": 15, "B": 60}, shift={"A": -0.2, "B": 0.8}))
    result = analyse_scan(after, earlier_waves=[wave_of(before, after)], bootstrap=False)
    org = next(g for g in result.groups if g.key == ORGANISATION).change["derived:index"]
    assert org.claimed and org.composition is None and org.estimate > 0


def test_a_question_reworded_in_one_language_only_loses_its_trend_and_compare_names_the_language(tmp_path):
    from click.testing import CliRunner

    from survey.cli import cli
    from survey.questionnaire import load_questionnaire

    old_text = "{en: I decide when I talk about my development, nl: Ik bepaal zelf wanneer ik over mijn ontwikkeling praat}"
    new_text = ("{en: I decide when I talk about my development, "
                "nl: Mijn leidinggevende bepaalt wanneer ik over mijn ontwikkeling praat}")
    (tmp_path / "old.yaml").write_text(QUESTIONNAIRE.replace("{en: d1, nl: d1}", old_text))
    (tmp_path / "new.yaml").write_text(QUESTIONNAIRE.replace("{en: d1, nl: d1}", new_text))
    # adding a language breaks nothing: the first version carried English only
    (tmp_path / "en_only.yaml").write_text(QUESTIONNAIRE.replace("{en: d1, nl: d1}", old_text)
                                           .replace("languages: [en, nl]", "languages: [en]"))
    old, new, en_only = (load_questionnaire(tmp_path / f"{n}.yaml").questionnaire for n in ("old", "new", "en_only"))
    changed = {c.key: c for c in compare_versions(old, new) if c.trend_broken}
    assert list(changed) == ["d1"] and changed["d1"].change is Versioned.reworded and changed["d1"].language == "nl"
    assert not [c for c in compare_versions(en_only, old) if c.trend_broken]
    said = CliRunner().invoke(cli, ["compare", str(tmp_path / "old.yaml"), str(tmp_path / "new.yaml")])
    assert said.exit_code == 0 and "reworded  d1  (trend broken, wording changed in 'nl')" in said.output


def test_a_question_reworded_in_a_translation_file_loses_its_trend(tmp_path):
    from survey.questionnaire import load_questionnaire
    from survey.questionnaire import translation as tr

    (tmp_path / "q.yaml").write_text(QUESTIONNAIRE)
    q = load_questionnaire(tmp_path / "q.yaml").questionnaire

    def polish(d1: str):
        texts = {key: f"pl {key}" for key in tr.text_keys(q)}
        texts["items.d1.text"] = d1
        return {"pl": tr.localise(q, tr.Translation("pl", texts, {}), strict=False)}

    same = compare_versions(q, q, polish("Ja decyduję"), polish("Ja decyduję"))
    assert not [c for c in same if c.trend_broken]
    changed = {c.key: c for c in compare_versions(q, q, polish("Ja decyduję"), polish("Kierownik decyduje"))
               if c.trend_broken}
    assert list(changed) == ["d1"] and changed["d1"].language == "pl"
    # a translation only the new wave has breaks nothing
    assert not [c for c in compare_versions(q, q, None, polish("Ja decyduję")) if c.trend_broken]
