"""Charts as inline SVG (and PNG files, `raster`). Each chart is drawn inside `_figure`, which fixes the style and
always closes the figure, so no pyplot state leaks between charts.

Print rules every chart keeps (tests/test_print.py checks them in the PDF):
- figures are drawn at the size they are printed (`PRINT_WIDTH`, `HALF_WIDTH`: the A4
  text width less nothing), and the report shows an SVG at its own size, never larger, so
  no text is smaller than `MIN_FONT` pt on paper;
- labels wrap at spaces only, never inside a word;
- text on a coloured area is dark or white, whichever contrasts more (`ink_on`), and at
  least 4.5:1 (WCAG AA) for every colour used;
- colours are told apart by readers with deuteranopia or protanopia (Okabe-Ito based
  palettes, tests/test_charts.py simulates both), and nothing depends on colour alone:
  values are written on the bars and cells, dimensions have their own marker shape.
"""

from __future__ import annotations

import hashlib
import io
import re
import math
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LinearSegmentedColormap, Normalize, to_rgb

PRINT_WIDTH = 6.9  # inches: the report's A4 text width (178 mm) with a little room
HALF_WIDTH = 3.3  # one of two columns on a department page
MIN_FONT = 8.0  # pt, at printed size
FONT = 9.0
INK = "#1D2528"
WHITE = "#FFFFFF"
BLACK = "#000000"
TEAL = "#1F5F6B"
WARM = "#A63603"
# Okabe-Ito colours, chosen so every pair stays apart under deuteranopia and protanopia
DIMENSION_COLOURS = ["#0072B2", "#D55E00", "#1D2528", "#56B4E9", "#F0E442", "#7F7F7F"]
DIMENSION_MARKERS = "oDs^vP"
# ordered: from the employee's own initiative (blue) to the organisation's (orange)
INITIATIVE_COLOURS = ["#08519C", "#6BAED6", "#FDAE6B", "#A63603"]
INITIATIVE_HATCHES = ["", "", "///", "///"]  # the organisation's side also by pattern
LABEL_PAD = 0.4  # of the font size: plain room around a value written on a hatched bar
# brakes (orange) <-> speeds up (blue): a diverging map that survives red-green blindness
PACE_ENDS = ("#B35806", "#2166AC")
PACE_MAP = LinearSegmentedColormap.from_list("pace", [PACE_ENDS[0], "#F1C48F", "#F4F4F4", "#9FC5E0", PACE_ENDS[1]])
HIDDEN_FILL = "#E3E3E3"

Formatter = Callable[[float, int, bool], str]  # value, digits, signed -> text in the report's language

STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": FONT,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#8A989C",
    "axes.labelcolor": INK,
    "axes.labelsize": FONT,
    "xtick.color": "#333333",
    "ytick.color": INK,
    "xtick.labelsize": FONT,
    "ytick.labelsize": FONT,
    "legend.fontsize": FONT,
    "svg.fonttype": "none",  # text stays text: searchable and sharp in the PDF
    "svg.hashsalt": "survey",  # the same ids every run: reports compare byte for byte
    # Labels are department names and situations typed by people: '$' is a dollar sign,
    # never mathtext (an unbalanced '$x' would crash the report, '$\\frac{a}{b}$' render as math)
    "text.parse_math": False,
    "text.usetex": False,
    "hatch.linewidth": 0.8,
}


def _plain(value: float, digits: int, signed: bool = False) -> str:
    return f"{value:{'+' if signed else ''}.{digits}f}"


def wrap(text: str, width: int) -> str:
    """Lines of at most `width` characters, broken at spaces only: never inside a word
    ('Wijkverplegi ng')."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)) or text


def luminance(colour: str | tuple[float, ...]) -> float:
    """WCAG relative luminance."""
    channels = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour)]
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def contrast(a: str | tuple[float, ...], b: str | tuple[float, ...]) -> float:
    """WCAG contrast ratio, 1..21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def ink_on(fill: str | tuple[float, ...]) -> str:
    """Black or white text, whichever reads better on `fill`: one of them always reaches
    4.58:1 (a softer dark ink would leave mid-tones below 4.5)."""
    return WHITE if contrast(WHITE, fill) > contrast(BLACK, fill) else BLACK


