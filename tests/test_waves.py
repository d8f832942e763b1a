"""Waves (issue 12): `survey init NEW --previous OLD`, DIR/waves.yaml and the earlier waves a
scan sees (department links composed along the chain, questions with and without a trend)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from survey.cli import cli
from survey.errors import ScanError
from survey.scan import DEPARTMENTS_FILE, Department, init_scan, load_scan, read_departments, write_departments
from survey.waves import Continuity, EarlierWaveMissing, earlier_waves


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def first_wave(folder: Path, departments: list[tuple[str, int, int]], wave: str = "2024"):
    return init_scan(folder, "Zorg Oost", "werkgeluk", "nl", wave, 5, [Department(*d) for d in departments])


def rewrite_departments(folder: Path, change) -> None:
    """HR's edit of departments.csv: `change` maps the carried-over list to the new one."""
    path = folder / DEPARTMENTS_FILE
    write_departments(path, change(read_departments(path)))


def set_mappings(folder: Path, text: str) -> Path:
    """The consultant's edit of waves.yaml: the departments block replaced, the comments kept."""
    path = folder / "waves.yaml"
    old = path.read_text()
    assert "departments:\n  renamed: {}\n  merged: {}\n  split: {}\n" in old
    path.write_text(old.replace("departments:\n  renamed: {}\n  merged: {}\n  split: {}\n", text))
    return path


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if needle in line)


def links(wave) -> dict[str, tuple[Continuity, tuple[str, ...]]]:
    return {d.department: (d.continuity, d.earlier) for d in wave.links}


# -- survey init --previous -------------------------------------------------------------------

def test_init_previous_carries_settings_questionnaire_and_departments_with_keys(tmp_path):
    old = tmp_path / "2025"
    assert run("init", old, "--org", "Zorg Oost", "--questionnaire", "werkgeluk", "--lang", "en", "--wave", "2025",
               "--threshold", "7", "--return-to", "the box at reception", "--contact", "Anna, HR").exit_code == 0
    write_departments(old / DEPARTMENTS_FILE, [Department("Wijk Noord", 30, 2, "wijk-n"),
                                               Department("Staf", 12, 3, "staf", "en")])
    new = tmp_path / "2026"
    result = run("init", new, "--previous", old, "--wave", "2026")
    assert result.exit_code == 0, result.output
    before, after = load_scan(old), load_scan(new)
    assert after.questionnaire.content_hash == before.questionnaire.content_hash
    assert (after.organisation, after.language, after.anonymity_threshold) == ("Zorg Oost", "en", 7)
    assert (after.handout.return_to, after.handout.contact) == ("the box at reception", "Anna, HR")
    assert after.wave == "2026" and after.scan_id != before.scan_id
    assert after.departments == before.departments  # names, keys, headcounts, language
    assert "2 departments carried over with their keys" in result.output
    assert "HR should update expected_headcount and managers" in result.output
    assert "not carried over: the deadline" in result.output
    waves = YAML(typ="safe").load((new / "waves.yaml").read_text())
    assert waves["previous"] == {"folder": "../2025", "wave": "2025", "scan_id": before.scan_id}
    assert "# How the departments of the previous wave continue" in (new / "waves.yaml").read_text()
    [earlier] = earlier_waves(after)
    assert earlier.wave == "2025" and earlier.folder == old and earlier.changed == ()
    assert earlier.comparable == frozenset(after.questionnaire.item_fingerprints())
    assert links(earlier) == {"Wijk Noord": (Continuity.same, ("Wijk Noord",)),
                              "Staf": (Continuity.same, ("Staf",))}


def reworded_questionnaire(scan, path: Path, item: str) -> Path:
    content = scan.questionnaire.content()
    for section in content["sections"]:
        for it in section["items"]:
            if it["id"] == item:
                it["text"] = {lang: text + " (herzien)" for lang, text in it["text"].items()}
    content["version"] = "2.0"
    buffer = io.StringIO()
    YAML().dump(content, buffer)
    path.write_text(buffer.getvalue())
    return path


