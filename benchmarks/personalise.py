"""Benchmark: one personal copy of a ~40 KB, 3-sheet form, made by Template.personalise
(two strings and the title changed at the zip level) versus openpyxl load_workbook +
modify + save of the same workbook (target: under 1 ms per copy).

openpyxl 3.1+ writes strings inline in the sheet part, so the two strings live in
xl/worksheets/sheet3.xml (the meta sheet, as in survey.forms); if LibreOffice is installed
the same workbook re-saved by it (strings in xl/sharedStrings.xml) is measured too.

    PYTHONPATH=. python benchmarks/personalise.py [--copies N]
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.datavalidation import DataValidation

from survey.xlsxpkg import Template, xml_text

FORM_ID, DEPARTMENT, TITLE = b"@@FORM_ID@@", b"@@DEPARTMENT@@", b"@@TITLE@@"


def build_form() -> bytes:
    """About 40 KB: a styled questionnaire sheet, a hidden list sheet and a meta sheet."""
    wb = Workbook()
    form = wb.active
    form.title = "Questionnaire"
    lists = wb.create_sheet("Lists")
    meta = wb.create_sheet("Meta")
    scale = ["does not apply", "rather not", "partly", "rather yes", "fully applies"]
    for row, word in enumerate(scale, start=1):
        lists.cell(row, 1, word)
    validation = DataValidation(type="list", formula1="=Lists!$A$1:$A$5", allow_blank=True)
    form.add_data_validation(validation)
    thin = Side(style="thin", color="999999")
    words = ("team unit decision work pace change customer feedback goal manager colleague "
             "process meeting learning budget time plan quality idea trust").split()
    seed = 12345
    for row in range(1, 851):
        phrase = []
        for _ in range(18):  # varied text, so the sheet compresses like a real questionnaire
            seed = (seed * 1103515245 + 12345) % 2**31
            phrase.append(words[seed % len(words)])
        text = form.cell(row, 2, f"Statement {row}: " + " ".join(phrase) + f" ({seed % 1000}).")
        text.alignment = Alignment(wrap_text=True, vertical="top")
        text.font = Font(name="Calibri", size=11, bold=row % 10 == 0)
        answer = form.cell(row, 3)
        answer.border = Border(left=thin, right=thin, top=thin, bottom=thin)
        answer.fill = PatternFill("solid", fgColor="FFF2CC")
        validation.add(answer)
        form.cell(row, 1, row)
    form.column_dimensions["B"].width = 80
    for key, value in [("marker", "survey-form"), ("format", "1"), ("scan_id", "2026-acme"),
                       ("form_id", FORM_ID.decode()), ("department", DEPARTMENT.decode()),
                       ("role", "staff"), ("wave", "1"), ("language", "en")]:
        meta.append([key, value])
    meta.sheet_state = "veryHidden"
    wb.properties.title = TITLE.decode()
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def per_copy(make, copies: int) -> float:
    make(0)  # warm caches (first decompression, imports)
    started = time.perf_counter()
    for i in range(copies):
        make(i)
    return (time.perf_counter() - started) / copies


def by_openpyxl(template: bytes, i: int) -> bytes:
    wb = load_workbook(io.BytesIO(template))
    meta = wb["Meta"]
    meta["B4"] = f"F{i:05d}"
    meta["B5"] = "Sales & Care"
    wb.properties.title = f"Survey - F{i:05d}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def zip_level(template: Template, strings_member: str):
    def make(i: int) -> bytes:
        return template.personalise({
            strings_member: {FORM_ID: xml_text(f"F{i:05d}"), DEPARTMENT: xml_text("Sales & Care")},
            "docProps/core.xml": {TITLE: xml_text(f"Survey - F{i:05d}")},
        })
    return make


def shared_strings_copy(source: bytes) -> bytes | None:
    if shutil.which("soffice") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "form.xlsx"
        path.write_bytes(source)
        profile = f"-env:UserInstallation={(Path(tmp) / 'profile').as_uri()}"
        subprocess.run(["soffice", profile, "--headless", "--convert-to", "xlsx",
                        "--outdir", str(Path(tmp) / "out"), str(path)],
                       check=True, capture_output=True, timeout=120)
        return (Path(tmp) / "out" / "form.xlsx").read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=2_000)
    args = parser.parse_args()
    source = build_form()
    parse_started = time.perf_counter()
    template = Template(source)
    parse_ms = (time.perf_counter() - parse_started) * 1000
    print(f"template: {len(source) / 1024:.1f} KB, {len(template.members)} members, "
          f"parsed in {parse_ms:.2f} ms")
    member = template.members_containing(FORM_ID)[0]
    ours = per_copy(zip_level(template, member), args.copies)
    theirs = per_copy(lambda i: by_openpyxl(source, i), max(10, args.copies // 100))
    print(f"Template.personalise ({member}): {ours * 1000:8.3f} ms per copy")
    print(f"openpyxl load + modify + save:   {theirs * 1000:8.3f} ms per copy")
    print(f"ratio: {theirs / ours:,.0f}x faster")
    shared = shared_strings_copy(source)
    if shared is not None:
        shared_template = Template(shared)
        member = shared_template.members_containing(FORM_ID)[0]
        seconds = per_copy(zip_level(shared_template, member), args.copies)
        print(f"LibreOffice-saved template, {len(shared) / 1024:.1f} KB, strings in {member} "
              f"({len(shared_template.plain(member)) / 1024:.0f} KB unpacked): "
              f"{seconds * 1000:.3f} ms per copy")
        # A callable replacement cannot be spliced: the whole table is deflated per copy.
        whole = per_copy(lambda i: shared_template.personalise({
            member: lambda data: data.replace(FORM_ID, f"F{i:05d}".encode()).replace(
                DEPARTMENT, xml_text("Sales & Care")),
            "docProps/core.xml": {TITLE: xml_text(f"Survey - F{i:05d}")},
        }), max(10, args.copies // 10))
        print(f"  same, whole table deflated per copy (callable): {whole * 1000:.3f} ms per copy")


if __name__ == "__main__":
    main()