@contextmanager
def _figure(width: float, height: float) -> Iterator[tuple[plt.Figure, plt.Axes]]:
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
        try:
            yield fig, ax
        finally:
            plt.close(fig)


@dataclass(frozen=True)
class Picture:
    """A chart as drawn: SVG text (the report), and PNG bytes when asked for (`raster`: the
    chart files and the slide deck), both from the same figure. (The chart's recipe, drawn
    when an output renders it, is `report.Drawing`.)"""

    svg: str
    png: bytes | None = None


# dots per inch of the PNG drawn beside each SVG; None: SVG only (the report alone needs no PNG)
_PNG_DPI: ContextVar[int | None] = ContextVar("chart_png_dpi", default=None)


@contextmanager
def raster(dpi: int = 200) -> Iterator[None]:
    """Inside this block every chart is also drawn as a PNG at `dpi` (200: print quality)."""
    token = _PNG_DPI.set(dpi)
    try:
        yield
    finally:
        _PNG_DPI.reset(token)


def _svg(fig: plt.Figure) -> Picture:
    """The figure at its own size (no tight crop beyond the layout: the size is the print size),
    as SVG and, inside `raster`, as PNG on a white ground (a picture on a slide or in a
    document has no page behind it)."""
    png = None
    dpi = _PNG_DPI.get()
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", transparent=True, metadata={"Date": None})  # the same chart, the same file
    if dpi is not None:
        # the layout is settled by the first drawing; solving it again for the PNG would cost
        # as much as the drawing itself and give the same positions
        fig.set_layout_engine("none")
        raw = io.BytesIO()
        fig.savefig(raw, format="png", dpi=dpi, facecolor=WHITE)
        png = raw.getvalue()
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    # matplotlib numbers ids per figure ('text_35', clip paths by hash): several charts in one
    # page would share ids. A prefix from the chart's own content keeps each chart's ids its own.
    prefix = "c" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:8] + "-"
    text = re.sub(r'\bid="', f'id="{prefix}', text)
    text = text.replace("url(#", f"url(#{prefix}").replace('xlink:href="#', f'xlink:href="#{prefix}')
    return Picture(text, png)


def labelled(svg: str, title_id: str, description_id: str) -> str:
    """The chart as an image with a name for screen readers: its caption's title and sentence."""
    return svg.replace("<svg ", f'<svg role="img" aria-labelledby="{title_id}" aria-describedby="{description_id}" ',
                       1)


def standalone(svg: str, title: str, description: str) -> str:
    """A chart's SVG as a file of its own: its name and sentence inside it (<title>, <desc>)
    rather than pointing at a caption in the report."""
    from xml.sax.saxutils import escape

    svg = re.sub(r' role="img" aria-labelledby="[^"]*" aria-describedby="[^"]*"', "", svg, count=1)
    opening = svg.index(">", svg.index("<svg")) + 1
    return ('<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + svg[:opening]
            + f"<title>{escape(title)}</title><desc>{escape(description)}</desc>" + svg[opening:])