def test_init_previous_with_a_new_questionnaire_prints_and_keeps_what_loses_its_trend(tmp_path):
    old = first_wave(tmp_path / "2025", [("Zorg", 20, 2)], "2025")
    changed = reworded_questionnaire(old, tmp_path / "werkgeluk-2026.yaml", "zingeving")
    result = run("init", tmp_path / "2026", "--previous", old.folder, "--questionnaire", changed, "--wave", "2026")
    assert result.exit_code == 0, result.output
    assert re.search(r"reworded\s+zingeving\s+\(no trend\)", result.output)
    assert "carried over from wave 2025: organisation" in result.output and "questionnaire," not in result.output
    kept = YAML(typ="safe").load((tmp_path / "2026" / "waves.yaml").read_text())["questionnaire"]
    assert kept["no_trend"] == {"reworded": ["zingeving"], "added": [], "removed": []}
    assert kept["comparable"] == len(old.questionnaire.item_fingerprints()) - 1
    [earlier] = earlier_waves(load_scan(tmp_path / "2026"))
    assert earlier.changed == ("zingeving",)
    assert "zingeving" not in earlier.comparable and "plezier" in earlier.comparable


def test_the_wave_label_must_differ_from_every_earlier_wave(tmp_path):
    first_wave(tmp_path / "a", [("Zorg", 20, 2)], "2024")
    same = run("init", tmp_path / "b", "--previous", tmp_path / "a", "--wave", "2024")
    assert same.exit_code == 1 and "wave '2024' is already the label of an earlier wave" in same.output
    assert not (tmp_path / "b").exists()
    assert run("init", tmp_path / "b", "--previous", tmp_path / "a", "--wave", "2025").exit_code == 0
    two_back = run("init", tmp_path / "c", "--previous", tmp_path / "b", "--wave", "2024")
    assert two_back.exit_code == 1 and "(2025, 2024)" in two_back.output
    assert run("init", tmp_path / "a", "--previous", tmp_path / "a").exit_code == 1
    no_org = run("init", tmp_path / "d")
    assert no_org.exit_code == 2 and "--org" in no_org.output


# -- waves.yaml: how departments continue ----------------------------------------------------

@pytest.fixture
def two_waves(tmp_path):
    first_wave(tmp_path / "2024", [("Noord", 20, 2), ("Zuid", 20, 2), ("Oost", 20, 2), ("West", 20, 2),
                                   ("Staf", 10, 2), ("Keuken", 8, 1)])
    assert run("init", tmp_path / "2025", "--previous", tmp_path / "2024", "--wave", "2025").exit_code == 0
    return tmp_path / "2024", tmp_path / "2025"


def test_renamed_by_key_and_by_mapping_merged_split_gone_and_new(two_waves):
    old, new = two_waves

    def edit(departments):
        by_name = {d.name: d for d in departments}
        return [Department("Noord-Oost", 40, 3),  # Noord and Oost merged
                Department("Zuid A", 10, 1), Department("Zuid B", 10, 1),  # Zuid split
                Department("Wijk West", 20, 2, by_name["West"].key),  # renamed: same key, new name
                Department("Ondersteuning", 10, 2),  # renamed in waves.yaml
                Department("Projecten", 6, 1)]  # new; Keuken continues nowhere
    rewrite_departments(new, edit)
    set_mappings(new, "departments:\n  renamed:\n    Staf: Ondersteuning\n  merged:\n    Noord-Oost: [Noord, Oost]\n"
                      "  split:\n    Zuid: [Zuid A, Zuid B]\n")
    [earlier] = earlier_waves(load_scan(new))
    assert links(earlier) == {
        "Noord-Oost": (Continuity.merged, ("Noord", "Oost")),
        "Zuid A": (Continuity.split, ("Zuid",)), "Zuid B": (Continuity.split, ("Zuid",)),
        "Wijk West": (Continuity.renamed, ("West",)), "Ondersteuning": (Continuity.renamed, ("Staf",)),
        "Projecten": (Continuity.new, ())}
    assert earlier.gone == ("Keuken",)
    assert [d.department for d in earlier.links if d.comparable] == ["Wijk West", "Ondersteuning"]
    status = run("status", new)
    assert status.exit_code == 0, status.output
    line = next(x for x in status.output.splitlines() if x.startswith("Earlier wave 2024"))
    assert "2 renamed, 1 merged, 2 split, 1 new" in line and "renamed West -> Wijk West, Staf -> Ondersteuning" in line
    assert "merged Noord + Oost -> Noord-Oost" in line and "split Zuid -> Zuid A + Zuid B" in line
    assert "gone Keuken" in line
    assert run("validate", "--no-plain", new).exit_code == 0


