"""Answers as columns (store version 6): a version-4 store migrates to the same analysis, and
`load_frame` gives what the old per-answer pivot gave, on random stores."""

from __future__ import annotations

import sqlite3
import sys

import numpy as np
import pandas as pd
import pytest

from survey.analysis import analyse_frame, analyse_scan, load_frame
from survey.questionnaire import model as m
from survey.scan import Department, init_scan
from survey.store import MIGRATIONS, SCHEMA_VERSION, Store

DEPARTMENTS = {"Zorg": 40, "Keuken": 25, "Techniek": 7, "Staf": 3}


@pytest.fixture
def scan(tmp_path):
    return init_scan(tmp_path / "scan", "Test org", "organisatiescan", "nl", "2026", 5,
                     [Department(name, n + 5, 2) for name, n in DEPARTMENTS.items()])


def random_answers(scan, seed: int) -> list[tuple[str, str, list[tuple[str, float | None, str | None]]]]:
    """(department, role, answers) per respondent: numbers, 'n/a', text codes, ticks, open texts,
    and questions left empty."""
    rng = np.random.default_rng(seed)
    q = scan.questionnaire
    people = []
    for dept, n in DEPARTMENTS.items():
        for number in range(n + 2):
            role = "manager" if number >= n else "employee"
            answers = []
            for f in q.answer_fields():
                if f.key == "role" or rng.random() < 0.1:
                    continue
                scale = q.scales[f.scale] if f.scale else None
                if f.kind is m.FieldKind.open:
                    answers.append((f.key, None, ["meer tijd", "  minder overleg ", "beter rooster", "x" * 50][
                        int(rng.integers(4))]))
                elif f.kind is m.FieldKind.check:
                    if rng.random() < 0.4:
                        answers.append((f.key, 1.0, None))
                elif scale is not None and scale.kind is not m.ScaleKind.score and rng.random() < 0.05:
                    answers.append((f.key, None, "n/a"))
                elif scale is not None and scale.options and isinstance(scale.options[0].code, str):
                    answers.append((f.key, None, str(scale.options[int(rng.integers(len(scale.options)))].code)))
                else:
                    answers.append((f.key, float(rng.choice(scale.values)), None))
            people.append((dept, role, answers))
    return people


def old_store(path, people) -> None:
    """A version-4 store as the code before version 6 wrote it: one row per answer."""
    db = sqlite3.connect(path)
    for step in MIGRATIONS[:4]:
        for statement in step.split(";\n"):
            if statement.strip():
                db.execute(statement)
    db.execute("PRAGMA user_version = 4")
    for number, (dept, role, answers) in enumerate(people, start=1):
        db.execute("INSERT INTO received (path, sha256, size, outcome, form_id) VALUES (?, ?, 1, 'accepted', ?)",
                   (f"f{number}.xlsx", f"h{number}", f"F{number}"))
        db.execute("INSERT INTO responses (received_id, form_id, department_key, department, role, wave, language) "
                   "VALUES (?, ?, ?, ?, ?, '2026', 'nl')", (number, f"F{number}", dept.lower(), dept, role))
        db.executemany("INSERT INTO answers VALUES (?, ?, ?, ?)", [(number, *a) for a in answers])
    db.commit()
    db.close()