def partnership_map(groups: Sequence[str], index: Sequence[float | None], dimensions: dict[str, Sequence[float | None]],
                    left_label: str, right_label: str, index_label: str, fmt: Formatter = _plain,
                    earlier_index: Sequence[float | None] | None = None,
                    earlier_dimensions: dict[str, Sequence[float | None]] | None = None,
                    earlier_label: str = "") -> Picture:
    """Each group on the traditional (0) <-> partnership (100) axis: a bar for the index,
    a marker (own shape and colour) per dimension, the index written beside its bar. Where
    the group stood in the previous wave: a thin black line across the bar at last wave's
    index (`earlier_index`), or, when the index has no comparison, hollow markers of each
    dimension's shape (`earlier_dimensions`); named in the legend (`earlier_label`)."""
    height = 1.3 + 0.42 * len(groups) + 0.2 * math.ceil((len(dimensions) + 1) / 3)
    with _figure(PRINT_WIDTH, height) as (fig, ax):
        y = np.arange(len(groups))[::-1]
        gradient = np.linspace(0, 1, 256).reshape(1, -1)
        ax.imshow(gradient, extent=(0, 100, -0.6, len(groups) - 0.4), aspect="auto", cmap=PACE_MAP, alpha=0.25,
                  zorder=0)
        values = [v if v is not None else math.nan for v in index]
        ax.barh(y, values, height=0.16, color=TEAL, zorder=2, label=index_label)
        for (name, series), colour, marker in zip(dimensions.items(), DIMENSION_COLOURS, DIMENSION_MARKERS):
            xs = [v if v is not None else math.nan for v in series]
            ax.scatter(xs, y, s=38, color=colour, marker=marker, zorder=3, label=name, edgecolors=WHITE
                       if luminance(colour) < 0.5 else INK, linewidths=0.6)
        for yi, value in zip(y, values):
            if not math.isnan(value):
                ax.text(min(value + 1.0, 94), yi + 0.2, fmt(value, 0, False), fontsize=MIN_FONT, color=INK,
                        weight="bold", va="bottom")
        labelled_earlier = False
        for yi, value in zip(y, earlier_index or ()):
            if value is not None:
                ax.plot([value, value], [yi - 0.22, yi + 0.22], color=BLACK, lw=1.6, zorder=4,
                        label=None if labelled_earlier else earlier_label, solid_capstyle="butt")
                labelled_earlier = True
        for (name, series), colour, marker in zip((earlier_dimensions or {}).items(), DIMENSION_COLOURS,
                                                  DIMENSION_MARKERS):
            xs = [v if v is not None else math.nan for v in series]
            if all(math.isnan(v) for v in xs):
                continue
            ax.scatter(xs, y, s=38, facecolors="none", edgecolors=colour if luminance(colour) < 0.6 else INK,
                       marker=marker, linewidths=1.0, zorder=3)
            if not labelled_earlier:  # one legend entry for every hollow marker: a neutral open circle
                ax.scatter([], [], s=38, facecolors="none", edgecolors=INK, marker="o", linewidths=1.0,
                           label=earlier_label)
                labelled_earlier = True
        ax.set_yticks(y, [wrap(g, 24) for g in groups])
        ax.set_xlim(0, 100)
        ax.set_ylim(-0.6, len(groups) - 0.4)
        ax.axvline(50, color="#777777", lw=0.6, ls=":", zorder=1)
        ax.set_xticks([0, 25, 50, 75, 100])
        # em spaces: an SVG reader collapses ordinary ones
        ax.set_xlabel(f"← {left_label}" + "\u2003" * 8 + f"{right_label} →")
        fig.legend(loc="outside lower center", ncol=3, frameon=False)
        return _svg(fig)


def pace_heatmap(situations: Sequence[str], groups: Sequence[str], balance: np.ndarray, hidden_label: str,
                 fmt: Formatter = _plain, marks: Sequence[Sequence[str]] | None = None) -> Picture:
    """Situation x group: percentage points 'speeds me up' minus 'brakes me', the number in
    every cell (the colour only repeats it). `marks`: a sign per cell written after its number
    with a black frame around the cell (a situation that moved since the previous wave), so
    the mark does not rely on colour."""
    longest = max((len(g) for g in groups), default=10)
    with _figure(PRINT_WIDTH, 1.0 + 0.42 * len(situations) + 0.07 * min(longest, 24)) as (fig, ax):
        norm = Normalize(-60, 60, clip=True)
        masked = np.ma.masked_invalid(balance)
        cmap = PACE_MAP.with_extremes(bad=HIDDEN_FILL)
        ax.imshow(masked, cmap=cmap, norm=norm, aspect="auto")
        ax.set_xticks(range(len(groups)), [wrap(g, 24) for g in groups], rotation=40, ha="left",
                      rotation_mode="anchor")
        ax.xaxis.tick_top()
        ax.set_yticks(range(len(situations)), [wrap(s, 28) for s in situations])
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        for i in range(balance.shape[0]):
            for j in range(balance.shape[1]):
                value = balance[i, j]
                fill = HIDDEN_FILL if math.isnan(value) else cmap(norm(value))
                text = hidden_label if math.isnan(value) else fmt(value, 0, True)
                mark = marks[i][j] if marks else ""
                if mark:
                    text += f" {mark}"
                    ax.add_patch(plt.Rectangle((j - 0.46, i - 0.44), 0.92, 0.88, fill=False, edgecolor=BLACK,
                                               linewidth=1.6, zorder=3))
                ax.text(j, i, text, ha="center", va="center", fontsize=FONT, color=ink_on(fill))
        ax.set_xticks(np.arange(-0.5, len(groups)), minor=True)
        ax.set_yticks(np.arange(-0.5, len(situations)), minor=True)
        ax.grid(which="minor", color="white", linewidth=2)
        ax.tick_params(which="minor", length=0)
        return _svg(fig)


