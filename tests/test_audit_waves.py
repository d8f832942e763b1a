"""`survey audit` across waves (issue 12, point 4): an earlier wave's figures that a later wave's
results workbook shows, held against the threshold, against each other and against what the
earlier wave's own folder published (its statement figures, its hidden departments). The leaks
are planted the way an attacker found them: by switching off one of the protections of
survey/analysis/change.py while the later wave is written."""

from __future__ import annotations

import numpy as np
import openpyxl

import survey.analysis.change as change
from survey.analysis import analyse_scan, write_results_workbook
from survey.audit import _items_of, audit_folders
from tests.test_change import add_one, fill, make_scan, people, wave_of

LATE = {"d1": 1.0, "d2": 5.0, "p1": 1.0, "p2": 2.0, "m1": 2.0, "m2": 1.0, "grid.talk.effect": "brakes",
        "grid.talk.initiative": "self", "grid.course.effect": "speeds_up", "grid.course.initiative": "self"}


def _two_waves(tmp_path, earlier: dict[str, int], seeds=(1, 2)):
    before = make_scan(tmp_path, "2025", earlier)
    after = make_scan(tmp_path, "2026", {d: 10 for d in earlier})
    fill(before, people(np.random.default_rng(seeds[0]), earlier))
    fill(after, people(np.random.default_rng(seeds[1]), {d: 10 for d in earlier}))
    write_results_workbook(analyse_scan(before), before.output_dir / "results.xlsx")  # 2025 publishes first
    return before, after


def _write_later(before, after):
    return write_results_workbook(analyse_scan(after, earlier_waves=[wave_of(before, after)]),
                                  after.output_dir / "results.xlsx")


def test_an_earlier_waves_small_or_hidden_department_in_the_later_change_sheet_is_found(tmp_path, monkeypatch):
    # 2025: A 10, B 10, C 2 (C hidden, A hidden with it so that C cannot be worked out); 2026's
    # change sheet written with the earlier wave's protection off shows 2025's A and C
    before, after = _two_waves(tmp_path, {"A": 10, "B": 10, "C": 2})
    init = change.EarlierFigures.__init__

    def unprotected(self, wave, threshold, protection=True, forget_by=None):
        init(self, wave, threshold, False, forget_by)

    monkeypatch.setattr(change.EarlierFigures, "__init__", unprotected)
    _write_later(before, after)
    monkeypatch.undo()

    # 2026 alone: 2025's C on 2 people is a finding in the folder that shows it
    [alone] = audit_folders([after.folder])
    small = [f for f in alone.findings if "change row" in f.where and f.variable.endswith("(wave 2025)")]
    assert small and all(f.people == 2 and "for C rests on fewer than 5" in f.what for f in small)
    assert {f.variable for f in small} >= {"dim:drives (wave 2025)", "derived:index (wave 2025)",
                                            "pace:talk.effect (wave 2025)"}
    # both: 2025's own outputs are clean; 2025 hid A and C, 2026 shows each of them on its own
    first, _, both = audit_folders([before.folder, after.folder])
    assert first.ok, first.render()
    hidden = [f for f in both.findings if "hidden in one wave and shown in the other" in f.what]
    assert {f.what.split(" (2025)")[0] for f in hidden} == {"A", "C"}
    assert all("change row" in f.where and str(after.folder) in f.where for f in hidden)
    # the same plant with the protection on (as survey analyse writes it) passes
    _write_later(before, after)
    assert all(r.ok for r in audit_folders([before.folder, after.folder])), \
        "\n".join(r.render() for r in audit_folders([before.folder, after.folder]))


def test_an_earlier_score_that_is_not_the_mean_of_that_waves_published_statements_is_found(tmp_path, monkeypatch):
    # 2025 published A and B (10 each); a late 2025 form in A; 2026's workbook written with the
    # cross-wave check off, its change sheet left with the score rows only: 2025's A over 11
    # beside 2025's statement figures over 10 gives the late person's scores
    before, after = _two_waves(tmp_path, {"A": 10, "B": 10}, seeds=(4, 5))
    add_one(before, "A", LATE)
    decide = change.EarlierFigures.decide

    def blind(self, groups, wanted):
        self.earlier_sets = {}
        return decide(self, groups, wanted)

    monkeypatch.setattr(change.EarlierFigures, "decide", blind)
    written = _write_later(before, after)
    book = openpyxl.load_workbook(written)
    sheet = book["change"]
    for row in range(sheet.max_row, 1, -1):
        if str(sheet.cell(row, 2).value).startswith("pace:"):
            sheet.delete_rows(row)
    book.save(written)

    first, second, both = audit_folders([before.folder, after.folder])
    assert first.ok and second.ok  # each folder alone is consistent
    mean = [f for f in both.findings if "not the mean of its published parts" in f.what]
    assert {f.variable for f in mean if f.what.startswith("A (2025)")} == {
        "dim:drives (wave 2025)", "dim:pace (wave 2025)", "derived:index (wave 2025)", "derived:happy (wave 2025)"}
    assert all(f.people == 1 for f in mean)
    drives = next(f for f in mean if f.what.startswith("A (2025)") and f.variable.startswith("dim:drives"))
    assert "change row" in drives.where and str(after.folder) in drives.where  # where it is shown
    assert str(before.folder) in drives.what and "published for A" in drives.what  # and what it contradicts
    assert "(n=11)" in drives.what and "46.25" in drives.what
    # the part scores of two statements: 2025's dimensions sheet n (10) in the same family as
    # 2026's n_earlier (11): the subtraction finds the one late person too
    subtracted = [f for f in both.findings if "A (2025) (n=11) minus A (n=10" in f.what]
    assert {f.variable for f in subtracted} == {"dim:drives (wave 2025)", "dim:pace (wave 2025)"}
    assert all("dimensions row" in f.what and f.people == 1 for f in subtracted)
    # a merged department's earlier score is held against its departments' statement figures
    # pooled by their n: A and B pooled are 2025's organisation (20 people, no one else)
    group, pooled = _items_of(first, ("A", "B"))
    organisation = first.outputs.items[("Whole organisation", "d1")]
    assert group == "A + B" and pooled["d1"].n == organisation.n == 20
    assert abs(pooled["d1"].value - organisation.value) <= 0.005


