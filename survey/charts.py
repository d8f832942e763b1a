"""Charts as inline SVG. Each chart is drawn inside `_figure`, which fixes the style and
always closes the figure, so no pyplot state leaks between charts."""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LinearSegmentedColormap

TEAL = "#1F5F6B"
WARM = "#C8553D"
GREY = "#8A9A9E"
DIMENSION_COLOURS = ["#1F5F6B", "#E09F3E", "#7A4E8C", "#3C8D5A", "#B03A48", "#4A6FA5"]
PACE_MAP = LinearSegmentedColormap.from_list("pace", ["#B2402E", "#F3E3D3", "#F7F7F7", "#D5E8E4", "#1F6B5E"])
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#B8C4C8",
    "axes.labelcolor": "#333333",
    "xtick.color": "#444444",
    "ytick.color": "#222222",
    "svg.fonttype": "none",  # text stays text: searchable and sharp in the PDF
    # Labels are department names and situations typed by people: '$' is a dollar sign,
    # never mathtext (an unbalanced '$x' would crash the report, '$\\frac{a}{b}$' render as math)
    "text.parse_math": False,
    "text.usetex": False,
}


@contextmanager
def _figure(width: float, height: float) -> Iterator[tuple[plt.Figure, plt.Axes]]:
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(width, height))
        try:
            yield fig, ax
        finally:
            plt.close(fig)


def _svg(fig: plt.Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", transparent=True)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def partnership_map(groups: Sequence[str], index: Sequence[float | None], dimensions: dict[str, Sequence[float | None]],
                    left_label: str, right_label: str, index_label: str) -> str:
    """Each group on the traditional (0) <-> partnership (100) axis: a bar for the index,
    a marker per dimension."""
    height = 0.9 + 0.42 * len(groups)
    with _figure(7.2, height) as (fig, ax):
        y = np.arange(len(groups))[::-1]
        gradient = np.linspace(0, 1, 256).reshape(1, -1)
        ax.imshow(gradient, extent=(0, 100, -0.6, len(groups) - 0.4), aspect="auto", cmap=PACE_MAP, alpha=0.35,
                  zorder=0)
        values = [v if v is not None else math.nan for v in index]
        ax.barh(y, values, height=0.16, color=TEAL, zorder=2, label=index_label)
        for (name, series), colour, marker in zip(dimensions.items(), DIMENSION_COLOURS, "oDs^vP"):
            xs = [v if v is not None else math.nan for v in series]
            ax.scatter(xs, y, s=34, color=colour, marker=marker, zorder=3, label=name, edgecolors="white",
                       linewidths=0.6)
        for yi, value in zip(y, values):
            if not math.isnan(value):
                ax.text(min(value + 1.5, 97), yi + 0.22, f"{value:.0f}", fontsize=8, color=TEAL, weight="bold")
        ax.set_yticks(y, groups)
        ax.set_xlim(0, 100)
        ax.set_ylim(-0.6, len(groups) - 0.4)
        ax.axvline(50, color="#999999", lw=0.6, ls=":", zorder=1)
        ax.set_xticks([0, 25, 50, 75, 100])
        ax.set_xlabel(f"← {left_label}          {right_label} →")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18 - 0.3 / max(len(groups), 1)), ncol=3,
                  frameon=False, fontsize=8)
        return _svg(fig)


def pace_heatmap(situations: Sequence[str], groups: Sequence[str], balance: np.ndarray,
                 colour_label: str, hidden_label: str) -> str:
    """Situation x group: percentage points 'speeds me up' minus 'brakes me'."""
    with _figure(7.4, 1.4 + 0.46 * len(situations)) as (fig, ax):
        masked = np.ma.masked_invalid(balance)
        image = ax.imshow(masked, cmap=PACE_MAP, vmin=-60, vmax=60, aspect="auto")
        ax.set_xticks(range(len(groups)), [textwrap.fill(g, 12) for g in groups], rotation=0, fontsize=7.5)
        ax.xaxis.tick_top()
        ax.set_yticks(range(len(situations)), situations)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        for i in range(balance.shape[0]):
            for j in range(balance.shape[1]):
                value = balance[i, j]
                text = hidden_label if math.isnan(value) else f"{value:+.0f}"
                colour = "white" if not math.isnan(value) and abs(value) > 38 else "#222222"
                ax.text(j, i, text, ha="center", va="center", fontsize=9, color=colour)
        ax.set_xticks(np.arange(-0.5, len(groups)), minor=True)
        ax.set_yticks(np.arange(-0.5, len(situations)), minor=True)
        ax.grid(which="minor", color="white", linewidth=2)
        ax.tick_params(which="minor", length=0)
        bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
        bar.set_label(colour_label, fontsize=8)
        bar.outline.set_visible(False)
        return _svg(fig)


