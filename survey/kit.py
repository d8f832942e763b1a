"""The HR kit: what HR needs to hand out forms and chase them, in the scan's language.

`output/kit/` gets an invitation, a reminder and a short guide for managers (plain text, to
paste into an e-mail or print) and a poster (PDF). They carry the deadline, the return route
and the contact person from scan.yaml, and say truthfully who sees what.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from survey.atomic import atomic_path, write_text_atomic
from survey.i18n import long_date
from survey.resources import reports_dir
from survey.scan import Scan

TEXTS = ("invitation", "reminder", "managers")


@dataclass(frozen=True)
class KitResult:
    folder: Path
    files: list[Path]
    missing: list[str]  # settings in scan.yaml that are still empty


def write_kit(scan: Scan, out: Path | None = None, pdf: bool = True) -> KitResult:
    folder = (out or scan.output_dir) / "kit"
    folder.mkdir(parents=True, exist_ok=True)
    handout = scan.handout
    context = {
        "organisation": scan.organisation,
        "title": scan.questionnaire.title[scan.language],
        "deadline": long_date(handout.deadline, scan.language) if handout.deadline else "",
        "return_to": handout.return_to,
        "contact": handout.contact,
        "threshold": scan.anonymity_threshold,
    }
    source = reports_dir() / "kit" / scan.language
    text_env = ImmutableSandboxedEnvironment(loader=FileSystemLoader(str(source)), undefined=StrictUndefined,
                                             keep_trailing_newline=True, autoescape=False)
    html_env = ImmutableSandboxedEnvironment(loader=FileSystemLoader(str(source)), undefined=StrictUndefined,
                                             autoescape=True)
    files = []
    for name in TEXTS:
        path = folder / f"{name}-{scan.language}.txt"
        write_text_atomic(path, text_env.get_template(f"{name}.txt").render(context))
        files.append(path)
    poster = html_env.get_template("poster.html").render(context)
    html_path = folder / f"poster-{scan.language}.html"
    write_text_atomic(html_path, poster)
    files.append(html_path)
    if pdf:
        from weasyprint import HTML

        from survey.report import _pdf_resources

        base_url, fetcher = _pdf_resources(scan)
        pdf_path = folder / f"poster-{scan.language}.pdf"
        with atomic_path(pdf_path) as partial:
            HTML(string=poster, base_url=base_url, url_fetcher=fetcher).write_pdf(partial)
        files.append(pdf_path)
    missing = [key for key, value in (("deadline", handout.deadline), ("return_to", handout.return_to),
                                      ("contact", handout.contact)) if not value]
    return KitResult(folder, files, missing)
