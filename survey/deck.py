"""The slide deck for the consultant's session (output/report.pptx, python-pptx): a title
slide, the summary, the key charts (partnership map, pace map, werkgeluk), one slide per
department the report shows (its headline figures and its pace chart; then, when it has
one, its change since the previous wave: what the report claims or why there is no
comparison) and the dialogue questions (Verbinden).

Rendered from the report model alone, every value through `report.shown`; the pictures are
the charts' PNGs (`Chart.png`, drawn in the report's language), each with the chart's title and sentence as
its alternative text. 16:9, body text at least 14 pt. Hidden departments are not in the
model's pages, so neither their names nor their figures can appear.
"""

from __future__ import annotations

import io
from pathlib import Path

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from survey.atomic import atomic_path
from survey.report import Chart, DepartmentPage, ReportModel, formatting, shown
from survey.report.change import CLAIMS
from survey.report.model import top_places

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)  # 16:9
MARGIN = Inches(0.6)
TEAL = RGBColor(0x1F, 0x5F, 0x6B)
WARM = RGBColor(0xA6, 0x36, 0x03)
INK = RGBColor(0x1D, 0x25, 0x28)
GREY = RGBColor(0x44, 0x44, 0x44)
SOFT = RGBColor(0xE4, 0xEE, 0xF0)
TITLE, BODY, SMALL = Pt(30), Pt(18), Pt(14)  # nothing on a slide is smaller than SMALL
SLIDE_PLACES = 2  # situations a department's slide lists as braking (helping) most


def write_deck(model: ReportModel, path: Path) -> Path:
    with formatting(model.lang):  # figures and chart pictures in the report's language
        deck = _Deck(model)
        deck.title_slide()
        deck.summary_slide()
        for chart in (model.partnership_chart, model.pace_chart, model.werkgeluk_chart):
            if chart is not None:
                deck.chart_slide(chart)
        if model.change is not None and model.change.organisation.table is not None:
            deck.change_slide()
        for page in model.departments:
            deck.department_slide(page)
            deck.department_change_slide(page)
        deck.dialogue_slide()
    with atomic_path(path) as partial:
        deck.prs.save(str(partial))
    return path


