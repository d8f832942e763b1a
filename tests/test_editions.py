"""Editions: once results are written, a new edition that differs by fewer than the threshold
of people is refused (comparing the two would give those people's answers away)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from survey.cli import cli
from survey.demo import fill_form
from survey.forms import write_forms
from survey.scan import Department, init_scan
from tests.test_forms_trust import set_saved_time


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _items(folder):
    from openpyxl import load_workbook

    rows = list(load_workbook(folder / "output" / "results.xlsx")["items"].iter_rows(values_only=True))
    at = {name: i for i, name in enumerate(rows[0])}  # by header: label columns sit beside the ids
    return {(r[at["group"]], r[at["item"]]): (r[at["n"]], r[at["mean"]]) for r in rows[1:]}  # -> (n, mean)


def test_a_late_or_corrected_form_cannot_be_worked_out_from_two_editions(tmp_path):
    scan = init_scan(tmp_path / "scan", "Org", "werkgeluk", "nl", "2026", 5,
                     [Department("A", 6, 0), Department("B", 5, 0), Department("C", 9, 0)])
    write_forms(scan)
    a_forms = sorted((scan.forms_dir / "A").glob("*.xlsx"))
    others = sorted((scan.forms_dir / "B").glob("*.xlsx")) + sorted((scan.forms_dir / "C").glob("*.xlsx"))
    for number, path in enumerate(a_forms[:5] + others):
        fill_form(scan, path, {"plezier": 3 + number % 5, "zingeving": 2 + number % 7}, scan.inbox / f"{number}.xlsx")
    assert run("collect", scan.folder).exit_code == 0
    assert run("analyse", scan.folder).exit_code == 0
    first = _items(scan.folder)
    # one late form in A, and a corrected copy of a form in C
    fill_form(scan, a_forms[5], {"plezier": 9, "zingeving": 9}, scan.inbox / "late.xlsx")
    fill_form(scan, others[7], {"plezier": 1, "zingeving": 1}, scan.inbox / "corrected.xlsx")
    later = (datetime.now(timezone.utc) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    set_saved_time(scan.inbox / "corrected.xlsx", later)  # saved after the original: it counts
    assert run("collect", scan.folder).exit_code == 0
    second_run = run("analyse", scan.folder)
    assert second_run.exit_code == 0, second_run.output
    second = _items(scan.folder)
    # every figure of the second edition is either the very same as before or absent: nothing
    # can be set against the first edition to give the late or the corrected answers
    changed = {key for key in second if key in first and second[key] != first[key]}
    assert changed == set(), changed
    # A's group changed by one form: none of A's figures is repeated either (an unchanged n next
    # to a changed group size would tell that the late person skipped the question)
    assert not any(g == "A" for g, _ in second) and any(g == "A" for g, _ in first)
    log = list(__import__("openpyxl").load_workbook(scan.folder / "output" / "results.xlsx")["suppression_log"]
               .iter_rows(values_only=True))
    assert any("compared with results written earlier" in str(row) for row in log)
    # the report is written from the same decision; --replace-earlier forgets only the results
    # written last (never shared), not the first edition: A stays withdrawn
    assert run("report", scan.folder, "--no-pdf").exit_code == 0
    assert run("analyse", scan.folder, "--replace-earlier").exit_code == 0
    assert ("A", "plezier") not in _items(scan.folder)
    # closing the scan keeps the record, in the new ids: still withdrawn afterwards
    assert run("close", scan.folder, "--yes").exit_code == 0
    assert run("analyse", scan.folder).exit_code == 0
    assert ("A", "plezier") not in _items(scan.folder)


def test_intervals_only_from_twice_the_threshold_and_rounded(tmp_path):
    """Mean, interval and n give the sum of squares: in a group of 5 that often pins down
    every answer, so such a group gets no interval."""
    from openpyxl import load_workbook

    scan = init_scan(tmp_path / "scan", "Org", "werkgeluk", "nl", "2026", 5,
                     [Department("A", 5, 0), Department("B", 6, 0)])
    write_forms(scan)
    for number, path in enumerate(sorted(scan.forms_dir.rglob("*.xlsx"))):
        fill_form(scan, path, {"plezier": 2 + number % 7, "zingeving": 1 + number % 9}, scan.inbox / f"{number}.xlsx")
    run("collect", scan.folder)
    assert run("analyse", scan.folder).exit_code == 0
    rows = list(load_workbook(scan.folder / "output" / "results.xlsx")["items"].iter_rows(values_only=True))
    header = rows[0]
    by_group = {}
    for row in rows[1:]:
        record = dict(zip(header, row))
        by_group.setdefault(record["group"], []).append(record)
    for group, records in by_group.items():
        for record in records:
            if record["n"] < 10:
                assert record["ci_low"] is None and record["ci_high"] is None, (group, record)
            else:
                assert record["ci_low"] is not None and round(record["ci_low"], 1) == record["ci_low"]
    assert any(r["n"] >= 10 for records in by_group.values() for r in records)
    assert any(r["n"] < 10 for records in by_group.values() for r in records)


def test_a_figure_is_checked_against_earlier_sets_under_any_group_name():
    """'Other departments' of one edition minus department B of the next is one person."""
    import numpy as np

    from survey.disclosure import Group, Register, decide

    ids = np.arange(100, 120)
    groups = {"org": Group("org", "organisation", frozenset("BC"), np.arange(20), float("inf")),
              "B": Group("B", "department", frozenset("B"), np.arange(5), 5),
              "C": Group("C", "department", frozenset("C"), np.arange(5, 20), 15)}
    register = Register(groups)
    org = register.add("item:x", "org", "mean", np.arange(20), {"B": 5, "C": 15})
    b = register.add("item:x", "B", "mean", np.arange(5), {"B": 5})
    c = register.add("item:x", "C", "mean", np.arange(5, 20), {"C": 15})
    earlier_others = frozenset(range(100, 106))  # B's five and one more person, published before
    decision = decide(register, 5, earlier={"item:x": [(earlier_others, earlier_others)]}, ids=ids)
    assert not decision.ok(b)  # B would give away person 105 against the earlier figure
    # and so would C with the organisation (earlier - (org - C) = person 105): one of them goes too
    assert not (decision.ok(org) and decision.ok(c)) and (decision.ok(org) or decision.ok(c))
    assert any("compared with results written earlier" in s.reason for s in decision.log)
    same = frozenset(range(100, 105))
    unchanged = decide(register, 5, earlier={"item:x": [(same, same)]}, ids=ids)
    assert unchanged.ok(b)  # the very same set as before gives nothing new


def test_band_counts_are_checked_across_editions(tmp_path):
    """Tenure counts of two editions a form apart would give that person's tenure."""
    from openpyxl import load_workbook

    scan = init_scan(tmp_path / "scan", "Org", "organisatiescan", "nl", "2026", 5,
                     [Department("A", 8, 0), Department("B", 6, 0)])
    write_forms(scan)
    forms = sorted(scan.forms_dir.rglob("*.xlsx"))
    tenure = next(f for f in scan.questionnaire.answer_fields() if f.key == "tenure")
    codes = [o.code for o in scan.questionnaire.scales[tenure.scale].options]
    for number, path in enumerate(forms[:-1]):
        fill_form(scan, path, {"kar_01": 3, "tenure": codes[number % len(codes)]}, scan.inbox / f"{number}.xlsx")
    run("collect", scan.folder)
    assert run("analyse", scan.folder).exit_code == 0

    def bands():
        rows = list(load_workbook(scan.folder / "output" / "results.xlsx")["breakdowns"].iter_rows(values_only=True))
        return {(r[0], r[1]): r[2] for r in rows[1:] if r[0] == "tenure"}

    first = bands()
    fill_form(scan, forms[-1], {"kar_01": 4, "tenure": codes[0]}, scan.inbox / "late.xlsx")
    run("collect", scan.folder)
    assert run("analyse", scan.folder).exit_code == 0
    second = bands()
    assert first and not {k for k in second if k in first and second[k] != first[k]}


