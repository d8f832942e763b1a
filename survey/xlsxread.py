"""A bounded, streaming reader for returned .xlsx forms that may be hostile or damaged.

Returned forms come from a shared inbox, so every byte is untrusted. This reader checks and
reads a package in one pass: each zip member is decompressed exactly once, in 64 KiB steps,
while its output is counted (a member that inflates beyond what it declares is stopped at
once), its CRC is checked, and, for XML parts, fed straight into expat. Nothing is extracted,
nothing is decompressed twice, and no part is held whole in memory; what is kept is the cell
values of the sheets asked for, the shared strings and a few properties.

Every part is checked whether or not its values are wanted: a hidden sheet that uses row
1,048,576 makes a file as suspect as a visible one, and such sheets are exactly what makes
native readers abort the whole process.

The zip container, unpacking and the guard on every XML part are `survey.zipsafe`'s (shared
with the .ods reader); this module reads what an .xlsx holds.
"""

from __future__ import annotations

import posixpath
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import accumulate
from operator import attrgetter
from typing import Generic, TypeVar
from urllib.parse import unquote
from xml.parsers import expat

from survey.zipsafe import MAX_NAMES as _MAX_NAMES
from survey.zipsafe import Budget as _Budget
from survey.zipsafe import (Kind, Limits, Member, Package, PackageRejected, PartGuard, PropertiesPart, check_size,
                            read_directory)

__all__ = ["Limits", "PackageRejected", "SheetInfo", "WorkbookData", "read_workbook"]

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_KIND = Kind("workbook", "Excel",
             not_this_kind="is not an Excel workbook (.xlsx); hand out and collect the forms as .xlsx",
             password="is password-protected; save it as .xlsx without a password",
             empty_zip="is an empty zip archive, not an Excel workbook")
_DAMAGED = _KIND.damaged

_REL_OFFICE_DOCUMENT = "/officeDocument"
_REL_CORE = "/core-properties"
_REL_SHARED_STRINGS = "/sharedStrings"
_SHEET_REL_TYPES = {"/worksheet": "worksheet", "/chartsheet": "chartsheet",
                    "/macrosheet": "macrosheet", "/xlMacrosheet": "macrosheet", "/dialogsheet": "dialogsheet"}
# Parts found under these folders get the row/column checks even if no sheet points at them.
_SHEET_FOLDERS = ("worksheets/", "chartsheets/", "macrosheets/", "dialogsheets/")
_SHEET_STATES = ("visible", "hidden", "veryHidden")

_NUMBER = re.compile(r"[ \t\r\n]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t\r\n]*")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")  # OOXML escape of characters XML cannot carry


@dataclass(frozen=True)
class SheetInfo:
    name: str
    state: str  # visible, hidden or veryHidden
    kind: str = "worksheet"  # worksheet, chartsheet, macrosheet or dialogsheet


@dataclass(frozen=True)
class WorkbookData:
    sheets: list[SheetInfo]
    cells: dict[str, dict[tuple[int, int], str | float | bool]]  # sheet name -> (row, col) 1-based -> value
    modified: datetime | None  # docProps/core.xml dcterms:modified (last saved), tz-aware when given
    title: str | None
    # cells of the selected sheets that hold a formula but no stored result: they read as
    # empty, though someone wrote something there (PHP_XLSXWriter turns text starting with
    # "=" into such a formula)
    blank_formulas: dict[str, set[tuple[int, int]]] = field(default_factory=dict)


SheetSelector = Callable[[list[SheetInfo]], set[str]] | set[str] | frozenset[str]


def read_workbook(raw: bytes, sheets: SheetSelector, limits: Limits = Limits()) -> WorkbookData:
    """Check every part of the package `raw` and return the cells of the sheets selected.

    `sheets` is a set of sheet names or a function that picks names from the sheet list
    (e.g. the first visible sheet and "_meta"). Names that do not exist are left out of
    `cells`; a selected sheet whose part is missing is a rejection.

    Values: shared and inline strings (rich-text runs joined, phonetic runs left out, _xHHHH_
    escapes undone) and formula string results (t="str": the cached result, never evaluated)
    as str; t="b" as bool; numbers (t="n" or none, dates included: their stored number) as
    float; t="d" as the ISO text written. Errors and empty cells are left out; no text is
    stripped.

    Raises `PackageRejected`, whose message is the reason, for anything unsafe or damaged,
    and nothing else whatever `raw` holds.
    """
    check_size(raw, limits)
    if raw[:8] == _OLE_MAGIC:
        raise PackageRejected("is password-protected or an old .xls file; save it as .xlsx without a password")
    members = read_directory(raw, limits, _KIND)
    return _Package(raw, members, limits).read(sheets)


# --- package -----------------------------------------------------------------------------------

