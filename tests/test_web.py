"""The report in a browser: language set, headings in order, every chart with a title, a
sentence and its figures as a table; and, in a real headless Chromium, no sideways
scrolling of the page at phone width (tables and charts scroll inside their own box)."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest


class Outline(HTMLParser):
    """Headings, ids with their text, and the charts with what they point to."""

    def __init__(self) -> None:
        super().__init__()
        self.lang = None
        self.headings: list[tuple[int, str]] = []
        self.ids: dict[str, str] = {}
        self.tables: set[str] = set()
        self.charts: list[dict] = []
        self._open: list[tuple[str, str | None]] = []  # element, id
        self._text: dict[str, list[str]] = {}
        self._figure: dict | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag in ("meta", "br", "img", "input", "link"):
            return
        if tag == "figure" and "chart" in (a.get("class") or ""):
            self._figure = {"svg": None, "data_table": False, "ref": None}
            self._depth = len(self._open)
        if self._figure is not None:
            if tag == "svg":
                self._figure["svg"] = a
            if tag == "table" and any(t == "details" for t, _ in self._open):
                self._figure["data_table"] = True
            if tag == "a" and (a.get("href") or "").startswith("#"):
                self._figure["ref"] = a["href"][1:]
        if tag == "table" and a.get("id"):
            self.tables.add(a["id"])
        self._open.append((tag, a.get("id")))
        if a.get("id"):
            self._text[a["id"]] = []
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append((int(tag[1]), ""))

    def handle_endtag(self, tag):
        while self._open:
            name, ident = self._open.pop()
            if ident in self._text:
                self.ids[ident] = "".join(self._text.pop(ident)).strip()
            if name == tag:
                break
        if tag == "figure" and self._figure is not None and len(self._open) <= self._depth:
            self.charts.append(self._figure)
            self._figure = None

    def handle_data(self, data):
        for ident in self._text:
            self._text[ident].append(data)


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def test_report_html_has_language_heading_order_and_chart_alternatives(demo_run):
    page = outline(demo_run.html.read_text(encoding="utf-8"))
    assert page.lang == "nl"
    levels = [level for level, _ in page.headings]
    assert levels[0] == 1
    skipped = [(a, b) for a, b in zip(levels, levels[1:]) if b > a + 1]
    assert skipped == []
    assert len(page.charts) >= 4 + 6  # four organisation charts, one per department
    for chart in page.charts:
        svg = chart["svg"]
        assert svg is not None and svg.get("role") == "img"
        title, description = svg["aria-labelledby"], svg["aria-describedby"]
        assert page.ids.get(title), f"chart title {title} missing or empty"
        assert len(page.ids.get(description, "")) > 20, f"chart description {description} missing"
        assert chart["data_table"] or chart["ref"] in page.tables, f"chart {title} has no table of its figures"


def _chromium() -> str | None:
    return next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(name)), None)


@pytest.mark.parametrize("width", [360, 390])
def test_report_needs_no_sideways_scrolling_on_a_phone(demo_run, tmp_path, width):
    """Headless Chromium keeps a window at least 500 px wide, so the report is opened in a
    frame of phone width; the frame is the phone's viewport (media queries included)."""
    browser = _chromium()
    if browser is None:
        pytest.skip("Chromium is not installed (.ci/run installs it where it can)")
    probe = tmp_path / "probe.html"
    probe.write_text(f"""<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="{demo_run.html.as_uri()}" style="width:{width}px;height:800px;border:0"></iframe>
<script>
document.getElementById("f").addEventListener("load", function () {{
  var root = this.contentDocument.documentElement;
  document.body.setAttribute("data-measured", root.scrollWidth + " " + root.clientWidth);
}});
</script></body></html>""", encoding="utf-8")
    result = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                             "--virtual-time-budget=10000", "--window-size=800,900", "--dump-dom", probe.as_uri()],
                            capture_output=True, text=True, timeout=120)
    measured = re.search(r'data-measured="(\d+) (\d+)"', result.stdout)
    assert measured, result.stderr[-2000:]
    scroll_width, client_width = map(int, measured.groups())
    assert client_width <= width
    assert scroll_width <= client_width, f"the page is {scroll_width} px wide in a {width} px window"