@pytest.mark.parametrize("block, needle, message", [
    ("departments:\n  renamed:\n    Nord: Noord\n", "Nord: Noord", "'Nord' is not a department of wave 2024"),
    ("departments:\n  renamed:\n    Noord: Nord\n", "Noord: Nord", "'Nord' is not a department of this wave"),
    ("departments:\n  merged:\n    Noord: [Noord, Zuid]\n  split:\n    Zuid: [Oost, West]\n", "Zuid: [Oost",
     "'Zuid' (wave 2024) is named twice: in merged and in split"),
    ("departments:\n  merged:\n    Noord: [Zuid]\n", "Noord: [Zuid]", "names 1 earlier department(s); a merge joins"),
    ("departments:\n  split:\n    Noord:\n    - Zuid\n", "Noord:", "names 1 new department(s); a split makes"),
    ("departments:\n  rename:\n    Noord: Zuid\n", "rename:", "unknown entry 'rename' under departments"),
    ("departments:\n  merged:\n    Noord: Zuid\n", "Noord: Zuid", "must list earlier names"),
])
def test_waves_yaml_errors_name_the_line(two_waves, block, needle, message):
    _, new = two_waves
    path = set_mappings(new, block)
    with pytest.raises(ScanError) as caught:
        earlier_waves(load_scan(new))
    assert message in caught.value.message
    assert caught.value.where.file == path and caught.value.where.line == line_of(path, needle)
    checked = run("validate", "--no-plain", new)
    assert checked.exit_code == 1 and f"waves.yaml, line {line_of(path, needle)}" in checked.output
    status = run("status", new)  # the scan itself still works; status says what is wrong
    assert status.exit_code == 0 and "warning: earlier waves:" in status.output and message in status.output


# -- the chain --------------------------------------------------------------------------------

def test_a_chain_of_three_waves_is_composed_in_this_waves_names(tmp_path):
    first_wave(tmp_path / "2024", [("A", 20, 2), ("B", 10, 1), ("C", 10, 1), ("D", 20, 2)])
    assert run("init", tmp_path / "2025", "--previous", tmp_path / "2024", "--wave", "2025").exit_code == 0
    rewrite_departments(tmp_path / "2025", lambda ds: [
        Department("A1", 20, 2, ds[0].key), Department("BC", 20, 2), ds[3]])
    set_mappings(tmp_path / "2025", "departments:\n  merged:\n    BC: [B, C]\n")
    assert run("init", tmp_path / "2026", "--previous", tmp_path / "2025", "--wave", "2026").exit_code == 0
    rewrite_departments(tmp_path / "2026", lambda ds: [
        Department("A2", 20, 2), Department("B2", 10, 1), Department("C2", 10, 1), ds[2], Department("E", 5, 1)])
    set_mappings(tmp_path / "2026", "departments:\n  renamed:\n    A1: A2\n  split:\n    BC: [B2, C2]\n")
    oldest, previous = earlier_waves(load_scan(tmp_path / "2026"))
    assert (oldest.wave, oldest.steps, previous.wave, previous.steps) == ("2024", 2, "2025", 1)
    assert links(previous) == {"A2": (Continuity.renamed, ("A1",)), "B2": (Continuity.split, ("BC",)),
                               "C2": (Continuity.split, ("BC",)), "D": (Continuity.same, ("D",)),
                               "E": (Continuity.new, ())}
    assert links(oldest) == {"A2": (Continuity.renamed, ("A",)), "B2": (Continuity.merged, ("B", "C")),
                             "C2": (Continuity.merged, ("B", "C")), "D": (Continuity.same, ("D",)),
                             "E": (Continuity.new, ())}
    assert oldest.gone == () and oldest.scan.wave == "2024" and oldest.folder == tmp_path / "2024"
    status = run("status", tmp_path / "2026").output
    assert status.index("Earlier wave 2025") < status.index("Earlier wave 2024")


