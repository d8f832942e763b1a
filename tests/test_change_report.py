"""'What changed' as a reader sees it (survey/report/change.py): a claimed change is a sentence
with its direction and the table's numbers are the analysis' change; an unclaimed change is
never worded as a change; the changed question, a renamed and a merged department are named;
three waves give series charts; both languages render; and `survey audit` holds the figures of
one wave published in several folders against each other."""

from __future__ import annotations

import html
import re
import os
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from survey.analysis import ORGANISATION, analyse_scan
from survey.cli import cli
from survey.i18n import number, percent
from survey.report.build import build_report_model
from survey.report.render import render_html, write_report
from survey.scan import load_scan
from survey.waves import Continuity
from tests.test_change import fill, make_scan, people, wave_of


def article(page: str, name: str) -> str:
    """One department's article of the report."""
    start = page.index(f"<h2>{html.escape(name)}</h2>")
    return page[start:page.index("</article>", start)]


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)))


@pytest.fixture(scope="module")
def demo(demo_run):
    scan = load_scan(demo_run.folder)
    result = analyse_scan(scan, bootstrap=False)
    return scan, result, demo_run.html.read_text(encoding="utf-8")


def test_a_claimed_change_is_a_sentence_with_its_direction_and_the_table_shows_its_numbers(demo):
    scan, result, page = demo
    seen = 0
    for g in result.departments:
        part = article(page, g.key)
        words = text_of(part)
        for var, c in g.change.items():
            if var.startswith("pace:") or c.low is None:
                continue
            digits = 0 if var.startswith("dim:") else 1
            name = (scan.questionnaire.dimensions[var[4:]].name["nl"] if var.startswith("dim:")
                    else next(d for d in scan.questionnaire.derived if d.id == var[8:]).name["nl"])
            # the table row: earlier (an earlier wave's cell), now, change with its margin, n of both waves
            low, high = c.shown(scan.anonymity_threshold)
            # the change column adds up: the shown values' difference, the interval beside it
            gap = round(round(c.now, digits) - round(c.earlier, digits), digits)
            change = number(gap, digits, "nl", signed=True)
            if low is not None:
                ends = digits
                while c.claimed and ends < digits + 3 and (round(low, ends) == 0 or round(high, ends) == 0):
                    ends += 1
                change += (f" ({number(low, ends, 'nl', signed=True)} tot "
                           f"{number(high, ends, 'nl', signed=True)})")
                if c.claimed:
                    assert round(low, ends) != 0 and round(high, ends) != 0
            row = re.search(rf'<th scope="row">{re.escape(html.escape(name))}</th>(<td data-var="{var}"[^>]*'
                            rf'data-wave="2025"[^>]*>[^<]*</td><td data-var="{var}"[^>]*>[^<]*</td><td>[^<]*</td>'
                            r"<td>\d+</td><td>\d+</td>)", part)
            assert row, (g.key, var)
            cells = [html.unescape(t) for t in re.findall(r">([^<]*)</td>", row.group(1))]
            assert cells == [number(c.earlier, digits, "nl"), number(c.now, digits, "nl"), change,
                             str(c.n_earlier), str(c.n_now)]
            sentence = (f"De score ‘{name}’ is duidelijk {'hoger' if c.estimate > 0 else 'lager'} dan in 2025: "
                        f"van {number(c.earlier, digits, 'nl')} naar {number(c.now, digits, 'nl')}.")
            if c.claimed:
                seen += 1
                assert sentence in words
            else:  # never worded as a change, either way
                assert f"De score ‘{name}’ is duidelijk" not in words
        if not any(c.claimed for c in g.change.values()):
            assert "geen duidelijke verandering zien sinds 2025" in words and "duidelijk hoger" not in \
                words.split("Sinds 2025", 1)[1]
    assert seen >= 3  # the demo plants change in two departments
    assert "geen verandering" not in text_of(page)


