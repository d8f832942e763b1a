"""One typed report model, many outputs: figures are numbers until an output renders them, in
the language it renders; the model is what the report registers with the disclosure model."""

from __future__ import annotations

import dataclasses
import re

import pytest

from survey.analysis import analyse_scan
from survey.analysis import core
from survey.report import (Cell, Drawing, FigureRef, ReportModelError, Sentence, Value, build_report_model,
                           formatting, render_html, shown, walk, write_report)
from survey.scan import load_scan


@pytest.fixture(scope="module")
def demo(demo_run, tmp_path_factory):
    """A copy of the demo scan (its store gets editions here) and its analysis."""
    assert demo_run.exit_code == 0, demo_run.output
    folder = demo_run.copy(tmp_path_factory.mktemp("model") / "waves")
    scan = load_scan(folder)
    return scan, analyse_scan(scan)


def cells(model) -> list[Cell]:
    return [v for v in walk(model) if isinstance(v, Cell)]


def test_the_model_is_built_once_and_rendered_in_each_language(demo):
    scan, results = demo
    model = build_report_model(results)
    one_decimal = [c for c in cells(model) if c.value.digits == 1 and not c.value.missing]
    assert one_decimal  # werkgeluk and the stay statements are shown with a decimal
    with formatting("nl"):
        dutch = [shown(c) for c in one_decimal]
    with formatting("en"):
        english = [shown(c) for c in one_decimal]
    assert all(re.fullmatch(r"\d+,\d( \(\d+,\d–\d+,\d\))?", t) for t in dutch), dutch  # with its margin
    assert all(re.fullmatch(r"\d+\.\d( \(\d+\.\d–\d+\.\d\))?", t) for t in english), english
    assert [t.replace(",", ".") for t in dutch] == english  # the same figures, written two ways
    nl, en = render_html(scan, model, "nl"), render_html(scan, model, "en")
    # the same cells (figure, group, n) in both, each written in its language
    attributes = re.compile(r'<td data-var="([^"]*)" data-group="([^"]*)" data-n="([^"]*)">([^<]*)<')
    nl_cells, en_cells = attributes.findall(nl), attributes.findall(en)
    assert [c[:3] for c in nl_cells] == [c[:3] for c in en_cells] and len(nl_cells) > 100
    decimals = [(a[3], b[3]) for a, b in zip(nl_cells, en_cells) if a[3] != b[3]]
    assert decimals and all(a == b.replace(".", ",") for a, b in decimals)
    # sentences and charts too: the organisation's werkgeluk in the summary and on its chart
    werkgeluk = next(s for s in model.summary if s.kind == "werkgeluk")
    value = dict(werkgeluk.values)["value"]
    with formatting("nl"):
        assert shown(value) in shown(werkgeluk) and "," in shown(value)
        assert shown(value) in model.werkgeluk_chart.svg
    with formatting("en"):
        assert shown(value) in shown(werkgeluk) and "." in shown(value)
        assert shown(value) in model.werkgeluk_chart.svg
    assert shown(werkgeluk) in en  # rendering writes what shown writes


def test_shown_keeps_text_and_writes_each_kind():
    with formatting("nl"):
        assert shown("Wijkverpleging Noord") == "Wijkverpleging Noord" and shown(None) == "–"
        assert shown(Value(52.04, digits=0, low=49.0, high=55.26)) == "52 (49–55)"
        assert shown(Value(0.864, "percent", low=0.801, high=0.906)) == "86% (80–91)"
        assert shown(Value(-4.6, "signed")) == "-5" and shown(Value(0.2, "signed")) == "0"
        assert shown(Value(7.04, digits=1)) == "7,0" and shown(Value(1234, "count")) == "1234"
        assert shown(Value(None, "range", low=3.0, high=12.4)) == "3–12"
    with formatting("en"):
        assert shown(Value(7.04, digits=1)) == "7.0" and shown(Value(5.0, "signed")) == "+5"
        assert shown(Sentence("{a} and {b}", (("a", Value(0.5, "percent")), ("b", "text")))) == "50% and text"