class _Package(Package):
    def __init__(self, raw: bytes, members: list[Member], limits: Limits):
        # by lower-case name: OPC part names are case-insensitive; folders hold no part
        super().__init__(raw, {m.name.lower(): m for m in members if not m.name.endswith("/")}, limits, _KIND)

    def read(self, selector: SheetSelector) -> WorkbookData:
        # Parts are taken in the order that lets each be read once: relationships, workbook,
        # shared strings, sheets, properties, then everything else (checked, nothing kept).
        root_rels = self._rels("")
        workbook_part = self._find(_target_of(root_rels, _REL_OFFICE_DOCUMENT)) or self._find("xl/workbook.xml")
        if workbook_part is None or workbook_part.endswith(".bin"):
            raise PackageRejected(self._why_no_workbook())
        book = _WorkbookParser()
        self._parse(workbook_part, book)
        rels = self._rels(workbook_part)
        infos: list[SheetInfo] = []
        parts: list[str | None] = []
        names: set[str] = set()
        for name, state, rel_id in book.sheets:
            if name.lower() in names:
                raise PackageRejected(_DAMAGED.format(f"two sheets are named '{name[:40]}'"))
            names.add(name.lower())
            rel = rels.get(rel_id) if rel_id else None
            kind = next((k for suffix, k in _SHEET_REL_TYPES.items() if rel and rel[0].endswith(suffix)),
                        "worksheet")
            infos.append(SheetInfo(name, state, kind))
            parts.append(self._find(rel[1]) if rel else None)
        wanted = set(selector(list(infos)) if callable(selector) else selector)

        strings: list[str] = []
        sst = self._find(_target_of(rels, _REL_SHARED_STRINGS)) or self._find(
            posixpath.join(posixpath.dirname(workbook_part), "sharedStrings.xml"))
        if sst is not None:
            parser = _SharedStringsParser(self.limits)
            self._parse(sst, parser)
            strings = parser.strings

        cells: dict[str, dict[tuple[int, int], str | float | bool]] = {}
        blank_formulas: dict[str, set[tuple[int, int]]] = {}
        by_part: dict[str, list[str]] = {}
        for info, part in zip(infos, parts):
            if part is None:
                if info.name in wanted:
                    raise PackageRejected(_DAMAGED.format(f"sheet '{info.name[:40]}' has no contents"))
                continue
            by_part.setdefault(part, []).append(info.name)
        for part, sheet_names in by_part.items():
            keep = any(n in wanted for n in sheet_names)
            sheet = _SheetParser(sheet_names[0], self.limits, strings if keep else None)
            self._parse(part, sheet)
            for n in sheet_names:
                if n in wanted:
                    cells[n] = sheet.cells
                    blank_formulas[n] = sheet.blank_formulas

        core = _CoreParser()
        core_part = self._find(_target_of(root_rels, _REL_CORE)) or self._find("docProps/core.xml")
        if core_part is not None:
            self._parse(core_part, core)

        for key in sorted(set(self.members) - self.done):  # everything else is checked all the same
            if key.endswith(".xml") and any(f in key for f in _SHEET_FOLDERS):
                self._parse(key, _SheetParser(self.members[key].name, self.limits, None))
            elif key.endswith((".xml", ".rels")):
                self._parse(key, _PartParser())
            else:
                self._unpack(key, None)
        return WorkbookData(infos, cells, core.modified(), core.title(), blank_formulas)

    def _why_no_workbook(self) -> str:
        if any(k.endswith(".bin") and "workbook" in k for k in self.members):
            return "is a binary Excel workbook (.xlsb); save it as .xlsx"
        if "mimetype" in self.members or "content.xml" in self.members:
            return "is an OpenDocument spreadsheet (.ods) named .xlsx; save it as Excel .xlsx"
        if "word/document.xml" in self.members:
            return "is a Word document, not an Excel form"
        return "is not an Excel workbook (it has no xl/workbook.xml part)"

    def _find(self, name: str | None) -> str | None:
        if not name:
            return None
        key = name.lower()
        return key if key in self.members else None

    def _rels(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type, target part name) for `part` ("" for the package)."""
        folder, base = posixpath.split(part)
        rels = self._find(posixpath.join(folder, "_rels", base + ".rels"))
        if rels is None:
            return {}
        parser = _RelsParser(folder)
        self._parse(rels, parser)
        return parser.rels

    def _parse(self, key: str, handler: _PartParser) -> None:
        member = self.members[key]
        if handler.fast_path and member.size <= _FAST_MAX_BYTES:
            self._parse_fast(key, handler)
            return
        self._expat(member, handler, lambda parse: self._unpack(key, parse), final=True)

    def _parse_fast(self, key: str, handler: _PartParser) -> None:
        """The same outcome as the expat handler gives, mostly at C speed: the part (small,
        declared so; `_unpack` stops it at its declared size) is unpacked whole, once, and
        read by `handler.fast`. Whatever the fast reader does not fully understand, and every
        fault, is left to the expat handler, replayed over the very chunks unpacked, with the
        element budget as it was before the part: so every value and every reason given is
        the expat handler's, in the same order as when it reads while unpacking."""
        member = self.members[key]
        chunks: list[bytes] = []
        left = self.budget.left
        try:
            self._unpack(key, chunks.append)
        except PackageRejected:
            # The expat reader would have read these chunks before unpacking failed: a fault
            # in them is what it would have reported first.
            self._expat(member, handler, lambda parse: [parse(chunk) for chunk in chunks], final=False)
            raise
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if handler.fast(data, self.budget):
            return
        self.budget.left = left
        self._expat(member, handler, lambda parse: [parse(chunk) for chunk in chunks], final=True)
        handler.learned(data, left - self.budget.left)

    def _expat(self, member: Member, handler: _PartParser, feed: Callable[[Callable[[bytes], object]], object],
               final: bool) -> None:
        parser = expat.ParserCreate()
        handler.attach(parser, member.name, self.budget)
        self._feed(parser, member.name, feed, final)