def test_a_claimed_share_change_is_named_and_the_pace_map_marks_it_without_colour(demo):
    scan, result, page = demo
    claimed = [(g, c) for g in result.groups for v, c in g.change.items() if v.startswith("pace:") and c.claimed]
    assert claimed
    for g, c in claimed:
        situation = c.variable[5:].rsplit(".", 1)[0]
        fewer = "Minder" if c.estimate < 0 else "Meer"
        words = text_of(article(page, g.key)) if g.key != ORGANISATION else text_of(page)
        assert f"{fewer} mensen zeggen dat" in words
        assert f"van {percent(c.earlier, 'nl')} in 2025 naar {percent(c.now, 'nl')}" in words
        # the pace map's data table: the balance cell carries the sign (here: fewer braked, better)
        chart = page[page.index('id="chart-pace"'):]
        cell = re.search(rf'<td data-var="pace:{situation}.effect" data-group="{re.escape(g.key)}"[^>]*>[^<]*'
                         r'<span class="mark">(.)</span>', chart)
        assert cell and cell.group(1) == ("▲" if c.variable.endswith("brakes") == (c.estimate < 0) else "▼")
    assert "▲ met een zwarte rand: duidelijk beter dan in 2025" in text_of(page)


def test_the_changed_question_and_the_renamed_department_are_named(demo):
    scan, result, page = demo
    words = text_of(page)
    item = next(i for i in scan.questionnaire.items if getattr(i, "id", None) == "kar_05")
    assert f"De vraag ‘{item.text['nl']}’ is anders gesteld dan in 2025" in words
    assert "Daarom is er geen vergelijking voor: Wie trekt de kar? en Partnershipindex" in words
    assert 'data-var="dim:drives"' in page and not re.search(r'data-var="dim:drives"[^>]*data-wave', page)
    assert "Thuishulp heette in 2025 Huishoudelijke Hulp" in text_of(article(page, "Thuishulp"))
    assert 'data-group="Thuishulp" data-n="34" data-wave="2025" data-units="Huishoudelijke Hulp"' in page
    # the methods say how change is tested, with the family sizes of this report
    assert (f"één keer voor alle scores van alle groepen samen ({result.change.families['scores']} vergelijkingen)"
            in words)


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    root = tmp_path_factory.mktemp("merged")
    before = make_scan(root, "2025", {"A": 10, "B": 6, "C": 6, "D": 10})
    after = make_scan(root, "2026", {"Alpha": 12, "BC": 12, "D": 10})
    rng = np.random.default_rng(3)
    fill(before, people(rng, {"A": 10, "B": 6, "C": 6, "D": 10}))
    fill(after, people(rng, {"Alpha": 12, "BC": 12, "D": 10}, shift={"Alpha": 1.2}))
    wave = wave_of(before, after, {"Alpha": (Continuity.renamed, ("A",)), "BC": (Continuity.merged, ("B", "C"))})
    return after, analyse_scan(after, earlier_waves=[wave], bootstrap=False)


def test_a_merged_department_gets_no_change_row_but_its_mapping_is_named_in_both_languages(merged):
    scan, result = merged
    model = build_report_model(result)
    pages = {p.name: p for p in model.departments}
    assert pages["BC"].change.table is None
    assert [s.text for s in pages["BC"].change.left_out] == [
        "BC was formed from B and C (in 2025). It has no comparison of its own; its people are in the comparison "
        "of the whole organisation."]
    alpha = pages["Alpha"].change
    assert alpha.table is not None and any(s.kind == "change_up" for s in alpha.sentences)
    for lang in ("en", "nl"):
        page = render_html(scan, model, lang)
        bc = article(page, "BC")
        assert "data-wave" not in bc and "was formed from B and C" in text_of(bc)
        assert 'data-wave="2025" data-units="A"' in article(page, "Alpha")
        drives = result.groups[1].change["dim:drives"] if result.groups[1].key == "Alpha" else None
        change = next(g for g in result.groups if g.key == "Alpha").change["dim:drives"]
        assert number(change.now, 0, lang) in text_of(article(page, "Alpha"))
        del drives
    # the report's edition in the earlier wave's store records exactly the earlier figures it shows
    assert {w for w, _, _ in model.earlier_figures()} == {"2025"}
    assert not {k for _, _, k in model.earlier_figures()} & {"BC"}


