"""Charts readable by everyone: colours told apart under simulated deuteranopia and
protanopia, text on every coloured area at WCAG AA contrast, labels broken only at spaces,
and the theme's text colours at AA contrast too."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from survey import charts
from survey.resources import reports_dir

colorspacious = pytest.importorskip("colorspacious")

# CAM02-UCS distance two colours keep under a simulated colour vision deficiency. About 1 is
# "just noticeable"; 20 is well apart at marker and bar size (Okabe-Ito's neighbours keep 20-60).
MIN_DISTANCE = 20.0
SIMULATIONS = ("deuteranomaly", "protanomaly")  # at severity 100: deuteranopia, protanopia


def simulated(colour: str, kind: str) -> np.ndarray:
    from matplotlib.colors import to_rgb

    rgb = colorspacious.cspace_convert(np.array(to_rgb(colour)), {"name": "sRGB1+CVD", "cvd_type": kind,
                                                                   "severity": 100}, "sRGB1")
    return np.clip(rgb, 0, 1)


@pytest.mark.parametrize("name, palette", [
    ("dimension markers", charts.DIMENSION_COLOURS),
    ("initiative shares", charts.INITIATIVE_COLOURS),
    ("pace map ends", list(charts.PACE_ENDS)),
])
def test_palette_colours_stay_apart_for_colour_blind_readers(name, palette):
    for a, b in itertools.combinations(palette, 2):
        for kind in SIMULATIONS:
            distance = colorspacious.deltaE(simulated(a, kind), simulated(b, kind), input_space="sRGB1")
            assert distance >= MIN_DISTANCE, f"{name}: {a} and {b} are {distance:.1f} apart under {kind}"


def test_text_on_every_chart_colour_reaches_wcag_aa():
    fills = (charts.INITIATIVE_COLOURS + [charts.TEAL, charts.HIDDEN_FILL]
             + [charts.PACE_MAP(x) for x in np.linspace(0, 1, 41)])
    for fill in fills:
        assert charts.contrast(charts.ink_on(fill), fill) >= 4.5, fill
    # the text beside bars, on the page
    for colour in (charts.INK, charts.WARM, charts.TEAL):
        assert charts.contrast(colour, "#FFFFFF") >= 4.5, colour


def test_labels_wrap_between_words_only():
    assert charts.wrap("Wijkverpleging Noord", 12) == "Wijkverpleging\nNoord"
    assert charts.wrap("Het functionerings- of beoordelingsgesprek", 22) == "Het functionerings- of\nbeoordelingsgesprek"


def test_theme_text_colours_reach_wcag_aa():
    """Every text colour in theme.css against its own background, or white and the tile colour."""
    css = (reports_dir() / "templates" / "theme.css").read_text(encoding="utf-8")
    variables = dict(re.findall(r"--([\w-]+):\s*(#[0-9A-Fa-f]{3,6})", css))
    resolve = lambda v: variables.get(v[6:-1], v) if v.startswith("var(") else ("#FFFFFF" if v == "#fff" else v)
    checked = 0
    for rule in re.findall(r"\{([^{}]*)\}", css):
        colour = re.search(r"(?<![-\w])color:\s*(var\([\w-]+\)|#[0-9A-Fa-f]{3,6})", rule)
        if not colour:
            continue
        background = re.search(r"background(?:-color)?:\s*(var\([\w-]+\)|#[0-9A-Fa-f]{3,6})", rule)
        grounds = [resolve(background.group(1))] if background else ["#FFFFFF", variables["soft"]]
        for ground in grounds:
            assert charts.contrast(resolve(colour.group(1)), ground) >= 4.5, (rule.strip()[:60], ground)
            checked += 1
    assert checked >= 10


# --------------------------------------------------------------------------- what a reader sees, as drawn


@pytest.fixture
def drawn(monkeypatch):
    """Every figure a chart function draws, kept open after it is saved (the real `_svg` runs)."""
    figures = []
    save = charts._svg

    def keep(fig):
        picture = save(fig)
        figures.append((fig, picture))
        return picture

    close = charts.plt.close
    monkeypatch.setattr(charts, "_svg", keep)
    monkeypatch.setattr(charts.plt, "close", lambda fig=None: None)
    yield figures
    for fig, _ in figures:
        close(fig)


def png_pixels(png: bytes) -> np.ndarray:
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def test_values_on_hatched_initiative_bars_have_plain_room_around_them(drawn):
    # a value written on a hatched bar must not have hatch lines through or against it: in a
    # ring of 2 pt around its text the PNG shows only the plain colour of its bar
    from matplotlib.colors import to_rgb

    shares = {"self": [0.28, 0.24, 0.22], "together": [0.27, 0.26, 0.29], "manager": [0.23, 0.31, 0.23],
              "organisation": [0.22, 0.19, 0.26]}
    dpi = 200
    with charts.raster(dpi):
        picture = charts.stacked_shares(["Planning talk", "Progress talk", "Course"], shares)
    fig, _ = drawn[-1]
    pixels = png_pixels(picture.png)
    renderer = fig.canvas.get_renderer()
    scale = dpi / fig.dpi
    ring = 2.0 / 72 * dpi  # 2 pt in pixels
    checked = 0
    for text in fig.axes[0].texts:
        if text.get_bbox_patch() is None:
            continue  # on a plain bar: nothing runs through it
        box = text.get_window_extent(renderer)
        fill = np.array(to_rgb(text.get_bbox_patch().get_facecolor())) * 255
        x0, x1 = box.x0 * scale, box.x1 * scale
        top, bottom = pixels.shape[0] - box.y1 * scale, pixels.shape[0] - box.y0 * scale
        rows = np.arange(int(top - ring), int(bottom + ring) + 1)
        cols = np.arange(int(x0 - ring), int(x1 + ring) + 1)
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        outside = (rr < top - 1) | (rr > bottom + 1) | (cc < x0 - 1) | (cc > x1 + 1)
        around = pixels[rr[outside], cc[outside]]
        off = np.abs(around - fill).max(axis=1)
        assert (off <= 12).mean() >= 0.99, (text.get_text(), int((off > 12).sum()))
        checked += 1
    assert checked == 6  # the two hatched options of three situations


# two departments' drivers of the demo: points piled up near 0 and one far above the rest
CROWDED = [
    dict(labels=["Werkdruk en rooster", "Eigen doelen stellen", "Een opleiding of cursus aanvragen",
                 "Het functionerings- of beoordelingsgesprek", "Het planningsgesprek", "Nieuwe taken oppakken",
                 "Vraaggestuurd leidinggeven", "Een voortgangsgesprek of bila", "Wie is er verantwoordelijk?",
                 "Wie trekt de kar?", "Wie bepaalt het tempo?", "Een volgende stap in de loopbaan of een andere functie"],
         markers=list("sssssososoos"), current=[22.6, 42.9, 36.7, 50.0, 30.6, 44.4, 33.8, 48.4, 26.5, 25.1, 25.2, 23.4],
         importance=[27.4, 21.0, 13.8, 9.1, 7.1, 7.1, 5.2, 3.1, 2.5, 1.6, 1.2, 1.1],
         low=[3.1, 1.0, 0.7, 0.9, 0.7, 0.7, 0.5, 0.5, 0.3, 0.8, 0.5, 0.5],
         high=[50.9, 41.6, 35.5, 29.5, 21.0, 24.5, 25.2, 19.1, 15.0, 14.4, 14.0, 21.1],
         current_split=34.14, importance_split=8.33),
    dict(labels=["Een volgende stap in de loopbaan of een andere functie", "Eigen doelen stellen",
                 "Een opleiding of cursus aanvragen", "Wie bepaalt het tempo?", "Een voortgangsgesprek of bila",
                 "Nieuwe taken oppakken", "Het planningsgesprek", "Wie trekt de kar?",
                 "Het functionerings- of beoordelingsgesprek", "Werkdruk en rooster", "Vraaggestuurd leidinggeven",
                 "Wie is er verantwoordelijk?"],
         markers=list("sssossssssoo"), current=[23.4, 42.9, 36.7, 25.2, 48.4, 44.4, 30.6, 25.1, 50.0, 22.6, 33.8, 26.5],
         importance=[63.7, 12.8, 6.1, 5.9, 4.5, 3.9, 0.9, 0.8, 0.8, 0.5, 0.2, 0.1],
         low=[11.4, 0.6, 0.4, 0.4, 0.4, 0.9, 0.5, 0.4, 0.4, 0.4, 0.3, 0.2],
         high=[71.9, 34.9, 23.7, 26.4, 19.3, 20.3, 11.7, 11.7, 11.3, 8.2, 12.0, 9.3],
         current_split=34.14, importance_split=8.33),
]
QUADRANTS = {"nl": ("Eerst aanpakken", "Belangrijk, gaat goed: vasthouden", "Minder belangrijk, lager",
                    "Minder belangrijk, gaat goed"),
             "en": ("Work on first", "Important, going well: keep it up", "Less important, lower",
                    "Less important, going well")}


@pytest.mark.parametrize("case, lang", [(0, "nl"), (1, "en")])
def test_priority_matrix_labels_clear_markers_quadrant_names_and_each_other(drawn, case, lang):
    import textwrap

    from matplotlib.colors import to_hex

    data = CROWDED[case]
    quadrants = QUADRANTS[lang]
    charts.priority_matrix(**data, quadrants=quadrants, x_label="Score", y_label="Importance",
                           legend={"o": "Part", "s": "Situation"})
    fig, _ = drawn[-1]
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    pt = fig.dpi / 72
    names = {textwrap.shorten(t, 34, placeholder="…") for t in data["labels"]}

    def box(text):
        b = text.get_window_extent(renderer)
        return b.x0, b.x1, b.y0, b.y1

    labels = [box(t) for t in ax.texts if t.get_text() in names]
    corners = [box(t) for t in ax.texts if t.get_text() in quadrants]
    assert len(labels) == len(data["labels"]) and len(corners) == 4
    centres = ax.transData.transform(np.column_stack([data["current"], data["importance"]]))
    r = np.sqrt(42) / 2 * pt  # the marker's radius (its area is 42 pt²)
    markers = [(cx - r, cx + r, cy - r, cy + r) for cx, cy in centres]

    def overlap(a, b):
        return a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]

    for a, b in itertools.combinations(labels + corners, 2):
        assert not overlap(a, b), (a, b)
    for a in labels + corners:
        assert not any(overlap(a, m) for m in markers), a  # no marker on a label or a quadrant's name
    area = ax.get_window_extent(renderer)
    assert all(area.x0 <= a[0] and a[1] <= area.x1 and area.y0 <= a[2] and a[3] <= area.y1 for a in labels)
    # leader lines: the thin lines that are neither interval bars nor the dotted splits
    leaders = [ax.transData.transform(line.get_xydata()) for line in ax.lines
               if to_hex(line.get_color()) not in ("#b8c4c8", "#999999") and len(line.get_xydata()) == 2]

    def crosses(p, q, s, t):
        def side(a, b, c):
            return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
        return side(s, t, p) * side(s, t, q) < 0 and side(p, q, s) * side(p, q, t) < 0

    for (p, q), (s, t) in itertools.combinations(leaders, 2):
        assert not crosses(p, q, s, t), "two leader lines cross"
    for p, q in leaders:  # a leader ends at its own label and runs through no other
        for a in labels:
            inner = (a[0] + 1, a[1] - 1, a[2] + 1, a[3] - 1)
            edges = [((inner[0], inner[2]), (inner[1], inner[3])), ((inner[0], inner[3]), (inner[1], inner[2]))]
            assert not any(crosses(p, q, s, t) for s, t in edges), "a leader line runs through a label"


def test_the_same_chart_gives_the_same_file():
    # a chart file carries no time of drawing: the same figures give the same bytes, so a
    # consultant can see which charts changed between two runs
    args = dict(groups=["A", "Whole organisation"], waves=["2024", "2025", "2026"],
                values=[[40.0, 45.0, 50.0], [42.0, 44.0, 47.0]], lows=[[None, 40.0, 45.0], [None, 41.0, 44.0]],
                highs=[[None, 50.0, 55.0], [None, 47.0, 50.0]],
                point_waves=[["2024", "2025", "2026"], ["2024", "2025", "2026"]], digits=0, bounds=(0.0, 100.0))
    first = charts.trend_lines(**args).svg
    assert "<dc:date>" not in first
    assert charts.trend_lines(**args).svg == first
