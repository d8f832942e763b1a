"""Team sheets: per department the report shows, one A4 page in plain language for the talk
in the team (the report's third movement, Verbinden): where the team stands between
traditional and partnership, where the organisation brakes and helps it most, werkgeluk and
intent to stay, and the dialogue questions.

Rendered from the report model alone (`DepartmentPage` and the model's `dialogue`), every
value through `report.shown`, in the report's sandboxed template environment
(`team_sheet.html`, `team_sheet.css`; a scan's templates/ may override them). Hidden
departments are not in the model's pages, so they get no sheet. All sheets are laid out
as one document (fonts and styles once) and each department's pages are written to its
own file, found by the anchor its section starts with.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from survey.atomic import atomic_path
from survey.report import DepartmentPage, ReportModel, quiet_weasyprint, render_pdf, render_template
from survey.scan import Scan

# Windows forbids these in file names, and a dot or space at the end
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]+')
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(1, 10)}


@dataclass
class TeamSheets:
    folder: Path
    paths: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)  # sheets of an earlier run no department has now


def safe_name(name: str) -> str:
    """A department name as a file name on every system: the name as people know it, less
    the characters Windows, macOS or Linux refuse, at most 80 characters."""
    text = unicodedata.normalize("NFC", name)
    text = _UNSAFE.sub("_", text).strip().rstrip(". ")
    text = re.sub(r"\s+", " ", text)[:80].rstrip(". ") or "department"
    if text.split(".")[0].casefold() in _RESERVED:
        text = f"_{text}"
    return text


def file_names(pages: list[DepartmentPage]) -> list[str]:
    """One file name per department; names that clash on a case-insensitive file system
    ('Zorg/Welzijn' and 'Zorg_Welzijn') are numbered."""
    seen: dict[str, int] = {}
    names = []
    for page in pages:
        base = safe_name(page.name)
        count = seen.get(base.casefold(), 0) + 1
        seen[base.casefold()] = count
        names.append(f"{base}.pdf" if count == 1 else f"{base} ({count}).pdf")
    return names


def render_sheets_html(scan: Scan, model: ReportModel, tight: frozenset[int] = frozenset()) -> str:
    """All sheets as one HTML document; the sheets numbered in `tight` (0-based) get the
    template's compact style (class `tight`)."""
    return render_template(scan, model, "team_sheet.html", "team_sheet.css", tight=tight, sheets=model.departments)


def write_team_sheets(scan: Scan, model: ReportModel, folder: Path) -> TeamSheets:
    """Write one PDF per department the report shows into `folder` (output/teams)."""
    folder.mkdir(parents=True, exist_ok=True)
    result = TeamSheets(folder)
    names = file_names(model.departments)
    if model.departments:
        laid_out = render_pdf(scan, render_sheets_html(scan, model))
        order = _sheet_pages(laid_out)
        # a sheet that runs onto a second page (many changes since the last wave, long names)
        # is laid out again in the compact style, so that it fits its one page
        long = frozenset(index for index, (first, last) in order.items() if last - first > 1)
        if long:
            laid_out = render_pdf(scan, render_sheets_html(scan, model, long))
            order = _sheet_pages(laid_out)
        for index, (first, last) in sorted(order.items(), key=lambda kv: kv[1]):
            path = folder / names[index]
            sheet = laid_out.copy(laid_out.pages[first:last])
            sheet.metadata.title = f"{model.words['team_kicker']} – {model.departments[index].name}"
            sheet.metadata.lang = model.lang
            with quiet_weasyprint(), atomic_path(path) as partial:
                sheet.write_pdf(partial)
            result.paths.append(path)
    written = {p.name for p in result.paths}
    for old in sorted(folder.glob("*.pdf")):
        # a sheet from an earlier run whose department is renamed or no longer shown
        if old.name not in written:
            old.unlink()
            result.removed.append(old)
    return result


def _sheet_pages(laid_out) -> dict[int, tuple[int, int]]:
    """Per sheet (0-based) its pages, first to last (exclusive): from the page with its
    anchor to the next sheet's."""
    starts: dict[int, int] = {}
    for number, page in enumerate(laid_out.pages):
        for anchor in page.anchors:
            if anchor.startswith("team-"):
                starts.setdefault(int(anchor.split("-", 1)[1]) - 1, number)
    order = sorted(starts.items(), key=lambda kv: kv[1])
    return {index: (first, order[position + 1][1] if position + 1 < len(order) else len(laid_out.pages))
            for position, (index, first) in enumerate(order)}