def test_three_waves_give_a_small_multiples_chart_with_its_table(tmp_path):
    sizes = {"A": 12, "B": 10}
    scans = [make_scan(tmp_path, w, sizes) for w in ("2024", "2025", "2026")]
    for number_, scan in enumerate(scans):
        fill(scan, people(np.random.default_rng(20 + number_), sizes, shift={"A": 0.5 * number_}))
    result = analyse_scan(scans[2], earlier_waves=[wave_of(s, scans[2]) for s in scans[:2]], bootstrap=False)
    model = build_report_model(result)
    charts = model.change.trend_charts
    assert [c.title.text for c in charts] == [f"{name} over the years" for name in ("Index", "Drives", "Pace", "Happy")]
    drives = charts[1]
    assert drives.data.headers == ["Group", "2024", "2025", "2026"]
    a = next(g for g in result.groups if g.key == "A").trend["dim:drives"]
    row = next(r for r in drives.data.rows if r.label == "A")
    assert [c.wave for c in row.cells] == ["2024", "2025", ""]
    assert [c.value.value for c in row.cells] == [p.value for p in a]
    page = render_html(scans[2], model, "en")
    assert 'id="chart-trend-2"' in page and 'data-var="dim:drives" data-group="A" data-n="12" data-wave="2024"' in page
    assert 'aria-labelledby="chart-trend-2-title"' in page


def test_a_wave_without_a_point_says_why_under_the_trend_chart(tmp_path):
    # p1 was worded differently in 2024: Pace (and the Index made of it) has no 2024 point, and
    # the chart's sentence says so and names the question; Drives has all three waves
    from tests.test_change import QUESTIONNAIRE

    sizes = {"A": 12, "B": 10}
    scans = [make_scan(tmp_path, "2024", sizes, QUESTIONNAIRE.replace("P1TEXT", "Pace one as asked in 2024"))]
    scans += [make_scan(tmp_path, w, sizes) for w in ("2025", "2026")]
    for number_, scan in enumerate(scans):
        fill(scan, people(np.random.default_rng(30 + number_), sizes))
    result = analyse_scan(scans[2], earlier_waves=[wave_of(s, scans[2]) for s in scans[:2]], bootstrap=False)
    charts = {c.title.text: c for c in build_report_model(result).change.trend_charts}
    pace, drives = charts["Pace over the years"], charts["Drives over the years"]
    assert all(c.wave != "2024" for row in pace.data.rows for c in row.cells if hasattr(c, "wave"))
    assert "There is no point for 2024: a question of this score was asked differently then (‘P1TEXT’)" \
        in str(pace.description)
    assert "no point" not in str(drives.description)
    assert "There is no point for 2024" in str(charts["Index over the years"].description)


def copy_outputs(folder, to):
    shutil.copytree(folder, to, ignore=shutil.ignore_patterns("forms", "inbox", "*.pdf"))
    return to


