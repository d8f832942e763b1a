"""What the consultant takes into the team sessions, as a user sees it in the demo's output:
a one-page A4 team sheet per department the report shows (and none for a hidden one), the
slide deck, every chart as SVG and PNG; and the audit that holds sheets and slides against
the report."""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import replace
from html import unescape
from pathlib import Path

import pytest
from click.testing import CliRunner

from survey.analysis import analyse_scan
from survey.cli import cli
from survey.scan import load_scan

pdfplumber = pytest.importorskip("pdfplumber")

A4 = (595.28, 841.89)  # points


def report_cell(html: str, var: str, group: str) -> str:
    """The text of the report's figure cell for `var` and `group` (as the report shows it)."""
    for attributes, inner in re.findall(r"<td\b([^>]*data-var=[^>]*)>(.*?)</td>", html, re.S):
        if f'data-var="{var}"' in attributes and f'data-group="{group}"' in attributes:
            return unescape(re.sub(r"<[^>]+>", "", inner)).strip()
    raise AssertionError(f"no cell {var} for {group}")


def shown_departments(html: str) -> list[str]:
    return [unescape(name) for name in re.findall(r'<article class="department">\s*<h2>(.*?)</h2>', html)]


@pytest.fixture(scope="module")
def demo(demo_run):
    assert demo_run.exit_code == 0, demo_run.output
    results = analyse_scan(load_scan(demo_run.folder))
    return demo_run, results


def test_one_team_sheet_per_department_shown_and_none_for_hidden_ones(demo):
    run, results = demo
    html = run.html.read_text(encoding="utf-8")
    shown = shown_departments(html)
    assert shown and sorted(shown) == sorted(g.key for g in results.departments)
    sheets = sorted(p.stem for p in (run.folder / "output" / "teams").glob("*.pdf"))
    assert sheets == sorted(shown)
    assert results.hidden_departments  # the demo has a small department
    for hidden in results.hidden_departments:
        assert hidden not in sheets
        assert hidden in run.output.split("no team sheet for", 1)[1]  # the command says so


def test_team_sheet_is_one_a4_page_with_the_reports_figures_in_readable_text(demo):
    run, results = demo
    html = run.html.read_text(encoding="utf-8")
    for name in shown_departments(html):
        with pdfplumber.open(run.folder / "output" / "teams" / f"{name}.pdf") as pdf:
            assert len(pdf.pages) == 1, name
            page = pdf.pages[0]
            assert (round(page.width, 1), round(page.height, 1)) == (round(A4[0], 1), round(A4[1], 1))
            text = page.extract_text()
            sizes = [c["size"] for c in page.chars if c["text"].strip()]
        assert name in text
        index = report_cell(html, "derived:partnership_index", name)
        werkgeluk = report_cell(html, "derived:werkgeluk", name)
        assert re.search(rf"(?<![\d,]){re.escape(index)}(?![\d,])", text), (name, index)
        assert werkgeluk in text and "," in werkgeluk, (name, werkgeluk)  # Dutch decimals, as in the report
        assert min(sizes) >= 7.95, (name, min(sizes))
        assert "Praat erover met elkaar" in text and "Hoe ga jij in je team om met ontwikkelvragen?" in text


