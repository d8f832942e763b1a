"""`survey demo`: the whole pipeline on the sample organisation, end to end."""

from __future__ import annotations

import re
from html import unescape

from click.testing import CliRunner
from pypdf import PdfReader

from survey.cli import cli
from survey.analysis import analyse_scan
from survey.demo import load_sample
from survey.scan import load_scan


def pdf_text(path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def test_demo_writes_html_and_pdf(demo_run):
    assert demo_run.html.is_file() and demo_run.pdf.is_file()
    assert demo_run.workbook.is_file()
    assert len(PdfReader(demo_run.pdf).pages) >= 8
    html = demo_run.html.read_text(encoding="utf-8")
    assert html.count("<svg") >= 3  # partnership map, pace map, initiative chart at least


def test_report_names_reported_departments_and_never_the_small_one(demo_run):
    sample = load_sample()
    threshold = sample.anonymity_threshold
    text = pdf_text(demo_run.pdf)
    html = demo_run.html.read_text(encoding="utf-8")
    small = [d.name for d in sample.departments if d.headcount - d.managers < threshold]
    assert small, "the sample organisation must have a department below the threshold"
    # hidden groups are named only in the methods' list of hidden groups, with their reason
    before_methods = text.split("Verantwoording")[0]
    figures_html = re.sub(r'<ul class="hidden-groups">.*?</ul>', "", html, flags=re.S)
    for name in small:
        assert name not in before_methods and name not in figures_html
        assert re.search(rf"{name}: minder dan {threshold} antwoorden", html)
    from survey.analysis import analyse_scan
    from survey.scan import load_scan

    results = analyse_scan(load_scan(demo_run.folder))
    assert len(results.departments) >= 6
    for group in results.departments:
        assert group.n >= threshold
        assert group.key in text
    for name in results.hidden_departments:
        assert name not in before_methods and name not in figures_html


def test_report_has_the_three_movements(demo_run):
    text = pdf_text(demo_run.pdf)
    for heading in ("Verkennen", "Verdiepen", "Verbinden", "Verantwoording"):
        assert heading in text


def test_demo_command_prints_steps_and_paths(demo_run):
    out = demo_run.folder
    assert demo_run.exit_code == 0, demo_run.output
    for step in ("init scan folder", "forms", "collect", "analyse", "report"):
        assert step in demo_run.output
    assert str(out / "output" / "report.html") in demo_run.output
    assert str(out / "output" / "report.pdf") in demo_run.output
    # running the other commands on the demo folder works too
    status = CliRunner().invoke(cli, ["status", str(out)])
    assert status.exit_code == 0 and "accepted" in status.output
    # status applies the report's anonymity rule: the small department and its complement
    facilitair = next(line for line in status.output.splitlines() if line.startswith("Facilitair"))
    results = analyse_scan(load_scan(out))
    employees = next(h.n for h in results.hidden if h.name == "Facilitair")
    assert f"no (fewer than 5 employee answers: {5 - employees} more needed)" in facilitair
    assert "hidden so that Facilitair cannot be worked out" in status.output
    assert f"managers (one group for the whole organisation): {results.n_managers} answered" in status.output
    again = CliRunner().invoke(cli, ["collect", str(out)])
    assert again.exit_code == 0 and "0 accepted" in again.output


def test_demo_refuses_to_overwrite_a_folder_that_is_not_a_scan(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.docx").write_text("precious")
    result = CliRunner().invoke(cli, ["demo", "--out", str(tmp_path / "mine")])
    assert result.exit_code == 1
    assert (tmp_path / "mine" / "thesis.docx").exists()


def test_audit_finds_nothing_in_the_demo_outputs(demo_run):
    """The attacker reads the report, the results workbook and survey status of the demo."""
    result = CliRunner().invoke(cli, ["audit", str(demo_run.folder)])
    assert result.exit_code == 0, result.output
    assert "No set of 1 to 4 people can be worked out" in result.output


def test_quotes_review_through_the_commands(demo_run, tmp_path):
    """survey quotes writes the review; after it the report quotes only approved texts, and the
    audit checks that against the review."""
    import shutil

    from openpyxl import load_workbook

    # both waves: the last one's analysis reads the earlier one (waves.yaml: ../2025)
    shutil.copytree(demo_run.folder.parent, tmp_path / "demo", ignore=shutil.ignore_patterns("forms", "inbox"))
    folder = tmp_path / "demo" / demo_run.folder.name
    made = CliRunner().invoke(cli, ["quotes", str(folder)])
    assert made.exit_code == 0, made.output
    book = load_workbook(folder / "quotes.xlsx")
    rows = list(book["quotes"].iter_rows(min_row=2))
    assert rows and all(row[6].value in ("publish", "leave out") for row in rows)
    for row in rows:
        row[6].value = "leave out"
    kept = rows[0][3].value
    rows[0][6].value = "publish"
    book.save(folder / "quotes.xlsx")
    report = CliRunner().invoke(cli, ["report", str(folder), "--no-pdf"])
    assert report.exit_code == 0, report.output
    html = (folder / "output" / "report.html").read_text(encoding="utf-8")
    assert [unescape(q) for q in re.findall(r"<li>“(.*?)”</li>", html)] == [kept]
    # the results workbook still holds the answers approved before: the audit names them
    stale = CliRunner().invoke(cli, ["audit", str(folder)])
    assert stale.exit_code == 1 and "results.xlsx open_answers" in stale.output and "not approved" in stale.output
    assert CliRunner().invoke(cli, ["analyse", str(folder)]).exit_code == 0
    assert CliRunner().invoke(cli, ["audit", str(folder)]).exit_code == 0
