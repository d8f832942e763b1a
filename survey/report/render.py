"""Rendering the report model: Jinja templates (sandboxed) -> HTML, WeasyPrint -> PDF.

Templates and the CSS theme live in reports/templates; a consultant can override any of
them by putting a file of the same name in DIR/templates (looked up first). Templates turn
model values into text with the `shown` filter, in the language being rendered.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import url2pathname

from jinja2 import (ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError,
                    TemplateSyntaxError, select_autoescape)
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from survey.analysis import AnalysisResult
from survey.errors import Location, ReportError
from survey.report.model import ReportModel, formatting, shown
from survey.resources import reports_dir
from survey.scan import Scan

if TYPE_CHECKING:  # WeasyPrint is imported only when a PDF is made (it needs Pango)
    from weasyprint.document import Document
    from weasyprint.urls import URLFetcher


def environment(scan: Scan) -> ImmutableSandboxedEnvironment:
    """The scan folder's templates/ first, then the bundled ones.

    A scan folder may come from anyone, so its templates are data, not code: every template
    runs in Jinja's sandbox (no Python internals, no changing the report model), and a file
    is only read from inside its own templates folder, never through a link out of it."""
    loaders = []
    scan_templates = _scan_templates(scan)
    if scan_templates is not None:
        loaders.append(_ContainedLoader(str(scan_templates)))
    loaders.append(_ContainedLoader(str(reports_dir() / "templates")))
    env = ImmutableSandboxedEnvironment(
        loader=ChoiceLoader(loaders), autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)
    env.filters["shown"] = shown
    return env


class _ContainedLoader(FileSystemLoader):
    """A FileSystemLoader that refuses a template whose real path lies outside its folder
    (a theme.css that is a link to ~/.ssh/id_rsa would otherwise end up in the report)."""

    def get_source(self, environment: Environment,
                   template: str) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        folder = self.searchpath[0]
        if not _inside(Path(filename), Path(folder)):
            raise ReportError(f"the template {filename} is a link to a file outside {folder}",
                              fix="copy the file itself into that folder")
        return source, filename, uptodate


def _inside(path: Path, folder: Path) -> bool:
    """Whether `path`, all links followed, lies inside `folder` (links followed too)."""
    return os.path.realpath(path).startswith(os.path.realpath(folder) + os.sep)


def _scan_templates(scan: Scan) -> Path | None:
    """DIR/templates if the scan has one; it must really be inside the scan folder."""
    folder = scan.folder / "templates"
    if not folder.is_dir():
        return None
    # "x": a name inside it, so the folder itself may be a link as long as it stays inside
    if not _inside(folder / "x", scan.folder):
        raise ReportError(f"{folder} is a link to a folder outside the scan folder {scan.folder}",
                          fix="copy the templates into the scan folder itself")
    return folder


def inert_css(css: str) -> str:
    """CSS that can sit inside <style> without ending it.

    An HTML parser ends the style element at the first '</style', whatever the CSS around
    it means, and the rest becomes HTML (a <script>, say). So no '<' may remain: '\\3c ' is
    CSS's own escape for it, so a '<' inside a CSS string still shows as '<'."""
    return css.replace("<", "\\3c ")


def render_html(scan: Scan, model: ReportModel, lang: str | None = None) -> str:
    """The report as one HTML page; figures written in `lang` (default: the model's)."""
    return render_template(scan, model, "report.html", "theme.css", lang)


def render_template(scan: Scan, model: ReportModel, name: str, css_name: str, lang: str | None = None,
                    **values: object) -> str:
    """A template of the sandboxed environment with the model, its wording and its style
    sheet (inert); a template that cannot be rendered is a readable `ReportError`."""
    env = environment(scan)
    try:
        css = env.loader.get_source(env, css_name)[0]  # type: ignore[union-attr]
        template = env.get_template(name)
        with formatting(lang or model.lang):
            return template.render(report=model, w=model.words, css=inert_css(css), **values)
    except ReportError:
        raise
    except Exception as exc:
        error = _template_error(scan, exc)
        if error is None:
            raise
        raise error from exc


