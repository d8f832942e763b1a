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

The zip container is parsed here rather than with `zipfile` so that the number of entries is
bounded before any per-entry object is made, overlapping members (a known zip-bomb trick) are
seen, and the reason for a rejection can be told in plain words.
"""

from __future__ import annotations

import posixpath
import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote
from xml.parsers import expat

__all__ = ["Limits", "PackageRejected", "SheetInfo", "WorkbookData", "read_workbook"]

_CHUNK = 64 * 1024
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SAVE_AGAIN = "ask for the form to be saved again"
_DAMAGED = "is a damaged workbook ({}); " + _SAVE_AGAIN

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
class Limits:
    """Bounds far above any form of this project, far below what hurts a laptop."""

    max_file_bytes: int = 20_000_000
    max_members: int = 2_000
    max_member_bytes: int = 50_000_000  # declared or actual uncompressed size of one member
    max_total_bytes: int = 100_000_000  # all members together
    max_ratio: int = 200  # uncompressed / compressed, only for members above 1 MB uncompressed
    max_row: int = 5_000
    max_column: int = 100
    max_rows_per_sheet: int = 5_000
    max_cells_per_sheet: int = 100_000
    max_shared_strings: int = 200_000  # each costs a Python object; a form has a few hundred
    max_text_chars: int = 32_767  # Excel's own limit for the text of one cell
    # XML elements in all parts together. A form has a few thousand; without a bound, a 100 kB
    # file of small parts (each under the ratio check) could keep a reader busy for many seconds.
    max_elements: int = 1_000_000


class PackageRejected(Exception):
    """The file cannot be taken in; str(exc) is the reason in words a consultant understands."""


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
    if len(raw) > limits.max_file_bytes:
        raise PackageRejected(f"is {len(raw) / 1_000_000:.1f} MB, far larger than a form can be")
    if not raw:
        raise PackageRejected("is empty (0 bytes); ask for the form to be sent again")
    if raw[:8] == _OLE_MAGIC:
        raise PackageRejected("is password-protected or an old .xls file; save it as .xlsx without a password")
    members = _read_directory(raw, limits)
    return _Package(raw, members, limits).read(sheets)


# --- zip container ---------------------------------------------------------------------------

@dataclass
class _Member:
    name: str  # as stored, with backslashes turned into slashes
    flags: int
    method: int
    crc: int
    compressed: int
    size: int  # declared uncompressed size
    header_offset: int
    raw_name: bytes
    data_start: int = 0  # where the compressed bytes begin, once the local header is checked


_EOCD = struct.Struct("<4s4H2LH")
_EOCD64_LOCATOR = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_LOCAL = struct.Struct("<4s2B4HL2L2H")


def _read_directory(raw: bytes, limits: Limits) -> list[_Member]:
    """The zip's central directory, with every structural check that needs no decompression."""
    view = memoryview(raw)
    end = raw.rfind(b"PK\x05\x06", max(0, len(raw) - 65_557))
    if end < 0 or end + _EOCD.size > len(raw):
        if raw[:4] == b"PK\x03\x04":
            raise PackageRejected("is an incomplete workbook (the file was cut off, e.g. while copying); "
                                  + _SAVE_AGAIN)
        if raw[:4] == b"PK\x05\x06":
            raise PackageRejected("is an empty zip archive, not an Excel workbook")
        raise PackageRejected("is not an Excel workbook (.xlsx); hand out and collect the forms as .xlsx")
    _, disk, cd_disk, _, count, cd_size, cd_offset, _ = _EOCD.unpack_from(raw, end)
    directory_end = end
    if 0xFFFF in (count, disk, cd_disk) or 0xFFFFFFFF in (cd_size, cd_offset):
        locator = end - _EOCD64_LOCATOR.size
        if locator < 0 or raw[locator:locator + 4] != b"PK\x06\x07":
            raise PackageRejected(_DAMAGED.format("its zip directory is incomplete"))
        _, disk, record, _ = _EOCD64_LOCATOR.unpack_from(raw, locator)
        record = locator - _EOCD64.size  # where it must be; the stored offset may be shifted
        if record < 0 or raw[record:record + 4] != b"PK\x06\x06":
            raise PackageRejected(_DAMAGED.format("its zip directory is incomplete"))
        _, _, _, _, disk, cd_disk, _, count, cd_size, cd_offset = _EOCD64.unpack_from(raw, record)
        directory_end = record
    if disk or cd_disk:
        raise PackageRejected("is one part of a split zip archive, not a whole workbook")
    if count > limits.max_members:
        raise PackageRejected(f"holds {count} parts, far more than a form (possibly hostile)")
    directory_start = directory_end - cd_size
    # Data put in front of the archive (as self-extractors do) shifts every stored offset.
    shift = directory_start - cd_offset
    if directory_start < 0 or shift < 0:
        raise PackageRejected(_DAMAGED.format("its zip directory points outside the file"))

    members: list[_Member] = []
    pos = directory_start
    while pos < directory_end:
        if len(members) >= limits.max_members:
            raise PackageRejected(f"holds more than {limits.max_members} parts, far more than a form "
                                  "(possibly hostile)")
        if pos + _CENTRAL.size > directory_end or raw[pos:pos + 4] != b"PK\x01\x02":
            raise PackageRejected(_DAMAGED.format("its zip directory is damaged"))
        (_, _, _, _, _, flags, method, _, _, crc, compressed, size, name_len, extra_len, comment_len,
         _, _, _, offset) = _CENTRAL.unpack_from(raw, pos)
        name_start = pos + _CENTRAL.size
        extra_start = name_start + name_len
        pos = extra_start + extra_len + comment_len
        if pos > directory_end:
            raise PackageRejected(_DAMAGED.format("its zip directory is damaged"))
        raw_name = bytes(view[name_start:extra_start])
        if 0xFFFFFFFF in (size, compressed, offset):
            size, compressed, offset = _zip64_sizes(view[extra_start:extra_start + extra_len],
                                                    size, compressed, offset)
        try:
            name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
        except UnicodeDecodeError:
            raise PackageRejected(_DAMAGED.format("a part name is not valid text")) from None
        members.append(_Member(name.replace("\\", "/"), flags, method, crc, compressed, size,
                               offset + shift, raw_name))
    _check_members(raw, members, limits)
    return members