def test_the_audit_holds_one_waves_figures_from_several_reports_against_each_other(demo_run, tmp_path):
    earlier, later = demo_run.folder.parent / "2025", demo_run.folder
    clean = CliRunner().invoke(cli, ["audit", str(earlier), str(later)])
    assert clean.exit_code == 0, clean.output
    assert "+ " in clean.output  # the across-waves result
    # crafted: the 2026 report shows a 2025 share of Wijkverpleging Zuid together with 2025's
    # 'Facilitair' (3 more people) as the earlier value of a merged department, beside 2025's own
    # figure of Wijkverpleging Zuid in the 2025 report
    first = copy_outputs(earlier, tmp_path / "2025")
    second = copy_outputs(later, tmp_path / "2026")
    report = second / "output" / "report.html"
    text = report.read_text(encoding="utf-8")
    cell = re.search(r'data-var="(pace:[\w.]+)" data-group="Wijkverpleging Zuid" data-n="(\d+)" data-wave="2025" '
                     r'data-units="Wijkverpleging Zuid"', text)
    assert cell, "the demo claims a changed share in Wijkverpleging Zuid"
    own = (earlier / "output" / "report.html").read_text(encoding="utf-8")
    assert f'data-var="{cell.group(1)}" data-group="Wijkverpleging Zuid" data-n="{cell.group(2)}"' in own
    report.write_text(text.replace(cell.group(0), f'data-var="{cell.group(1)}" data-group="Wijkverpleging Zuid" '
                                                  f'data-n="{int(cell.group(2)) + 3}" data-wave="2025" '
                                                  'data-units="Wijkverpleging Zuid|Facilitair"'), encoding="utf-8")
    # 2026's own change sheet shows 2025's Wijkverpleging Zuid on its own n: 2026 alone gives it away
    alone = CliRunner().invoke(cli, ["audit", str(second)])
    assert alone.exit_code == 1 and f"{cell.group(1)} (wave 2025)" in alone.output and "(3 people)" in alone.output
    # without those rows each folder alone sees nothing: the leak is only in the two together
    import openpyxl

    book = openpyxl.load_workbook(second / "output" / "results.xlsx")
    sheet, situation = book["change"], cell.group(1).rsplit(".", 1)[0]
    for row in range(sheet.max_row, 1, -1):
        if sheet.cell(row, 1).value == "Wijkverpleging Zuid" and str(sheet.cell(row, 2).value).startswith(situation):
            sheet.delete_rows(row)
    book.save(second / "output" / "results.xlsx")
    assert CliRunner().invoke(cli, ["audit", str(second)]).exit_code == 0
    found = CliRunner().invoke(cli, ["audit", str(first), str(second)])
    assert found.exit_code == 1
    assert f"{cell.group(1)} (wave 2025)" in found.output and "(3 people)" in found.output


def test_the_report_records_in_the_earlier_store_what_it_shows_of_that_wave(merged, tmp_path):
    from survey.store import Store

    scan, result = merged
    model = build_report_model(result)
    earlier_store = result.change_publications[0][0]
    with Store(earlier_store) as store:
        before = set(store.earlier_sets())
    write_report(scan, tmp_path / "out", results=result, pdf=False)
    with Store(earlier_store) as store:
        after = set(store.earlier_sets())
    shown = {v for _, v, _ in model.earlier_figures()}
    recorded = after - before
    # the scores' statements and the tested people; the merged department's are not there
    assert {"claims:dim:drives", "item:d1"} <= recorded
    assert recorded <= {v for v in recorded if v.startswith(("item:", "claims:", "pace:"))}
    assert {v for v in shown if v.startswith("claims:")} <= recorded


def test_a_moved_earlier_wave_warns_once_and_the_report_says_where_it_was_looked_for(tmp_path):
    from survey.waves import start_next_wave

    before = make_scan(tmp_path, "2025", {"A": 12})
    after = start_next_wave(tmp_path / "scan2026", before.folder, wave="2026").scan
    fill(after, people(np.random.default_rng(3), {"A": 12}))
    waves_file = after.folder / "waves.yaml"
    line = next(i for i, t in enumerate(waves_file.read_text().splitlines(), 1) if "folder:" in t)
    shutil.move(before.folder, tmp_path / "elsewhere")
    runner = CliRunner()
    analysed = runner.invoke(cli, ["analyse", str(after.folder)])
    assert analysed.exit_code == 0, analysed.output
    warnings = [t for t in analysed.output.splitlines() if t.startswith("warning:")]
    assert len(warnings) == 1 and f"{waves_file}, line {line}" in warnings[0] and "is gone" in warnings[0]
    reported = runner.invoke(cli, ["report", str(after.folder), "--no-pdf"])
    assert reported.exit_code == 0, reported.output
    assert sum(t.startswith("warning:") for t in reported.output.splitlines()) == 1
    from dataclasses import replace

    result = analyse_scan(load_scan(after.folder), bootstrap=False)
    assert result.change.left_out[0].reason == "missing" and all(g.change == {} for g in result.groups)
    # paths as seen from the scan folder, not this machine's absolute ones
    folder = os.path.relpath(before.folder, after.folder)
    assert not folder.startswith("/")
    for lang, said in (("en", f"2025 could not be read: its scan folder was looked for in {folder} "
                              f"(waves.yaml, line {line}), so this report makes no comparison with 2025."),
                       ("nl", f"2025 kon niet worden gelezen: de scanmap is gezocht in {folder} "
                              f"(waves.yaml, regel {line}), dus dit rapport vergelijkt niet met 2025.")):
        result.scan = replace(result.scan, language=lang)
        model = build_report_model(result)
        assert model.change.organisation.table is None
        assert said in text_of(render_html(result.scan, model))
    # any other problem of waves.yaml stays an error
    waves_file.write_text(waves_file.read_text().replace("scan_id:", "scan_id: wrong #"))
    shutil.move(tmp_path / "elsewhere", before.folder)
    assert runner.invoke(cli, ["analyse", str(after.folder)]).exit_code == 1