def stacked_shares(rows: Sequence[str], shares: dict[str, Sequence[float]], colours: Sequence[str] = INITIATIVE_COLOURS,
                   hatches: Sequence[str] = INITIATIVE_HATCHES, fmt: Formatter = _plain) -> Picture:
    """Horizontal 100% bars, e.g. who takes the initiative per situation; the options keep
    their order left to right, the organisation's side is hatched as well as coloured."""
    with _figure(PRINT_WIDTH, 1.1 + 0.38 * len(rows) + 0.22 * math.ceil(len(shares) / 2)) as (fig, ax):
        y = np.arange(len(rows))[::-1]
        left = np.zeros(len(rows))
        for (label, values), colour, hatch in zip(shares.items(), colours, hatches):
            widths = np.array(values, dtype=float) * 100
            ink = ink_on(colour)
            with plt.rc_context({"hatch.color": WHITE if ink == BLACK else "#FFFFFF99"}):
                ax.barh(y, widths, left=left, color=colour, height=0.66, label=label, edgecolor=WHITE, linewidth=0.6,
                        hatch=hatch)
            for yi, lo, w in zip(y, left, widths):
                if w >= 8:
                    # on a hatched bar the value sits on a plain patch of the bar's colour, with
                    # room around it: no hatch line runs through or against the figures
                    ax.text(lo + w / 2, yi, fmt(w, 0, False) + "%", ha="center", va="center", fontsize=MIN_FONT, color=ink,
                            bbox={"boxstyle": f"round,pad={LABEL_PAD}", "facecolor": colour, "edgecolor": "none"}
                            if hatch else None)
            left += widths
        ax.set_yticks(y, [wrap(r, 30) for r in rows])
        ax.set_xlim(0, 100)
        ax.set_xticks([0, 25, 50, 75, 100], [fmt(v, 0, False) + "%" for v in (0, 25, 50, 75, 100)])
        fig.legend(loc="outside lower center", ncol=2, frameon=False)
        return _svg(fig)


def score_bars(groups: Sequence[str], values: Sequence[float], low: float, high: float, reference: float | None,
               reference_label: str, fmt: Formatter = _plain) -> Picture:
    """One bar per group on a score scale (e.g. werkgeluk 1-10). The organisation's figure
    is a dashed line named at its top; a value label sits beside its bar, or inside it when
    the line would otherwise cross it."""
    with _figure(PRINT_WIDTH, 0.9 + 0.36 * len(groups)) as (fig, ax):
        y = np.arange(len(groups))[::-1]
        ax.barh(y, values, color=TEAL, height=0.6)
        ax.set_yticks(y, [wrap(g, 28) for g in groups])
        ax.set_xlim(low, high)
        ax.set_ylim(-0.6, len(groups) - 0.4)
        fig.canvas.draw()  # the layout is fixed: label widths can be measured in data units
        renderer = fig.canvas.get_renderer()
        to_data = ax.transData.inverted()
        pad = (high - low) * 0.01
        for yi, value in zip(y, values):
            label = ax.text(value + pad, yi, fmt(value, 1, False), va="center", fontsize=MIN_FONT + 0.5, color=INK)
            box = label.get_window_extent(renderer)
            width = to_data.transform((box.x1, 0))[0] - to_data.transform((box.x0, 0))[0]
            if reference is not None and value + pad - pad <= reference <= value + 2 * pad + width:
                label.set_x(value - pad)
                label.set_ha("right")
                label.set_color(ink_on(TEAL))
        if reference is not None:
            ax.axvline(reference, color=WARM, lw=1.2, ls="--", ymax=1.0)
            ax.text(reference, len(groups) - 0.45, f"{reference_label} {fmt(reference, 1, False)}", color=WARM,
                    fontsize=MIN_FONT + 0.5, ha="center", va="bottom", weight="bold")
        return _svg(fig)