def _target_of(rels: dict[str, tuple[str, str]], type_suffix: str) -> str | None:
    return next((target for kind, target in rels.values() if kind.endswith(type_suffix)), None)


def _local(name: str) -> str:
    # Prefixes vary by writer (x:row from some, row from most); only the local name matters here.
    return name[name.find(":") + 1:]


def _unescape(text: str) -> str:
    """Undo OOXML's _xHHHH_ escapes (e.g. _x000D_ for a carriage return)."""
    if "_x" not in text:
        return text
    text = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)
    # Pairs of escaped surrogates make one character; a lone one becomes U+FFFD, not bad text.
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


# --- the fast path ----------------------------------------------------------------------------
#
# Expat calling a Python function for every element is most of the cost of reading a form
# (a filled form has some 1,800 elements). For the parts that hold nearly all of them (the
# sheets, the theme, the styles) a part declared at most _FAST_MAX_BYTES is unpacked whole
# (once, with every check of `_unpack`) and read here with byte counts, compiled regular
# expressions and expat without handlers, all in C. The fast path never decides anything on
# its own: it answers "read, with exactly this outcome" or "not understood", and for the
# latter (anything unusual, and every fault whatever it is) the part is read again by the
# expat handler from the chunks already unpacked, so values and reasons are the handler's.
#
# What makes it exact:
# - a part with "<!" (DOCTYPE, comment, CDATA) or any "<?" other than a UTF-8 XML
#   declaration is not understood; no NUL byte and no other declared encoding: the bytes are
#   UTF-8 as expat reads them;
# - expat (no handlers, so no Python per element) checks that the part is well-formed; so
#   every "<" opens a tag, and the number of elements is the number of "<" minus the number
#   of "</" (and the declaration);
# - distinct names are bounded from above (a count, else the set of everything that may be
#   a name), so a part near the limit goes to the expat handler, which counts them exactly;
# - in a sheet, the rows of sheetData are read by one expression that admits only
#   well-formed XML in the plain forms every writer uses (names from a fixed list, no
#   attribute twice, valid characters, the five predefined entity references), so expat
#   needs to check only the rest of the part; any other character inside sheetData, and any
#   element outside it that the sheet reader acts on, is not understood;
# - forms of one scan are nearly the same bytes: results are kept by exact content (a part,
#   the rest of a sheet, a row), so what was read once is not read again in this process.
#   A result kept is what reading those very characters gave; what depends on anything else
#   (the limits, the shared strings, the row before) is applied afresh each time.

_FAST_MAX_BYTES = 2_000_000


K = TypeVar("K")
V = TypeVar("V")


class _Memo(Generic[K, V]):
    """Results by exact content, in this process, of at most `limit` in size (keys and results,
    roughly, in bytes); when full, it starts again empty."""

    def __init__(self, limit: int):
        self.results: dict[K, V] = {}
        self.size = 0
        self.limit = limit

    def keep(self, key: K, result: V, size: int) -> None:
        if self.size + size > self.limit:
            self.results.clear()
            self.size = 0
        self.results[key] = result
        self.size += size


_XML_DECLARATION = re.compile(
    rb"(?:\xef\xbb\xbf)?<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:\"1\.[0-9]+\"|'1\.[0-9]+')"
    rb"(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:\"(?i:utf-8)\"|'(?i:utf-8)'))?"
    rb"(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(?:\"(?:yes|no)\"|'(?:yes|no)'))?[ \t\r\n]*\?>")
# Everything that may be an element name, everything that may be an attribute name (text
# that looks like one only makes the count larger).
_TAG_NAMES = re.compile(r"<([^\s/>][^\s/>]*)")
_ATTRIBUTE_NAMES = re.compile(r"[ \t\r\n]([^ \t\r\n=/<>]+)[ \t\r\n]*=")
_PARTS: _Memo[bytes, int] = _Memo(8_000_000)  # part -> its number of elements


def _plain_elements(*pieces: bytes) -> int | None:
    """The number of elements of the part made of `pieces` if it is well-formed, UTF-8 and
    holds only elements, attributes and text (an XML declaration at most); None otherwise."""
    if any(b"<!" in piece or b"\x00" in piece for piece in pieces):
        return None
    declarations = sum(piece.count(b"<?") for piece in pieces)
    if declarations and (declarations > 1 or _XML_DECLARATION.match(pieces[0]) is None):
        return None
    parser = expat.ParserCreate()
    try:
        for piece in pieces[:-1]:
            parser.Parse(piece, False)
        parser.Parse(pieces[-1], True)
    except Exception:  # noqa: BLE001 - any fault at all is for the expat handler to name
        return None
    return sum(piece.count(b"<") - piece.count(b"</") for piece in pieces) - declarations


def _names_within(pieces: list[str], allowance: int) -> bool:
    """At most `allowance` distinct element and attribute names in `pieces` (a bound from above)."""
    if sum(piece.count("<") + piece.count("=") for piece in pieces) <= allowance:
        return True
    names: set[str] = set()
    for piece in pieces:
        names.update(_TAG_NAMES.findall(piece))
        names.update(_ATTRIBUTE_NAMES.findall(piece))
    return len(names) <= allowance