def test_slide_deck_has_a_slide_per_department_alt_text_and_no_hidden_department(demo):
    run, results = demo
    deck = run.folder / "output" / "report.pptx"
    with zipfile.ZipFile(deck) as package:
        slides = [package.read(n).decode("utf-8") for n in package.namelist()
                  if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)]
        presentation = package.read("ppt/presentation.xml").decode("utf-8")
        everything = " ".join(package.read(n).decode("utf-8", "replace") for n in package.namelist()
                              if n.endswith(".xml"))
    size = re.search(r'<p:sldSz cx="(\d+)" cy="(\d+)"', presentation)
    assert abs(int(size[1]) / int(size[2]) - 16 / 9) < 0.01
    # title, summary, partnership map, pace map, werkgeluk, what changed (the demo has two
    # waves), a slide per department and one more for each with a clear change, the questions
    changed = [g.key for g in results.departments if any(c.claimed for c in g.change.values())]
    assert changed  # the demo plants clear changes
    assert len(slides) == 5 + (results.change is not None) + len(results.departments) + len(changed) + 1
    pictures = [p for s in slides for p in re.findall(r"<p:pic>.*?</p:pic>", s, re.S)]
    assert len(pictures) == 3 + len(results.departments)
    for picture in pictures:
        descr = re.search(r'<p:cNvPr\b[^>]*\bdescr="([^"]+)"', picture)
        assert descr and len(descr[1]) > 20, picture[:200]
    sizes = [int(s) for s in re.findall(r'<a:rPr\b[^>]*\bsz="(\d+)"', " ".join(slides))]
    assert sizes and min(sizes) >= 1400  # hundredths of a point
    for hidden in results.hidden_departments:
        assert hidden not in everything
    for department in results.departments:
        assert sum(f"<a:t>{department.key}</a:t>" in s for s in slides) == 1 + (department.key in changed)


def test_every_chart_of_the_report_is_a_png_and_an_svg_file(demo):
    run, _ = demo
    html = run.html.read_text(encoding="utf-8")
    ids = re.findall(r'<figure class="chart[^"]*" id="([^"]+)"', html)
    assert len(ids) >= 5 and len(ids) == len(set(ids))
    folder = run.folder / "output" / "charts"
    for chart_id in ids:
        png, svg = folder / f"{chart_id}.png", folder / f"{chart_id}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", chart_id
        text = svg.read_text(encoding="utf-8")
        assert "<svg" in text and "<title>" in text, chart_id
    # print resolution: the partnership map is drawn 6.9 in wide, so about 1380 pixels at 200 dpi
    width = int.from_bytes((folder / "chart-partnership.png").read_bytes()[16:20], "big")
    assert 1300 <= width <= 1400
    assert len(list(folder.glob("*.png"))) == len(ids)


