"""Paper forms: one print-ready PDF per issued form, and one print file per department.

A paper form is an issued form like any other (same issue record, same id); it is typed in
afterwards through an entry workbook (`survey.entry`). The PDF is made from the Jinja
template reports/templates/paper_form.html (a scan's templates/ folder may override it) in
the same sandbox, and by WeasyPrint with the same restricted URL fetcher, as the report:
nothing is ever fetched.

Every option is printed as a tick box; statements of one scale form a table whose header
(the answer labels) repeats on every page the table runs over, and a row never splits.
The form id is printed in groups of four (`formid.grouped`) on every page, with page numbers,
and as a QR code on page 1 (a typist's scanner types it into the entry workbook).

Speed: laying out a form takes WeasyPrint most of a second, and the forms of one department
and role differ only in their id. So the form is laid out once per department and role without
an id, the ids of a whole batch are laid out in one small document (paper_stamp.html: per form
its page 1 with the form-number box, and one page for all later pages), and each form's pages
are assembled with pypdf: a page draws the form's page and its stamp, both Form XObjects written
once per file. Nothing in either document's content is parsed or rewritten
(benchmarks/paper.py: about 17x faster than laying out every form whole).

A PDF goes beside its Excel form, under the same neutral name ("<title> - <department> - <role> <n>.pdf"):
the Excel form is found by the id inside it (the store keeps no file name), and a form whose
Excel file is no longer in forms/ (handed out) gets no PDF, so no id is out twice.
"""

from __future__ import annotations

import io
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
from survey.forms import handout_lines, slug
from survey.questionnaire import model as m
from survey.scan import Scan
from survey.store import IssuedForm, Store

PRINT_FOLDER = "print"


@dataclass
class PaperResult:
    forms: list[Path] = field(default_factory=list)  # one PDF per form written now
    print_files: list[Path] = field(default_factory=list)  # one per department
    without_excel: int = 0  # issued forms without a PDF whose Excel file is not in forms/ (handed out?)


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
            "intro": _text(scan, role, q.introduction, lang=lang), "sections": sections,
            # the same deadline, return route, contact and privacy text as the Excel form
            "handout": handout_lines(scan, lang), "privacy": w["form_privacy"].format(threshold=scan.anonymity_threshold)}


# -- rendering ---------------------------------------------------------------------------------

def _css_string(value: object) -> str:
    """A value as the inside of a CSS string in <style>: no quote, backslash, newline or '<'
    can end it."""
    text = " ".join(str(value).split())
    return "".join(c if c.isalnum() or c in " -.,:;()" else f"\\{ord(c):x} " for c in text)


def qr_code(form_id: str) -> str:
    """The form id as a QR code (an SVG data: URL): what a typist's scanner reads."""
    import segno

    return segno.make(form_id, error="m", micro=False).svg_data_uri(scale=4, border=0)


@dataclass
class _Base:
    """A form of one department and role laid out without an id, as a PDF."""

    reader: object  # pypdf.PdfReader
    pages: int