# Fields that are text by definition: names and words, never a figure written out
TEXT_FIELDS = {"words", "template", "var", "group", "key", "id", "data_ref", "organisation", "wave",
               "questionnaire", "version", "lang", "names", "open_answers", "manager_answers", "label",
               "outcome", "heading", "first", "name", "dimensions", "dialogue", "headers", "drivers_title",
               "headline_name", "werkgeluk_name", "quotes_note", "title", "description",
               "earlier_wave", "waves", "units"}  # wave labels and department names (change.py)


def stored_text(value, field: str = "") -> list[tuple[str, str]]:
    """(field, text) of every str in the model outside TEXT_FIELDS, through dataclass fields,
    lists, tuples and dicts; a Sentence's values by placeholder (names are values too)."""
    if isinstance(value, str):
        return [] if field in TEXT_FIELDS else [(field, value)]
    if isinstance(value, Drawing):
        return []  # a chart's recipe: labels are names, numbers are numbers (drawn when rendered)
    found = []
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            if isinstance(value, Sentence) and f.name == "values":
                found += [t for _, part in value.values
                          for t in stored_text(part, "name" if isinstance(part, str) else "")]
            else:
                found += stored_text(getattr(value, f.name), f.name)
    elif isinstance(value, (list, tuple)):
        for item in value:
            found += stored_text(item, field)
    elif isinstance(value, dict):
        for item in value.values():
            found += stored_text(item, field)
    return found


def test_no_figure_is_stored_as_formatted_text(demo):
    """Typed means: every figure a reader sees is a `Value` (in a `Cell` when it is a published
    figure of a group), or a whole number in a sentence; text in the model is words (a dash for
    a figure that is not there) and names, and no str outside the name and wording fields holds
    a digit. Table cells are Cells, Values, Sentences or words."""
    _, results = demo
    model = build_report_model(results)
    texts = stored_text(model)
    assert texts  # words are there: verdicts, kinds of predictor, dashes
    assert not [(f, t) for f, t in texts if re.search(r"\d", t)]
    for table in (v for v in walk(model) if hasattr(v, "rows") and hasattr(v, "headers")):
        for row in table.rows:
            for c in row.cells:
                assert isinstance(c, (Cell, Value, Sentence)) or not re.search(r"\d", c), (row.label, c)
    waves = set(model.change.waves) if model.change else set()  # wave labels ('2025') are names
    for s in (v for v in walk(model) if isinstance(v, Sentence)):  # names only as text
        assert not [p for _, p in s.values if isinstance(p, str) and p not in waves
                    and re.fullmatch(r"[-+]?[\d.,%]+", p)], s
    # the team sheet's and slide's figures are the report's published cells
    for page in model.departments:
        sheet = [page.index, page.index_organisation] + [s.share for s in page.brakes_most + page.helps_most]
        sheet += [v for s in page.scores for v in (s.value, s.organisation)]
        assert page.scores and page.brakes_most and all(isinstance(v, Cell) for v in sheet), page.name
        assert {(c.var, c.key) for c in sheet} <= model.figures()


