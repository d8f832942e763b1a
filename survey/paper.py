"""Paper forms: one print-ready PDF per issued form, and one print file per department.

A paper form is an issued form like any other (same issue record, same id); it is typed in
afterwards through an entry workbook (`survey.entry`). The PDF is made from the Jinja
template reports/templates/paper_form.html (a scan's templates/ folder may override it) in
the same sandbox, and by WeasyPrint with the same restricted URL fetcher, as the report:
nothing is ever fetched.

Every option is printed as a tick box; statements of one scale form a table whose header
(the answer labels) repeats on every page the table runs over, and a row never splits.
The form id is printed in groups of four (`formid.grouped`) on every page, with page numbers.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from survey.atomic import atomic_path
from survey.errors import ScanError
from survey.formid import grouped
from survey.forms import slug
from survey.questionnaire import model as m
from survey.scan import Scan
from survey.store import IssuedForm, Store

PRINT_FOLDER = "print"


@dataclass
class PaperResult:
    forms: list[Path] = field(default_factory=list)  # one PDF per form written now
    print_files: list[Path] = field(default_factory=list)  # one per department


# -- the model the template renders ----------------------------------------------------------

def _text(scan: Scan, role: str, value: m.Text | None, manager_value: m.Text | None = None,
          lang: str | None = None) -> str:
    chosen = manager_value if (role == "manager" and manager_value) else value
    return chosen[lang or scan.language].replace("{threshold}", str(scan.anonymity_threshold)) if chosen else ""


def _options(scan: Scan, scale: m.Scale, role: str, lang: str | None = None) -> list[str]:
    """Every answer as printed: the same labels (and order) as the Excel form's list."""
    lang, manager = lang or scan.language, role == "manager"
    return [str(label) for label in scale.answer_labels(lang, manager)]


def _anchors(scan: Scan, scale: m.Scale, lang: str | None = None) -> str:
    if scale.kind is not m.ScaleKind.score or not scale.anchors:
        return ""
    return ", ".join(f"{value} = {text[lang or scan.language]}" for value, text in sorted(scale.anchors.items()))


def form_model(scan: Scan, department: str, role: str, lang: str | None = None) -> dict:
    """What a paper form of this department, role and language shows (without its id)."""
    from survey.forms import form_words

    lang = lang or scan.language
    q, w = scan.form_questionnaire(lang), form_words(scan, lang)
    number = 0
    sections = []
    for section in q.sections:
        blocks: list[dict] = []
        for item in section.items:
            number += 1
            text = _text(scan, role, item.text, item.manager_text, lang)
            help_text = (item.help.get(lang) or "") if item.help else ""
            if isinstance(item, (m.StatementItem, m.ScoreItem)):
                scale = q.scales[item.scale]
                options = _options(scan, scale, role, lang)
                last = blocks[-1] if blocks else None
                if not (last and last["kind"] == "table" and last["scale"] == item.scale):
                    last = {"kind": "table", "scale": item.scale, "options": options, "anchors": _anchors(scan, scale, lang),
                            "head": w["statement"] if isinstance(item, m.StatementItem) else w["question"],
                            "groups": [], "sub": False}
                    blocks.append(last)
                if item.desired:
                    last["sub"] = True
                    last["groups"].append([{"number": number, "text": text, "sub": w["paper_now"], "help": help_text},
                                           {"number": None, "text": "", "sub": w["paper_desired"], "help": ""}])
                else:
                    last["groups"].append([{"number": number, "text": text, "sub": "", "help": help_text}])
            elif isinstance(item, m.ChoiceItem):
                multi = item.type != "single_choice"
                blocks.append({"kind": "choice", "number": number, "text": text, "multi": multi, "help": help_text,
                               "hint": w["paper_tick_all"] if multi else "",
                               "options": _options(scan, q.scales[item.scale], role, lang) if not multi else
                               [o.text(lang, role == "manager") for o in q.scales[item.scale].options]})
            elif isinstance(item, m.OpenItem):
                blocks.append({"kind": "open", "number": number, "text": text, "help": help_text})
            elif isinstance(item, m.SituationGrid):
                manager = role == "manager"
                situations = [{"text": _text(scan, role, s.text, s.manager_text, lang),
                               "help": (s.help.get(lang) or "") if s.help else ""}
                              for s in item.situations]
                blocks.append({"kind": "grid", "number": number, "text": text, "situations": situations,
                               "help": help_text,
                               "head": w["situation"], "parts": [
                                   {"title": w["grid_initiative"],
                                    "options": _options(scan, q.scales[item.initiative_scale], role, lang)},
                                   {"title": w["grid_effect_manager"] if manager else w["grid_effect"],
                                    "options": _options(scan, q.scales[item.effect_scale], role, lang)}]})
        sections.append({"title": section.title[lang], "intro": _text(scan, role, section.intro, section.manager_intro, lang),
                         "blocks": blocks})
    background = [b for b in q.background if b.source == "respondent"]
    if background:
        blocks = []
        for question in background:
            number += 1
            blocks.append({"kind": "choice", "number": number, "text": question.text[lang], "multi": False, "hint": "",
                           "help": "",
                           "options": _options(scan, q.scales[question.scale], role, lang)})
        sections.append({"title": w["about_you"], "intro": w["about_you_intro"], "blocks": blocks})
    from survey.forms import right_to_left

    return {"lang": lang, "dir": "rtl" if right_to_left(lang) else "ltr", "title": q.title[lang], "organisation": scan.organisation, "department": department,
            "role": w["role_manager"] if role == "manager" else w["role_employee"],
            "intro": _text(scan, role, q.introduction, lang=lang), "sections": sections}