class _Renderer:
    def __init__(self, scan: Scan):
        from survey.report import _pdf_resources, environment, inert_css

        self.scan = scan
        self.env = environment(scan)  # the report's sandbox: the scan's templates/ first, then bundled ones
        self.env.filters["css_string"] = _css_string
        self.template = self.env.get_template("paper_form.html")
        self.stamp_template = self.env.get_template("paper_stamp.html")
        self.css = inert_css(self.env.loader.get_source(self.env, "paper_form.css")[0])  # type: ignore[union-attr]
        self.base_url, self.fetcher = _pdf_resources(scan)
        self.models: dict[tuple[str, str, str], dict] = {}
        self.bases: dict[tuple[str, str, str], _Base] = {}
        self.words: dict[str, dict] = {}

    def language(self, form: IssuedForm) -> str:
        return form.language or self.scan.language

    def wording(self, lang: str) -> dict:
        from survey.forms import form_words

        if lang not in self.words:
            self.words[lang] = form_words(self.scan, lang)
        return self.words[lang]

    def model(self, form: IssuedForm) -> dict:
        key = (form.department, form.role, self.language(form))
        if key not in self.models:
            self.models[key] = form_model(self.scan, form.department, form.role, self.language(form))
        return self.models[key]

    def html(self, form: IssuedForm, with_id: bool = True) -> str:
        return self.template.render(form=self.model(form), form_id=grouped(form.form_id) if with_id else "",
                                    qr=qr_code(form.form_id) if with_id else "",
                                    w=self.wording(self.language(form)), css=self.css)

    def _render(self, html: str):
        from weasyprint import HTML

        return HTML(string=html, base_url=self.base_url, url_fetcher=self.fetcher).render()

    def document(self, form: IssuedForm):
        """The whole form laid out in one go: the naive way, kept as the benchmark's reference."""
        return self._render(self.html(form))

    def base(self, form: IssuedForm) -> _Base:
        from pypdf import PdfReader

        key = (form.department, form.role, self.language(form))
        if key not in self.bases:
            document = self._render(self.html(form, with_id=False))
            self.bases[key] = _Base(PdfReader(io.BytesIO(document.write_pdf())), len(document.pages))
        return self.bases[key]

    def stamps(self, batch: list[IssuedForm]):
        """The ids of a batch in one document (a PdfReader): for each form its page 1, and one page
        for all its later pages."""
        from pypdf import PdfReader

        # page 1 (the form-number box) and, shared by all later pages, the id at the top right
        stamps = [{"form_id": grouped(f.form_id), "qr": qr_code(f.form_id), "pages": min(2, self.base(f).pages)}
                  for f in batch]
        lang = self.language(batch[0])  # a batch is one department in one language
        html = self.stamp_template.render(stamps=stamps, lang=lang, w=self.wording(lang), css=self.css)
        document = self._render(html)
        if len(document.pages) != sum(s["pages"] for s in stamps):  # a template override out of step
            raise ScanError("the paper form's id could not be placed on every page (paper_stamp.html makes "
                            f"{len(document.pages)} pages for {sum(s['pages'] for s in stamps)})",
                            fix="give each stamp its own page in DIR/templates/paper_stamp.html, or remove the "
                                "override")
        return PdfReader(io.BytesIO(document.write_pdf()))


class _Assembler:
    """Builds a PDF of pages that each draw a form page and a stamp page (both Form XObjects,
    written once per file however many pages draw them) (pypdf)."""

    def __init__(self, title: str):
        from pypdf import PdfWriter

        self.writer = PdfWriter()
        self.writer.add_metadata({"/Title": title, "/Creator": "survey"})  # never an id
        self.shared: dict[tuple[int, int], object] = {}

    def _xobject(self, reader, number: int):
        from pypdf.generic import NameObject, StreamObject

        key = (id(reader), number)
        if key not in self.shared:
            page = reader.pages[number]
            stream = StreamObject()
            stream.set_data(page.get_contents().get_data())
            stream = stream.flate_encode()
            stream.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                           NameObject("/BBox"): page.mediabox,
                           NameObject("/Resources"): page["/Resources"].clone(self.writer)})
            self.shared[key] = self.writer._add_object(stream)
        return self.shared[key]

    def add_form(self, base: _Base, stamps, first: int) -> None:
        """The form's pages: form page i under stamp page `first` (page 1) or `first + 1`."""
        from pypdf.generic import DictionaryObject, NameObject, StreamObject

        box = base.reader.pages[0].mediabox  # type: ignore[attr-defined]
        for number in range(base.pages):
            page = self.writer.add_blank_page(box.width, box.height)
            page[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): DictionaryObject({
                NameObject("/Form"): self._xobject(base.reader, number),
                NameObject("/Stamp"): self._xobject(stamps, first + min(number, 1))})})
            content = StreamObject()
            content.set_data(b"q /Form Do Q q /Stamp Do Q")
            page[NameObject("/Contents")] = self.writer._add_object(content)

    def blank(self, like: _Base) -> None:
        box = like.reader.pages[0].mediabox  # type: ignore[attr-defined]
        self.writer.add_blank_page(box.width, box.height)

    def write(self, path: Path) -> None:
        with atomic_path(path) as partial, open(partial, "wb") as out:
            self.writer.write(out)


def pdf_path(excel: Path) -> Path:
    """Beside the form's Excel file, under the same neutral name."""
    return excel.with_suffix(".pdf")


def excel_forms(folders: list[Path]) -> dict[str, Path]:
    """The form id inside every Excel form in these folders (file names carry no id)."""
    from survey.collect import form_id_in

    found: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.xlsx")) if folder.is_dir() else []:
            form_id = form_id_in(path)
            if form_id:
                found.setdefault(form_id, path)
    return found