def test_a_loop_and_a_missing_folder_are_named_with_the_line(tmp_path):
    first_wave(tmp_path / "a", [("Zorg", 20, 2)])
    assert run("init", tmp_path / "b", "--previous", tmp_path / "a", "--wave", "2025").exit_code == 0
    (tmp_path / "a" / "waves.yaml").write_text((tmp_path / "b" / "waves.yaml").read_text().replace("../a", "../b"))
    with pytest.raises(ScanError) as caught:
        earlier_waves(load_scan(tmp_path / "b"))
    assert "the waves form a loop" in caught.value.message
    assert caught.value.where.file == tmp_path / "a" / "waves.yaml"
    assert caught.value.where.line == line_of(tmp_path / "a" / "waves.yaml", "folder:")
    (tmp_path / "a" / "waves.yaml").unlink()
    (tmp_path / "a").rename(tmp_path / "moved")
    with pytest.raises(EarlierWaveMissing) as missing:
        earlier_waves(load_scan(tmp_path / "b"))
    assert f"{tmp_path / 'a'} is gone" in missing.value.message and "line 6" in missing.value.message
    checked = run("validate", "--no-plain", tmp_path / "b")
    assert checked.exit_code == 0 and "warning: " in checked.output and "is gone" in checked.output
    status = run("status", tmp_path / "b")
    assert status.exit_code == 0 and "warning: earlier waves:" in status.output and "is gone" in status.output
    assert run("init", tmp_path / "c", "--previous", tmp_path / "b", "--wave", "2026").exit_code == 1


def test_earlier_waves_of_a_closed_scan_load(tmp_path):
    from survey.store import Store

    old = first_wave(tmp_path / "2025", [("Zorg", 20, 2)], "2025")
    with Store(old.store_path):
        pass
    assert run("close", old.folder, "--yes").exit_code == 0
    assert not (old.folder / ".survey-secret").exists()
    assert run("init", tmp_path / "2026", "--previous", old.folder, "--wave", "2026").exit_code == 0
    [earlier] = earlier_waves(load_scan(tmp_path / "2026"))
    assert earlier.scan.scan_id == old.scan_id and links(earlier) == {"Zorg": (Continuity.same, ("Zorg",))}


def test_a_scan_without_waves_yaml_has_no_earlier_waves(tmp_path):
    scan = first_wave(tmp_path / "s", [("Zorg", 20, 2)])
    assert earlier_waves(scan) == []
    assert "Earlier wave" not in run("status", scan.folder).output


# -- the demo --------------------------------------------------------------------------------

def test_demo_writes_two_linked_waves(demo_run):
    assert demo_run.exit_code == 0, demo_run.output
    earlier_folder = demo_run.folder.parent / "2025"
    assert f"Earlier wave: {earlier_folder}" in demo_run.output
    assert f"This wave:    {demo_run.folder}" in demo_run.output
    assert (earlier_folder / "output" / "report.html").is_file()
    for step in ("2025: collect", "2026: init --previous 2025", "2026: report (HTML and PDF)"):
        assert step in demo_run.output
    [earlier] = earlier_waves(load_scan(demo_run.folder))
    assert earlier.wave == "2025" and earlier.folder.resolve() == earlier_folder.resolve()
    assert earlier.changed == ("kar_05",)
    renamed = [d for d in earlier.links if d.continuity is Continuity.renamed]
    assert [(d.earlier, d.department) for d in renamed] == [(("Huishoudelijke Hulp",), "Thuishulp")]
    assert all(d.continuity is Continuity.same for d in earlier.links if d not in renamed)
    assert earlier.gone == ()
    status = run("status", demo_run.folder).output
    assert "renamed Huishoudelijke Hulp -> Thuishulp" in status and "no trend: kar_05" in status