# -- rendering ---------------------------------------------------------------------------------

def _css_string(value: object) -> str:
    """A value as the inside of a CSS string in <style>: no quote, backslash, newline or '<'
    can end it."""
    text = " ".join(str(value).split())
    return "".join(c if c.isalnum() or c in " -.,:;()" else f"\\{ord(c):x} " for c in text)


class _Renderer:
    def __init__(self, scan: Scan):
        from survey.report import _pdf_resources, environment, inert_css

        self.scan = scan
        self.env = environment(scan)  # the report's sandbox: the scan's templates/ first, then bundled ones
        self.env.filters["css_string"] = _css_string
        self.template = self.env.get_template("paper_form.html")
        self.css = inert_css(self.env.loader.get_source(self.env, "paper_form.css")[0])  # type: ignore[union-attr]
        self.base_url, self.fetcher = _pdf_resources(scan)
        self.models: dict[tuple[str, str, str], dict] = {}
        self._blank = None

    def html(self, form: IssuedForm) -> str:
        from survey.forms import form_words

        lang = form.language or self.scan.language
        key = (form.department, form.role, lang)
        if key not in self.models:
            self.models[key] = form_model(self.scan, form.department, form.role, lang)
        return self.template.render(form=self.models[key], form_id=grouped(form.form_id),
                                    w=form_words(self.scan, lang), css=self.css)

    def blank(self):
        """An empty A4 page: the back of a form with an odd number of pages in a print file."""
        from weasyprint import HTML

        if self._blank is None:
            self._blank = HTML(string="<style>@page { size: A4 }</style><p></p>", url_fetcher=self.fetcher).render()
        return self._blank

    def document(self, form: IssuedForm):
        from weasyprint import HTML

        return HTML(string=self.html(form), base_url=self.base_url, url_fetcher=self.fetcher).render()


def pdf_path(folder: Path, form: IssuedForm) -> Path:
    """Beside the form's Excel file: forms/<department>/<id>.pdf."""
    relative = Path(form.file) if form.file else Path(slug(form.department)) / f"{form.form_id}.xlsx"
    return folder / relative.with_suffix(".pdf")