def test_replace_earlier_forgets_only_the_results_written_last(tmp_path):
    scan = init_scan(tmp_path / "scan", "Org", "werkgeluk", "nl", "2026", 5,
                     [Department("A", 6, 0), Department("B", 5, 0)])
    write_forms(scan)
    a_forms = sorted((scan.forms_dir / "A").glob("*.xlsx"))
    for number, path in enumerate(a_forms[:5] + sorted((scan.forms_dir / "B").glob("*.xlsx"))):
        fill_form(scan, path, {"plezier": 3 + number % 5}, scan.inbox / f"{number}.xlsx")
    run("collect", scan.folder)
    assert run("analyse", scan.folder).exit_code == 0  # a first look, never shared
    fill_form(scan, a_forms[5], {"plezier": 9}, scan.inbox / "late.xlsx")
    run("collect", scan.folder)
    assert run("analyse", scan.folder, "--replace-earlier").exit_code == 0
    assert _items(scan.folder)[("A", "plezier")][0] == 6


def test_every_venn_cell_against_earlier_editions_holds_k_or_none():
    """Random departments, an earlier edition before a few late forms: after the decision, the Venn partition of the earlier sets and the allowed
    figures' sets (members and group) has no more people in cells of 1..k-1 than the earlier
    sets alone (earlier figures cannot be withdrawn), and none when those had none. Counted
    here by brute force over Python sets."""
    import numpy as np

    from survey.disclosure import Group, Register, decide

    rng = np.random.default_rng(7)
    kept = withdrawn = clean = 0
    for _ in range(60):
        sizes = rng.integers(5, 20, int(rng.integers(2, 5)))
        n, names = int(sizes.sum()), [f"D{i}" for i in range(len(sizes))]
        unit = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
        ids = np.sort(rng.choice(np.arange(1, 3 * n), n, replace=False))
        groups = {"org": Group("org", "organisation", frozenset(names), np.arange(n), float("inf")),
                  **{d: Group(d, "department", frozenset([d]), np.flatnonzero(unit == i), float(sizes[i]))
                     for i, d in enumerate(names)}}
        answered = rng.random(n) < (1.0 if rng.random() < 0.5 else 0.85)
        register = Register(groups)
        for key, g in groups.items():
            rows = g.members[answered[g.members]]
            register.add("item:x", key, "mean", rows,
                         {d: int((unit[rows] == i).sum()) for i, d in enumerate(names) if (unit[rows] == i).any()})
        # the earlier edition: before a few late forms, everyone then answered; now some did not
        present = ~((rng.random(n) < 0.1) & (rng.random(len(sizes)) < 0.5)[unit])  # late in some departments
        earlier = [(ids[g.members[present[g.members]]], ids[g.members[present[g.members]]]) for g in groups.values()]
        decision = decide(register, 5, earlier={"item:x": earlier}, ids=ids)
        before = [frozenset(s.tolist()) for pair in earlier for s in pair]
        after = before + [frozenset(ids[m].tolist()) for f in register.figures if decision.ok(f)
                          for m in (f.members, groups[f.group].members)]
        everyone = frozenset().union(*after, *(frozenset(ids[g.members].tolist()) for g in groups.values()))

        def in_small_cells(sets):
            cells: dict[tuple[bool, ...], int] = {}
            for person in everyone:
                signature = tuple(person in s for s in sets)
                cells[signature] = cells.get(signature, 0) + 1
            return sum(count for count in cells.values() if count < 5)

        assert in_small_cells(after) <= in_small_cells(before)
        clean += in_small_cells(before) == 0
        kept += sum(decision.ok(f) for f in register.figures)
        withdrawn += sum(not decision.ok(f) for f in register.figures)
    assert kept > 20 and withdrawn > 20 and clean > 5  # not vacuous