def pivoted(path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The frame as the code before version 6 built it (one object per answer, pivoted)."""
    db = sqlite3.connect(path)
    responses = pd.read_sql("SELECT id, form_id, department, role, wave FROM responses WHERE counted = 1 "
                            "ORDER BY id", db).set_index("id")
    answers = pd.read_sql("SELECT a.response_id, a.field, a.value_num, a.value_text FROM answers a "
                          "JOIN responses s ON s.id = a.response_id WHERE s.counted = 1", db)
    db.close()
    numeric = answers.pivot(index="response_id", columns="field", values="value_num").reindex(responses.index)
    text = answers.pivot(index="response_id", columns="field", values="value_text").reindex(responses.index)
    return responses, pd.concat({"num": numeric, "text": text}, axis=1)


def same_frames(old: pd.DataFrame, new: pd.DataFrame) -> None:
    fields = set(old["num"].columns)
    for field in fields:
        expected = old["num"][field].to_numpy(dtype=float)
        got = new["num"][field].to_numpy(dtype=float) if field in new["num"] else np.full(len(expected), np.nan)
        np.testing.assert_array_equal(got, expected, err_msg=field)
        expected_text = [t if isinstance(t, str) else None for t in old["text"][field]]
        got_text = ([t if isinstance(t, str) else None for t in new["text"][field].astype(object)]
                    if field in new["text"] else [None] * len(expected_text))
        assert got_text == expected_text, field
    assert set(new["num"].columns) <= fields and set(new["text"].columns) <= fields


def figures(result) -> dict:
    """Every number the outputs render, per group."""
    found = {}
    for g in [result.organisation_result, result.managers, *result.departments]:
        if g is None:
            continue
        # repr: an interval of one answer is NaN, and NaN != NaN
        found[g.key] = (g.n, repr(g.items), repr(g.dimensions), repr(g.derived), repr(g.pace), repr(g.choices),
                        {k: sorted(v) for k, v in g.open_answers.items()})
    return found


def test_a_version_4_store_migrates_to_the_same_analysis(scan):
    people = random_answers(scan, seed=3)
    old_store(scan.store_path, people)
    responses, wide = pivoted(scan.store_path)
    before = analyse_frame(scan, responses, wide)
    with Store(scan.store_path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 8
        tables = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "answers" not in tables and "answer_rows" in tables
    after = analyse_scan(scan)
    assert figures(after) == figures(before)
    assert [h.name for h in after.hidden] == [h.name for h in before.hidden] == ["Techniek", "Staf"]
    assert after.organisation_result.items and after.organisation_result.pace and after.organisation_result.choices


def test_load_frame_gives_what_the_old_pivot_gave(scan, tmp_path):
    """Written through the store's own write path (as collect does), with the layout growing
    between forms and a copy of a form that does not count."""
    people = random_answers(scan, seed=11)
    old_store(tmp_path / "reference.db", people)
    with Store(scan.store_path) as store, store.transaction() as db:
        for number, (dept, role, answers) in enumerate(people, start=1):
            received = db.execute("INSERT INTO received (path, sha256, size, outcome, form_id) "
                                  "VALUES (?, ?, 1, 'accepted', ?)", (f"f{number}", f"h{number}", f"F{number}")).lastrowid
            response = db.execute(
                "INSERT INTO responses (received_id, form_id, department_key, department, role, wave, language) "
                "VALUES (?, ?, ?, ?, ?, '2026', 'nl')", (received, f"F{number}", dept.lower(), dept, role)).lastrowid
            store.write_answers(db, response, answers[::-1] if number % 2 else answers)
        # a second copy of form 1 with other answers that does not count
        received = db.execute("INSERT INTO received (path, sha256, size, outcome, form_id) "
                              "VALUES ('copy', 'hc', 1, 'superseded', 'F1')").lastrowid
        copy = db.execute("INSERT INTO responses (received_id, form_id, department_key, department, role, wave, "
                          "language, counted) VALUES (?, 'F1', 'zorg', 'Zorg', 'employee', '2026', 'nl', 0)",
                          (received,)).lastrowid
        store.write_answers(db, copy, [("kar_01", 5.0, None), ("a_new_field", 2.0, None)])
    old_responses, old_wide = pivoted(tmp_path / "reference.db")
    responses, wide = load_frame(scan)
    assert list(responses.index) == list(old_responses.index)
    for column in ("department", "role", "wave"):
        assert list(responses[column].astype(str)) == list(old_responses[column].astype(str))
    same_frames(old_wide, wide.drop(columns=[("num", "a_new_field")]))
    assert wide["num"]["a_new_field"].isna().all()  # only the copy that does not count has it


def test_loading_makes_no_python_object_per_answer(scan):
    """What a loaded frame keeps does not grow with the number of answers: columns are arrays,
    each distinct text is one string (twice the respondents, the same number of objects)."""
    import gc

    def retained(people) -> int:
        scan.store_path.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            scan.store_path.with_name(scan.store_path.name + suffix).unlink(missing_ok=True)
        old_store(scan.store_path, people)
        Store(scan.store_path).close()  # migrate first: only the loading is counted
        gc.collect()
        before = sys.getallocatedblocks()
        frame = load_frame(scan)
        gc.collect()
        found = sys.getallocatedblocks() - before
        del frame
        return found

    people = random_answers(scan, seed=5)
    once = retained(people)
    twice = retained(people * 2)
    answers = sum(len(a) for _, _, a in people)
    assert answers > 5_000
    assert twice - once < answers / 20, (once, twice)


def test_a_value_a_float32_cannot_hold_is_refused_not_rounded(scan):
    with Store(scan.store_path) as store:
        with pytest.raises(ValueError, match="cannot be stored exactly"), store.transaction() as db:
            store.write_answers(db, 1, [("kar_01", 0.1, None)])
        with store.transaction() as db:  # what was written before the refusal went with it
            assert db.execute("SELECT count(*) FROM answer_columns").fetchone()[0] == 0
