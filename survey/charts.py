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
