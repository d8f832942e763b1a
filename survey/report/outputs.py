"""Every output of one report model: report.html and report.pdf, and what the consultant
takes into the team sessions: every chart as SVG and PNG (charts/), a team sheet per
department shown (teams/, survey/teams.py) and the slide deck (report.pptx, survey/deck.py).
The model is built once and registered with the disclosure model once; each output renders
it (`shown`, `Chart.picture`) and recomputes nothing.

Both cores are used (a 50-department report has some 140 charts and a PDF of 160 pages):
the charts are drawn (SVG and PNG at once) by two worker processes, then report.pdf is laid
out in one worker while the other writes the chart files, the team sheets and the deck
(`survey/isolation.py`, forked: the workers hold the model as drawn). Where forking is not
safe (another thread is running) or there is one core, the same steps run one after another;
a step that fails in a worker runs again here, so its error is reported as it would be.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter, process_time
from typing import Any

from survey import charts
from survey.analysis import AnalysisResult, analyse_scan, publish
from survey.atomic import atomic_path, write_bytes_atomic, write_text_atomic
from survey.report.build import build_report_model
from survey.isolation import Failure, _usable_cores, run_isolated
from survey.report.model import Chart, Drawing, ReportModel, formatting, shown
from survey.report.render import quiet_weasyprint, render_html, render_pdf
from survey.scan import Scan


@dataclass
class ReportFiles:
    """What `write_outputs` wrote, for the CLI to name, and how long each output took."""

    html: Path
    pdf: Path | None = None
    charts: list[Path] = field(default_factory=list)  # output/charts: <chart id>.svg and .png
    teams: list[Path] = field(default_factory=list)  # output/teams: one PDF per department shown
    deck: Path | None = None
    no_sheet: list[str] = field(default_factory=list)  # hidden departments: no team sheet
    removed: list[Path] = field(default_factory=list)  # team sheets and chart files of an earlier run
    warnings: list[str] = field(default_factory=list)  # e.g. an earlier wave's folder is gone
    timings: dict[str, float] = field(default_factory=dict)  # seconds per output (benchmarks/report.py)
    cpu: dict[str, float] = field(default_factory=dict)  # the same, CPU seconds of this process

    @property
    def paths(self) -> list[Path]:
        return [self.html] + ([self.pdf] if self.pdf else [])


class _Clock:
    """Wall-clock and CPU seconds per step, into a `ReportFiles`."""

    def __init__(self, files: ReportFiles):
        self.files = files
        self.wall, self.cpu = perf_counter(), process_time()

    def lap(self, step: str) -> None:
        wall, cpu = perf_counter(), process_time()
        self.files.timings[step] = self.files.timings.get(step, 0.0) + wall - self.wall
        self.files.cpu[step] = self.files.cpu.get(step, 0.0) + cpu - self.cpu
        self.wall, self.cpu = wall, cpu


def write_outputs(scan: Scan, out: Path | None = None, *, results: AnalysisResult | None = None,
                  pdf: bool = True, replace_earlier: bool = False, dialogue: bool = True) -> ReportFiles:
    """The report (report.html, report.pdf) and, with `dialogue`, the chart files, the team
    sheets (not with `pdf=False`: they are PDFs) and the slide deck, all from one model."""
    results = results or analyse_scan(scan, replace_earlier=replace_earlier)
    folder = out or scan.output_dir
    files = ReportFiles(folder / "report.html")
    if results.change is not None and results.change.missing:
        files.warnings.append(results.change.missing)
    clock = _Clock(files)
    model = build_report_model(results)
    # what the model shows, recorded before writing: a half-written file is published too
    publish(results, "report", model.figures(), model.earlier_figures())
    clock.lap("model")
    if dialogue:
        # the chart files and the deck are in the model's language; SVG and PNG from one
        # drawing, shared by every output
        draw_charts(all_charts(model), model.lang)
        clock.lap("charts (SVG+PNG)")
    html = render_html(scan, model)
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(files.html, html)  # complete or not at all, even on a full disk
    clock.lap("report.html")
    steps: dict[str, Callable[[], Any]] = {}
    if pdf:
        files.pdf = folder / "report.pdf"
        steps["report.pdf"] = lambda: _write_pdf(scan, html, files.pdf)  # type: ignore[arg-type]
    if dialogue:
        from survey.deck import write_deck
        from survey.teams import write_team_sheets

        if pdf:
            steps["teams/"] = lambda: write_team_sheets(scan, model, folder / "teams")
        steps["charts/"] = lambda: write_chart_files(model, folder / "charts")
        steps["report.pptx"] = lambda: write_deck(model, folder / "report.pptx")
    done = _run_steps(steps, files)
    clock.wall, clock.cpu = perf_counter(), process_time()
    if not dialogue:
        return files
    files.charts, removed = done["charts/"]
    files.removed += removed
    files.no_sheet = list(results.hidden_departments)
    if pdf:
        sheets = done["teams/"]
        files.teams, files.removed = sheets.paths, files.removed + sheets.removed
    files.deck = done["report.pptx"]
    return files


def _write_pdf(scan: Scan, html: str, path: Path) -> Path:
    document = render_pdf(scan, html)
    with quiet_weasyprint(), atomic_path(path) as partial:
        document.write_pdf(partial)
    return path


def _forkable() -> bool:
    """Whether worker processes may be forked from here: Linux, more than one core, and no
    other thread (a lock another thread holds would stay locked in the child)."""
    return sys.platform.startswith("linux") and threading.active_count() == 1 and _usable_cores() > 1


# The steps a forked worker runs (`_run_step`): set just before the workers are forked, so
# they inherit them with the model, the HTML and the drawn charts; nothing is sent over.
_STEPS: list[Callable[[], Any]] = []


def _run_step(index: int) -> tuple[Any, float]:
    started = process_time()
    return _STEPS[index](), process_time() - started


def _run_steps(steps: dict[str, Callable[[], Any]], files: ReportFiles) -> dict[str, Any]:
    """Run the output steps, two at a time in forked workers when that is safe, the longest
    (report.pdf) first; a step that failed there runs again here, to raise its own error."""
    names = list(steps)
    done: dict[str, Any] = {}
    if len(names) > 1 and _forkable():
        global _STEPS
        _STEPS = [steps[n] for n in names]
        started = perf_counter()
        try:
            for index, result in run_isolated(_run_step, list(range(len(names))), workers=2,
                                              time_limit=3600, memory_limit_mb=None, start_method="fork"):
                if not isinstance(result, Failure):
                    done[names[index]], files.cpu[names[index]] = result
                    files.timings[names[index]] = perf_counter() - started  # finished this long after the start
        finally:
            _STEPS = []
    for name in names:
        if name not in done:
            wall, cpu = perf_counter(), process_time()
            done[name] = steps[name]()
            files.timings[name], files.cpu[name] = perf_counter() - wall, process_time() - cpu
    return done


def _draw(item: tuple[Drawing, str]) -> Any:
    drawing, lang = item
    with formatting(lang):
        return Chart("", "", "", drawing).picture(png=True)


def draw_charts(found: list[Chart], lang: str) -> None:
    """Draw every chart (SVG and PNG) in `lang` and keep the pictures on the charts: in two
    forked workers when that is safe, else here. A chart a worker could not draw is drawn
    here (its error, if any, is then raised as it would be)."""
    todo = [c for c in found if not c.drawn(lang, png=True)]
    if len(todo) > 1 and _forkable():
        for index, picture in run_isolated(_draw, [(c.drawing, lang) for c in todo], workers=2, time_limit=600,
                                           memory_limit_mb=None, start_method="fork"):
            if not isinstance(picture, Failure):
                todo[index].keep(lang, picture)
    with formatting(lang):
        for chart in todo:
            chart.picture(png=True)  # drawn already: kept; else drawn here


def all_charts(model: ReportModel) -> list[Chart]:
    """Every chart of the report, in the order the report shows them."""
    found = [model.partnership_chart, model.werkgeluk_chart, model.pace_chart, model.initiative_chart]
    found += [d.chart for d in model.drivers]
    for page in model.departments:
        found.append(page.pace_chart)
        found += [d.chart for d in page.drivers]
    return [c for c in found if c is not None]


def write_chart_files(model: ReportModel, folder: Path) -> tuple[list[Path], list[Path]]:
    """Each chart as `<chart id>.svg` and `<chart id>.png`, in the model's language, and
    `charts.txt` naming what each file shows; files of an earlier run's charts are removed."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    lines = []
    with formatting(model.lang):
        owner = {id(p.pace_chart): p.name for p in model.departments if p.pace_chart is not None}
        owner |= {id(d.chart): p.name for p in model.departments for d in p.drivers}
        for chart in all_charts(model):
            title = shown(chart.title)
            if id(chart) in owner:
                title = f"{title} – {owner[id(chart)]}"
            svg_path, png_path = folder / f"{chart.id}.svg", folder / f"{chart.id}.png"
            picture = chart.picture(png=True)
            write_text_atomic(svg_path, charts.standalone(chart.svg, title, shown(chart.description)))
            write_bytes_atomic(png_path, picture.png or b"")
            written += [svg_path, png_path]
            lines.append(f"{chart.id}\t{title}")
    index = folder / "charts.txt"
    write_text_atomic(index, "\n".join(lines) + "\n")
    keep = {p.name for p in written} | {index.name}
    removed = [old for old in sorted(folder.iterdir()) if old.suffix in (".svg", ".png") and old.name not in keep]
    for old in removed:
        old.unlink()
    return written, removed