def test_the_change_column_adds_up_and_a_claimed_interval_never_ends_at_zero():
    from survey.analysis.model import Change
    from survey.report.change import Changes
    from survey.report.model import SIGNED, Value, formatting, shown

    # 2,86 -> 3,24: shown as 2,9 and 3,2, so the change reads +0,3 (not +0,4)
    c = Change("derived:happy", "A", "2025", 3.24, 2.86, 30, 30, 0.38, 0.02, 0.74, 0.01, 0.02, True, 4)
    gap, ends = Changes.shown_gap(c, 1), Changes.interval_digits(c, 1)
    with formatting("nl"):
        assert shown(Value(gap, SIGNED, 1, c.low, c.high, ends)) == "+0,3 (+0,02 tot +0,74)"
    with formatting("en"):
        assert shown(Value(gap, SIGNED, 1, c.low, c.high, ends)) == "+0.3 (+0.02 to +0.74)"
    # not claimed: the interval keeps the figure's decimals (0 may be an end)
    unclaimed = Change("derived:happy", "A", "2025", 3.24, 2.86, 30, 30, 0.38, -0.02, 0.74, 0.2, 0.4, False, 4)
    assert Changes.interval_digits(unclaimed, 1) == 1
    # a share: whole percentage points of the shown percentages
    share = Change("pace:talk.brakes", "A", "2025", 0.304, 0.196, 40, 40, 0.108, 0.004, 0.2, 0.01, 0.02, True, 4)
    assert Changes.shown_gap(share, 0) == 10.0 and Changes.interval_digits(share, 0, 100.0) == 1


def test_this_waves_hidden_departments_and_the_combined_group_are_named_without_change(tmp_path):
    from survey.disclosure import OTHERS

    sizes = {"A": 12, "B": 12, "C": 3, "D": 3}
    before, after = make_scan(tmp_path, "2025", sizes), make_scan(tmp_path, "2026", sizes)
    rng = np.random.default_rng(8)
    fill(before, people(rng, sizes))
    fill(after, people(rng, sizes))
    result = analyse_scan(after, earlier_waves=[wave_of(before, after)], bootstrap=False)
    assert result.others is not None and OTHERS not in {g for g in (c.group for g_ in result.groups
                                                                         for c in g_.change.values())}
    assert {(x.group, x.reason) for x in result.change.left_out if x.reason in ("hidden_now", "others")} == {
        ("C", "hidden_now"), ("D", "hidden_now"), (OTHERS, "others")}
    page = render_html(after, build_report_model(result))
    words = text_of(page)
    assert ("The departments not shown on their own this time have no comparison with 2025 either; Methods lists "
            "them, with the reason.") in words
    # named, with the reason, in the methods' list of hidden groups (and nowhere else)
    hidden = text_of(re.search(r'<ul class="hidden-groups">.*?</ul>', page, re.S).group(0))
    assert "C: fewer than 5 answers." in hidden and "D: fewer than 5 answers." in hidden
    assert "None of these departments has a comparison with 2025" in hidden
    assert "has no comparison with 2025: it combines the departments not shown on their own" in words


