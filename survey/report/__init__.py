"""The report: analysis results -> one typed report model -> every output.

`build.py` builds the model once (sections in `tables.py`, `texts.py`, `measures.py`, sharing
`base.py`); `model.py` holds its types and `shown`, the one place a model value becomes text
in the language being rendered; `render.py` renders it to HTML and PDF; `outputs.py` writes
every output of one model (`write_outputs`: report, chart files, team sheets in
survey/teams.py, the deck in survey/deck.py), each rendering it with `shown`.
"""

from survey.report.base import ReportModelError
from survey.report.build import _Builder, build_report_model
from survey.report.model import (Cell, Chart, Counted, DepartmentPage, Drawing, DriverView, FigureRef, Named,
                                 ReportModel, Row, Sentence, SheetScore, SheetSituation, Table, Value, formatting,
                                 shown, walk)
from survey.report.outputs import ReportFiles, all_charts, write_chart_files, write_outputs
from survey.report.render import (RefusedResource, _pdf_resources, _scan_templates, _template_error, environment,
                                  inert_css, quiet_weasyprint, render_html, render_pdf, render_template,
                                  write_report)

__all__ = ["Cell", "Chart", "Counted", "DepartmentPage", "Drawing", "DriverView", "FigureRef", "Named",
           "RefusedResource", "ReportFiles", "ReportModel", "ReportModelError", "Row", "Sentence", "SheetScore",
           "SheetSituation", "Table", "Value", "_Builder", "_pdf_resources", "_scan_templates", "_template_error",
           "all_charts", "build_report_model", "environment", "formatting", "inert_css", "quiet_weasyprint",
           "render_html", "render_pdf", "render_template", "shown", "walk", "write_chart_files", "write_outputs", "write_report"]
