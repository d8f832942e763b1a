"""The store: versioned schema with migrations, and one readable line for every fault
(another collect running, read-only, disk full, damaged or foreign file)."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

import survey.store as store_module
from survey.cli import cli
from survey.demo import fill_form
from survey.forms import write_forms
from survey.scan import Department, init_scan
from survey.store import SCHEMA_VERSION, Store, _V1, collect_lock


@pytest.fixture
def scan(tmp_path):
    scan = init_scan(tmp_path / "scan", "Test org", "werkgeluk", "nl", "2026", 5, [Department("Zorg", 6, 1)])
    forms = write_forms(scan).forms
    fill_form(scan, forms[1].path, {"plezier": 8}, scan.inbox / "a.xlsx")
    return scan


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_a_first_version_store_is_migrated_with_its_data(tmp_path):
    path = tmp_path / "scan.db"
    db = sqlite3.connect(path)
    db.executescript(_V1)
    db.execute("INSERT INTO received (path, sha256, size, outcome, form_id) VALUES ('x.xlsx', 'abc', 10, "
               "'accepted', '01E001')")
    db.execute("INSERT INTO responses (received_id, form_id, department, role, wave, language) "
               "VALUES (1, '01E001', 'Zorg', 'employee', '2025', 'nl')")
    db.execute("INSERT INTO answers VALUES (1, 'plezier', 7, NULL)")
    db.commit()
    db.close()
    with Store(path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert [(r.form_id, r.department) for r in store.responses()] == [("01E001", "Zorg")]
        assert [(a.field, a.value_num) for a in store.answers()] == [("plezier", 7.0)]
        assert store.received()[0].outcome == "accepted"


def test_a_store_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "scan.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(store_module.StoreError, match="newer version of survey"):
        Store(path)


def test_second_collect_says_another_is_running(scan):
    with collect_lock(scan.folder):
        result = run("collect", scan.folder)
        assert result.exit_code == 1 and "another collect is running" in result.output
        analysed = run("analyse", scan.folder)
        assert analysed.exit_code == 1 and "a collect is running" in analysed.output
    assert run("collect", scan.folder).exit_code == 0


def test_damaged_store_gets_one_line(scan):
    scan.store_path.write_bytes(b"this is not a database at all" * 100)
    result = run("collect", scan.folder)
    assert result.exit_code == 1 and "scan.db is damaged" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_foreign_database_is_refused(scan):
    for suffix in ("", "-wal", "-shm"):
        (scan.folder / f"scan.db{suffix}").unlink(missing_ok=True)
    db = sqlite3.connect(scan.store_path)
    db.execute("CREATE TABLE customers (id INTEGER)")
    db.commit()
    db.close()
    result = run("collect", scan.folder)
    assert result.exit_code == 1 and "not the store of a survey scan" in result.output


def test_read_only_store_gets_one_line(scan, monkeypatch):
    assert run("collect", scan.folder).exit_code == 0
    fill_form(scan, sorted(scan.forms_dir.rglob("*.xlsx"))[2], {"plezier": 6}, scan.inbox / "b.xlsx")
    connect = sqlite3.connect

    def read_only(target, **kwargs):  # as root, chmod cannot make a file read-only: open it so instead
        return connect(f"{target}?mode=ro" if "?" not in str(target) else target, **kwargs)

    monkeypatch.setattr(store_module.sqlite3, "connect", read_only)
    result = run("collect", scan.folder)
    assert result.exit_code == 1 and "read-only" in result.output and "scan.db" in result.output
    assert "Traceback" not in result.output


def test_full_disk_stores_nothing_half_and_says_so(scan, monkeypatch):
    assert run("collect", scan.folder).exit_code == 0
    fill_form(scan, sorted(scan.forms_dir.rglob("*.xlsx"))[2], {"plezier": 6, "plezier_beter": "x" * 3990,
                                                                    "zingeving_beter": "y" * 3990,
                                                                    "voldoening_beter": "z" * 3990},
              scan.inbox / "b.xlsx")
    original = Store._prepare

    def tiny(self, readonly):
        original(self, readonly)
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        self.db.execute(f"PRAGMA max_page_count = {pages}")  # no room for one more page: a full disk

    monkeypatch.setattr(Store, "_prepare", tiny)
    result = run("collect", scan.folder)
    assert result.exit_code == 1 and "is full" in result.output and "scan.db" in result.output
    monkeypatch.undo()
    with Store(scan.store_path) as store:
        assert len(store.received()) == 1  # the first file only; nothing of the second
    assert run("collect", scan.folder).exit_code == 0


def test_a_version_4_store_forgets_the_file_names_of_its_forms(tmp_path):
    """Version 5: the issue record keeps a form's department folder, never its file name."""
    path = tmp_path / "scan.db"
    db = sqlite3.connect(path)
    for step in store_module.MIGRATIONS[:4]:
        for statement in step.split(";\n"):
            if statement.strip():
                db.execute(statement)
    db.execute("PRAGMA user_version = 4")
    db.executemany("INSERT INTO issued_forms (form_id, department_key, department, role, wave, language, file) "
                   "VALUES (?, 'zorg', 'Zorg', 'employee', '2026', 'nl', ?)",
                   [("KQ7M4XPA2R9TCB", "Zorg/KQ7M4XPA2R9TCB.xlsx"), ("AB7M4XPA2R9TCB", "Wijk\\Zorg\\AB7M4XPA2R9TCB.xlsx"),
                    ("CD7M4XPA2R9TCB", "codes:codes-Zorg-employee-1.csv")])
    db.commit()
    db.close()
    with Store(path) as store:
        assert [(f.form_id, f.folder, f.paper_at) for f in store.issued()] == [
            ("KQ7M4XPA2R9TCB", "Zorg", None), ("AB7M4XPA2R9TCB", "Wijk\\Zorg", None),
            ("CD7M4XPA2R9TCB", "codes:codes-Zorg-employee-1.csv", None)]
        store.mark_paper(["KQ7M4XPA2R9TCB"])
        assert store.issued_form("KQ7M4XPA2R9TCB").paper_at is not None