def test_an_earlier_score_that_matches_the_published_statements_passes(tmp_path):
    # no late form, every protection on: 2026's earlier scores are exactly the means of 2025's
    # published statement figures, and nothing is found
    before, after = _two_waves(tmp_path, {"A": 10, "B": 10}, seeds=(4, 5))
    _write_later(before, after)
    rows = list(openpyxl.load_workbook(after.output_dir / "results.xlsx", read_only=True)["change"]
                .iter_rows(values_only=True))
    assert any(r[1] == "dim:drives" and r[0] == "A" for r in rows[1:])  # the comparison is made
    results = audit_folders([before.folder, after.folder])
    assert all(r.ok for r in results), "\n".join(r.render() for r in results)


def test_three_waves_clean_pass_and_a_late_form_of_the_first_shows_in_the_third_waves_trend_sheet(
        tmp_path, monkeypatch):
    from survey.report.render import write_report

    sizes = {"A": 12, "B": 10, "C": 7, "D": 3}  # D hidden in every wave (with C)
    scans = [make_scan(tmp_path, w, sizes) for w in ("2024", "2025", "2026")]
    for number, scan in enumerate(scans):
        fill(scan, people(np.random.default_rng(30 + number), sizes, shift={"A": 0.5 * number}))
        result = analyse_scan(scan, earlier_waves=[wave_of(e, scan) for e in scans[:number]])
        write_results_workbook(result, scan.output_dir / "results.xlsx")
        write_report(scan, scan.output_dir, results=result, pdf=False)
    folders = [s.folder for s in scans]
    results = audit_folders(folders)
    assert all(r.ok for r in results), "\n".join(r.render() for r in results)
    # a late 2024 form in A, and 2026's workbook written again without the cross-wave check: its
    # trend sheet shows 2024's A over 13, 2024's own statement figures are over 12
    add_one(scans[0], "A", LATE)
    decide = change.EarlierFigures.decide

    def blind(self, groups, wanted):
        self.earlier_sets = {}
        return decide(self, groups, wanted)

    monkeypatch.setattr(change.EarlierFigures, "decide", blind)
    write_results_workbook(analyse_scan(scans[2], earlier_waves=[wave_of(e, scans[2]) for e in scans[:2]]),
                           scans[2].output_dir / "results.xlsx")
    *_, across = audit_folders(folders)
    late = [f for f in across.findings if "trend row" in f.where and f.what.startswith("A (2024)")
            and "not the mean of its published parts" in f.what]
    assert {f.variable for f in late} >= {"dim:drives (wave 2024)", "derived:happy (wave 2024)"}
    assert all(f.people == 1 and "(n=13)" in f.what for f in late)


def test_a_clean_pair_on_a_three_point_scale_with_skipped_statements_and_short_names_raises_no_alarm(tmp_path):
    # found by an attacker: the audit called clean outputs leaks. A score on a 3-point scale is
    # the mean of its statements within the statements' rounding (0.25 on 0-100, not 0.2); axis
    # ticks of a chart are not figures; team sheet 'B' is B's (the 'A' in 'TEAM SHEET' is not A)
    from click.testing import CliRunner

    from survey.cli import cli
    from survey.waves import write_waves_file
    from tests.scans import AGREE5
    from tests.test_change import EFFECTS, QUESTIONNAIRE, SITUATIONS, STATEMENTS

    three = QUESTIONNAIRE.replace(AGREE5, """\
  agree5:
    kind: ordinal
    options:
      - {code: 1, label: {en: Disagree, nl: Oneens}}
      - {code: 2, label: {en: Neutral, nl: Neutraal}}
      - {code: 3, label: {en: Agree, nl: Eens}}
""")
    assert three != QUESTIONNAIRE
    sizes = {"A": 12, "B": 9, "C": 7, "D": 3}
    rng = np.random.default_rng(1)

    def crowd():
        found = []
        for dept, n in sizes.items():
            for _ in range(n):
                answers = {k: float(rng.integers(1, 4)) for k in STATEMENTS if rng.random() >= 0.15}
                answers |= {k: float(rng.integers(1, 11)) for k in ("m1", "m2") if rng.random() >= 0.15}
                for s in SITUATIONS:
                    if rng.random() >= 0.15:
                        answers |= {f"grid.{s}.effect": EFFECTS[int(rng.integers(3))], f"grid.{s}.initiative": "self"}
                found.append((dept, answers))
        return found

    before, after = make_scan(tmp_path, "2025", sizes, three), make_scan(tmp_path, "2026", sizes, three)
    fill(before, crowd())
    fill(after, crowd())
    write_waves_file(after, before)
    runner = CliRunner()
    for scan, pdf in ((before, ["--no-pdf"]), (after, [])):
        for command in (["analyse", str(scan.folder)], ["report", str(scan.folder), *pdf]):
            done = runner.invoke(cli, command)
            assert done.exit_code == 0, done.output
    assert (after.output_dir / "teams" / "B.pdf").is_file()
    audited = runner.invoke(cli, ["audit", str(before.folder), str(after.folder)])
    assert audited.exit_code == 0, audited.output
    assert audited.output.count("No set of 1 to 4 people can be worked out") == 3