def balance_bars(situations: Sequence[str], balances: Sequence[float | None], axis_label: str,
                 hidden_label: str = "·", fmt: Formatter = _plain) -> Picture:
    """One department's pace map: per situation, sped up minus braked (percentage points),
    the number beside each bar."""
    with _figure(HALF_WIDTH, 0.75 + 0.3 * len(situations)) as (fig, ax):
        y = np.arange(len(situations))[::-1]
        values = np.array([math.nan if v is None else v for v in balances], dtype=float)
        norm = Normalize(-60, 60, clip=True)
        colours = [PACE_MAP(norm(v)) if not math.isnan(v) else HIDDEN_FILL for v in values]
        ax.barh(y, np.nan_to_num(values), color=colours, height=0.6, edgecolor="#777777", linewidth=0.3)
        for yi, value in zip(y, values):
            label = hidden_label if math.isnan(value) else fmt(value, 0, True)
            x = 0 if math.isnan(value) else value + (4 if value >= 0 else -4)
            ax.text(x, yi, label, va="center", ha="left" if math.isnan(value) or value >= 0 else "right",
                    fontsize=MIN_FONT, color=INK)
        ax.axvline(0, color="#555555", lw=0.8)
        ax.set_yticks(y, [wrap(s, 22) for s in situations], fontsize=MIN_FONT, linespacing=1.0)
        ax.set_xlim(-100, 100)
        ax.set_xticks([-100, 0, 100], [fmt(v, 0, v != 0) for v in (-100, 0, 100)])
        ax.tick_params(labelsize=MIN_FONT)
        ax.set_xlabel(wrap(axis_label, 30), fontsize=MIN_FONT)
        return _svg(fig)


def priority_matrix(labels: Sequence[str], markers: Sequence[str], current: Sequence[float],
                    importance: Sequence[float], low: Sequence[float | None], high: Sequence[float | None],
                    current_split: float, importance_split: float, quadrants: tuple[str, str, str, str],
                    x_label: str, y_label: str, legend: dict[str, str]) -> Picture:
    """Importance (y, % of explained variance) against the current score (x, 0-100) per
    predictor: the 'what to work on first' view. Quadrants split at `current_split` and
    `importance_split`; `quadrants` are their labels (top left = important and low: work on
    first, top right, bottom left, bottom right), written in a band above and below the
    points, so no marker or interval can sit on them. Every point carries its own label
    (`_direct_labels`: placed on the drawn text sizes, clear of markers, quadrant labels and
    each other, leader lines never crossing) and a marker shape per kind (`markers`: 'o' or
    's'), so nothing relies on colour alone; bars show the 95% interval of the importance. The
    x axis shows the part of 0-100 the points use (at least 40 points wide), so that close
    scores do not pile up."""
    x = np.array(current, dtype=float)
    y = np.array(importance, dtype=float)
    tops = [h if h is not None else v for h, v in zip(high, y)]
    y_top = max(importance_split * 2, max(tops, default=0) * 1.02, 10)
    band = y_top * 0.11  # above and below the data: the quadrants' names
    x_lo = max(0.0, math.floor((min(x.min(initial=50), current_split) - 8) / 10) * 10)
    x_hi = min(100.0, math.ceil((max(x.max(initial=50), current_split) + 8) / 10) * 10)
    while x_hi - x_lo < 40:
        x_lo, x_hi = max(0.0, x_lo - 10), min(100.0, x_hi + 10)
    span = x_hi - x_lo
    with _figure(PRINT_WIDTH, 4.6) as (fig, ax):
        ax.set_xlim(x_lo, x_hi)
        ax.set_ylim(-band, y_top + band)
        ax.set_yticks([t for t in ax.yaxis.get_major_locator().tick_values(0, y_top) if 0 <= t <= y_top])
        ax.fill_between([x_lo, current_split], importance_split, y_top + band, color="#F6E3DC", zorder=0,
                        linewidth=0)
        ax.axvline(current_split, color="#999999", lw=0.8, ls=":", zorder=1)
        ax.axhline(importance_split, color="#999999", lw=0.8, ls=":", zorder=1)
        corner = dict(fontsize=8.5, color="#555555", zorder=1, va="center")
        edge = span * 0.012
        corners = [ax.text(x_lo + edge, y_top + band / 2, quadrants[0], ha="left", weight="bold",
                           **{**corner, "color": WARM}),
                   ax.text(x_hi - edge, y_top + band / 2, quadrants[1], ha="right", **corner),
                   ax.text(x_lo + edge, -band / 2, quadrants[2], ha="left", **corner),
                   ax.text(x_hi - edge, -band / 2, quadrants[3], ha="right", **corner)]
        bars = []
        for index, (xi, lo, hi) in enumerate(zip(x, low, high)):
            if lo is not None and hi is not None:
                ax.plot([xi, xi], [lo, hi], color="#B8C4C8", lw=1.2, zorder=2)
                bars.append((index, lo, hi))
        for marker, name in legend.items():
            chosen = [i for i, mk in enumerate(markers) if mk == marker]
            if chosen:
                ax.scatter(x[chosen], y[chosen], marker=marker, s=MARKER_AREA, color=TEAL if marker == "o" else "#E09F3E",
                           edgecolors="#222222", linewidths=0.6, zorder=3, label=name)
        ax.set_xlabel(x_label)
        # the axis name above the axis, level: rotated text is hard to read (and to check for size)
        ax.text(0, 1.015, y_label, transform=ax.transAxes, ha="left", va="bottom", fontsize=8.5)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=len(legend), frameon=False, fontsize=8)
        # settle the layout once, then place the labels on the sizes their text is drawn at
        fig.draw_without_rendering()
        fig.set_layout_engine("none")
        _direct_labels(ax, x, y, labels, corners, bars)
        return _svg(fig)


