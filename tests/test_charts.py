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