def test_the_model_lists_what_it_shows_and_publish_records_only_that(demo, monkeypatch):
    scan, results = demo
    model = build_report_model(results)
    shown_pairs = model.figures()
    assert ("responses", "__organisation__") in shown_pairs and any(v.startswith("claims:") for v, _ in shown_pairs)
    recorded: dict[str, list[str]] = {}
    original = core.Store.record_edition

    def record(self, figures, outputs, **options):
        figures = list(figures)  # an earlier wave's record is named 'report of wave <this wave>'
        recorded[outputs] = [variable for variable, _, _ in figures]
        return original(self, iter(figures), outputs, **options)

    monkeypatch.setattr(core.Store, "record_edition", record)
    write_report(scan, scan.folder / "out", results=results, pdf=False)
    core.publish(results, "results workbook")  # the workbook: every allowed figure, as before
    register, decision = results.register, results.decision
    chosen = core.shown_figures(results, shown_pairs)
    expected = [f.variable for f in register.figures
                if f.id in chosen and f.kind != "composite" and f.members is not None]
    assert recorded["report"] == expected
    everything = [f.variable for f in register.figures
                  if decision.ok(f) and f.kind != "composite" and f.members is not None]
    assert recorded["results workbook"] == everything
    # departments' choice shares are in the workbook, not in the report
    department = results.departments[0].key
    choice = next(f for f in register.figures if f.variable.startswith("choice:") and f.group == department
                  and decision.ok(f))
    assert (choice.variable, department) not in shown_pairs and choice.id not in chosen
    # a department's dimension score stands for its statement figures: those are recorded
    dim = next(f for f in register.figures if f.variable.startswith("dim:") and f.group == department)
    assert (dim.variable, department) in shown_pairs
    assert {p for p in dim.parts if decision.ok(register.figures[p])} <= chosen
    assert len(recorded["report"]) < len(recorded["results workbook"])
    # the earlier wave's store: the report records what its model shows of that wave (the
    # tested people and statements of its score rows, the shares of its marked situations),
    # the workbook every value the change uses
    earlier = model.earlier_figures()
    report, workbook = set(recorded["report of wave 2026"]), set(recorded["results workbook of wave 2026"])
    assert {v for _, v, _ in earlier if v.startswith(("claims:", "pace:"))} == \
        {v for v in report if v.startswith(("claims:", "pace:"))}
    assert all(v.startswith("item:") for v in report - {v for _, v, _ in earlier})
    assert report < workbook


def test_a_figure_the_decision_withheld_cannot_enter_the_model(demo):
    _, results = demo
    department = results.departments[0]
    figure = next(f for f in results.register.figures
                  if f.variable.startswith("pace:") and f.variable.endswith(".effect") and f.group == department.key)
    allowed = set(results.decision.allowed)
    try:
        results.decision.allowed.discard(figure.id)  # the decision withheld it; the result still has it
        with pytest.raises(ReportModelError, match=re.escape(f"{figure.variable} for group {department.key}")):
            build_report_model(results)
    finally:
        results.decision.allowed = allowed
    assert isinstance(build_report_model(results).departments[0].pace.rows[0].cells[2], (Cell, str))


def test_sentences_rest_on_allowed_figures(demo):
    _, results = demo
    model = build_report_model(results)
    refs = [r for s in walk(model) if isinstance(s, Sentence) for r in s.rests_on]
    assert refs and all(isinstance(r, FigureRef) for r in refs)
    allowed = {(f.variable, f.group) for f in results.register.figures if results.decision.ok(f)}
    assert {(r.var, r.key) for r in refs} <= allowed


def test_a_late_form_that_withdraws_the_organisations_score_leaves_the_report_whole(tmp_path):
    """A second edition with one late form: the organisation's score would differ from the
    published one by one person, so it is withdrawn; the report is still written, and says
    nothing that rests on the withdrawn figure (no department 'higher than the rest')."""
    from survey.analysis import analyse_frame, write_results_workbook
    from survey.audit import audit
    from survey.store import Store
    from tests.test_disclosure import build

    scan, responses, wide = build(tmp_path, {"A": 7, "B": 7, "C": 8})
    late = responses.index[responses.department == "B"][-1]
    with Store(scan.store_path) as store:
        earlier = store.earlier_sets()
    first = analyse_frame(scan, responses.drop(late), wide.drop(late), earlier=earlier)
    write_report(scan, tmp_path / "ed1", results=first, pdf=False)
    with Store(scan.store_path) as store:
        earlier = store.earlier_sets()
    second = analyse_frame(scan, responses, wide, earlier=earlier)
    head = f"derived:{second.headline}"
    assert not second.decision.ok(next(f for f in second.register.figures
                                       if f.variable == head and f.group == "__organisation__"))
    write_results_workbook(second, scan.output_dir / "results.xlsx")  # the scan's outputs, for the audit
    write_report(scan, results=second, pdf=False)
    model = build_report_model(second)
    assert not [s for s in model.summary if s.kind in ("higher", "lower", "no_difference", "single")]
    checked = audit(scan.folder)
    assert checked.ok, checked.render()


