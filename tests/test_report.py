"""The report in English, on a questionnaire without dimensions, with a consultant's
template override; and the fixed wording complete in both languages."""

from __future__ import annotations

import re

import numpy as np
import pytest
from ruamel.yaml import YAML

from survey.analysis import analyse_scan, write_results_workbook
from survey.audit import audit
from survey.collect import collect
from survey.demo import fill_form
from survey.errors import ReportError
from survey.forms import write_forms
from survey.report import write_report
from survey.resources import reports_dir
from survey.scan import Department, init_scan


@pytest.fixture(scope="module")
def english_scan(tmp_path_factory):
    folder = tmp_path_factory.mktemp("en") / "scan"
    scan = init_scan(folder, "Acme Care", "werkgeluk", "en", "2027", 5,
                     [Department("Ward A", 10, 1), Department("Ward B", 7, 0), Department("Tiny", 2, 0)])
    rng = np.random.default_rng(7)
    for spec in write_forms(scan).forms:
        answers = {"plezier": int(rng.integers(4, 10)), "zingeving": int(rng.integers(4, 10)),
                   "voldoening": int(rng.integers(4, 10)), "plezier_beter": "More time with clients"}
        fill_form(scan, spec.path, answers, scan.inbox / spec.path.name)
    collect(scan)
    return scan


def test_english_report_without_dimensions(english_scan):
    html_path, pdf_path = write_report(english_scan)
    html = html_path.read_text(encoding="utf-8")
    assert pdf_path.stat().st_size > 5_000
    for text in ("Who sets the pace?", "Explore", "Deepen", "Connect", "Methods", "Happiness at work", "Ward A"):
        assert text in html
    assert "Verkennen" not in html
    # Tiny is below the threshold and Ward B is hidden with it (else Tiny = total - Ward A)
    figures = re.sub(r'<ul class="hidden-groups">.*?</ul>', "", html, flags=re.S)
    assert "Tiny" not in figures and "Ward B" not in figures
    assert "Tiny: fewer than 5 answers" in html and "Ward B: hidden so that Tiny cannot be worked out" in html
    results = analyse_scan(english_scan)
    assert f"{results.organisation_result.derived['werkgeluk'].mean:.1f}" in html
    # the attacker, with the report, the results workbook and survey status, finds nothing
    write_results_workbook(results, english_scan.output_dir / "results.xlsx")
    checked = audit(english_scan.folder)
    assert checked.ok and checked.figures > 0, checked.render()


def test_consultant_template_override(english_scan):
    (english_scan.folder / "templates").mkdir(exist_ok=True)
    (english_scan.folder / "templates" / "theme.css").write_text("/* acme house style */ body { color: #123456 }")
    [html_path] = write_report(english_scan, pdf=False)
    assert "acme house style" in html_path.read_text(encoding="utf-8")
    (english_scan.folder / "templates" / "theme.css").unlink()


def test_report_needs_enough_responses(tmp_path):
    scan = init_scan(tmp_path / "s", "A", "werkgeluk", "en", "2027", 5, [Department("Only", 3, 0)])
    forms = write_forms(scan).forms
    for spec in forms:
        fill_form(scan, spec.path, {"plezier": 7}, scan.inbox / spec.path.name)
    collect(scan)
    with pytest.raises(ReportError, match="only 3 employee responses"):
        write_report(scan)


def test_wording_has_the_same_keys_in_every_language():
    yaml = YAML(typ="safe")
    folder = reports_dir() / "wording"
    keys = {path.stem: set(yaml.load(path.read_text(encoding="utf-8"))) for path in folder.glob("*.yaml")}
    assert set(keys) == {"nl", "en"}
    assert keys["nl"] == keys["en"]


def test_report_on_a_full_disk_names_the_file_and_keeps_the_old_one(english_scan, monkeypatch):
    import errno

    from click.testing import CliRunner

    from survey.cli import cli

    html_path, pdf_path = write_report(english_scan)
    old_pdf = pdf_path.read_bytes()

    def full(self, target=None, *args, **kwargs):
        with open(target, "wb") as handle:  # half a PDF, then the disk is full
            handle.write(b"%PDF-1.7 truncated")
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr("weasyprint.document.Document.write_pdf", full)  # the laid-out report is written
    result = CliRunner().invoke(cli, ["report", str(english_scan.folder)])
    assert result.exit_code == 1 and "report.pdf" in result.output and "disk is full" in result.output
    assert "Traceback" not in result.output
    assert pdf_path.read_bytes() == old_pdf  # the earlier report stays whole
    # the outputs made beside the PDF (chart files, deck) are whole files; no partial file is left
    # anywhere, and no team sheet (a PDF too) was written
    assert not [p for p in pdf_path.parent.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]
    assert not list(pdf_path.parent.glob("teams/*.pdf"))