def test_team_sheets_and_slides_carry_the_change_and_the_organisations_change_slide(demo):
    from pptx import Presentation

    from survey.report.model import formatting, shown
    from tests.test_demo import pdf_text

    scan, result, _ = demo
    output = scan.output_dir
    model = build_report_model(result)
    slides = [[s.text_frame.text for s in slide.shapes if s.has_text_frame] for slide in
              Presentation(str(output / "report.pptx")).slides]
    words = {"werkgeluk": "Werkgeluk", "intent_to_stay": "Willen blijven"}
    checked = 0
    for g in result.departments:
        sheet = re.sub(r"\s+", " ", pdf_text(output / "teams" / f"{g.key}.pdf"))
        slide = " ".join(next(s for s in slides if g.key in s))
        for score, name in words.items():
            c = g.change.get(f"derived:{score}")
            if c is None:
                continue
            claimed = c.claimed and round(c.now, 1) != round(c.earlier, 1)
            said = ("▲ duidelijk hoger dan in 2025" if c.estimate > 0 else "▼ duidelijk lager dan in 2025") \
                if claimed else "geen duidelijke verandering sinds 2025"
            # the phrase follows the score's own tile on both (the next tile's name after it)
            for text in (sheet, re.sub(r"\s+", " ", slide)):
                tile = text[text.index(name):]
                assert said in tile[:160], (g.key, score, tile[:160])
            checked += claimed
    assert checked >= 2  # the demo plants a clear change of werkgeluk or intent to stay in two departments
    # the organisation's "What changed" slide carries the report's table, cell for cell
    title = "Wat veranderde sinds 2025"
    deck = Presentation(str(output / "report.pptx"))
    [slide] = [s for s in deck.slides if any(sh.has_text_frame and sh.text_frame.text == title for sh in s.shapes)]
    [table] = [sh.table for sh in slide.shapes if sh.has_table]
    cells = [[c.text for c in row.cells] for row in table.rows]
    with formatting("nl"):
        expected = [[shown(h) for h in model.change.organisation.table.headers]] + [
            [shown(r.label)] + [shown(c) for c in r.cells] for r in model.change.organisation.table.rows]
    assert cells == expected


CLAIM = re.compile(r"^(De score ‘|The score ‘|(Meer|Minder) mensen zeggen dat |(More|Fewer) people say that )")


def team_outputs(output, name: str) -> tuple[str, list[str]]:
    """A department's team sheet as text (whitespace as single spaces), and the paragraphs of
    its slides (those titled with its name), bullets taken off."""
    from pptx import Presentation

    from tests.test_demo import pdf_text

    sheet = re.sub(r"\s+", " ", pdf_text(output / "teams" / f"{name}.pdf"))
    paragraphs = []
    for slide in Presentation(str(output / "report.pptx")).slides:
        texts = [p.text for s in slide.shapes if s.has_text_frame for p in s.text_frame.paragraphs]
        if name in texts:
            paragraphs += [t.removeprefix("• ") for t in texts]
    return sheet, paragraphs


def assert_team_change(page: str, sheet: str, slides: list[str], name: str, since: str, end: str,
                       none: str, none_other: str) -> list[str]:
    """The changes report.html claims in `name`'s department block are those on its team sheet
    (between the heading `since` and `end`, nothing else there) and on its slides; without a
    claim both say `none`; why there is no comparison is on both as the report says it."""
    part = article(page, name)
    change = re.search(r'<ul class="highlights change">(.*?)</ul>', part, re.S)
    lines = [text_of(li).strip() for li in re.findall(r"<li>(.*?)</li>", change.group(1), re.S)] if change else []
    claims = [line for line in lines if CLAIM.match(line)]
    why = [text_of(p).strip() for p in re.findall(r'<p class="small change-left">(.*?)</p>', part, re.S)]
    section = sheet[sheet.index(since):sheet.index(end)] if lines or why else ""
    if lines or why:
        assert sheet.count(since) == 1, name
    rest = section.replace(since, "", 1)
    for line in claims + ([none_other] if claims else [none] if lines else []) + why:
        assert line in rest, (name, line, section)
        rest = rest.replace(line, "", 1)
    assert not re.search(r"\w", rest), (name, rest)  # nothing else: bullets at most
    assert [p for p in slides if CLAIM.match(p)] == claims, (name, slides)
    if lines and not claims:
        assert none in slides, (name, slides)
    for line in why:
        if not ("heette in" in line or "was called" in line) or claims:
            assert line in slides, (name, line)
    return claims