PRINT_BATCH = 50  # forms per print file: a print room's job, and bounded memory while rendering
PARALLEL_FROM = 8  # forms; below this, starting worker processes costs more than it saves


def write_paper_forms(scan: Scan, out: Path | None = None,
                      progress: Callable[[Iterator[Path]], Iterator[Path]] | None = None) -> PaperResult:
    """A PDF for every issued form of this wave that has none yet, and for each department
    print files (at most PRINT_BATCH forms each) with the forms written now, for the print
    room. Departments are rendered in parallel when there are many forms."""
    folder = out or scan.forms_dir
    with Store(scan.store_path) as store:
        forms = [f for f in store.issued() if f.wave == scan.wave]
    todo = [f for f in forms if not pdf_path(folder, f).exists()]
    result = PaperResult()
    if not todo:
        return result
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    jobs: list[tuple[str, list[IssuedForm]]] = []
    by_department: dict[str, list[IssuedForm]] = {}
    for form in todo:
        by_department.setdefault(form.department, []).append(form)
    for department, group in by_department.items():
        batches = [group[i:i + PRINT_BATCH] for i in range(0, len(group), PRINT_BATCH)]
        for number, batch in enumerate(batches, start=1):
            name = slug(department) + f"-{stamp}" + (f"-{number}" if len(batches) > 1 else "")
            jobs.append((name, batch))
    done = _run_jobs(scan, folder, jobs)
    iterator: Iterator[Path] = (path for paths, _ in done for path in paths)
    for path in progress(iterator) if progress is not None else iterator:
        result.forms.append(path)
    result.print_files.extend(folder / PRINT_FOLDER / f"{name}.pdf" for name, _ in jobs)
    return result


def _run_jobs(scan: Scan, folder: Path, jobs: list[tuple[str, list[IssuedForm]]]) -> Iterator[tuple[list[Path], Path]]:
    if sum(len(batch) for _, batch in jobs) < PARALLEL_FROM or len(jobs) < 2:
        renderer = _renderer(scan)
        for name, batch in jobs:
            yield _write_batch(renderer, folder, name, batch)
        return
    workers = min(len(jobs), os.cpu_count() or 1)
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(scan.folder,)) as pool:
        futures = [pool.submit(_batch_in_worker, folder, name, batch) for name, batch in jobs]
        for future in as_completed(futures):
            yield future.result()


_WORKER: dict[str, _Renderer] = {}


def _init_worker(scan_folder: Path) -> None:
    from survey.scan import load_scan

    _WORKER["renderer"] = _renderer(load_scan(scan_folder))


def _batch_in_worker(folder: Path, name: str, batch: list[IssuedForm]) -> tuple[list[Path], Path]:
    return _write_batch(_WORKER["renderer"], folder, name, batch)


def _renderer(scan: Scan) -> _Renderer:
    try:
        return _Renderer(scan)
    except OSError as exc:  # Pango missing
        raise ScanError(f"the paper forms cannot be made: {exc}",
                        fix="install Pango (Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0)") from None


def _write_batch(renderer: _Renderer, folder: Path, name: str, batch: list[IssuedForm]) -> tuple[list[Path], Path]:
    """Each form's PDF beside its Excel form, then the batch's print file (all their pages)."""
    logger = logging.getLogger("weasyprint")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        documents, paths = [], []
        for form in batch:
            document = renderer.document(form)
            target = pdf_path(folder, form)
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as partial:
                document.write_pdf(partial)
            documents.append(document)
            paths.append(target)
        target = folder / PRINT_FOLDER / f"{name}.pdf"
        target.parent.mkdir(parents=True, exist_ok=True)
        pages = []
        for document in documents:  # every form starts on a new sheet when printed double-sided
            pages.extend(document.pages)
            if len(document.pages) % 2:
                pages.extend(renderer.blank().pages)
        with atomic_path(target) as partial:
            documents[0].copy(pages).write_pdf(partial)
    finally:
        logger.setLevel(level)
    return paths, target