def _zip64_sizes(extra: memoryview, size: int, compressed: int, offset: int) -> tuple[int, int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<2H", extra, pos)
        if pos + 4 + length > len(extra):
            break
        if tag == 1:
            values = iter(struct.unpack_from(f"<{length // 8}Q", extra, pos + 4))
            try:
                if size == 0xFFFFFFFF:
                    size = next(values)
                if compressed == 0xFFFFFFFF:
                    compressed = next(values)
                if offset == 0xFFFFFFFF:
                    offset = next(values)
            except StopIteration:
                break
            return size, compressed, offset
        pos += 4 + length
    raise PackageRejected(_DAMAGED.format("its zip directory is damaged"))


def _check_members(raw: bytes, members: list[_Member], limits: Limits) -> None:
    seen: set[str] = set()
    total = 0
    spans: list[tuple[int, int, str]] = []
    for member in members:
        name = member.name
        parts = name.split("/")
        if name.startswith("/") or ".." in parts or ":" in parts[0] or "\x00" in name:
            raise PackageRejected(f"holds a part with a suspicious name ({name[:80]!r}), possibly hostile")
        # OPC part names are case-insensitive: two names differing only in case are one part twice.
        key = name.lower()
        if key in seen:
            raise PackageRejected(f"holds the part {name[:80]} twice (damaged or tampered with)")
        seen.add(key)
        if member.flags & 0x1:
            raise PackageRejected("is password-protected; save it as .xlsx without a password")
        if member.method not in (0, 8):
            raise PackageRejected(f"uses a kind of compression Excel does not write (method {member.method} "
                                  f"in {name[:80]}); " + _SAVE_AGAIN)
        total += member.size
        if member.size > limits.max_member_bytes or total > limits.max_total_bytes or (
                member.size > 1_000_000 and member.size > limits.max_ratio * max(member.compressed, 1)):
            raise PackageRejected("unpacks to an absurd size (a zip bomb?)")
        if member.method == 0 and member.compressed != member.size:
            raise PackageRejected(_DAMAGED.format(f"the stored part {name[:80]} has two sizes"))
        start = member.data_start = _data_start(raw, member)
        if start + member.compressed > len(raw):
            raise PackageRejected("is an incomplete workbook (the file was cut off, e.g. while copying); "
                                  + _SAVE_AGAIN)
        spans.append((member.header_offset, start + member.compressed, name))
    # Members sharing compressed data let a small file unpack many times over (a zip bomb).
    spans.sort()
    for (_, end, name), (begin, _, other) in zip(spans, spans[1:]):
        if begin < end:
            raise PackageRejected(f"holds parts that overlap ({name[:60]} and {other[:60]}), "
                                  "possibly a zip bomb")


def _data_start(raw: bytes, member: _Member) -> int:
    pos = member.header_offset
    if pos + _LOCAL.size > len(raw) or raw[pos:pos + 4] != b"PK\x03\x04":
        raise PackageRejected(_DAMAGED.format(f"the part {member.name[:80]} is missing"))
    *_, name_len, extra_len = _LOCAL.unpack_from(raw, pos)
    name_start = pos + _LOCAL.size
    if raw[name_start:name_start + name_len] != member.raw_name:
        raise PackageRejected(_DAMAGED.format("its zip directory does not match its contents"))
    return name_start + name_len + extra_len


# --- package -----------------------------------------------------------------------------------

class _Package:
    def __init__(self, raw: bytes, members: list[_Member], limits: Limits):
        self.raw = raw
        self.limits = limits
        self.members = {m.name.lower(): m for m in members if not m.name.endswith("/")}
        self.done: set[str] = set()
        self.unpacked = 0  # actual bytes out, all members together
        self.budget = _Budget(limits.max_elements)

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
        parser = expat.ParserCreate()
        handler.attach(parser, member.name, self.budget)
        try:
            self._unpack(key, parser.Parse)
            parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise PackageRejected(_DAMAGED.format(
                f"part {member.name[:80]} is not valid XML: {expat.ErrorString(exc.code)}")) from None
        except (LookupError, ValueError):  # pyexpat asks Python's codecs for a declared encoding
            raise PackageRejected(_DAMAGED.format(
                f"part {member.name[:80]} declares a text encoding that cannot be read")) from None
        except RecursionError:
            raise PackageRejected(_DAMAGED.format(f"part {member.name[:80]} is nested absurdly deep")) from None

    def _unpack(self, key: str, sink: Callable[[bytes], object] | None) -> None:
        """Decompress one member in steps, feeding `sink`; stop the moment it grows too large."""
        if key in self.done:
            raise PackageRejected(_DAMAGED.format(f"part {self.members[key].name[:80]} is used twice"))
        self.done.add(key)
        member = self.members[key]
        limits = self.limits
        view = memoryview(self.raw)[member.data_start:member.data_start + member.compressed]
        allowed = min(member.size, limits.max_member_bytes)
        out_total = 0
        crc = 0
        bomb = f"part {member.name[:80]} unpacks to more than it declares (a zip bomb?)"

        def emit(chunk: bytes) -> None:
            nonlocal out_total, crc
            out_total += len(chunk)
            self.unpacked += len(chunk)
            if out_total > allowed:
                raise PackageRejected(bomb)
            if self.unpacked > limits.max_total_bytes or (
                    out_total > 1_000_000 and out_total > limits.max_ratio * max(member.compressed, 1)):
                raise PackageRejected("unpacks to an absurd size (a zip bomb?)")
            crc = zlib.crc32(chunk, crc)
            if sink is not None:
                sink(chunk)

        if member.method == 0:
            for pos in range(0, len(view), _CHUNK):
                emit(bytes(view[pos:pos + _CHUNK]))
        else:
            inflater = zlib.decompressobj(-15)
            pos = 0
            try:
                while not inflater.eof:
                    if inflater.unconsumed_tail:
                        data = inflater.unconsumed_tail
                    elif pos < len(view):
                        data = view[pos:pos + _CHUNK]
                        pos += len(data)
                    else:
                        data = b""
                    chunk = inflater.decompress(data, _CHUNK)
                    if chunk:
                        emit(chunk)
                    elif not data:
                        break  # input used up and nothing more comes out: the stream is cut short
            except zlib.error:
                raise PackageRejected(_DAMAGED.format(f"part {member.name[:80]} cannot be unpacked")) from None
            if not inflater.eof:
                raise PackageRejected(_DAMAGED.format(f"part {member.name[:80]} is cut short"))
        if out_total != member.size:
            raise PackageRejected(_DAMAGED.format(f"part {member.name[:80]} is shorter than it declares"))
        if crc != member.crc:
            raise PackageRejected(_DAMAGED.format(f"bad CRC in {member.name[:80]}"))


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


# --- XML parts --------------------------------------------------------------------------------

# Distinct element and attribute names in one part. Expat keeps an entry for every distinct
# name it meets (and pyexpat interns each), so a part of millions of made-up names would take
# hundreds of MB; real parts use fewer than a few hundred.
_MAX_NAMES = 2_000


class _Budget:
    """Elements left to parse in the whole package, shared by the parsers of all its parts."""

    def __init__(self, elements: int):
        self.total = elements
        self.left = elements


class _PartParser:
    """Any XML part: well-formed, no DTD (entity declarations are how XML bombs work), not
    absurdly many distinct names, and within the package's element budget."""

    part = ""
    budget = _Budget(0)

    def attach(self, parser: expat.XMLParserType, part: str, budget: _Budget) -> None:
        self.part = part
        self.budget = budget
        self.names: dict[str, str] = {}  # element or attribute name -> local name
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._doctype
        parser.ExternalEntityRefHandler = self._doctype
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartElementHandler = self._start

    def _doctype(self, *_: object) -> None:
        raise PackageRejected(f"part {self.part[:80]} declares XML entities (possibly hostile)")

    def _new_name(self, name: str) -> str:
        if len(self.names) >= _MAX_NAMES:
            raise PackageRejected(f"part {self.part[:80]} uses more than {_MAX_NAMES} different XML names "
                                  "(possibly hostile)")
        local = self.names[name] = _local(name)
        return local

    def _over_budget(self) -> PackageRejected:
        return PackageRejected(f"holds far more than a form (over {self.budget.total} XML elements, "
                               f"in {self.part[:80]} and before); possibly hostile")

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


class _RelsParser(_PartParser):
    def __init__(self, folder: str):
        self.folder = folder
        self.rels: dict[str, tuple[str, str]] = {}

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
        kind, value = self.kind, self.value
        result: str | float | bool | None = None
        if kind == "s":
            strings = self.strings or []
            if value is not None and value.strip():
                index = value.strip()
                if not (index.isascii() and index.isdigit()) or int(index) >= len(strings):
                    raise PackageRejected(_DAMAGED.format(
                        f"a cell in sheet '{self.sheet[:40]}' refers to a text that is not there"))
                result = strings[int(index)]
        elif kind == "inlineStr":
            result = _unescape(self.inline if self.inline is not None else (value or ""))
        elif kind == "str":
            result = _unescape(value) if value is not None else None  # a formula's last result, never evaluated
        elif kind == "b":
            result = {"1": True, "0": False, "true": True, "false": False}.get((value or "").strip())
        elif kind == "d":
            result = value.strip() if value else None  # an ISO 8601 date as written (t="d", rare)
        elif kind == "n":
            if value is not None and value.strip():
                if not _NUMBER.fullmatch(value):
                    row, column = self.position
                    raise PackageRejected(_DAMAGED.format(
                        f"cell {_column_letters(column)}{row} in sheet '{self.sheet[:40]}' holds "
                        f"'{value[:20]}' where a number belongs"))
                result = float(value)
        # t="e" (an error such as #N/A) and unknown kinds carry no value worth reading
        if result is not None and result != "":
            self.cells[self.position] = result
        elif self.formula:
            self.blank_formulas.add(self.position)


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


class _CoreParser(_PartParser):
    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.current: str | None = None
        self.buffer: list[str] = []

    def attach(self, parser: expat.XMLParserType, part: str, budget: _Budget) -> None:
        super().attach(parser, part, budget)
        parser.buffer_text = True
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._characters

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        local = self._local(name, attrs)
        self.current = local if local in ("title", "modified") else None
        self.buffer = []
        self.length = 0

    def _characters(self, data: str) -> None:
        if self.current is not None and self.length < 10_000:  # a title, not a book
            self.buffer.append(data)
            self.length += len(data)

    def _end(self, name: str) -> None:
        if self.current is not None and _local(name) == self.current:
            self.values[self.current] = "".join(self.buffer)
        self.current = None

    def title(self) -> str | None:
        return self.values.get("title") or None

    def modified(self) -> datetime | None:
        text = self.values.get("modified", "").strip()
        if not text:
            return None
        try:
            return datetime.fromisoformat(text)  # W3CDTF, "Z" included (Python 3.11+)
        except ValueError:
            return None  # a damaged date is no reason to refuse a form
