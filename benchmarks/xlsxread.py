"""Benchmark: survey.xlsxread.read_workbook on filled demo forms, against python-calamine
reading the same two sheets and against Python's zipfile only unpacking every member (the
floor: no reader that checks every part can be faster than unpacking it).

    python benchmarks/xlsxread.py [--forms 500] [--inbox DIR] [--repeat 3]

Without --inbox, `survey demo` is run in a temporary folder first (about 15 s) and its
returned forms are used. Files are read into memory first, so the disk is not measured.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from python_calamine import CalamineWorkbook

from survey.forms import META_SHEET
from survey.xlsxread import SheetInfo, read_workbook


def form_sheets(sheets: list[SheetInfo]) -> set[str]:
    return {next(s.name for s in sheets if s.state == "visible"), META_SHEET}


def ours(raw: bytes) -> None:
    read_workbook(raw, form_sheets)


def calamine(raw: bytes) -> None:
    book = CalamineWorkbook.from_filelike(io.BytesIO(raw))
    names = list(book.sheet_names)
    form_sheet = next(n for n in names if not n.startswith("_"))
    book.get_sheet_by_name(META_SHEET).to_python(skip_empty_area=False)
    book.get_sheet_by_name(form_sheet).to_python(skip_empty_area=False)


def unzip_only(raw: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        for info in archive.infolist():
            archive.read(info)


def rate(read: Callable[[bytes], None], forms: list[bytes], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for raw in forms:
            read(raw)
        best = min(best, time.perf_counter() - started)
    return len(forms) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--forms", type=int, default=500)
    parser.add_argument("--inbox", type=Path, default=None, help="a folder of filled forms (default: run the demo)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per reader; the best counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        inbox = args.inbox
        if inbox is None:
            from survey.demo import run_demo

            print("running survey demo for its returned forms ...")
            inbox = run_demo(Path(tmp) / "demo").scan.inbox
        files = sorted(inbox.glob("*.xlsx"))
        if not files:
            raise SystemExit(f"no .xlsx forms in {inbox}")
        distinct = [f.read_bytes() for f in files]
    forms = [distinct[i % len(distinct)] for i in range(args.forms)]
    size = sum(map(len, forms)) / len(forms)
    print(f"{len(forms)} forms ({len(distinct)} distinct, {size / 1000:.1f} kB on average), best of {args.repeat}")
    floor = rate(unzip_only, forms, args.repeat)
    native = rate(calamine, forms, args.repeat)
    mine = rate(ours, forms, args.repeat)
    print(f"{'zipfile, unpack every member (floor)':<44} {floor:8.0f} forms/s")
    print(f"{'python-calamine, the two sheets':<44} {native:8.0f} forms/s")
    print(f"{'xlsxread.read_workbook, every part checked':<44} {mine:8.0f} forms/s")
    print(f"read_workbook / calamine: {mine / native:.2f}   read_workbook / zipfile floor: {mine / floor:.2f}")


if __name__ == "__main__":
    main()