def _plain_part(data: bytes) -> int | None:
    """The number of elements of a part that `_PartParser` would take as it is; None if the
    fast path cannot tell."""
    elements = _PARTS.results.get(data)
    if elements is None:
        if data.count(b"<") + data.count(b"=") > _MAX_NAMES:
            try:
                if not _names_within([data.decode("utf-8")], _MAX_NAMES):
                    return None
            except UnicodeDecodeError:
                return None
        elements = _plain_elements(data)
        if elements is None:
            return None
        _PARTS.keep(data, elements, len(data))
    return elements


# The rows of sheetData in the fast path: cells with their attributes in the schema's order
# (r, s, t, then these), one space apart; a value in <v> or in one inline <t>; a formula in a
# plain <f>; rows with a number and other attributes from a list (checked for repeats).
_VALUE = '="[^"<]*"'
_ROW_ATTRIBUTES = ("spans", "s", "customFormat", "ht", "hidden", "customHeight", "outlineLevel", "collapsed",
                   "thickTop", "thickBot", "ph", "x14ac:dyDescent")
_CELL_ATTRIBUTES = ("cm", "vm", "ph")
# Names sheetData may hold in the fast path (elements and attributes), counted against _MAX_NAMES.
_SHEET_VOCABULARY = {"sheetData", "row", "c", "f", "v", "is", "t", "r", "s", "xml:space", *_ROW_ATTRIBUTES,
                     *_CELL_ATTRIBUTES}
# One token: a cell (its reference, type, <v> text, inline <t> text), a row start (its number,
# its other attributes, "/" if empty), or any other character (not understood). White space
# between tokens is skipped; "</row>" never occurs (rows are split at it).
_SHEET_TOKEN = re.compile(
    '(<c)(?: r="([A-Z]{1,3}[0-9]{1,9})")?(?: s="[0-9]{1,9}")?(?: t="([A-Za-z]{1,9})")?'
    + "".join(f"(?: {name}{_VALUE})?" for name in _CELL_ATTRIBUTES)
    + "(?: ?/>|>(?:<f>[^<]*</f>)?(?:<v>([^<]*)</v>|<is><t(?: xml:space=\"preserve\")?>([^<]*)</t></is>)?</c>)"
    + '|(<row)(?: r="([0-9]{1,9})")?((?: (?:' + "|".join(_ROW_ATTRIBUTES) + f"){_VALUE})*) ?(/?)>"
    + "|([^ \\t\\r\\n])")
# What the expression above lets through but well-formed XML does not have: a character XML
# does not allow, "]]>" in text, an "&" that is not one of the five predefined references.
_NOT_XML = re.compile("[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\ufffe\\uffff]|]]>|&(?!(?:amp|lt|gt|quot|apos);)")
_ROW_NAMES = re.compile(" ([^ =]+)=")
_DISTINCT: dict[str, bool] = {}  # a row's other attributes -> no name twice
# Elements the sheet reader acts on (whatever their prefix): outside sheetData, not understood.
_SHEET_ELEMENTS = re.compile(r"<(?:[^\s/>:]*:)?(?:c|row|sheetData|v|t|is|rPh)[\s/>]")
_REFERENCE = re.compile(r"([A-Z]{1,3})([0-9]{1,9})")
_POSITIONS: dict[str, tuple[int, int]] = {}  # cell reference -> (row, column), as far as seen
_XML_REFERENCE = re.compile(r"&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|(amp|lt|gt|quot|apos));")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
# (part before sheetData's rows, part after) -> elements in them
_SKELETONS: _Memo[tuple[bytes, bytes], int] = _Memo(4_000_000)


@dataclass(frozen=True, slots=True, eq=False)  # eq=False: "None in reads" compares in C
class _Rows:
    """What `_SheetParser` makes of some text of sheetData (normally one row)."""

    values: dict[tuple[int, int], str | float | bool | int]  # in order; int: index of a shared string
    shared: bool  # some value is a shared string
    damaged: bool  # some value would be refused (a shared string index, a number)
    cells: int
    rows: int
    elements: int
    opened: int  # row elements opened and not closed in the text
    top: int  # the largest row number met, of rows and cells
    bottom: int  # the smallest
    right: int  # the largest column
    longest: int  # the longest text of a value
    row: int  # the position after it
    column: int
    alone: bool  # it starts with a numbered row: it reads the same wherever it stands


# the text between two "</row>" -> what it holds; sized by its text and, roughly, its values
_ROWS: _Memo[str, _Rows] = _Memo(24_000_000)
_FIELDS = {name: attrgetter(name) for name in ("values", "shared", "damaged", "cells", "rows", "elements", "opened",
                                                "top", "bottom", "right", "longest")}


