"""A bounded, streaming reader for returned .ods forms (OpenDocument spreadsheets, as LibreOffice
saves them), with the same checks and the same result as `survey.xlsxread` for .xlsx.

Every byte is untrusted. The zip container, unpacking (each member exactly once, counted and
CRC-checked as it inflates) and the guard on every XML member (no DOCTYPE, wherever it
appears) are `survey.zipsafe`'s, shared with the .xlsx reader.

ODS compresses empty space with repeat counts: LibreOffice ends every sheet with one empty
row repeated about a million times and every row with one empty cell repeated to column
16,384. Such repeats only move the position; they are never expanded. A repeated row or cell
that holds a value stands for a value in every position it covers: all of those positions
must lie within the limits, and they count as that many cells.

Values are those `read_workbook` gives for .xlsx: float for float, percentage and currency
cells (the stored value, not the shown text), str for text, bool for boolean, the ISO text
as written for dates, "HH:MM:SS" text for times; errors and empty cells are left out.
Formulas are never evaluated: a formula cell gives its last result as saved.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.parsers import expat

from survey.xlsxread import SheetInfo, WorkbookData
from survey.zipsafe import MAX_NAMES as _MAX_NAMES
from survey.zipsafe import SAVE_AGAIN as _SAVE_AGAIN
from survey.zipsafe import Budget as _Budget
from survey.zipsafe import (Kind, Limits, Member, Package, PackageRejected, PartGuard, PropertiesPart, check_size,
                            read_directory)

__all__ = ["ODS_MIMETYPE", "is_opendocument", "read_ods"]

ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
_OTHER_KINDS = {
    "application/vnd.oasis.opendocument.text": "a text document (Writer), not a spreadsheet",
    "application/vnd.oasis.opendocument.presentation": "a presentation (Impress), not a spreadsheet",
    "application/vnd.oasis.opendocument.graphics": "a drawing (Draw), not a spreadsheet",
    "application/vnd.oasis.opendocument.spreadsheet-template": "a spreadsheet template (.ots), not the form itself",
}

_KIND = Kind("spreadsheet", "LibreOffice",
             not_this_kind="is not an OpenDocument spreadsheet (.ods); hand out and collect the forms as .xlsx",
             password=("is password-protected; save it again without a password (File > Save As, "
                       "untick 'Save with password')"),
             reject_empty_names=True)
_DAMAGED = _KIND.damaged
_MAX_REPEAT_DIGITS = 9  # LibreOffice repeats up to 16,777,216 rows; anything longer is damage

_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
_CALCEXT = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"
_DC = "http://purl.org/dc/elements/1.1/"
_MANIFEST = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
_SEP = " "  # expat's namespace separator: "uri local"


def _q(namespace: str, local: str) -> str:
    return namespace + _SEP + local


_T_TABLE, _T_ROW, _T_CELL, _T_COVERED = (_q(_TABLE, n) for n in ("table", "table-row", "table-cell",
                                                                  "covered-table-cell"))
_A_NAME, _A_STYLE = _q(_TABLE, "name"), _q(_TABLE, "style-name")
_A_ROWS, _A_COLUMNS = _q(_TABLE, "number-rows-repeated"), _q(_TABLE, "number-columns-repeated")
_A_FORMULA = _q(_TABLE, "formula")
_A_DISPLAY = _q(_TABLE, "display")
_O_SPREADSHEET, _O_ANNOTATION = _q(_OFFICE, "spreadsheet"), _q(_OFFICE, "annotation")
_A_TYPE, _A_VALUE = _q(_OFFICE, "value-type"), _q(_OFFICE, "value")
_A_STRING, _A_BOOLEAN = _q(_OFFICE, "string-value"), _q(_OFFICE, "boolean-value")
_A_DATE, _A_TIME = _q(_OFFICE, "date-value"), _q(_OFFICE, "time-value")
_A_CALC_TYPE = _q(_CALCEXT, "value-type")
_X_P, _X_H, _X_S, _X_TAB, _X_BREAK = (_q(_TEXT, n) for n in ("p", "h", "s", "tab", "line-break"))
_A_C = _q(_TEXT, "c")
_S_STYLE, _S_TABLE_PROPS = _q(_STYLE, "style"), _q(_STYLE, "table-properties")
_A_S_NAME, _A_S_FAMILY = _q(_STYLE, "name"), _q(_STYLE, "family")
_M_ENCRYPTION = _q(_MANIFEST, "encryption-data")

_NUMBER = re.compile(r"[ \t\r\n]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t\r\n]*")
_DATE = re.compile(r"-?[0-9]{4,6}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]{1,12})?)?)?"
                   r"(?:Z|[+-][0-9]{2}:[0-9]{2})?")
_DURATION = re.compile(r"(-?)P(?:([0-9]{1,6})D)?(?:T(?:([0-9]{1,9})H)?(?:([0-9]{1,9})M)?"
                       r"(?:([0-9]{1,9})(?:[.,]([0-9]{1,12}))?S)?)?")


def is_opendocument(raw: bytes) -> bool:
    """True when `raw` is a zip whose first member is named `mimetype`: an OpenDocument file of
    some kind (which kind, and whether it is sound, `read_ods` tells)."""
    if raw[:4] != b"PK\x03\x04" or len(raw) < 38:
        return False
    name_len = struct.unpack_from("<H", raw, 26)[0]
    return name_len == 8 and raw[30:38] == b"mimetype"


SheetSelector = Callable[[list[SheetInfo]], set[str]] | set[str] | frozenset[str]


def read_ods(raw: bytes, sheets: SheetSelector, limits: Limits = Limits()) -> WorkbookData:
    """Check every part of the OpenDocument spreadsheet `raw`; return the cells of the sheets
    selected, keyed (row, column) from 1, exactly as `xlsxread.read_workbook` does.

    `sheets` is a set of names or a function that picks names from the sheet list (every
    sheet is a "worksheet", state "visible" or "hidden"). Raises `PackageRejected`, whose
    message is the reason, for anything unsafe or damaged, and nothing else whatever `raw` holds.
    """
    check_size(raw, limits)
    return _Package(raw, read_directory(raw, limits, _KIND), limits).read(sheets)


# --- package -----------------------------------------------------------------------------------

class _Package(Package):
    def __init__(self, raw: bytes, members: list[Member], limits: Limits):
        # by name as stored, folders too: a folder entry with data is checked
        super().__init__(raw, {m.name: m for m in members}, limits, _KIND)
        self.order = members

    def read(self, selector: SheetSelector) -> WorkbookData:
        self._check_mimetype()
        manifest = _ManifestParser()
        if "META-INF/manifest.xml" in self.members:
            self._parse("META-INF/manifest.xml", manifest)
        if manifest.encrypted:
            raise PackageRejected(_KIND.password)
        styles = _StylesParser()
        if "styles.xml" in self.members:
            self._parse("styles.xml", styles)
        if "content.xml" not in self.members:
            raise PackageRejected(_DAMAGED.format("it has no content.xml part"))
        content = _ContentParser(self.limits, styles.hidden)
        self._parse("content.xml", content)
        infos = [SheetInfo(s.name, "hidden" if s.hidden else "visible", "worksheet") for s in content.sheets]
        wanted = set(selector(list(infos)) if callable(selector) else selector)
        cells = {s.name: s.expand() for s in content.sheets if s.name in wanted}
        meta = _MetaParser()
        if "meta.xml" in self.members:
            self._parse("meta.xml", meta)
        for name in sorted(set(self.members) - self.done):  # everything else is checked all the same
            if name.lower().endswith((".xml", ".rdf")) and not name.endswith("/"):
                self._parse(name, _PartParser())
            else:
                self._unpack(name, None)
        return WorkbookData(infos, cells, meta.modified(), meta.title())

    def _check_mimetype(self) -> None:
        first = self.order[0] if self.order else None
        if first is None or first.name != "mimetype" or first.header_offset != min(m.header_offset for m in self.order):
            raise PackageRejected("is not an OpenDocument spreadsheet (its mimetype part is missing or not first); "
                                  + _SAVE_AGAIN)
        chunks: list[bytes] = []
        if first.size > 200:
            raise PackageRejected(_DAMAGED.format("its mimetype part is too long"))
        self._unpack("mimetype", chunks.append)
        kind = b"".join(chunks).decode("ascii", "replace")
        if kind != ODS_MIMETYPE:
            what = _OTHER_KINDS.get(kind)
            raise PackageRejected(f"is {what}" if what else
                                  f"is not an OpenDocument spreadsheet (it says it is '{kind[:60]}')")

    def _parse(self, name: str, handler: _PartParser) -> None:
        if self.members[name].size == 0 and name != "content.xml":
            # LibreOffice has written empty parts (Configurations2/accelerator/current.xml);
            # unpacking still proves that nothing hides behind the declared size.
            self._unpack(name, None)
            return
        parser = expat.ParserCreate(namespace_separator=_SEP)
        handler.attach(parser, name, self.budget)
        self._feed(parser, name, lambda parse: self._unpack(name, parse))


# --- XML parts --------------------------------------------------------------------------------

class _PartParser(PartGuard):
    """Any XML part: well-formed, no DTD, not absurdly many distinct names, within the budget."""

    def attach(self, parser: expat.XMLParserType, part: str, budget: _Budget) -> None:
        super().attach(parser, part, budget)
        self.names: set[str] = set()

    def _count(self, name: str, attrs: dict[str, str]) -> None:
        """Counts the element against the budget, and every new element or attribute name."""
        budget = self.budget
        budget.left -= 1
        if budget.left < 0:
            raise self._over_budget()
        names = self.names
        if name not in names or not attrs.keys() <= names:
            names.add(name)
            names.update(attrs.keys())
            if len(names) > _MAX_NAMES:
                raise self._too_many_names()

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self._count(name, attrs)


class _ManifestParser(_PartParser):
    def __init__(self) -> None:
        self.encrypted = False

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self._count(name, attrs)
        if name == _M_ENCRYPTION:
            self.encrypted = True


class _StylesParser(_PartParser):
    """Table styles that hide their sheet (table:display="false"), by style name."""

    def __init__(self, hidden: set[str] | None = None) -> None:
        self.hidden: set[str] = set() if hidden is None else hidden
        self.style: str | None = None

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self._count(name, attrs)
        self._style(name, attrs)

    def _style(self, name: str, attrs: dict[str, str]) -> None:
        if name == _S_STYLE:
            self.style = attrs.get(_A_S_NAME) if attrs.get(_A_S_FAMILY) == "table" else None
        elif name == _S_TABLE_PROPS and self.style is not None and attrs.get(_A_DISPLAY) == "false":
            self.hidden.add(self.style)


@dataclass
class _Sheet:
    name: str
    hidden: bool
    # each value once, with the block of positions it stands for: row, rows, column, columns
    runs: list[tuple[int, int, int, int, str | float | bool]] = field(default_factory=list)

    def expand(self) -> dict[tuple[int, int], str | float | bool]:
        cells: dict[tuple[int, int], str | float | bool] = {}
        for row, rows, column, columns, value in self.runs:
            for r in range(row, row + rows):
                for c in range(column, column + columns):
                    cells[(r, c)] = value
        return cells


class _ContentParser(_StylesParser):
    """content.xml: the automatic table styles, then every sheet, its rows and cells. Positions
    are tracked through every repeat; values are checked against the limits where they lie."""

    def __init__(self, limits: Limits, hidden: set[str]):
        super().__init__(set(hidden))
        self.limits = limits
        self.sheets: list[_Sheet] = []
        self.names_seen: set[str] = set()
        self.in_spreadsheet = False
        self.sheet: _Sheet | None = None
        self.row = 0  # first row of the current row element (1-based)
        self.row_repeat = 1
        self.next_row = 1
        self.next_column = 1
        self.row_elements = 0
        self.values = 0  # positions holding a value in this sheet, repeats counted
        # In all sheets together: positions holding a value (as many as an .xlsx could hold
        # within the element budget, where each cell is written out), and characters of text
        # kept (text:s makes 32,767 spaces of a few bytes; an .xlsx has to write them out).
        self.all_values = 0
        self.all_chars = 0
        # the cell being read
        self.in_cell = False
        self.column = 0
        self.column_repeat = 1
        self.attrs: dict[str, str] = {}
        self.text: list[str] = []
        self.length = 0
        self.paragraphs = 0
        self.in_paragraph = 0
        self.skip = 0  # depth inside parts of a cell that are not its value (comments, shapes)

    def attach(self, parser: expat.XMLParserType, part: str, budget: _Budget) -> None:
        super().attach(parser, part, budget)
        parser.buffer_text = True
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._characters

    def _far(self, what: str) -> PackageRejected:
        name = self.sheet.name if self.sheet else ""
        return PackageRejected(f"uses {what}, far outside any form (sheet '{name[:40]}')")

    def _repeat(self, attrs: dict[str, str], key: str) -> int:
        text = attrs.get(key)
        if text is None:
            return 1
        text = text.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > _MAX_REPEAT_DIGITS or int(text) < 1:
            name = self.sheet.name if self.sheet else ""
            raise PackageRejected(_DAMAGED.format(f"a repeat count in sheet '{name[:40]}' is '{text[:20]}'"))
        return int(text)

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self._count(name, attrs)
        if self.in_cell:
            self._cell_content(name, attrs)
        elif name == _T_CELL or name == _T_COVERED:
            if self.sheet is not None and self.row:
                self._cell(attrs)
        elif name == _T_ROW:
            if self.sheet is not None:
                self._row(attrs)
        elif name == _T_TABLE:
            if self.in_spreadsheet:
                self._table(attrs)
        elif name == _O_SPREADSHEET:
            self.in_spreadsheet = True
        elif self.sheet is None:
            self._style(name, attrs)

    def _table(self, attrs: dict[str, str]) -> None:
        if self.sheet is not None:
            raise PackageRejected(_DAMAGED.format(f"sheet '{self.sheet.name[:40]}' holds another sheet"))
        name = attrs.get(_A_NAME, "")
        if name.lower() in self.names_seen:
            raise PackageRejected(_DAMAGED.format(f"two sheets are named '{name[:40]}'"))
        self.names_seen.add(name.lower())
        self.sheet = _Sheet(name, attrs.get(_A_STYLE) in self.hidden)
        self.sheets.append(self.sheet)
        self.next_row = 1
        self.row = 0
        self.row_elements = 0
        self.values = 0

    def _row(self, attrs: dict[str, str]) -> None:
        if self.row:
            raise PackageRejected(_DAMAGED.format(f"a row in sheet '{self.sheet.name[:40]}' holds another row"))
        self.row_elements += 1
        if self.row_elements > self.limits.max_rows_per_sheet:
            raise PackageRejected(f"has more than {self.limits.max_rows_per_sheet} rows in sheet "
                                  f"'{self.sheet.name[:40]}', far more than a form")
        self.row = self.next_row
        self.row_repeat = self._repeat(attrs, _A_ROWS)
        self.next_row += self.row_repeat
        self.next_column = 1

    def _cell(self, attrs: dict[str, str]) -> None:
        self.in_cell = True
        self.column = self.next_column
        self.column_repeat = self._repeat(attrs, _A_COLUMNS)
        self.next_column += self.column_repeat
        self.attrs = attrs
        self.text = []
        self.length = 0
        self.paragraphs = 0
        self.in_paragraph = 0
        self.skip = 0

    def _cell_content(self, name: str, attrs: dict[str, str]) -> None:
        if self.skip or name == _O_ANNOTATION or name.startswith(_DRAW):
            self.skip += 1
        elif name == _T_TABLE or name == _T_ROW or name == _T_CELL or name == _T_COVERED:
            raise PackageRejected(_DAMAGED.format(f"a cell in sheet '{self.sheet.name[:40]}' holds a table"))
        elif name == _X_P or name == _X_H:
            if self.in_paragraph == 0:
                if self.paragraphs:
                    self._add("\n")
                self.paragraphs += 1
            self.in_paragraph += 1
        elif self.in_paragraph:
            if name == _X_S:
                count = attrs.get(_A_C, "1").strip()
                if not (count.isascii() and count.isdigit()) or len(count) > 6:
                    raise PackageRejected(f"holds a text longer than a spreadsheet allows in one cell "
                                          f"(sheet '{self.sheet.name[:40]}')")
                spaces = max(int(count), 1)
                if spaces > self.limits.max_text_chars:
                    raise PackageRejected(f"holds a text longer than a spreadsheet allows in one cell "
                                          f"(sheet '{self.sheet.name[:40]}')")
                self._add(" " * spaces)
            elif name == _X_TAB:
                self._add("\t")
            elif name == _X_BREAK:
                self._add("\n")

    def _add(self, text: str) -> None:
        self.length += len(text)
        if self.length > self.limits.max_text_chars:
            raise PackageRejected(f"holds a text longer than a spreadsheet allows in one cell "
                                  f"(sheet '{self.sheet.name[:40]}')")
        self.text.append(text)

    def _characters(self, data: str) -> None:
        # Kept as written: ODF says runs of white space collapse, but Calc writes a cell's
        # spaces and newlines literally and reads them back so (its own files round-trip).
        if self.in_cell and self.in_paragraph and not self.skip:
            self._add(data)

    def _end(self, name: str) -> None:
        if self.in_cell:
            if self.skip:
                self.skip -= 1
            elif name == _X_P or name == _X_H:
                self.in_paragraph -= 1
            elif name == _T_CELL or name == _T_COVERED:
                self.in_cell = False
                self._store()
        elif name == _T_ROW:
            self.row = 0
        elif name == _T_TABLE:
            if self.sheet is not None:
                self.sheet = None
        elif name == _O_SPREADSHEET:
            self.in_spreadsheet = False

    def _store(self) -> None:
        value = self._value()
        self.attrs = {}
        self.text = []
        if value is None or value == "":
            return  # an empty cell, however often repeated, only moves the position
        sheet, limits = self.sheet, self.limits
        last_row = self.row + self.row_repeat - 1
        last_column = self.column + self.column_repeat - 1
        if last_row > limits.max_row:
            raise self._far(f"row {last_row}" + (f" (a value repeated over {self.row_repeat} rows)"
                                                 if self.row_repeat > 1 else ""))
        if last_column > limits.max_column:
            raise self._far(f"column {last_column} in row {self.row}" + (
                f" (a value repeated over {self.column_repeat} columns)" if self.column_repeat > 1 else ""))
        self.values += self.row_repeat * self.column_repeat
        if self.values > limits.max_cells_per_sheet:
            raise PackageRejected(f"has more than {limits.max_cells_per_sheet} cells in sheet "
                                  f"'{sheet.name[:40]}', far more than a form")
        self.all_values += self.row_repeat * self.column_repeat
        if self.all_values > limits.max_elements:
            raise PackageRejected(f"has more than {limits.max_elements} cells in all sheets together, "
                                  "far more than a form (possibly hostile)")
        if isinstance(value, str):
            self.all_chars += len(value)  # a repeated value is one string, kept once
            if self.all_chars > limits.max_member_bytes:
                raise PackageRejected("holds far more text than a form (possibly hostile)")
        sheet.runs.append((self.row, self.row_repeat, self.column, self.column_repeat, value))

    def _value(self) -> str | float | bool | None:
        attrs = self.attrs
        if attrs.get(_A_CALC_TYPE) == "error":
            return None  # #N/A and the like carry no value worth reading
        kind = attrs.get(_A_TYPE)
        if kind in ("float", "percentage", "currency"):
            number = attrs.get(_A_VALUE)
            if number is None:
                return "".join(self.text) or None
            if not _NUMBER.fullmatch(number):
                raise PackageRejected(_DAMAGED.format(f"{self._where()} holds '{number[:20]}' where a number "
                                                      "belongs"))
            return float(number)
        if kind == "boolean":
            return {"true": True, "false": False, "1": True, "0": False}.get(
                attrs.get(_A_BOOLEAN, "").strip().lower())
        if kind == "date":
            text = attrs.get(_A_DATE, "").strip()
            if not _DATE.fullmatch(text):
                raise PackageRejected(_DAMAGED.format(f"{self._where()} holds '{text[:20]}' where a date belongs"))
            return text
        if kind == "time":
            return self._time(attrs.get(_A_TIME, "").strip())
        if kind == "string" and _A_STRING in attrs:
            value = attrs[_A_STRING]
            if len(value) > self.limits.max_text_chars:
                raise PackageRejected(f"holds a text longer than a spreadsheet allows in one cell "
                                      f"(sheet '{self.sheet.name[:40]}')")
            return value
        return "".join(self.text)  # string, void or no type: the text as shown

    def _time(self, text: str) -> str:
        match = _DURATION.fullmatch(text)
        if not match or text in ("P", "-P", "PT", "-PT"):
            raise PackageRejected(_DAMAGED.format(f"{self._where()} holds '{text[:20]}' where a time belongs"))
        sign, days, hours, minutes, seconds, fraction = match.groups()
        total_minutes = (int(days or 0) * 24 + int(hours or 0)) * 60 + int(minutes or 0)
        hours_out, minutes_out = divmod(total_minutes, 60)
        clock = f"{sign}{hours_out:02d}:{minutes_out:02d}:{int(seconds or 0):02d}"
        fraction = (fraction or "").rstrip("0")
        return clock + (f".{fraction}" if fraction else "")

    def _where(self) -> str:
        return f"cell {_column_letters(self.column)}{self.row} in sheet '{self.sheet.name[:40]}'"


def _column_letters(number: int) -> str:
    letters = ""
    while number > 0 and len(letters) < 8:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _MetaParser(PropertiesPart, _PartParser):
    """meta.xml: dc:date (when it was last saved) and dc:title."""

    _WANTED = {_q(_DC, "date"): "modified", _q(_DC, "title"): "title"}

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self._count(name, attrs)
        self._begin(self._WANTED.get(name))

    def _end(self, name: str) -> None:
        if self.current is not None and self._WANTED.get(name) == self.current:
            self.values.setdefault(self.current, "".join(self.buffer))
        self.current = None
