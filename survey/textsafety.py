"""Keep user text inert in every output: terminal, spreadsheet and CSV.

Text in this tool comes from people we do not control: answers typed into forms, file
names in an inbox, department names in departments.csv. Each output format has its own
way of turning such text into something active, so each has its own guard here:

- a terminal obeys escape sequences and bidi controls  -> `clean_text`
- a spreadsheet runs a cell that starts with '='      -> `text_cell`, `inert_workbook`
- a spreadsheet opening a CSV runs = + - @ fields      -> `csv_safe`, `csv_writer`

Right-to-left *marks* (U+200E, U+200F, U+061C) are kept: Arabic and Hebrew answers need
them, and unlike the embedding/override/isolate controls they cannot reorder other text.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the CLI imports this module for every command; openpyxl only when needed
    from openpyxl.cell.cell import Cell
    from openpyxl.workbook.workbook import Workbook

# String-type escape sequences (OSC, DCS, SOS, PM, APC) run until BEL or ST. An unterminated
# one is removed to the end of the text, as a terminal would swallow it; it stops early at
# the next ESC so that sequence is judged on its own.
_ESC_STRING = (r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])"  # introducer
               r"[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c|(?=\x1b)|\Z)")  # body, terminator
# CSI: ESC [ (or the 8-bit CSI) parameters, intermediates, final byte.
_CSI = r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
# Any other escape sequence: ESC, intermediates, one final byte (ESC c, ESC ( B, ESC 7 ...).
_ESC_OTHER = r"\x1b[\x20-\x2f]*[\x30-\x7e]?"
_ESCAPE_SEQUENCES = re.compile(f"{_ESC_STRING}|{_CSI}|{_ESC_OTHER}")

# Every Unicode control character (Cc: C0, DEL, C1) except tab and newline, and the bidi
# embedding, override and isolate controls that can make text display in another order
# than it is stored (the "Trojan Source" trick).
_REMOVED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

# OWASP, CSV injection: a field starting with one of these is read as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Strings openpyxl would store as something other than text: a formula (leading '=')
# or an Excel error value such as '#N/A'.
_NOT_TEXT_TYPES = ("f", "e")
_EXCEL_FORMULA_START = ("=", "+", "-", "@")  # text Excel would read as a formula once someone edits the cell


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """`text` without terminal escape sequences, control characters (tab and newline stay)
    and bidi embedding/override/isolate controls. Right-to-left marks stay."""
    if not text or text.isprintable():
        # printable: no control, format (bidi) or separator character but the space, so
        # nothing below would change it (a quick test for most answers)
        return text
    text = text.replace("\r\n", "\n")  # a Windows line break is a line break, not a stray CR
    text = _ESCAPE_SEQUENCES.sub("", text)
    text = _REMOVED.sub("", text)
    # a file name that is not valid UTF-8 reaches Python as lone surrogates, which no terminal
    # or database takes: they become U+FFFD
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace") if _SURROGATE.search(text) else text


def csv_safe(value: str) -> str:
    """A CSV field that a spreadsheet reads as text, never as a formula (OWASP's CSV
    injection guidance: prefix a single quote to a field starting with = + - @ tab or CR).

    Separators and quotes inside the field are the CSV writer's job: write with
    `csv_writer`, which quotes every field, so `a;=cmd` cannot start a new cell in a
    spreadsheet that splits on ';' (Dutch Excel does)."""
    if value.startswith(_FORMULA_START):
        return "'" + value
    return value


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


class SafeCsvWriter:
    """`csv.writer` that quotes every field and neutralises every text field with `csv_safe`.
    Numbers stay numbers (a negative number is data, not a formula)."""

    def __init__(self, stream: _Writable, **options: Any):
        options.setdefault("quoting", csv.QUOTE_ALL)
        self._writer = csv.writer(stream, **options)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([csv_safe(v) if isinstance(v, str) else v for v in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream: _Writable, **options: Any) -> SafeCsvWriter:
    """The writer every CSV export of user text should use."""
    return SafeCsvWriter(stream, **options)


def text_cell(cell: Cell, value: object) -> Cell:
    """Set `cell` to `value`; a string is always stored as text.

    openpyxl decides a cell's type from the value: a string starting with '=' becomes a
    formula, '#N/A' and the like an error value. For text a person typed (a department
    name, an answer) neither may happen, so the type is forced back to text. The quote
    prefix makes Excel keep it text when someone edits the cell later, as if typed '=..."""
    cell.value = value
    if isinstance(value, str) and (cell.data_type in _NOT_TEXT_TYPES or value[:1] in _EXCEL_FORMULA_START):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def inert_workbook(workbook: Workbook) -> Workbook:
    """Make every string cell of `workbook` text: for workbooks built by code that writes
    cells directly (pandas, `ws.append`). This project writes no formulas into cells, so a
    string typed as formula or error value is always user text. Returns the workbook."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and (cell.data_type in _NOT_TEXT_TYPES
                                                    or cell.value[:1] in _EXCEL_FORMULA_START):
                    text_cell(cell, cell.value)
    return workbook