def trend_lines(groups: Sequence[str], waves: Sequence[str], values: Sequence[Sequence[float]],
                lows: Sequence[Sequence[float | None]], highs: Sequence[Sequence[float | None]],
                point_waves: Sequence[Sequence[str]], digits: int, bounds: tuple[float, float],
                fmt: Formatter = _plain) -> str:
    """Small multiples: one panel per group (the organisation first), the waves along the
    x axis, each wave's value as a point on a line with its 95% interval as a bar (where it
    is shown), the value written beside every point; all panels on the same scale."""
    # four small panels a row: a score's chart of eight groups takes a third of a page
    columns = min(4, len(groups))
    rows = math.ceil(len(groups) / columns)
    found = [v for series in values for v in series] + [v for s in lows for v in s if v is not None] + \
        [v for s in highs for v in s if v is not None]
    span = bounds[1] - bounds[0]
    low = max(bounds[0], math.floor((min(found) - span * 0.08) / (span / 20)) * (span / 20))
    high = min(bounds[1], math.ceil((max(found) + span * 0.08) / (span / 20)) * (span / 20))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, columns, figsize=(PRINT_WIDTH, 0.4 + 1.45 * rows), layout="constrained",
                                 sharey=True, squeeze=False)
        try:
            for number_, ax in enumerate(axes.flat):
                if number_ >= len(groups):
                    ax.set_visible(False)
                    continue
                xs = [waves.index(w) for w in point_waves[number_]]
                ys = list(values[number_])
                ax.plot(xs, ys, color=TEAL, lw=1.6, marker="o", markersize=4, zorder=3)
                for x, y, lo, hi in zip(xs, ys, lows[number_], highs[number_]):
                    if lo is not None and hi is not None:
                        ax.plot([x, x], [lo, hi], color="#7FA6AE", lw=2.2, zorder=2, solid_capstyle="butt")
                    ax.text(x + 0.08, y, fmt(y, digits, False), fontsize=MIN_FONT, color=INK, va="center", zorder=4)
                ax.set_title(wrap(groups[number_], 22), fontsize=FONT, loc="left")
                ax.set_xticks(range(len(waves)), list(waves))
                ax.set_xlim(-0.3, len(waves) - 0.4)
                ax.set_ylim(low, high)
                ax.tick_params(labelsize=MIN_FONT)
            return _svg(fig)
        finally:
            plt.close(fig)


MARKER_AREA = 42  # pt², the priority matrix's markers
LEADER = "#6B7B80"  # the thin line from a label moved away from its point


