"""Every output is inert: user text never becomes a formula, a terminal command, math or
HTML; a scan folder's templates are data, not code; the PDF renderer fetches nothing it
should not (issue 8, parts 4 and 5)."""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import socket
import threading
import zipfile
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from survey.analysis import analyse_scan, write_results_workbook
from survey.cli import cli
from survey.collect import collect
from survey.demo import Respondent, fill_form, load_sample
from survey.errors import ReportError
from survey.forms import write_forms
from survey.report import (RefusedResource, _pdf_resources, build_report_model, render_html,
                           write_report)
from survey.scan import Department, init_scan
from survey.textsafety import clean_text, csv_safe, csv_writer, inert_workbook, text_cell

HOSTILE = ['=HYPERLINK("http://x","klik")', "+31 6 12345678", "@SUM(A1)", "-2+3"]
MATH = ["Team $x$ Zorg", r"$\frac{a}{b}$ Zorg", "Team $x"]
ORGANISATION = "=Zorg & Co"


# -- clean_text ------------------------------------------------------------------------------

@pytest.mark.parametrize("dirty, clean", [
    ("\x1b[31mALL FORMS OK\x1b[0m", "ALL FORMS OK"),             # CSI colour, removed whole
    ("a\x1b[2K\x1b[1Ab", "ab"),                                   # erase line, cursor up
    ("a\x1b]0;owned\x07b", "ab"),                                 # OSC window title, BEL-terminated
    ("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),     # OSC 8 hyperlink, ST-terminated
    ("a\x1bPq#0;1\x1b\\b", "ab"),                                 # DCS (sixel)
    ("tail\x1b]0;never ends", "tail"),                            # unterminated OSC: the terminal would eat the rest
    ("a\x1bcb", "ab"),                                            # ESC c: full reset
    ("a\x9b31mb", "ab"),                                          # 8-bit CSI
    ("x\u202eevil\u202c y", "xevil y"),                           # right-to-left override
    ("\u2066isolated\u2069 \u202aembedded\u202c", "isolated embedded"),
    ("nul\x00 bell\x07 bs\x08 del\x7f", "nul bell bs del"),
    ("one\r\ntwo\rthree", "one\ntwothree"),                       # no CR: it rewrites the line
    ("tab\tand\nnewline", "tab\tand\nnewline"),                   # kept
])
def test_clean_text_removes_what_a_terminal_would_obey(dirty, clean):
    assert clean_text(dirty) == clean


def test_clean_text_keeps_right_to_left_text_and_marks():
    arabic = "\u0627\u0644\u0639\u0645\u0644 \u200f(٣)\u200e ok \u061c"
    hebrew = "\u05e2\u05d1\u05d5\u05d3\u05d4\u200f"
    assert clean_text(arabic) == arabic
    assert clean_text(hebrew) == hebrew
    assert clean_text("Zorg & Welzijn: é ü ß 😀") == "Zorg & Welzijn: é ü ß 😀"


# -- CSV -------------------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["=1+2", "+31 6", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_safe_prefixes_formula_starts(field):
    assert csv_safe(field) == "'" + field


@pytest.mark.parametrize("field", ["Zorg", "a=b", "", "'quoted", " =1"])
def test_csv_safe_leaves_other_text(field):
    assert csv_safe(field) == field


def test_csv_writer_quotes_every_field_so_no_separator_starts_a_cell():
    buffer = io.StringIO()
    csv_writer(buffer, delimiter=";").writerow(['=1+2";=1+2', "a;=cmd", "a,=cmd", -2, 3.5, "ok"])
    assert buffer.getvalue() == '"\'=1+2"";=1+2";"a;=cmd";"a,=cmd";"-2";"3.5";"ok"\r\n'


# -- xlsx cells ------------------------------------------------------------------------------

def test_text_cell_stores_formula_like_text_as_text(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    for row, value in enumerate(['=HYPERLINK("http://x","klik")', "#N/A", "+1", 5], start=1):
        text_cell(sheet.cell(row=row, column=1), value)
    sheet["B1"] = "=1+1"  # what openpyxl does on its own
    assert sheet["B1"].data_type == "f"
    inert_workbook(workbook)
    path = tmp_path / "w.xlsx"
    workbook.save(path)
    _assert_no_formula(path)
    again = load_workbook(path).active
    assert again["A1"].value == '=HYPERLINK("http://x","klik")' and again["A1"].data_type == "s"
    assert again["A2"].value == "#N/A" and again["A2"].data_type == "s"
    assert again["A4"].value == 5 and again["A4"].data_type == "n"  # numbers stay numbers


def _assert_no_formula(path: Path) -> None:
    """Neither openpyxl nor the raw sheet XML sees a formula anywhere in `path`."""
    workbook = load_workbook(path)
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{path.name} {sheet.title}!{cell.coordinate}: {cell.value!r}"
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = archive.read(name).decode("utf-8")
                assert not re.search(r"<(\w+:)?f[ >/]", xml), f"{path.name} {name} holds a formula"


# -- the whole pipeline with hostile names ------------------------------------------------

@pytest.fixture(scope="module")
def hostile_scan(tmp_path_factory):
    """Departments named like formulas and like mathtext, through forms, filled forms,
    collect, analysis and report."""
    folder = tmp_path_factory.mktemp("hostile") / "scan"
    sample = load_sample("nl")
    scan = init_scan(folder, ORGANISATION, sample.questionnaire, "nl", "2027", 5,
                     [Department(name, 6, 0) for name in HOSTILE + MATH])
    rng = np.random.default_rng(11)
    for spec in write_forms(scan).forms:
        profile = dataclasses.replace(sample.departments[0], name=spec.meta.department)
        answers = Respondent(rng, profile, spec.meta.role, sample.open_answers).answers(scan.questionnaire)
        fill_form(scan, spec.path, answers, scan.inbox / spec.path.name)
    collect(scan)
    results = analyse_scan(scan)
    workbook = write_results_workbook(results, scan.output_dir / "results.xlsx")
    html, pdf = write_report(scan, results=results)
    return scan, workbook, html, pdf


def test_forms_hold_no_formula(hostile_scan):
    scan, *_ = hostile_scan
    forms = sorted(scan.forms_dir.rglob("*.xlsx"))
    assert len(forms) == 6 * len(HOSTILE + MATH)
    for path in forms:
        _assert_no_formula(path)


def test_results_workbook_holds_no_formula(hostile_scan):
    _, workbook, _, _ = hostile_scan
    _assert_no_formula(workbook)
    groups = {row[0] for row in load_workbook(workbook)["overview"].iter_rows(min_row=2, values_only=True)}
    assert set(HOSTILE + MATH) <= groups  # stored as the text it is, unchanged


def test_report_shows_names_literally(hostile_scan):
    _, _, html, pdf = hostile_scan
    text = _Document.parse(html.read_text(encoding="utf-8")).text
    for name in HOSTILE + MATH + [ORGANISATION]:
        assert name in text, name
    assert pdf.stat().st_size > 10_000


def test_report_forbids_scripts_and_fetching_in_the_browser(hostile_scan):
    _, _, html, _ = hostile_scan
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">',
                       html.read_text(encoding="utf-8"))
    assert policy and "default-src 'none'" in policy.group(1) and "script-src" not in policy.group(1)


def test_mathtext_in_a_name_is_plain_text_in_the_charts(hostile_scan):
    _, _, html, _ = hostile_scan
    svg_text = "".join(re.findall(r"<text[^>]*>([^<]*)</text>", html.read_text(encoding="utf-8")))
    assert "Team $x$ Zorg" in svg_text
    assert r"$\frac{a}{b}$ Zorg" in svg_text


# -- the terminal ----------------------------------------------------------------------------

def test_status_prints_no_escape_sequence_from_a_file_name(hostile_scan, tmp_path):
    scan, *_ = hostile_scan
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    name = "x\x1b[2K\r\x1b[32mALL FORMS OK\x1b[0m \u202eslx.evil\u202c\x1b]0;owned\x07.xlsx"
    (inbox / name).write_bytes(b"not a workbook")
    runner = CliRunner()
    collected = runner.invoke(cli, ["collect", str(scan.folder), str(inbox / name)])
    status = runner.invoke(cli, ["status", str(scan.folder)])
    assert status.exit_code == 0, status.output
    for output in (collected.output, status.output):
        assert "ALL FORMS OK" in output  # the name is shown, made harmless
        for bad in ("\x1b", "\r", "\u202e", "\u202c", "\x07"):
            assert bad not in output


def test_cli_errors_are_cleaned(tmp_path):
    folder = tmp_path / "no\x1b[31mscan"
    result = CliRunner().invoke(cli, ["status", str(folder)])
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "noscan" in result.output


# -- templates are data ----------------------------------------------------------------------

@pytest.fixture
def own_templates(hostile_scan):
    scan, *_ = hostile_scan
    folder = scan.folder / "templates"
    folder.mkdir()
    yield folder
    shutil.rmtree(folder)


@pytest.mark.parametrize("template", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('touch MARKER').read() }}",
    "{{ report.__class__.__init__.__globals__['__builtins__']['__import__']('os').system('touch MARKER') }}",
])
def test_a_scan_template_cannot_run_code(hostile_scan, own_templates, template, monkeypatch):
    scan, *_ = hostile_scan
    monkeypatch.chdir(own_templates)
    (own_templates / "report.html").write_text(template, encoding="utf-8")
    result = CliRunner().invoke(cli, ["report", str(scan.folder), "--no-pdf"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "report.html" in result.output and "Python internals" in result.output
    assert not (own_templates / "MARKER").exists()


def test_a_broken_scan_template_names_file_and_line(hostile_scan, own_templates):
    scan, *_ = hostile_scan
    (own_templates / "report.html").write_text("<p>fine</p>\n{% if %}\n", encoding="utf-8")
    with pytest.raises(ReportError) as caught:
        write_report(scan, pdf=False)
    assert "report.html" in caught.value.message and "line 2" in caught.value.message


def test_a_template_linked_outside_its_folder_is_refused(hostile_scan, own_templates, tmp_path):
    scan, *_ = hostile_scan
    secret = tmp_path / "secret.css"
    secret.write_text("/* private key */")
    (own_templates / "theme.css").symlink_to(secret)
    with pytest.raises(ReportError, match="outside"):
        write_report(scan, pdf=False)


def test_a_theme_cannot_close_the_style_element(hostile_scan, own_templates):
    scan, _, _, _ = hostile_scan
    (own_templates / "theme.css").write_text(
        'body { color: #123 } </style><script>alert(1)</script><STYLE>\n'
        '.x::before { content: "</StYlE><script>alert(2)</script>" }', encoding="utf-8")
    html = render_html(scan, build_report_model(analyse_scan(scan)))
    document = _Document.parse(html)
    assert "script" not in document.tags
    assert "alert" not in document.text  # all of it stayed inside the style element, as CSS
    assert "body { color: #123 }" in document.style  # the theme itself still applies


# -- the PDF renderer fetches nothing outside ------------------------------------------------

class _Recorder(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        _Recorder.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def web_server():
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = HTTPServer(("127.0.0.1", port), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Recorder.requests = []
    yield port
    server.shutdown()
    server.server_close()


def test_pdf_renderer_fetches_nothing_from_the_network_or_other_files(hostile_scan, own_templates, web_server,
                                                                      tmp_path, caplog):
    scan, *_ = hostile_scan
    (own_templates / "theme.css").write_text(
        f"@import url(http://127.0.0.1:{web_server}/x.css);\n"
        f"body {{ background: url(http://127.0.0.1:{web_server}/pixel.png) }}\n"
        "h1 { background: url(file:///etc/passwd) }\n"
        "h2 { background: url(../scan.json) }\n", encoding="utf-8")
    _, pdf = write_report(scan, out=tmp_path)
    assert pdf.stat().st_size > 10_000  # written anyway
    assert _Recorder.requests == []
    assert not [r for r in caplog.records if "RefusedResource" in r.getMessage()]  # quietly


def test_pdf_fetcher_serves_only_data_and_template_files(hostile_scan, own_templates, tmp_path):
    scan, *_ = hostile_scan
    (own_templates / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>", encoding="utf-8")
    outside = tmp_path / "outside.txt"
    outside.write_text("private")
    (own_templates / "link.txt").symlink_to(outside)
    base, fetcher = _pdf_resources(scan)
    assert base == own_templates.as_uri() + "/"
    assert fetcher.fetch(f"{base}logo.svg").read().startswith(b"<svg")
    assert fetcher.fetch("data:text/plain;base64,b2s=").read() == b"ok"
    for url in ("file:///etc/passwd", f"{base}link.txt", f"{base}../scan.json", f"file://{outside}",
                "file://evil.example/etc/passwd", "http://127.0.0.1:9/x", "https://example.org/x.css",
                "ftp://example.org/x"):
        with pytest.raises(RefusedResource):
            fetcher.fetch(url)


# -- helpers ---------------------------------------------------------------------------------

@dataclasses.dataclass
class _Document(HTMLParser):
    """What a browser would see: the elements, the text, the style element's content."""

    tags: list[str] = dataclasses.field(default_factory=list)
    text: str = ""
    style: str = ""
    _in_style: bool = False

    @classmethod
    def parse(cls, html: str) -> _Document:
        document = cls()
        HTMLParser.__init__(document, convert_charrefs=True)
        document.feed(html)
        document.close()
        return document

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.style += data
        else:
            self.text += data
