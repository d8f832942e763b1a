"""The report: analysis results -> one typed report model -> every output.

`build.py` builds the model once (sections in `tables.py`, `texts.py`, `measures.py`, sharing
`base.py`); `model.py` holds its types and `shown`, the one place a model value becomes text
in the language being rendered; `render.py` renders it to HTML and PDF. New outputs (team
sheets, deck, chart files) render the same model with `shown`.
"""

from survey.report.base import ReportModelError
from survey.report.build import _Builder, build_report_model
from survey.report.model import (Cell, Chart, Counted, DepartmentPage, Drawing, DriverView, FigureRef, Named,
                                 ReportModel, Row, Sentence, Table, Value, formatting, shown, walk)
from survey.report.render import (RefusedResource, _pdf_resources, _scan_templates, environment, inert_css,
                                  render_html, write_report)

__all__ = ["Cell", "Chart", "Counted", "DepartmentPage", "Drawing", "DriverView", "FigureRef", "Named",
           "RefusedResource", "ReportModel", "ReportModelError", "Row", "Sentence", "Table", "Value", "_Builder",
           "_pdf_resources", "_scan_templates", "build_report_model", "environment", "formatting", "inert_css",
           "render_html", "shown", "walk", "write_report"]