def test_every_change_the_report_claims_for_a_department_is_on_its_team_sheet_and_slide(demo):
    """Issue 12: the team sheet (PDF text) and the slides (python-pptx) of every department
    carry exactly the changes its block in report.html claims, scores and pace shares, in the
    report's sentences; 'no clear change since 2025' where it claims none."""
    scan, result, page = demo
    claimed = {}
    for g in result.departments:
        sheet, slides = team_outputs(scan.output_dir, g.key)
        claimed[g.key] = assert_team_change(page, sheet, slides, g.key, "Sinds 2025", "Praat erover met elkaar",
                                            "Geen duidelijke verandering sinds 2025.",
                                            "Bij de andere scores laten de gegevens geen duidelijke verandering "
                                            "zien sinds 2025.")
    # the demo plants them: two dimensions and a pace share in Wijkverpleging Zuid, three
    # dimensions and the progress talk in De Linde; departments without a clear change too
    zuid, linde = claimed["Wijkverpleging Zuid"], claimed["Verpleeghuis De Linde"]
    assert "De score ‘Wie bepaalt het tempo?’ is duidelijk hoger dan in 2025: van 46 naar 57." in zuid
    assert any("planningsgesprek" in c and "van 54% in 2025 naar 11%" in c for c in zuid)
    assert sum(c.startswith("De score") for c in linde) >= 3 and any("voortgangsgesprek" in c for c in linde)
    assert [k for k, v in claimed.items() if not v]


def test_a_merged_departments_sheet_and_slide_say_it_has_no_comparison_in_english(merged, tmp_path):
    from survey.deck import write_deck
    from survey.report import all_charts
    from survey.report.outputs import draw_charts
    from survey.teams import write_team_sheets

    scan, result = merged
    model = build_report_model(result)
    assert model.lang == "en"
    page = render_html(scan, model)
    draw_charts(all_charts(model), model.lang)
    write_team_sheets(scan, model, tmp_path / "teams")
    write_deck(model, tmp_path / "report.pptx")
    claims = {}
    for g in result.departments:
        sheet, slides = team_outputs(tmp_path, g.key)
        claims[g.key] = assert_team_change(page, sheet, slides, g.key, "Since 2025", "Talk about it together",
                                           "No clear change since 2025.",
                                           "For the other scores the data show no clear change since 2025.")
    sheet, slides = team_outputs(tmp_path, "BC")
    said = ("BC was formed from B and C (in 2025). It has no comparison of its own; its people are in the "
            "comparison of the whole organisation.")
    assert said in sheet and said in slides and "No clear change" not in sheet
    assert claims["Alpha"] and not claims["BC"]


def test_the_test_is_called_stricter_than_the_margin_only_where_a_shown_margin_excludes_0(demo):
    # found by an attacker: "the test is stricter than the margin" stood under tables whose every
    # margin includes 0; there the sentence says the differences may be chance
    scan, result, page = demo
    seen = set()
    for g in result.departments:
        words = text_of(article(page, g.key))
        excludes = any(lo is not None and (lo > 0 or hi < 0) for v, c in g.change.items() if not v.startswith("pace:")
                       for lo, hi in [c.shown(scan.anonymity_threshold)])
        if "daarom is de toets strenger dan de marge" in words:
            assert excludes, g.key
            seen.add("strict")
        if "elke marge in de tabel bevat 0" in words:
            assert not excludes, g.key
            seen.add("chance")
    assert seen == {"strict", "chance"}  # the demo has both kinds of department