def test_audit_finds_a_figure_on_a_team_sheet_or_slide_that_the_report_does_not_show(demo, tmp_path):
    from survey.audit import report_numbers
    from survey.report import build_report_model, render_pdf
    from survey.teams import render_sheets_html, write_team_sheets

    run, _ = demo
    # both waves: the last one's analysis reads the earlier one (waves.yaml: ../2025)
    shutil.copytree(run.folder.parent, tmp_path / "demo", ignore=shutil.ignore_patterns("inbox", "forms"))
    folder = tmp_path / "demo" / run.folder.name
    scan = load_scan(folder)
    results = analyse_scan(scan)
    model = build_report_model(results)
    html = (folder / "output" / "report.html").read_text(encoding="utf-8")
    page = model.departments[0]
    known = report_numbers(html, "Hele organisatie", [scan.organisation])
    allowed = known.departments[page.name] | known.organisation
    leaked = next(f"{v},{d}" for v in range(9, 0, -1) for d in range(9, -1, -1) if f"{v},{d}" not in allowed)
    tampered = replace(page, scores=[replace(page.scores[0], value=leaked)] + page.scores[1:])
    hidden = replace(model.departments[1], name=results.hidden_departments[0])
    teams = folder / "output" / "teams"
    write_team_sheets(scan, replace(model, departments=[tampered, hidden]), teams)
    assert (teams / f"{page.name}.pdf").is_file() and (teams / f"{hidden.name}.pdf").is_file()
    deck = folder / "output" / "report.pptx"
    with zipfile.ZipFile(deck) as source, zipfile.ZipFile(tmp_path / "new.pptx", "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "ppt/slides/slide1.xml":
                data = data.replace(b"</a:t>", b" 77,7</a:t>", 1)
            target.writestr(item, data)
    shutil.move(tmp_path / "new.pptx", deck)
    result = CliRunner().invoke(cli, ["audit", str(folder)])
    assert result.exit_code == 1, result.output
    assert f"teams/{page.name}.pdf: figure: {leaked} is not among the report's figures for {page.name}" \
        in result.output
    assert f"teams/{hidden.name}.pdf: team sheet: names no department that the report shows" in result.output
    assert "report.pptx slide 1: figure: 77,7 is not among report.html" in result.output


def test_report_without_pdf_writes_no_team_sheets_but_slides_and_charts(demo, tmp_path):
    run, _ = demo
    shutil.copytree(run.folder.parent, tmp_path / "demo", ignore=shutil.ignore_patterns("inbox", "forms", "output"))
    folder = tmp_path / "demo" / run.folder.name
    result = CliRunner().invoke(cli, ["report", str(folder), "--no-pdf"])
    assert result.exit_code == 0, result.output
    output = folder / "output"
    assert not (output / "report.pdf").exists() and not list(output.glob("teams/*.pdf"))
    assert (output / "report.pptx").is_file() and list((output / "charts").glob("*.png"))
    assert "team sheets:  not written (--no-pdf)" in result.output
    assert f"slides:       {output / 'report.pptx'}" in result.output


def test_outputs_drawn_in_two_workers_are_those_drawn_in_turn(demo, tmp_path, monkeypatch):
    """Charts and outputs are made side by side in forked workers where that is safe; the
    files are the same as made one after another (the fallback), chart for chart."""
    import survey.report.outputs as outputs

    run, _ = demo
    original = outputs.run_isolated
    written = {}
    for how, forkable in (("workers", True), ("in turn", False)):
        root = tmp_path / how
        shutil.copytree(run.folder.parent, root, ignore=shutil.ignore_patterns("inbox", "forms", "output"))
        monkeypatch.setattr(outputs, "_forkable", lambda forkable=forkable: forkable)
        calls = []
        monkeypatch.setattr(outputs, "run_isolated", lambda *a, **k: calls.append(1) or original(*a, **k))
        result = CliRunner().invoke(cli, ["report", str(root / run.folder.name), "--no-pdf"])
        assert result.exit_code == 0, result.output
        assert bool(calls) == forkable
        output = root / run.folder.name / "output"
        # matplotlib dates each SVG; the ids are prefixed with a hash of the SVG, date included
        written[how] = {p.relative_to(output).as_posix(): re.sub(
            rb"c[0-9a-f]{8}-", b"c-", re.sub(rb"<dc:date>[^<]*</dc:date>", b"", p.read_bytes()))
            for p in [output / "report.html", *sorted((output / "charts").iterdir())]}
        with zipfile.ZipFile(output / "report.pptx") as deck:
            written[how] |= {name: deck.read(name) for name in deck.namelist() if "docProps" not in name}
    assert sum(name.endswith(".png") for name in written["workers"]) >= 5
    assert written["workers"] == written["in turn"]


def test_a_sheet_with_many_changes_is_laid_out_compactly_on_its_one_page(demo, tmp_path):
    """A department with many claimed changes would run onto a second page: its sheet is laid
    out again in the compact style and stays one A4 page, every sentence on it."""
    from survey.report import build_report_model, render_pdf
    from survey.teams import render_sheets_html, write_team_sheets

    run, results = demo
    model = build_report_model(results)
    page = max(model.departments, key=lambda p: len(p.change.team_lines))
    lines = page.change.team_lines
    assert len(lines) >= 4  # the demo's department with the most clear changes
    page.change.team_lines = lines[:-1] * 2 + lines[-1:]  # twice as many
    scan, one = load_scan(run.folder), replace(model, departments=[page])
    assert len(render_pdf(scan, render_sheets_html(scan, one)).pages) == 2  # more than the usual style holds
    write_team_sheets(scan, one, tmp_path)
    with pdfplumber.open(tmp_path / f"{page.name}.pdf") as pdf:
        assert len(pdf.pages) == 1
        text = re.sub(r"\s+", " ", pdf.pages[0].extract_text())
        sizes = [c["size"] for c in pdf.pages[0].chars if c["text"].strip()]
    assert min(sizes) >= 7.95
    from survey.report import formatting, shown

    with formatting(model.lang):
        assert text.count(shown(lines[0])) == 2 and shown(lines[-1]) in text
