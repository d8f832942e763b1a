"""Numbers, counted nouns and bases as a reader of the report expects them: Dutch decimals
with a comma, '1 afdeling' / '2 afdelingen', the report's own wording for its readers, and
one response rate (everyone over the expected headcount) in the report and in status."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

from click.testing import CliRunner

from survey.cli import cli
from survey.i18n import counted, long_date, number, percent


def test_numbers_counts_and_dates_per_language():
    assert number(7, 1, "nl") == "7,0" and number(7, 1, "en") == "7.0"
    assert number(-0.2, 0, "nl", signed=True) == "0" and number(-12.34, 1, "nl") == "-12,3"
    assert percent(0.857, "nl") == "86%"
    assert counted(1, "count_departments", "nl") == "1 afdeling"
    assert counted(2, "count_departments", "nl") == "2 afdelingen"
    assert counted(1, "count_managers", "en") == "1 manager" and counted(0, "count_managers", "en") == "0 managers"
    assert long_date(date(2026, 12, 15), "nl") == "15 december 2026"


def test_dutch_report_writes_decimals_with_a_comma_and_no_plural_brackets(demo_run):
    html = demo_run.html.read_text(encoding="utf-8")
    body = unescape(re.sub(r"<style>.*?</style>|<svg.*?</svg>", "", html, flags=re.S))
    cells = re.findall(r'<td data-var="[^"]*"[^>]*>([^<]*)', html)
    assert any(re.fullmatch(r"\d+,\d", c.strip()) for c in cells)  # e.g. werkgeluk 7,0
    assert not any(re.search(r"\d\.\d", c) for c in cells)
    colophon = re.compile(r'<p class="small">[^<]*· survey [^<]*</p>')  # versions, not decimals
    assert colophon.search(body)
    assert not re.search(r"\d\.\d", re.sub(r"<[^>]+>", " ", colophon.sub("", body)))
    assert "(en)" not in body and "(s)" not in body
    # chart text too: the werkgeluk values on the chart
    assert re.search(r">\d,\d<", html)
    # the report speaks about employees, not to one (the form's wording)
    for form_words in ("Jouw ontwikkelvragen", "je loopbaan", "Hoe lang werk je"):
        assert form_words not in body


def test_report_and_status_give_the_same_response(demo_run):
    html = unescape(demo_run.html.read_text(encoding="utf-8"))
    status = CliRunner().invoke(cli, ["status", str(demo_run.folder)]).output
    report = re.search(r"Respons (\d+%): (\d+) van de (\d+) verwachte mensen.*?\((\d+) medewerkers, (\d+%); "
                       r"(\d+) leidinggevenden, (\d+%)\)", html)
    shown = re.search(r"Response (\d+%): (\d+) of the (\d+) people expected answered \((\d+) employees, (\d+%); "
                      r"(\d+) managers, (\d+%)\)", status)
    assert report and shown, status
    assert report.groups() == shown.groups()
    rate, total, expected, employees, _, managers, _ = report.groups()
    assert int(total) == int(employees) + int(managers)
    assert rate == f"{round(100 * int(total) / int(expected))}%"
    # the cover's big figures are the same base
    assert re.search(rf'<span class="big">{total}</span>', html)
    assert re.search(rf'<span class="big">{rate}</span>', html)