def _through(p0: np.ndarray, p1: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(N, M): whether segment n (p0[n] to p1[n]) runs through box m (x0, x1, y0, y1);
    Liang-Barsky clipping, for all at once."""
    if not len(boxes) or not len(p0):
        return np.zeros((len(p0), len(boxes)), dtype=bool)
    t0 = np.zeros((len(p0), len(boxes)))
    t1 = np.ones((len(p0), len(boxes)))
    inside = np.ones((len(p0), len(boxes)), dtype=bool)
    for axis, (lo, hi) in enumerate(((0, 1), (2, 3))):
        start, delta = p0[:, axis:axis + 1], (p1 - p0)[:, axis:axis + 1]
        low, high = boxes[None, :, lo], boxes[None, :, hi]
        flat = np.abs(delta) < 1e-9
        with np.errstate(divide="ignore", invalid="ignore"):
            a, b = (low - start) / delta, (high - start) / delta
        t0 = np.where(flat, t0, np.maximum(t0, np.minimum(a, b)))
        t1 = np.where(flat, t1, np.minimum(t1, np.maximum(a, b)))
        inside &= ~flat | ((start >= low) & (start <= high))
    return inside & (t0 <= t1)


def _crossing(p0: np.ndarray, p1: np.ndarray, q0: np.ndarray, q1: np.ndarray) -> np.ndarray:
    """(N, L): whether segment n (p0-p1) crosses segment l (q0-q1)."""
    if not len(q0) or not len(p0):
        return np.zeros((len(p0), len(q0)), dtype=bool)

    def side(a, b, c):  # sign of the turn a -> b -> c
        return (b[..., 0] - a[..., 0]) * (c[..., 1] - a[..., 1]) - (b[..., 1] - a[..., 1]) * (c[..., 0] - a[..., 0])
    P0, P1, Q0, Q1 = p0[:, None], p1[:, None], q0[None], q1[None]
    return (side(Q0, Q1, P0) * side(Q0, Q1, P1) < 0) & (side(P0, P1, Q0) * side(P0, P1, Q1) < 0)


def _direct_labels(ax: plt.Axes, x: np.ndarray, y: np.ndarray, labels: Sequence[str],
                   fixed: Sequence[plt.Text] = (), bars: Sequence[tuple[int, float, float]] = ()) -> None:
    """A label beside every point, placed on the drawn size of its text (the figure's layout
    is settled): beside its point where there is room, else further off with a thin leader
    line. A label never overlaps a marker, a `fixed` text (the quadrants' names) or another
    label, and stays inside the axes; a leader line never crosses another, nor runs through
    a label or a marker (but one drawn on its own), nor along its own interval bar. Of the
    free places the nearest wins; covering or crossing an interval bar counts as a few points
    further. Deterministic: the most important point is placed first, places are tried in a
    fixed order; a label that finds no free place goes first in another round."""
    renderer = ax.figure.canvas.get_renderer()
    pt = ax.figure.dpi / 72
    area = ax.get_window_extent(renderer)
    radius = math.sqrt(MARKER_AREA) / 2 * pt + 1.5 * pt  # a marker and a little air
    pad = 1.5 * pt  # between two boxes
    points = ax.transData.transform(np.column_stack([x, y])) if len(x) else np.zeros((0, 2))
    texts = [ax.text(0, 0, textwrap.shorten(t, 34, placeholder="…"), ha="center", va="center", fontsize=8,
                     color="#222222", zorder=4) for t in labels]
    sizes = [(b.width, b.height) for b in (t.get_window_extent(renderer) for t in texts)]
    taken = np.array([(b.x0 - pad, b.x1 + pad, b.y0 - pad, b.y1 + pad)
                      for b in (t.get_window_extent(renderer) for t in fixed)]).reshape(-1, 4)
    markers = np.column_stack([points[:, 0] - radius, points[:, 0] + radius,
                               points[:, 1] - radius, points[:, 1] + radius]).reshape(-1, 4)

    def hit(a: np.ndarray, b: np.ndarray) -> np.ndarray:  # (N, M) boxes that overlap
        return ((a[:, None, 0] < b[None, :, 1]) & (b[None, :, 0] < a[:, None, 1])
                & (a[:, None, 2] < b[None, :, 3]) & (b[None, :, 2] < a[:, None, 3]))

    stacked = hit(markers, markers)  # markers drawn on or against each other
    bar_of = np.array([index for index, _, _ in bars], dtype=int)
    bar_boxes = np.array([(points[i, 0] - pt, points[i, 0] + pt, *ax.transData.transform([(x[i], lo), (x[i], hi)])[:, 1])
                          for i, lo, hi in bars]).reshape(-1, 4)

    def options(i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Places for label i: right and left beside its point, then a grid over the axes; as
        boxes, the point on each nearest its point (a leader's end) and the distance."""
        (px, py), (w, h) = points[i], sizes[i]
        cx, cy = np.meshgrid(np.arange(area.x0 + w / 2, area.x1 - w / 2, 4 * pt),
                             np.arange(area.y0 + h / 2, area.y1 - h / 2, h / 3))
        cx = np.concatenate([[px + radius + w / 2, px - radius - w / 2], cx.ravel()])
        cy = np.concatenate([[py, py], cy.ravel()])
        boxes = np.column_stack([cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2])
        ends = np.column_stack([np.clip(px, boxes[:, 0], boxes[:, 1]), np.clip(py, boxes[:, 2], boxes[:, 3])])
        return boxes, ends, np.hypot(*(ends - points[i]).T)

    def place(order: list[int]) -> tuple[dict[int, tuple[np.ndarray, np.ndarray | None]], list[int], float]:
        """Labels in `order`, each at its best free place: {label: (box, leader start or
        None)}, the labels that found no free place, and the total cost."""
        placed = np.zeros((0, 4))
        starts, ends = np.zeros((0, 2)), np.zeros((0, 2))
        found: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}
        failed: list[int] = []
        total = 0.0
        for i in order:
            p = points[i]
            boxes, anchor, distance = options(i)
            padded = boxes + np.array([-pad, pad, -pad, pad])
            free = ((boxes[:, 0] >= area.x0) & (boxes[:, 1] <= area.x1) & (boxes[:, 2] >= area.y0)
                    & (boxes[:, 3] <= area.y1))
            free &= ~hit(padded, np.vstack([taken, placed, markers])).any(axis=1)
            # the segment tests below are the cost of placing: only for places still free
            at = np.flatnonzero(free)
            free[at] &= ~_through(starts, ends, padded[at]).any(axis=0)  # no leader runs through it
            # away from its point, or only corner to corner with it: a leader says whose it is
            level = ((boxes[:, 2] <= p[1]) & (p[1] <= boxes[:, 3])) | ((boxes[:, 0] <= p[0]) & (p[0] <= boxes[:, 1]))
            leader = (distance > radius + 2 * pt) | ~level
            start = p + (anchor - p) * ((radius - 1.5 * pt) / np.maximum(distance, 1e-9))[:, None]  # marker's edge
            others = ~stacked[i]
            at = np.flatnonzero(free & leader)
            free[at] &= ~(_through(start[at], anchor[at], np.vstack([taken, placed])).any(axis=1)
                          | _through(start[at], anchor[at], markers[others]).any(axis=1)
                          | _crossing(start[at], anchor[at], starts, ends).any(axis=1))
            # over an interval bar only to stay near; a leader never along its own bar
            cost = distance + 6 * pt * hit(boxes, bar_boxes).sum(axis=1) + 8 * pt * ~level
            at = np.flatnonzero(free & leader)
            cost[at] += 6 * pt * _through(start[at], anchor[at], bar_boxes[bar_of != i]).sum(axis=1)
            cost += leader * 40 * pt * ((np.abs(anchor[:, 0] - p[0]) < 6 * pt) & (i in bar_of))
            if free.any():
                k = int(np.flatnonzero(free)[np.argmin(cost[free])])  # the first of equals: a fixed order
                total += float(cost[k])
            else:  # crowded beyond every place: beside the point, over whatever is there
                failed.append(i)
                k = 0
            placed = np.vstack([placed, boxes[k] + np.array([-3 * pt, 3 * pt, 0, 0])])  # a word's space apart
            if leader[k] and free.any():
                starts, ends = np.vstack([starts, start[k]]), np.vstack([ends, anchor[k]])
                found[i] = (boxes[k], start[k], anchor[k])
            else:
                found[i] = (boxes[k], None, None)
        return found, failed, total

    order = sorted(range(len(texts)), key=lambda i: (-y[i], x[i]))
    best = None
    for _ in range(6):
        found, failed, total = place(order)
        if best is None or (len(failed), total) < (len(best[1]), best[2]):
            best = (found, failed, total)
        if not failed:
            break
        order = failed + [i for i in order if i not in failed]
    inverse = ax.transData.inverted().transform
    for i, (box, start, end) in best[0].items():
        texts[i].set_position(inverse(((box[0] + box[1]) / 2, (box[2] + box[3]) / 2)))
        if start is not None:
            (sx, sy), (ex, ey) = inverse([start, end])
            ax.plot([sx, ex], [sy, ey], color=LEADER, lw=0.6, zorder=3)