def _fast_sheet(data: bytes, budget: _Budget, limits: Limits,
                strings: list[str] | None) -> dict[tuple[int, int], str | float | bool] | None:
    """The cells `_SheetParser` would read from the sheet part `data` (none kept if `strings`
    is None), with the elements counted off `budget`; None if it cannot tell."""
    start = data.find(b"<sheetData>")
    if start >= 0:
        end = data.find(b"</sheetData>", start)
        if end < 0:
            return None
        body = start + len(b"<sheetData>")
    else:
        start = body = end = data.find(b"<sheetData/>")
        if start < 0:
            return None
    head, tail = data[:body], data[end:]
    elements = _SKELETONS.results.get((head, tail))
    if elements is None:
        elements = _skeleton(head, tail, body - start)
        if elements is None:
            return None
        _SKELETONS.keep((head, tail), elements, len(head) + len(tail))
    assert isinstance(elements, int)
    if b"<f" in data[body:end]:
        return None  # a formula (with or without its value): expat records it (blank_formulas)
    try:
        pieces = data[body:end].decode("utf-8").split("</row>")
    except UnicodeDecodeError:
        return None
    if len(pieces) > limits.max_rows_per_sheet + 1:
        return None  # more row ends than rows may be: expat gives the reason, in linear time
    # Each piece read before is taken as it was read; the others are read in order, from
    # where the piece before ends. The sums and bounds below are taken in C (map, sum, max).
    reads: list[_Rows | None] = list(map(_ROWS.results.get, pieces))
    for index in range(len(reads)):  # one pass: linear, however many pieces were not read before
        if reads[index] is not None:
            continue
        before = reads[index - 1] if index else None
        read = _read_rows(pieces[index], before.row if before else 0, before.column if before else 0)
        if read is None:
            return None
        if read.alone:  # sized by the memory the text takes (4 bytes a character for an emoji)
            _ROWS.keep(pieces[index], read, sys.getsizeof(pieces[index]) + 150 * (len(read.values) + 1))
        reads[index] = read
    done: list[_Rows] = reads  # type: ignore[assignment]  # no None left
    f = _FIELDS
    opened = list(map(f["opened"], done))
    if opened.count(1) != len(opened) - 1 or opened[-1]:  # not one row in each piece but the last
        # every piece but the last ends at a "</row>"; rows nest, so never more ends than starts
        depths = list(accumulate(o - 1 for o in opened[:-1]))
        if (depths and min(depths) < 0) or (depths[-1] if depths else 0) + opened[-1]:
            return None
    elements += sum(map(f["elements"], done))
    if (max(map(f["top"], done)) > limits.max_row or min(map(f["bottom"], done)) < 1
            or max(map(f["right"], done)) > limits.max_column
            or sum(map(f["rows"], done)) > limits.max_rows_per_sheet
            or sum(map(f["cells"], done)) > limits.max_cells_per_sheet or elements > budget.left):
        return None
    cells: dict[tuple[int, int], str | float | bool] = {}
    if strings is not None:
        if any(map(f["damaged"], done)) or max(map(f["longest"], done)) > limits.max_text_chars:
            return None
        if not any(map(f["shared"], done)):
            for _ in map(cells.update, map(f["values"], done)):  # type: ignore[arg-type]
                pass
        else:
            for read in done:
                for position, value in read.values.items():
                    if type(value) is int:  # the index of a shared string
                        if value >= len(strings):
                            return None
                        value = strings[value]
                        if value == "":
                            continue
                    cells[position] = value
    budget.left -= elements
    return cells


def _skeleton(head: bytes, tail: bytes, opening: int) -> int | None:
    """Elements of a sheet part without its rows (`head` ends with the sheetData start tag, of
    `opening` characters, `tail` starts with its end tag); None if not understood."""
    try:
        texts = [head.decode("utf-8"), tail.decode("utf-8")]
    except UnicodeDecodeError:
        return None
    if (_SHEET_ELEMENTS.search(texts[0], 0, len(texts[0]) - opening)
            or _SHEET_ELEMENTS.search(texts[1], len("</sheetData>"))):
        return None
    if not _names_within(texts, _MAX_NAMES - len(_SHEET_VOCABULARY)):
        return None
    return _plain_elements(head, tail)


def _read_rows(text: str, row: int, column: int) -> _Rows | None:
    """Read `text` (a part of sheetData holding no "</row>") from the position (row, column),
    as `_SheetParser` does; None if not understood."""
    if _NOT_XML.search(text):
        return None
    values: dict[tuple[int, int], str | float | bool | int] = {}
    shared = damaged = False
    count = rows = opened = top = right = longest = 0
    bottom = 1 << 62  # no row or cell: no bound
    alone: bool | None = None
    positions = _POSITIONS
    # finditer, not findall: text it does not understand (plain text between rows, say) ends
    # the reading at once instead of after a million matches were built
    for match in _SHEET_TOKEN.finditer(text):
        cell, ref, kind, value, inline, row_start, number, others, empty, other = match.groups(default="")
        if cell:
            alone = bool(alone)
            count += 1
            if ref:
                row, column = positions.get(ref) or _position(ref)
            else:
                column += 1  # cells without a reference follow the one before in the row
            top, bottom, right = max(top, row), min(bottom, row), max(right, column)
            if not (value or inline):
                continue  # "" and None read alike for every kind: an empty <v> or <t> is no value
            if "&" in value or "\r" in value:
                value = _xml_text(value)
            if "&" in inline or "\r" in inline:
                inline = _xml_text(inline)
            longest = max(longest, len(value), len(inline))
            if kind == "s":
                index = value.strip()
                if not index:
                    continue
                if not (index.isascii() and index.isdigit()):
                    damaged = True
                    continue
                values[(row, column)] = int(index)
                shared = True
                continue
            try:
                result = _cell_value(kind or "n", value or None, inline or None, [])
            except (_MissingText, _NotANumber):
                damaged = True
                continue
            if result is not None and result != "":
                values[(row, column)] = result
        elif row_start:
            if alone is None:
                alone = bool(number)
            if others and not (_DISTINCT.get(others) or _distinct(others)):
                return None  # an attribute twice: not well-formed
            row = int(number) if number else row + 1  # rows without a number follow the one before
            top, bottom = max(top, row), min(bottom, row)
            rows += 1
            column = 0
            if not empty:
                opened += 1
        else:
            return None
    return _Rows(values, shared, damaged, count, rows, text.count("<") - text.count("</"), opened, top, bottom,
                 right, longest, row, column, bool(alone))