def test_team_sheet_lists_braking_and_helping_situations_by_what_most_of_the_team_feel(demo):
    """'Where the organisation slows you down most' lists only situations where more of the team
    feel braked than helped, and the reverse for 'helps most': none in both lists."""
    _, results = demo
    model = build_report_model(results)
    groups = {g.key: g for g in results.departments}
    checked = 0
    for page in model.departments:
        g = groups[page.name]
        names = {s.name for s in page.brakes_most} & {s.name for s in page.helps_most}
        assert not names, (page.name, names)
        for listed, outcome, other in ((page.brakes_most, "brakes", "speeds_up"), (page.helps_most, "speeds_up", "brakes")):
            shares = [s.share.value.value for s in listed]
            assert shares == sorted(shares, reverse=True)
            for s in listed:
                situation = s.share.var.split(":")[1].split(".")[0]
                effect = g.pace[situation].effect
                assert effect[outcome] > effect[other], (page.name, s.name, effect)
                checked += 1
    assert checked


def test_status_and_report_give_each_department_the_same_response_rate(demo):
    from survey.report import formatting, shown
    from survey.status import scan_status

    scan, results = demo
    status = scan_status(scan.folder).render()
    rows = {line.split("  ")[0].strip(): line for line in status.splitlines()}
    model = build_report_model(results)
    assert model.departments
    with formatting(model.lang):
        for page in model.departments:
            assert shown(page.response_rate) in rows[page.name].split(), (page.name, rows[page.name])


def test_every_pace_row_adds_up_as_shown(demo):
    """The balance a pace table shows is 'helps' minus 'brakes' as the row shows them."""
    from survey.report import formatting, shown

    _, results = demo
    model = build_report_model(results)
    tables = [model.brake_table] + [page.pace for page in model.departments]
    checked = 0
    with formatting("en"):
        for table in tables:
            for row in table.rows:
                helps, brakes, balance = (shown(c) for c in row.cells[2:5])
                if "–" in (helps, brakes, balance):
                    continue
                assert int(helps.rstrip("%")) - int(brakes.rstrip("%")) == int(balance.replace("\u2212", "-")), row
                checked += 1
    assert checked > 20


def test_a_tie_at_the_last_place_of_a_team_list_is_never_cut(demo, tmp_path):
    """Team sheet (three places) and slide (two): situations of the same shown share at the
    last place are one entry naming all of them, never one of equals picked by their order."""
    import copy

    from pptx import Presentation

    from survey.deck import write_deck
    from survey.teams import render_sheets_html

    scan, results = demo
    results = copy.deepcopy(results)
    g = results.departments[0]
    order = list(g.pace)  # questionnaire order
    brakes = dict(zip(order, (0.40, 0.30, 0.20, 0.20, 0.20, 0.0, 0.0, 0.0)))
    helps = dict(zip(order, (0.0, 0.0, 0.0, 0.0, 0.0, 0.50, 0.30, 0.30)))
    for sid, cell in g.pace.items():
        g.pace[sid] = dataclasses.replace(cell, effect={"brakes": brakes[sid], "speeds_up": helps[sid],
                                                        "no_effect": 1 - brakes[sid] - helps[sid]})
    model = build_report_model(results)
    page = next(p for p in model.departments if p.name == g.key)
    short = {sid: row.label.split(" (")[0] for sid, row in zip(order, page.pace.rows)}
    with formatting("nl"):
        assert [shown(s.share) for s in page.brakes_most] == ["40%", "30%", "20%"]
        last = page.brakes_most[-1]
        assert {c.var for c in (last.share, *last.also)} == {f"pace:{s}.effect" for s in order[2:5]}
    sheet = " ".join(render_sheets_html(scan, model).split(f"<h1>{g.key}</h1>")[1].split("<section")[0].split())
    assert all(short[s] in sheet for s in order[2:5])  # all three at 20% on the sheet, none left out
    # the slide has two places: 50%, then both situations of 30% in one line
    deck = Presentation(str(write_deck(model, tmp_path / "deck.pptx")))
    slide = next(s for s in deck.slides if any(sh.has_text_frame and sh.text_frame.text == g.key for sh in s.shapes))
    text = "\n".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame)
    helped = [line for line in text.splitlines() if "voelt zich geholpen" in line]
    assert len(helped) == 2 and "50%" in helped[0] and "30%" in helped[1]
    assert short[order[6]] in helped[1] and short[order[7]] in helped[1]