class _Deck:
    def __init__(self, model: ReportModel):
        self.m, self.w = model, model.words
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = WIDTH, HEIGHT
        self.prs.core_properties.title = f"{self.w['report_title']} – {model.organisation}"
        self.prs.core_properties.language = model.lang
        self.blank = self.prs.slide_layouts[6]

    # -- building blocks
    def slide(self, title: str | None = None, kicker: str | None = None):
        slide = self.prs.slides.add_slide(self.blank)
        bar = slide.shapes.add_shape(1, 0, 0, WIDTH, Inches(0.14))  # 1: rectangle
        bar.fill.solid()
        bar.fill.fore_color.rgb = TEAL
        bar.line.fill.background()
        top = Inches(0.35)
        if kicker:
            self.text(slide, [kicker], MARGIN, top, WIDTH - 2 * MARGIN, Inches(0.4), SMALL, colour=WARM, bold=True)
            top += Inches(0.38)
        if title:
            self.text(slide, [title], MARGIN, top, WIDTH - 2 * MARGIN, Inches(0.8), TITLE, colour=TEAL, bold=True)
        return slide

    def text(self, slide, lines: list[str], left, top, width, height, size, colour=INK, bold: bool = False,
             bullets: bool = False, align=PP_ALIGN.LEFT, spacing: int = 6):
        box = slide.shapes.add_textbox(left, top, width, height)
        frame = box.text_frame
        frame.word_wrap = True
        frame.margin_left = frame.margin_right = Inches(0.04)
        frame.vertical_anchor = MSO_ANCHOR.TOP
        for number, line in enumerate(lines):
            paragraph = frame.paragraphs[0] if number == 0 else frame.add_paragraph()
            paragraph.alignment = align
            paragraph.space_after = Pt(spacing)
            run = paragraph.add_run()
            run.text = ("• " if bullets else "") + line
            run.font.size, run.font.bold = size, bold
            run.font.color.rgb = colour
        return box

    def picture(self, slide, chart: Chart, left, top, width, height, alt: str | None = None):
        """The chart's PNG as large as fits the box (aspect kept), centred in it; its title and
        sentence are the picture's description (alternative text)."""
        from PIL import Image

        with Image.open(io.BytesIO(chart.png)) as image:
            pixels_w, pixels_h = image.size
        scale = min(width / pixels_w, height / pixels_h)
        w, h = Emu(int(pixels_w * scale)), Emu(int(pixels_h * scale))
        picture = slide.shapes.add_picture(io.BytesIO(chart.png), left + (width - w) // 2, top, w, h)
        properties = picture._element.nvPicPr.cNvPr
        properties.set("descr", alt or f"{shown(chart.title)}. {shown(chart.description)}")
        properties.set("title", shown(chart.title))
        return picture

    # -- slides
    def title_slide(self) -> None:
        m, w = self.m, self.w
        slide = self.slide()
        self.text(slide, [w["report_kicker"]], MARGIN, Inches(1.3), Inches(11), Inches(0.5), BODY, colour=WARM,
                  bold=True)
        self.text(slide, [w["report_title"]], MARGIN, Inches(1.9), Inches(11), Inches(1.2), Pt(44), colour=TEAL,
                  bold=True)
        self.text(slide, [f"{shown(m.organisation)} · {w['wave']} {shown(m.wave)}"], MARGIN, Inches(3.1),
                  Inches(11), Inches(0.6), Pt(22), colour=GREY)
        facts = [(shown(m.n_responses), w["responses_total"]), (shown(m.response_rate), w["response_rate"])]
        if m.headline_name:
            facts.append((shown(m.headline_mean), f"{shown(m.headline_name)} (0–100)"))
        left = MARGIN
        for value, label in facts:
            tile = slide.shapes.add_shape(1, left, Inches(4.1), Inches(3.6), Inches(1.5))
            tile.fill.solid()
            tile.fill.fore_color.rgb = SOFT
            tile.line.fill.background()
            self.text(slide, [value], left + Inches(0.2), Inches(4.2), Inches(3.2), Inches(0.7), Pt(36), colour=TEAL,
                      bold=True)
            self.text(slide, [label], left + Inches(0.2), Inches(4.95), Inches(3.2), Inches(0.6), SMALL)
            left += Inches(3.9)
        self.text(slide, [shown(m.response)], MARGIN, Inches(5.9), Inches(12), Inches(0.6), SMALL, colour=GREY)

    def summary_slide(self) -> None:
        if not self.m.summary:
            return
        slide = self.slide(self.w["summary"])
        lines = [shown(s) for s in self.m.summary]
        length = sum(len(line) for line in lines)
        size = BODY if length < 500 else Pt(16) if length < 800 else SMALL
        self.text(slide, lines, MARGIN, Inches(1.35), WIDTH - 2 * MARGIN, Inches(5.7), size, bullets=True,
                  spacing=10)

    def chart_slide(self, chart: Chart) -> None:
        slide = self.slide(shown(chart.title))
        description = shown(chart.description)
        # the picture starts under the whole sentence (about 110 characters a line at this size),
        # never over its last line
        lines = max(1, -(-len(description) // 110))
        height = Inches(0.3 * lines)
        self.text(slide, [description], MARGIN, Inches(1.15), WIDTH - 2 * MARGIN, height, SMALL, colour=GREY)
        top = Inches(1.15) + height + Inches(0.15)
        self.picture(slide, chart, MARGIN, top, WIDTH - 2 * MARGIN, HEIGHT - top - Inches(0.25))

    def department_slide(self, page: DepartmentPage) -> None:
        """Left: the headline figures as tiles (the department's value big, the organisation's
        under it), then where the organisation brakes and helps most; right: its pace chart."""
        w, m = self.w, self.m
        slide = self.slide(shown(page.name), kicker=w["per_department"])
        # 'no clear change since <wave>' beside the base; a change to tell gets its own slide
        unchanged = page.change.team_lines if self.change_on_own_slide(page) is False else []
        self.text(slide, [shown(page.base)], MARGIN, Inches(1.5), Inches(6.9 if unchanged else 12), Inches(0.45),
                  SMALL, colour=GREY)
        if unchanged:
            self.text(slide, [shown(line) for line in unchanged], Inches(7.7), Inches(1.5),
                      WIDTH - MARGIN - Inches(7.7), Inches(0.45), SMALL, colour=TEAL, bold=True,
                      align=PP_ALIGN.RIGHT)
        tiles = []
        since = page.change.team if page.change is not None else {}
        if page.index is not None:
            tiles.append((shown(m.headline_name), shown(page.index), w["team_scale"].format(low=0, high=100),
                          page.index_organisation, since.get("index")))
        tiles += [(shown(s.name), shown(s.value), w["team_scale"].format(low=shown(s.low), high=shown(s.high)),
                   s.organisation, since.get(s.id)) for s in page.scores]
        left, width = MARGIN, Inches(2.3)
        for name, value, scale, organisation, change in tiles[:3]:
            # a change phrase ('▲ clearly higher than in 2025') takes two more lines
            tile = slide.shapes.add_shape(1, left, Inches(2.05), width, Inches(2.5 if since else 1.95))
            tile.fill.solid()
            tile.fill.fore_color.rgb = SOFT
            tile.line.fill.background()
            # a name of two lines ('Happiness at work') still leaves the value its own room
            self.text(slide, [name], left + Inches(0.1), Inches(2.1), width - Inches(0.2), Inches(0.5), SMALL,
                      colour=TEAL, bold=True, spacing=0)
            self.text(slide, [value], left + Inches(0.1), Inches(2.62), width - Inches(0.2), Inches(0.6), Pt(30),
                      colour=TEAL, bold=True)
            lines = [scale] + ([w["team_organisation"].format(value=shown(organisation))]
                               if organisation is not None else []) + ([shown(change)] if change is not None else [])
            self.text(slide, lines, left + Inches(0.1), Inches(3.25), width - Inches(0.2),
                      Inches(1.2 if since else 0.7), SMALL, spacing=0)
            left += width + Inches(0.12)
        top = Inches(4.75 if since else 4.25)
        for heading, found, share, none in ((w["team_brakes"], page.brakes_most, w["team_brakes_share"],
                                             w["team_none_brakes"]),
                                            (w["team_helps"], page.helps_most, w["team_helps_share"],
                                             w["team_none_helps"])):
            self.text(slide, [heading], MARGIN, top, Inches(6.9), Inches(0.4), SMALL, colour=TEAL, bold=True)
            # the team sheet's list in two places, never cut between two of the same share
            items = [f"{shown(s.share)} {share}: {shown(s.name)}"
                     for s in top_places(found, SLIDE_PLACES)] or [none]
            self.text(slide, items, MARGIN, top + Inches(0.33), Inches(6.9), Inches(0.75), SMALL, bullets=True,
                      spacing=0)
            top += Inches(1.5)
        if page.pace_chart is not None:
            chart = page.pace_chart
            self.text(slide, [shown(chart.title)], Inches(8.0), Inches(2.05), Inches(4.9), Inches(0.4), SMALL, colour=TEAL,
                      bold=True)
            self.picture(slide, chart, Inches(8.0), Inches(2.5), Inches(4.9), HEIGHT - Inches(2.75),
                         alt=f"{shown(chart.title)} ({shown(page.name)}). {shown(chart.description)}")

    @staticmethod
    def change_on_own_slide(page: DepartmentPage) -> bool | None:
        """Whether the department's change since the previous wave gets a slide of its own:
        True for a claimed change or a reason why there is no comparison (or no comparison
        of a score), False for the one line 'no clear change' (on the department's slide; a
        renamed department's earlier name is then left to the report and the team sheet),
        None when nothing is said."""
        change = page.change
        if change is None or not (change.team_lines or change.left_out):
            return None
        return (any(line.kind != "renamed" for line in change.left_out)
                or any(line.key in CLAIMS for line in change.team_lines))

    def department_change_slide(self, page: DepartmentPage) -> None:
        """The department's change since the previous wave, in the report's sentences: every
        claimed change (scores and pace shares) and, in grey, why there is no comparison."""
        if not self.change_on_own_slide(page):
            return
        change = page.change
        slide = self.slide(shown(page.name), kicker=f"{self.w['per_department']} · "
                                                    f"{self.w['change_since'].format(wave=self.m.change.earlier_wave)}")
        lines = [shown(s) for s in change.team_lines]
        length = sum(len(line) for line in lines)
        size = Pt(22) if length < 550 else BODY if length < 800 else Pt(16) if length < 1100 else SMALL
        top = Inches(1.6)
        if lines:
            # a line holds about 1400 / size characters (70 at 20 pt), and each sentence its spacing
            height = Inches(size.pt / 52 * max(len(lines), -(-length * size.pt // 1400)) + 0.14 * len(lines))
            self.text(slide, lines, MARGIN, top, WIDTH - 2 * MARGIN, height, size, bullets=True, spacing=10)
            top += height + Inches(0.2)
        if change.left_out:
            self.text(slide, [shown(s) for s in change.left_out], MARGIN, top, WIDTH - 2 * MARGIN,
                      HEIGHT - top - Inches(0.3), SMALL, colour=GREY, spacing=6)

    def change_slide(self) -> None:
        """The organisation's change since the previous wave: its sentences, then the report's table."""
        change = self.m.change
        view = change.organisation
        slide = self.slide(self.w["change_slide"].format(wave=change.earlier_wave))
        lines = [shown(s) for s in view.sentences]
        self.text(slide, lines, MARGIN, Inches(1.2), WIDTH - 2 * MARGIN, Inches(1.6), SMALL, bullets=True, spacing=0)
        table = view.table
        rows, columns = len(table.rows) + 1, len(table.headers)
        top = Inches(2.9)
        frame = slide.shapes.add_table(rows, columns, MARGIN, top, WIDTH - 2 * MARGIN,
                                       min(HEIGHT - top - Inches(0.3), Inches(0.4) * rows))
        for column, header in enumerate(table.headers):
            frame.table.cell(0, column).text = shown(header)
        for number, row in enumerate(table.rows, start=1):
            for column, value in enumerate([row.label] + list(row.cells)):
                frame.table.cell(number, column).text = shown(value)
        for cell in (c for r in frame.table.rows for c in r.cells):
            for paragraph in cell.text_frame.paragraphs:
                for run in paragraph.runs:
                    run.font.size = SMALL

    def dialogue_slide(self) -> None:
        w = self.w
        slide = self.slide(w["dialogue"], kicker=w["connect"])
        self.text(slide, [w["connect_lead"]], MARGIN, Inches(1.6), WIDTH - 2 * MARGIN, Inches(0.5), SMALL,
                  colour=GREY)
        self.text(slide, [shown(q) for q in self.m.dialogue], MARGIN, Inches(2.3), WIDTH - 2 * MARGIN, Inches(4.8),
                  Pt(20), bullets=True, spacing=14)