def _distinct(attributes: str) -> bool:
    names = _ROW_NAMES.findall(attributes)
    distinct = len(names) == len(set(names))
    if len(attributes) <= 200:  # only short texts are remembered: a long one could fill memory
        if len(_DISTINCT) > 10_000:
            _DISTINCT.clear()
        _DISTINCT[attributes] = distinct
    return distinct


def _position(ref: str) -> tuple[int, int]:
    """(row, column) of a reference such as "B12" (as _SHEET_TOKEN admits it)."""
    match = _REFERENCE.fullmatch(ref)
    assert match is not None
    letters, digits = match.groups()
    position = (int(digits), _COLUMNS.get(letters) or _column_number(letters))
    if len(_POSITIONS) > 100_000:
        _POSITIONS.clear()
    _POSITIONS[ref] = position
    return position


def _xml_text(text: str) -> str:
    """Text as expat passes it on: line ends normalised, then references replaced (the text
    is well-formed, so every "&" starts one of these)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in text:
        text = _XML_REFERENCE.sub(_xml_reference, text)
    return text


def _xml_reference(match: re.Match[str]) -> str:
    hexadecimal, decimal, name = match.groups()
    if hexadecimal:
        return chr(int(hexadecimal, 16))
    if decimal:
        return chr(int(decimal))
    return _ENTITIES[name]


# --- XML parts --------------------------------------------------------------------------------

class _PartParser(PartGuard):
    """Any XML part: well-formed, no DTD, not absurdly many distinct names, and within the
    package's element budget."""

    fast_path = True  # `fast` may read the part (see _Package._parse_fast)

    def fast(self, data: bytes, budget: _Budget) -> bool:
        """Check the part as the expat handler would, without a Python call per element;
        False if it cannot tell (the expat handler then reads the part)."""
        elements = _plain_part(data)
        if elements is None or elements > budget.left:
            return False
        budget.left -= elements
        return True

    def learned(self, data: bytes, elements: int) -> None:
        """The expat handler has read `data` (of so many elements) and taken it: a handler
        whose result depends on nothing else keeps it for `fast`."""

    def attach(self, parser: expat.XMLParserType, part: str, budget: _Budget) -> None:
        super().attach(parser, part, budget)
        self.names: dict[str, str] = {}  # element or attribute name -> local name

    def _new_name(self, name: str) -> str:
        if len(self.names) >= _MAX_NAMES:
            raise self._too_many_names()
        local = self.names[name] = _local(name)
        return local

    def _local(self, name: str, attrs: dict[str, str]) -> str:
        """The local name of an element; counts every new element and attribute name."""
        budget = self.budget
        budget.left -= 1
        if budget.left < 0:
            raise self._over_budget()
        names = self.names
        local = names.get(name) or self._new_name(name)
        if not attrs.keys() <= names.keys():  # a set test in C; the loop only for new names
            for key in attrs.keys() - names.keys():
                self._new_name(key)
        return local

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        self._local(name, attrs)


# What the expat handlers of relationships and workbook parts found, by exact content: the
# same in every form of a scan. (elements, what was found); a copy is handed out.
_RELS: _Memo[tuple[str, bytes], tuple[int, dict[str, tuple[str, str]]]] = _Memo(1_000_000)
_BOOKS: _Memo[bytes, tuple[int, list[tuple[str, str, str | None]]]] = _Memo(1_000_000)


class _RelsParser(_PartParser):
    def __init__(self, folder: str):
        self.folder = folder
        self.rels: dict[str, tuple[str, str]] = {}

    def fast(self, data: bytes, budget: _Budget) -> bool:
        known = _RELS.results.get((self.folder, data))
        if known is None or known[0] > budget.left:
            return False
        budget.left -= known[0]
        self.rels = dict(known[1])
        return True

    def learned(self, data: bytes, elements: int) -> None:
        _RELS.keep((self.folder, data), (elements, dict(self.rels)), len(data))

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        if self._local(name, attrs) != "Relationship" or attrs.get("TargetMode") == "External":
            return
        target = unquote(attrs.get("Target", "")).replace("\\", "/")
        if not target:
            return
        # Absolute targets ("/xl/worksheets/sheet1.xml") start at the package root; others
        # are relative to the folder of the part the relationships belong to.
        path = posixpath.normpath(target.lstrip("/") if target.startswith("/")
                                  else posixpath.join(self.folder, target))
        if path.startswith("../") or path == "..":
            return
        self.rels[attrs.get("Id", "")] = (attrs.get("Type", ""), path)