def stacked_shares(rows: Sequence[str], shares: dict[str, Sequence[float]], colours: Sequence[str]) -> str:
    """Horizontal 100% bars, e.g. who takes the initiative per situation."""
    with _figure(7.0, 0.8 + 0.36 * len(rows)) as (fig, ax):
        y = np.arange(len(rows))[::-1]
        left = np.zeros(len(rows))
        for (label, values), colour in zip(shares.items(), colours):
            widths = np.array(values, dtype=float) * 100
            ax.barh(y, widths, left=left, color=colour, height=0.62, label=label, edgecolor="white", linewidth=0.6)
            for yi, lo, w in zip(y, left, widths):
                if w >= 9:
                    ax.text(lo + w / 2, yi, f"{w:.0f}%", ha="center", va="center", fontsize=7.5, color="white")
            left += widths
        ax.set_yticks(y, rows)
        ax.set_xlim(0, 100)
        ax.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.6 / max(len(rows), 1)), ncol=len(shares),
                  frameon=False, fontsize=8)
        return _svg(fig)


def score_bars(groups: Sequence[str], values: Sequence[float], low: float, high: float, reference: float | None,
               reference_label: str) -> str:
    """One bar per group on a score scale (e.g. werkgeluk 1-10)."""
    with _figure(6.6, 0.6 + 0.34 * len(groups)) as (fig, ax):
        y = np.arange(len(groups))[::-1]
        ax.barh(y, values, color=TEAL, height=0.55)
        for yi, value in zip(y, values):
            ax.text(value + (high - low) * 0.01, yi, f"{value:.1f}", va="center", fontsize=8)
        if reference is not None:
            ax.axvline(reference, color=WARM, lw=1, ls="--", label=reference_label)
            ax.legend(frameon=False, fontsize=8, loc="lower right")
        ax.set_yticks(y, groups)
        ax.set_xlim(low, high)
        return _svg(fig)


def balance_bars(situations: Sequence[str], balances: Sequence[float | None], axis_label: str) -> str:
    """One department's pace map: per situation, sped up minus braked (percentage points)."""
    with _figure(1.6, 0.5 + 0.3 * len(situations)) as (fig, ax):
        y = np.arange(len(situations))[::-1]
        values = np.array([math.nan if v is None else v for v in balances], dtype=float)
        colours = [PACE_MAP(0.5 + max(-0.5, min(0.5, v / 120))) if not math.isnan(v) else "#DDDDDD" for v in values]
        ax.barh(y, np.nan_to_num(values), color=colours, height=0.6, edgecolor="#999999", linewidth=0.3)
        for yi, value in zip(y, values):
            label = "·" if math.isnan(value) else f"{value:+.0f}"
            ax.text(value + (3 if value >= 0 else -3) if not math.isnan(value) else 0, yi, label, va="center",
                    ha="left" if math.isnan(value) or value >= 0 else "right", fontsize=7)
        ax.axvline(0, color="#555555", lw=0.8)
        ax.set_yticks(y, [textwrap.fill(s, 26) for s in situations], fontsize=7.5, linespacing=1.0)
        ax.set_xlim(-100, 100)
        ax.set_xticks([-100, 0, 100])
        ax.tick_params(labelsize=7.5)
        ax.set_xlabel(axis_label, fontsize=7)
        return _svg(fig)


