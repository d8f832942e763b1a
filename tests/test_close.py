"""`survey close`: after a scan ends, nothing links a person to their answers."""

from __future__ import annotations

from click.testing import CliRunner

from survey.analysis import analyse_scan
from survey.cli import cli
from survey.demo import fill_form
from survey.forms import write_forms
from survey.scan import Department, init_scan, load_scan
from survey.store import Store


def test_close_keeps_anonymous_answers_and_removes_every_link(tmp_path):
    scan = init_scan(tmp_path / "scan", "Org", "werkgeluk", "nl", "2026", 5,
                     [Department("Zorg", 7, 1), Department("Keuken", 6, 0)])
    forms = [f for f in write_forms(scan).forms if f.meta.role == "employee"]
    for number, spec in enumerate(forms):
        fill_form(scan, spec.path, {"plezier": 3 + number % 7, "zingeving": 5, "plezier_beter": f"idee {number}"},
                  scan.inbox / f"Piet Pieters {number} - vragenlijst.xlsx")
    fill_form(scan, forms[0].path, {"plezier": 4}, scan.inbox / "old copy.xlsx")
    CliRunner().invoke(cli, ["collect", str(scan.folder)])
    before = analyse_scan(load_scan(scan.folder))
    result = CliRunner().invoke(cli, ["close", str(scan.folder), "--yes"])
    assert result.exit_code == 0, result.output
    assert "12 anonymous responses kept" in result.output
    assert not (scan.folder / ".survey-secret").exists()
    assert list(scan.inbox.iterdir()) == []
    data = b"".join(p.read_bytes() for p in scan.folder.glob("scan.db*"))
    assert b"Piet Pieters" not in data and b"old copy" not in data
    for spec in forms:
        assert spec.meta.form_id.encode() not in data
    with Store(scan.store_path) as store:
        assert store.issued() == [] and len(store.responses()) == 12
        assert {r.department for r in store.responses()} == {"Zorg", "Keuken"}
    after = analyse_scan(load_scan(scan.folder))
    assert after.organisation_result.n == before.organisation_result.n == 12
    assert after.organisation_result.items["plezier"].mean == before.organisation_result.items["plezier"].mean
    again = CliRunner().invoke(cli, ["collect", str(scan.folder)])
    assert again.exit_code == 1 and "was closed" in again.output
    forms_again = CliRunner().invoke(cli, ["forms", str(scan.folder)])
    assert forms_again.exit_code == 1 and "was closed" in forms_again.output


def test_close_blanks_languages_and_removes_mappings_code_lists_and_print_files(tmp_path):
    import shutil
    from pathlib import Path

    from survey.collect import collect
    from survey.forms import ExtraForms, issue_codes

    data = Path(__file__).parent / "data" / "languages"
    (tmp_path / "q").mkdir()
    for name in ("mini.yaml", "mini.pl.yaml"):
        shutil.copy(data / name, tmp_path / "q" / name)
    scan = init_scan(tmp_path / "scan", "Org", tmp_path / "q" / "mini.yaml", "nl", "2026", 5,
                     [Department("Zorg", 5, 0)])
    write_forms(scan)
    write_forms(scan, extra=ExtraForms("Zorg", 1, language="pl"))
    for number, form in enumerate(sorted(scan.forms_dir.glob("Zorg/*.xlsx"))):
        fill_form(scan, form, {"plezier": 5 + number % 4}, scan.inbox / f"r{number}.xlsx")
    collect(scan)
    issue_codes(scan, 2, "Zorg")
    codes = list((scan.forms_dir / "codes").rglob("*"))
    assert codes  # the code list as forms --codes writes it
    (scan.folder / "mappings").mkdir()
    (scan.folder / "mappings" / "export.yaml").write_text("fields: []  # Mijn coach Joke\n", encoding="utf-8")
    (scan.forms_dir / "print").mkdir()
    (scan.forms_dir / "print" / "Zorg-pl-20261126-0004.pdf").write_bytes(b"%PDF-1.4")
    with Store(scan.store_path) as store:
        assert sorted(r[0] for r in store.db.execute("SELECT language FROM responses")) == ["nl"] * 5 + ["pl"]
    result = CliRunner().invoke(cli, ["close", str(scan.folder), "--yes"])
    assert result.exit_code == 0, result.output
    assert "without their language" in result.output
    with Store(scan.store_path) as store:
        assert [r[0] for r in store.db.execute("SELECT language FROM responses")] == [""] * 6
    for gone in (scan.folder / "mappings", scan.forms_dir / "codes", scan.forms_dir / "print"):
        assert not gone.exists(), gone
    assert len(list(scan.forms_dir.glob("Zorg/*.xlsx"))) == 6  # blank forms stay


def test_readme_says_what_close_removes_and_makes_no_false_promise():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("## What is kept, where, and for how long", 1)[1].split("\n## ", 1)[0]
    rows = {line.split("|")[2].strip(): line.split("|")[3].strip() for line in table.splitlines()
            if line.startswith("| ") and "`" in line}
    for where in ("`mappings/`", "`forms/codes/`, `forms/print/`", "`scan.db` (`responses`)", "`inbox/`, `scan.db` (`received`)"):
        assert rows[where].startswith("`survey close`"), where
    assert "with department, role and wave" in table and "and language |" not in table
    assert "nothing the consultant holds leads from a number to a form" not in readme