class _WorkbookParser(_PartParser):
    def __init__(self) -> None:
        self.sheets: list[tuple[str, str, str | None]] = []

    def fast(self, data: bytes, budget: _Budget) -> bool:
        known = _BOOKS.results.get(data)
        if known is None or known[0] > budget.left:
            return False
        budget.left -= known[0]
        self.sheets = list(known[1])
        return True

    def learned(self, data: bytes, elements: int) -> None:
        _BOOKS.keep(data, (elements, list(self.sheets)), len(data))

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        if self._local(name, attrs) != "sheet":
            return
        state = attrs.get("state", "visible")
        # An unknown state is not shown as visible: a caller picking "the first visible
        # sheet" must not land on a sheet that Excel would not show as one.
        rel_id = next((v for k, v in attrs.items() if k.endswith(":id")), None)
        self.sheets.append((attrs.get("name", ""), state if state in _SHEET_STATES else "hidden", rel_id))


class _TextCollector(_PartParser):
    """Collects the text of <t> elements (not those of phonetic runs) where asked."""

    fast_path = False

    def __init__(self, limits: Limits):
        self.limits = limits
        self.collecting = False
        self.in_phonetic = False
        self.buffer: list[str] = []
        self.length = 0

    def _characters(self, data: str) -> None:
        if self.collecting:
            self.length += len(data)
            if self.length > self.limits.max_text_chars:
                raise PackageRejected(f"holds a text longer than Excel allows in one cell (in {self.part[:80]})")
            self.buffer.append(data)

    def _take(self) -> str:
        text = "".join(self.buffer)
        self.buffer = []
        self.length = 0
        return text


class _SharedStringsParser(_TextCollector):
    def __init__(self, limits: Limits):
        super().__init__(limits)
        self.strings: list[str] = []
        self.in_item = False

    def attach(self, parser: expat.XMLParserType, part: str, budget: _Budget) -> None:
        super().attach(parser, part, budget)
        parser.buffer_text = True
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._characters

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        local = self._local(name, attrs)
        if local == "t":
            self.collecting = self.in_item and not self.in_phonetic
        elif local == "si":
            self.in_item = True
            self._take()
        elif local == "rPh":
            self.in_phonetic = True

    def _end(self, name: str) -> None:
        local = self.names[name]
        if local == "t":
            self.collecting = False
        elif local == "si":
            self.in_item = False
            if len(self.strings) >= self.limits.max_shared_strings:
                raise PackageRejected(f"holds more than {self.limits.max_shared_strings} texts, "
                                      "far more than a form")
            self.strings.append(_unescape(self._take()))
        elif local == "rPh":
            self.in_phonetic = False