def _template_error(scan: Scan, exc: Exception) -> ReportError | None:
    """A readable error for a template that cannot be rendered, naming the file and line;
    None when the fault is not in a template at all (a bug elsewhere keeps its traceback)."""
    where: tuple[str, int | None] | None = None
    if isinstance(exc, TemplateSyntaxError) and exc.filename:
        where = (exc.filename, exc.lineno)
    else:
        # Jinja rewrites the traceback so a template's frames carry its file name and line
        roots = [d for d in (_scan_templates(scan), reports_dir() / "templates") if d is not None]
        for frame, line in traceback.walk_tb(exc.__traceback__):
            name = frame.f_code.co_filename
            if any(_inside(Path(name), root) for root in roots):
                where = (name, line)
    if where is None and not isinstance(exc, TemplateError):
        return None
    file, line = where if where else (None, None)
    reason = (str(exc) or type(exc).__name__).rstrip(".")
    if isinstance(exc, SecurityError):
        reason = f"it reaches for Python internals, which a report template may not do ({reason})"
    own = scan.folder / "templates"
    if file is not None and own.is_dir() and _inside(Path(file), own):
        fix = (f"correct {Path(file).name} in {own}, or remove it to use the bundled template; "
               "templates may only lay out the report's data")
    else:
        fix = ("this is a fault in survey itself; please report it with the output of "
               "'survey --debug report'")
    return ReportError(f"the report template cannot be used: {reason}", fix=fix,
                       where=Location(file=file, line=line))


def write_report(scan: Scan, out: Path | None = None, *, results: AnalysisResult | None = None,
                 pdf: bool = True, replace_earlier: bool = False) -> list[Path]:
    """Write report.html (self-contained) and report.pdf; returns their paths."""
    from survey.report.outputs import write_outputs

    return write_outputs(scan, out, results=results, pdf=pdf, replace_earlier=replace_earlier,
                         dialogue=False).paths


def render_pdf(scan: Scan, html: str) -> "Document":
    """Lay out `html` for paper with WeasyPrint (only local resources, see `_pdf_resources`);
    the report and the team sheets both go through here. Write it inside `quiet_weasyprint`."""
    try:
        from weasyprint import HTML
    except OSError as exc:  # Pango missing on this system
        raise ReportError(f"the PDF cannot be made: {exc}",
                          fix="install Pango (Debian: apt-get install libpango-1.0-0 libpangoft2-1.0-0), "
                              "or use --no-pdf")
    base_url, fetcher = _pdf_resources(scan)
    with quiet_weasyprint():
        return HTML(string=html, base_url=base_url, url_fetcher=fetcher).render()


@contextmanager
def quiet_weasyprint() -> Iterator[None]:
    """WeasyPrint warns about every SVG style property its CSS parser skips; the charts
    render correctly, so only real errors are let through."""
    logger = logging.getLogger("weasyprint")
    level = logger.level
    logger.setLevel(logging.ERROR)
    logger.addFilter(_quiet_refusals)
    try:
        yield
    finally:
        logger.removeFilter(_quiet_refusals)
        logger.setLevel(level)


class RefusedResource(ValueError):
    """A URL the PDF renderer may not fetch: anything on the network, any file outside the
    template folders."""


def _quiet_refusals(record: logging.LogRecord) -> bool:
    """A refused URL is expected (a hostile or careless theme), not an error to show: the
    PDF is made without it."""
    return RefusedResource.__name__ not in record.getMessage()


def _pdf_resources(scan: Scan) -> tuple[str, URLFetcher]:
    """Base URL and URL fetcher for WeasyPrint. The report itself is self-contained (inline
    CSS, SVG charts, data: images); a theme may use files from its own templates folder (a
    logo, a font). Nothing else is fetched: no network, no other file (a theme's
    url(file:///etc/passwd) or @import of a tracking URL)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse  # a class since WeasyPrint 68

    roots = [d for d in (_scan_templates(scan), reports_dir() / "templates") if d is not None]

    class LocalFetcher(URLFetcher):
        def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":  # decoded by urllib's DataHandler, nothing leaves the process
                return super().fetch(url, headers)
            path = _local_file(url) if scheme == "file" else None
            if path is None or not any(_inside(path, root) for root in roots) or not path.is_file():
                raise RefusedResource(url)
            real = Path(os.path.realpath(path))  # read what was checked, not a link swapped in
            content_type = mimetypes.guess_type(real.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, real.read_bytes(), {"Content-Type": content_type})

    # allowed_protocols: should super().fetch ever see another URL, urllib refuses it too
    fetcher = LocalFetcher(allowed_protocols={"data"}, allow_redirects=False)
    # a trailing slash, so a theme's url(logo.png) resolves inside its own folder
    return Path(os.path.abspath(roots[0])).as_uri() + "/", fetcher


def _local_file(url: str) -> Path | None:
    """The path of a file: URL on this machine (file:///x or file://localhost/x), else None."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        return None
    return Path(url2pathname(parts.path))

