"""The printed report keeps its print rules, read from the PDF's own text positions
(pdfplumber): no heading as the last text of a page, no page under 40 % filled unless a
chapter ends there, no text under 8 pt (chart text included: the SVG text is text in the
PDF), and a table that continues on the next page repeats its header there."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from html import unescape
from pathlib import Path

import pytest

pdfplumber = pytest.importorskip("pdfplumber")

MM = 72 / 25.4
TOP, BOTTOM = 18 * MM, 20 * MM  # the @page margins of theme.css; the footer lives below BOTTOM
MIN_FILL = 0.40
HEADING_SIZE = 10.4  # h3 is 10.5 pt, every heading is bold; figure captions and table heads are smaller


@dataclass
class Line:
    text: str  # without spaces: pdfplumber does not always see the gaps in SVG text
    top: float
    bottom: float
    size: float
    bold: bool


@dataclass
class Page:
    number: int
    lines: list[Line]  # body text, top to bottom
    content_bottom: float  # lowest text or drawing in the body
    height: float
    sizes: list[float]


def read_pages(pdf_path: Path) -> list[Page]:
    pages = []
    with pdfplumber.open(pdf_path) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            limit = page.height - BOTTOM
            lines = []
            for line in page.extract_text_lines(return_chars=True):
                chars = [c for c in line["chars"] if c["text"].strip()]
                if not chars or line["bottom"] > limit:
                    continue
                lines.append(Line(re.sub(r"\s+", "", line["text"]), line["top"], line["bottom"],
                                  max(c["size"] for c in chars), all("Bold" in c["fontname"] for c in chars)))
            drawn = [o["bottom"] for kind in ("rects", "curves", "lines") for o in getattr(page, kind)
                     if o["bottom"] <= limit and o["top"] >= TOP - 1]
            bottom = max([line.bottom for line in lines] + drawn, default=TOP)
            pages.append(Page(number, lines, bottom, page.height,
                              [c["size"] for c in page.chars if c["text"].strip()]))
    return pages


def chapter_starts(html: str) -> set[str]:
    """The headings that start on a new page: the movements, 'per department', each
    department, the methods (a short page before them ends a chapter)."""
    found = re.findall(r'<section class="(?:movement|departments|methods)"[^>]*>\s*<h1>(.*?)</h1>', html, re.S)
    found += re.findall(r'<article class="department">\s*<h2>(.*?)</h2>', html, re.S)
    # the chapter number (<span class="num">) prints on a line of its own, after the name
    found = [re.sub(r'<span class="num">.*?</span>', "", h, flags=re.S) for h in found]
    return {re.sub(r"\s+", "", unescape(re.sub(r"<[^>]+>", "", h))) for h in found}


def table_heads(html: str) -> list[str]:
    """The first header cell of every table: the start of its header line."""
    return [re.sub(r"\s+", "", unescape(h)) for h in re.findall(r"<thead><tr><th[^>]*>(.*?)</th>", html, re.S)]


def is_heading(line: Line) -> bool:
    return line.bold and line.size >= HEADING_SIZE


def problems(pages: list[Page], html: str) -> list[str]:
    found = []
    chapters = chapter_starts(html)
    heads = table_heads(html)
    assert chapters and heads
    for i, page in enumerate(pages):
        assert page.lines, f"page {page.number} has no text"
        last, first = page.lines[-1], page.lines[0]
        if is_heading(last):
            found.append(f"page {page.number}: the heading '{last.text}' is the last text on the page")
        fill = (page.content_bottom - TOP) / (page.height - TOP - BOTTOM)
        next_first = pages[i + 1].lines[0] if i + 1 < len(pages) else None
        chapter_ends = next_first is None or (is_heading(next_first) and next_first.text in chapters)
        if fill < MIN_FILL and not chapter_ends:
            found.append(f"page {page.number} is only {fill:.0%} filled and no chapter ends there")
        if i and not is_heading(first) and first.size < 9.5 and not first.text.startswith("“"):
            # text continuing from the previous page: only a table may do that, with its header first
            if not (first.bold and any(first.text.startswith(h) for h in heads)):
                found.append(f"page {page.number} starts with '{first.text[:40]}' without a heading or table header")
        small = [s for s in page.sizes if s < 7.95]
        if small:
            found.append(f"page {page.number}: {len(small)} characters under 8 pt (smallest {min(small):.1f} pt)")
    return found


def test_demo_pdf_keeps_the_print_rules(demo_run):
    pages = read_pages(demo_run.pdf)
    html = demo_run.html.read_text(encoding="utf-8")
    assert problems(pages, html) == []
    # the rules looked at something: chart text is in the PDF, at 8 pt or more
    assert any(line.text.startswith("Hetplanningsgesprek") for page in pages for line in page.lines)


def test_a_table_that_continues_repeats_its_header(demo_run, tmp_path):
    """The demo's tables each fit on a page, so one is made long (the real template, theme
    and builder, a longer list of rows) to see how a continued table prints."""
    from weasyprint import HTML

    from survey.analysis import analyse_scan
    from survey.report import build_report_model, render_html
    from survey.scan import load_scan

    scan = load_scan(demo_run.folder)
    model = build_report_model(analyse_scan(scan))
    long = replace(model.brake_table, rows=model.brake_table.rows * 9)  # 72 rows: two pages at least
    # the other chapters are left out: they print the same and only take time
    html = render_html(scan, replace(model, brake_table=long, departments=[], open_answers=[], manager_answers=[]))
    pdf = tmp_path / "long.pdf"
    HTML(string=html).write_pdf(pdf)
    pages = read_pages(pdf)
    header = re.sub(r"\s+", "", model.brake_table.headers[0])
    row = re.sub(r"\s+", "", model.brake_table.rows[0].label)[:15]
    with_rows = [p for p in pages if any(line.text.startswith(row) and not line.bold for line in p.lines)]
    continued = [p for p in pages if p.lines and p.lines[0].bold and p.lines[0].text.startswith(header)]
    assert continued, "the long table did not continue on another page with its header"
    assert problems(pages, html) == []
    assert len(with_rows) >= 2


def test_the_rule_checker_sees_each_broken_rule():
    """The checker itself: each rule broken once on made-up pages is reported."""
    html = ('<section class="movement"><h1>Chapter</h1></section><table><thead><tr><th>Situation</th>'
            '</tr></thead></table>')
    text = Line("Sometext", 100, 110, 10, False)
    heading = Line("Aheading", 700, 715, 13, True)
    chapter = Line("Chapter", TOP, TOP + 20, 20, True)
    row = Line("Arowofatable", TOP, TOP + 10, 8.5, False)
    full, height = 790.0, 842.0
    ok = [Page(1, [text, heading, text], full, height, [10.0]), Page(2, [chapter, text], 200, height, [20.0])]
    ok[0].lines[-1] = Line("Sometext", 760, 770, 10, False)
    assert problems(ok, html) == []
    assert "is the last text" in problems([Page(1, [text, heading], full, height, [10.0]), ok[1]], html)[0]
    short = [Page(1, [text], 200, height, [10.0]), Page(2, [text], full, height, [10.0]), ok[1]]
    assert "% filled and no chapter ends there" in problems(short, html)[0]
    assert "without a heading or table header" in problems([ok[0], Page(2, [row], full, height, [8.5])], html)[0]
    assert "under 8 pt" in problems([Page(1, [text], full, height, [7.0]), ok[1]], html)[0]