PRINT_BATCH = 50  # forms per print file: a print room's job, and bounded memory while rendering
PARALLEL_FROM = 8  # forms; below this, starting worker processes costs more than it saves


def write_paper_forms(scan: Scan, out: Path | None = None,
                      progress: Callable[[Iterator[Path]], Iterator[Path]] | None = None) -> PaperResult:
    """A PDF for every issued form of this wave that never had one and whose Excel form is
    still in forms/, and for each department print files (at most PRINT_BATCH forms each)
    with the forms written now, for the print room. Departments are rendered in parallel
    when there are many forms."""
    folder = out or scan.forms_dir
    with Store(scan.store_path) as store:
        forms = [f for f in store.issued() if f.wave == scan.wave and f.paper_at is None
                 and not f.folder.startswith("codes:")]
        excel = excel_forms(sorted({folder / f.folder for f in forms}))
        had_pdf = [f.form_id for f in forms if f.form_id in excel and pdf_path(excel[f.form_id]).exists()]
        store.mark_paper(had_pdf)  # from before the store recorded it
    result = PaperResult()
    todo = [(f, pdf_path(excel[f.form_id])) for f in forms if f.form_id in excel and f.form_id not in had_pdf]
    result.without_excel = sum(1 for f in forms if f.form_id not in excel)
    if not todo:
        return result
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    jobs: list[tuple[str, list[tuple[IssuedForm, Path]]]] = []
    by_department: dict[tuple[str, str], list[tuple[IssuedForm, Path]]] = {}
    for form, path in todo:
        by_department.setdefault((form.department, form.language or scan.language), []).append((form, path))
    for (department, lang), group in by_department.items():
        batches = [group[i:i + PRINT_BATCH] for i in range(0, len(group), PRINT_BATCH)]
        for number, batch in enumerate(batches, start=1):
            name = (slug(department) + ("" if lang == scan.language else f"-{lang}") + f"-{stamp}"
                    + (f"-{number}" if len(batches) > 1 else ""))
            jobs.append((name, batch))
    forms_by_path = {path: form.form_id for form, path in todo}

    def written() -> Iterator[Path]:
        for paths, _ in _run_jobs(scan, folder, jobs):
            with Store(scan.store_path) as store:
                store.mark_paper([forms_by_path[p] for p in paths])
            yield from paths

    for path in progress(written()) if progress is not None else written():
        result.forms.append(path)
    result.print_files.extend(folder / PRINT_FOLDER / f"{name}.pdf" for name, _ in jobs)
    return result


Job = tuple[str, list[tuple[IssuedForm, Path]]]


def _run_jobs(scan: Scan, folder: Path, jobs: list[Job]) -> Iterator[tuple[list[Path], Path]]:
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


def _batch_in_worker(folder: Path, name: str, batch: list[tuple[IssuedForm, Path]]) -> tuple[list[Path], Path]:
    return _write_batch(_WORKER["renderer"], folder, name, batch)


def _renderer(scan: Scan) -> _Renderer:
    try:
        return _Renderer(scan)
    except OSError as exc:  # Pango missing
        raise ScanError(f"the paper forms cannot be made: {exc}",
                        fix="install Pango (Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0)") from None


def _write_batch(renderer: _Renderer, folder: Path, name: str,
                 batch: list[tuple[IssuedForm, Path]]) -> tuple[list[Path], Path]:
    """Each form's PDF beside its Excel form, then the batch's print file (all their pages)."""
    logger = logging.getLogger("weasyprint")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        forms = [form for form, _ in batch]
        stamps = renderer.stamps(forms)
        title = renderer.scan.questionnaire.title[renderer.scan.language]
        printed = _Assembler(title)
        first, paths = 0, []
        for form, target in batch:
            base = renderer.base(form)
            single = _Assembler(title)
            single.add_form(base, stamps, first)
            single.write(target)
            printed.add_form(base, stamps, first)
            if base.pages % 2:  # every form starts on a new sheet when printed double-sided
                printed.blank(base)
            first += min(2, base.pages)
            paths.append(target)
        target = folder / PRINT_FOLDER / f"{name}.pdf"
        target.parent.mkdir(parents=True, exist_ok=True)
        printed.write(target)
    finally:
        logger.setLevel(level)
    return paths, target