class _SheetParser(_TextCollector):
    """Tracks the position of every row and cell (explicit or implied) against the limits;
    collects cell values only when `strings` is given (the sheet was asked for)."""

    def __init__(self, sheet: str, limits: Limits, strings: list[str] | None):
        super().__init__(limits)
        self.sheet = sheet
        self.strings = strings
        self.cells: dict[tuple[int, int], str | float | bool] = {}
        self.in_data = False
        self.row = 0
        self.column = 0
        self.rows = 0
        self.count = 0
        # the cell being read
        self.position = (0, 0)
        self.kind = "n"
        self.value: str | None = None
        self.inline: str | None = None
        self.in_inline = False
        self.formula = False
        self.blank_formulas: set[tuple[int, int]] = set()

    def attach(self, parser: expat.XMLParserType, part: str, budget: _Budget) -> None:
        super().attach(parser, part, budget)
        if self.strings is None:
            # Checking only: no end handler (fewer calls). Row and cell elements exist only in
            # sheetData, so still counting them after it closes costs nothing real.
            parser.StartElementHandler = self._start
        else:
            parser.buffer_text = True
            parser.StartElementHandler = self._start
            parser.EndElementHandler = self._end
            parser.CharacterDataHandler = self._characters

    def _far(self, what: str) -> PackageRejected:
        return PackageRejected(f"uses {what}, far outside any form (sheet '{self.sheet[:40]}')")

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        budget = self.budget  # _local inlined: this is the hot path
        budget.left -= 1
        if budget.left < 0:
            raise self._over_budget()
        names = self.names
        local = names.get(name) or self._new_name(name)
        if not attrs.keys() <= names.keys():  # a set test in C; the loop only for new names
            for key in attrs.keys() - names.keys():
                self._new_name(key)
        if local == "c":
            if not self.in_data:
                return
            self._cell(attrs)
        elif local == "row":
            if not self.in_data:
                return
            ref = attrs.get("r")
            if ref is None:
                row = self.row + 1  # rows without a number follow the one before
            elif ref.isascii() and ref.isdigit() and len(ref) <= 9:
                row = int(ref)
            elif ref.strip().isdigit():
                raise self._far(f"row {ref.strip()[:12]}")
            else:
                raise PackageRejected(_DAMAGED.format(f"a row in sheet '{self.sheet[:40]}' is numbered "
                                                      f"'{ref[:20]}'"))
            if row > self.limits.max_row:
                raise self._far(f"row {row}")
            if row < 1:
                raise PackageRejected(_DAMAGED.format(f"row 0 in sheet '{self.sheet[:40]}'"))
            self.rows += 1  # repeated row numbers count too: each <row> costs work
            if self.rows > self.limits.max_rows_per_sheet:
                raise PackageRejected(f"has more than {self.limits.max_rows_per_sheet} rows in sheet "
                                      f"'{self.sheet[:40]}', far more than a form")
            self.row = row
            self.column = 0
        elif local == "sheetData":
            self.in_data = True
        elif self.strings is not None:
            if local == "v":
                self._take()
                self.collecting = True
            elif local == "t":
                self.collecting = self.in_inline and not self.in_phonetic
            elif local == "is":
                self.in_inline = True
                self._take()
            elif local == "rPh":
                self.in_phonetic = True
            elif local == "f":
                self.formula = True

    def _cell(self, attrs: dict[str, str]) -> None:
        self.count += 1
        if self.count > self.limits.max_cells_per_sheet:
            raise PackageRejected(f"has more than {self.limits.max_cells_per_sheet} cells in sheet "
                                  f"'{self.sheet[:40]}', far more than a form")
        ref = attrs.get("r")
        row = self.row
        if ref is None:
            column = self.column + 1  # cells without a reference follow the one before in the row
        else:
            letters = ref.rstrip("0123456789")
            digits = ref[len(letters):]
            if not ref or letters and not (letters.isascii() and letters.isalpha()):
                raise PackageRejected(_DAMAGED.format(f"a cell in sheet '{self.sheet[:40]}' is named '{ref[:20]}'"))
            if len(letters) > 3 or len(digits) > 9:
                raise self._far(f"cell {ref[:20]}")
            column = _COLUMNS.get(letters) or _column_number(letters.upper()) if letters else self.column + 1
            if digits:
                row = int(digits)
        if row > self.limits.max_row:
            raise self._far(f"row {row}")
        if column > self.limits.max_column:
            raise self._far(f"cell {_column_letters(column)}{row}")
        if row < 1:
            raise PackageRejected(_DAMAGED.format(f"a cell in sheet '{self.sheet[:40]}' lies outside any row"))
        self.row = row
        self.column = column
        if self.strings is not None:
            self.position = (row, column)
            self.kind = attrs.get("t", "n")
            self.value = None
            self.inline = None
            self.formula = False

    def _end(self, name: str) -> None:
        local = self.names[name]
        if local == "v":
            self.value = self._take()
            self.collecting = False
        elif local == "t":
            self.collecting = False
        elif local == "is":
            self.inline = self._take()
            self.in_inline = False
        elif local == "rPh":
            self.in_phonetic = False
        elif local == "c":
            if self.in_data:
                self._store()
        elif local == "sheetData":
            self.in_data = False

    def _store(self) -> None:
        try:
            result = _cell_value(self.kind, self.value, self.inline, self.strings or [])
        except _MissingText:
            raise PackageRejected(_DAMAGED.format(
                f"a cell in sheet '{self.sheet[:40]}' refers to a text that is not there")) from None
        except _NotANumber:
            row, column = self.position
            raise PackageRejected(_DAMAGED.format(
                f"cell {_column_letters(column)}{row} in sheet '{self.sheet[:40]}' holds "
                f"'{(self.value or '')[:20]}' where a number belongs")) from None
        if result is not None and result != "":
            self.cells[self.position] = result
        elif self.formula:
            self.blank_formulas.add(self.position)

    fast_path = True

    def fast(self, data: bytes, budget: _Budget) -> bool:
        """Read the part as the expat handler would (see "the fast path" above); False if it
        cannot tell, or if the handler would refuse the part (it then says why)."""
        cells = _fast_sheet(data, budget, self.limits, self.strings)
        if cells is None:
            return False
        self.cells = cells
        return True


class _MissingText(Exception):
    """A shared-string cell refers to a text that is not there."""


class _NotANumber(Exception):
    """A number cell holds something else."""


_BOOLEANS = {"1": True, "0": False, "true": True, "false": False}


def _cell_value(kind: str, value: str | None, inline: str | None, strings: list[str]) -> str | float | bool | None:
    """The value of a cell of type `kind` (the t attribute, "n" when absent) from the text of
    its <v> and of its inline string, None when it has none."""
    if kind == "s":
        if value is not None and value.strip():
            index = value.strip()
            if not (index.isascii() and index.isdigit()) or int(index) >= len(strings):
                raise _MissingText
            return strings[int(index)]
    elif kind == "inlineStr":
        return _unescape(inline if inline is not None else (value or ""))
    elif kind == "str":
        return _unescape(value) if value is not None else None  # a formula's last result, never evaluated
    elif kind == "b":
        return _BOOLEANS.get((value or "").strip())
    elif kind == "d":
        return value.strip() if value else None  # an ISO 8601 date as written (t="d", rare)
    elif kind == "n":
        if value is not None and value.strip():
            if not _NUMBER.fullmatch(value):
                raise _NotANumber
            return float(value)
    # t="e" (an error such as #N/A) and unknown kinds carry no value worth reading
    return None


def _column_number(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number



def _column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# Column letters of the first columns, computed once (a form uses four).
_COLUMNS = {_column_letters(n): n for n in range(1, 703)}


class _CoreParser(PropertiesPart, _PartParser):
    """docProps/core.xml: dcterms:modified (when it was last saved) and dc:title."""

    fast_path = False  # a few elements: expat alone

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        local = self._local(name, attrs)
        self._begin(local if local in ("title", "modified") else None)

    def _end(self, name: str) -> None:
        if self.current is not None and _local(name) == self.current:
            self.values[self.current] = "".join(self.buffer)
        self.current = None