def test_a_version_6_register_of_editions_migrates_to_distinct_sets(tmp_path):
    """Store version 7 keeps each distinct set once (bitmaps within their group's set); the
    figures recorded by version 6 (id lists inline) read back as the same sets."""
    import sqlite3

    import numpy as np

    from survey.store import SCHEMA_VERSION, Store

    path = tmp_path / "scan.db"
    Store(path).close()
    group = np.arange(100, 140, dtype=np.int64)
    figures = [("item:a", group[::2], group), ("item:a", group[::3], group), ("item:b", group[::2], group),
               ("item:b", np.array([7, 8, 9, 10, 11], dtype=np.int64), np.array([7, 8, 9, 10, 11, 12], dtype=np.int64))]
    db = sqlite3.connect(path)
    db.executescript("ALTER TABLE editions DROP COLUMN written_by; "  # as version 6 had it
                     "DROP INDEX responses_unverified; DROP TABLE edition_figures; DROP TABLE edition_sets; "
                     "CREATE TABLE edition_figures ("
                     "edition_id INTEGER NOT NULL REFERENCES editions(id) ON DELETE CASCADE, variable TEXT NOT NULL, "
                     "members BLOB NOT NULL, base BLOB NOT NULL); INSERT INTO editions (id, outputs) VALUES (1, 'report');")
    db.executemany("INSERT INTO edition_figures VALUES (1, ?, ?, ?)",
                   [(v, m.tobytes(), b.tobytes()) for v, m, b in figures])
    db.execute("PRAGMA user_version = 6")
    db.commit()
    db.close()
    with Store(path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 8
        earlier = store.earlier_sets()
        got = {(v, tuple(m.tolist()), tuple(b.tolist())) for v in earlier for m, b in earlier[v]}
        # the group's ids are stored once; members as bitmaps within it
        assert store.db.execute("SELECT count(*) FROM edition_sets WHERE within IS NULL").fetchone()[0] == 2
    assert got == {(v, tuple(m.tolist()), tuple(b.tolist())) for v, m, b in figures}