def priority_matrix(labels: Sequence[str], markers: Sequence[str], current: Sequence[float],
                    importance: Sequence[float], low: Sequence[float | None], high: Sequence[float | None],
                    current_split: float, importance_split: float, quadrants: tuple[str, str, str, str],
                    x_label: str, y_label: str, legend: dict[str, str]) -> str:
    """Importance (y, % of explained variance) against the current score (x, 0-100) per
    predictor: the 'what to work on first' view. Quadrants split at `current_split` and
    `importance_split`; `quadrants` are their labels (top left = important and low: work on
    first, top right, bottom left, bottom right). Every point carries its own label and a
    marker shape per kind (`markers`: 'o' or 's'), so nothing relies on colour alone; bars
    show the 95% interval of the importance. The x axis shows the part of 0-100 the points
    use (at least 40 points wide), so that close scores do not pile up."""
    x = np.array(current, dtype=float)
    y = np.array(importance, dtype=float)
    tops = [h if h is not None else v for h, v in zip(high, y)]
    y_max = max(importance_split * 2, max(tops, default=0) * 1.08, 10)
    x_lo = max(0.0, math.floor((min(x.min(initial=50), current_split) - 8) / 10) * 10)
    x_hi = min(100.0, math.ceil((max(x.max(initial=50), current_split) + 8) / 10) * 10)
    while x_hi - x_lo < 40:
        x_lo, x_hi = max(0.0, x_lo - 10), min(100.0, x_hi + 10)
    span = x_hi - x_lo
    with _figure(7.0, 4.8) as (fig, ax):
        ax.set_xlim(x_lo, x_hi)
        ax.set_ylim(0, y_max)
        ax.fill_between([x_lo, current_split], importance_split, y_max, color="#F6E3DC", zorder=0, linewidth=0)
        ax.axvline(current_split, color="#999999", lw=0.8, ls=":", zorder=1)
        ax.axhline(importance_split, color="#999999", lw=0.8, ls=":", zorder=1)
        pad = y_max * 0.03
        corner = dict(fontsize=8.5, color="#555555", zorder=1)
        ax.text(x_lo + span * 0.015, y_max - pad, quadrants[0], ha="left", va="top", weight="bold",
                **{**corner, "color": WARM})
        ax.text(x_hi - span * 0.015, y_max - pad, quadrants[1], ha="right", va="top", **corner)
        ax.text(x_lo + span * 0.015, pad, quadrants[2], ha="left", va="bottom", **corner)
        ax.text(x_hi - span * 0.015, pad, quadrants[3], ha="right", va="bottom", **corner)
        for xi, yi, lo, hi in zip(x, y, low, high):
            if lo is not None and hi is not None:
                ax.plot([xi, xi], [lo, hi], color="#B8C4C8", lw=1.2, zorder=2)
        for marker, name in legend.items():
            chosen = [i for i, mk in enumerate(markers) if mk == marker]
            if chosen:
                ax.scatter(x[chosen], y[chosen], marker=marker, s=42, color=TEAL if marker == "o" else "#E09F3E",
                           edgecolors="#222222", linewidths=0.6, zorder=3, label=name)
        width = span * 0.0125  # per character of the 8.5 pt corner labels
        corners = [(x_lo, x_lo + span * 0.015 + len(quadrants[0]) * width, y_max - pad * 2.2, y_max),
                   (x_hi - span * 0.015 - len(quadrants[1]) * width, x_hi, y_max - pad * 2.2, y_max),
                   (x_lo, x_lo + span * 0.015 + len(quadrants[2]) * width, 0, pad * 2.2),
                   (x_hi - span * 0.015 - len(quadrants[3]) * width, x_hi, 0, pad * 2.2)]
        _direct_labels(ax, x, y, labels, (x_lo, x_hi), y_max, corners)
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=len(legend), frameon=False, fontsize=8)
        return _svg(fig)


def _direct_labels(ax: plt.Axes, x: np.ndarray, y: np.ndarray, labels: Sequence[str], x_range: tuple[float, float],
                   y_max: float, obstacles: Sequence[tuple[float, float, float, float]] = ()) -> None:
    """A label beside every point: right of it, else left, else moved up or down a row with
    a thin line to its point. Boxes are estimated from the text length (8 pt, about 0.075 in
    per character on a 6 in wide plot area), so labels neither overlap each other nor the
    points."""
    span = x_range[1] - x_range[0]
    char, row, gap = span * 0.0118, y_max * 0.042, span * 0.018
    texts = [textwrap.shorten(t, 34, placeholder="…") for t in labels]
    boxes: list[tuple[float, float, float, float]] = [(xi - gap / 2, xi + gap / 2, yi - row / 3, yi + row / 3)
                                                      for xi, yi in zip(x, y)]  # the markers
    boxes += list(obstacles)

    def free(box: tuple[float, float, float, float]) -> bool:
        x0, x1, y0, y1 = box
        inside = x0 >= x_range[0] and x1 <= x_range[1] and y0 >= 0 and y1 <= y_max
        return inside and not any(x0 < b1 and b0 < x1 and y0 < c1 and c0 < y1 for b0, b1, c0, c1 in boxes)

    for i in np.argsort(-y):
        width = len(texts[i]) * char
        choice = None
        for shift in (0, 1, -1, 2, -2, 3, -3, 4, -4, 5, 6, 7, 8, 9, 10):
            for side in (1, -1):
                ly = y[i] + shift * row
                x0 = x[i] + gap if side == 1 else x[i] - gap - width
                box = (x0, x0 + width, ly - row / 2, ly + row / 2)
                if free(box):
                    choice = (side, ly, box)
                    break
            if choice:
                break
        if choice is None:  # crowded: right of the point, over whatever is there
            x0 = x[i] + gap
            choice = (1, y[i], (x0, x0 + width, y[i] - row / 2, y[i] + row / 2))
        side, ly, box = choice
        boxes.append(box)
        anchor = box[0] if side == 1 else box[1]
        if abs(ly - y[i]) > 1e-9:
            ax.plot([x[i], anchor], [y[i], ly], color="#8A9A9E", lw=0.5, zorder=3)
        ax.text(anchor, ly, texts[i], ha="left" if side == 1 else "right", va="center", fontsize=8,
                color="#222222", zorder=4)
