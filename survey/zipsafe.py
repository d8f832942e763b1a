"""The safe reading of an untrusted zip package, shared by `survey.xlsxread` (.xlsx) and
`survey.odsread` (.ods): the limits, the zip container, unpacking and the guard on XML parts.

Returned forms come from a shared inbox, so every byte is untrusted. The zip container is
parsed here rather than with `zipfile` so that the number of entries is bounded before any
per-entry object is made, overlapping members (a known zip-bomb trick) are seen, and the
reason for a rejection can be told in plain words. Every member is decompressed at most
once, in 64 KiB steps, while its output is counted (a member that inflates beyond what it
declares is stopped at once) and its CRC is checked; XML parts are fed straight into expat,
which is refused any DOCTYPE (entity declarations are how XML bombs work). Nothing is
extracted and no member is held whole in memory unless its reader asks for that.

What differs between the kinds of file (what a reason calls the file, who writes it, the
password advice) is a `Kind`; everything else is one code path for both readers.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from xml.parsers import expat

__all__ = ["Budget", "Kind", "Limits", "Member", "Package", "PackageRejected", "PartGuard", "PropertiesPart",
           "check_size",
           "read_directory"]

CHUNK = 64 * 1024
SAVE_AGAIN = "ask for the form to be saved again"
# Distinct element and attribute names in one part. Expat keeps an entry for every distinct
# name it meets (and pyexpat interns each), so a part of millions of made-up names would take
# hundreds of MB; real parts use fewer than a few hundred.
MAX_NAMES = 2_000


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
class Kind:
    """A kind of package: the words its reasons use, and the one rule that differs by kind."""

    noun: str  # "workbook": "is a damaged workbook (...)"
    writer: str  # who writes such files: "uses a kind of compression Excel does not write"
    not_this_kind: str  # the reason for a file with no zip directory at all
    password: str  # the reason for an encrypted member
    empty_zip: str | None = None  # the reason for a file that starts with an end record, if told apart
    reject_empty_names: bool = False  # a member named "" is refused (else it is checked as any other)

    @property
    def damaged(self) -> str:
        """The reason for damage, to be completed with `.format(what)`."""
        return f"is a damaged {self.noun} ({{}}); " + SAVE_AGAIN

    @property
    def cut_off(self) -> str:
        return f"is an incomplete {self.noun} (the file was cut off, e.g. while copying); " + SAVE_AGAIN


def check_size(raw: bytes, limits: Limits) -> None:
    """The checks on the file as a whole, before anything in it is read."""
    if len(raw) > limits.max_file_bytes:
        raise PackageRejected(f"is {len(raw) / 1_000_000:.1f} MB, far larger than a form can be")
    if not raw:
        raise PackageRejected("is empty (0 bytes); ask for the form to be sent again")


# --- zip container ---------------------------------------------------------------------------

@dataclass
class Member:
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


def read_directory(raw: bytes, limits: Limits, kind: Kind) -> list[Member]:
    """The zip's central directory, in stored order, with every structural check that needs
    no decompression."""
    damaged = kind.damaged
    view = memoryview(raw)
    end = raw.rfind(b"PK\x05\x06", max(0, len(raw) - 65_557))
    if end < 0 or end + _EOCD.size > len(raw):
        if raw[:4] == b"PK\x03\x04":
            raise PackageRejected(kind.cut_off)
        if raw[:4] == b"PK\x05\x06" and kind.empty_zip:
            raise PackageRejected(kind.empty_zip)
        raise PackageRejected(kind.not_this_kind)
    _, disk, cd_disk, _, count, cd_size, cd_offset, _ = _EOCD.unpack_from(raw, end)
    directory_end = end
    if 0xFFFF in (count, disk, cd_disk) or 0xFFFFFFFF in (cd_size, cd_offset):
        locator = end - _EOCD64_LOCATOR.size
        if locator < 0 or raw[locator:locator + 4] != b"PK\x06\x07":
            raise PackageRejected(damaged.format("its zip directory is incomplete"))
        record = locator - _EOCD64.size  # where it must be; the stored offset may be shifted
        if record < 0 or raw[record:record + 4] != b"PK\x06\x06":
            raise PackageRejected(damaged.format("its zip directory is incomplete"))
        _, _, _, _, disk, cd_disk, _, count, cd_size, cd_offset = _EOCD64.unpack_from(raw, record)
        directory_end = record
    if disk or cd_disk:
        raise PackageRejected(f"is one part of a split zip archive, not a whole {kind.noun}")
    if count > limits.max_members:
        raise PackageRejected(f"holds {count} parts, far more than a form (possibly hostile)")
    directory_start = directory_end - cd_size
    # Data put in front of the archive (as self-extractors do) shifts every stored offset.
    shift = directory_start - cd_offset
    if directory_start < 0 or shift < 0:
        raise PackageRejected(damaged.format("its zip directory points outside the file"))

    members: list[Member] = []
    pos = directory_start
    while pos < directory_end:
        if len(members) >= limits.max_members:
            raise PackageRejected(f"holds more than {limits.max_members} parts, far more than a form "
                                  "(possibly hostile)")
        if pos + _CENTRAL.size > directory_end or raw[pos:pos + 4] != b"PK\x01\x02":
            raise PackageRejected(damaged.format("its zip directory is damaged"))
        (_, _, _, _, _, flags, method, _, _, crc, compressed, size, name_len, extra_len, comment_len,
         _, _, _, offset) = _CENTRAL.unpack_from(raw, pos)
        name_start = pos + _CENTRAL.size
        extra_start = name_start + name_len
        pos = extra_start + extra_len + comment_len
        if pos > directory_end:
            raise PackageRejected(damaged.format("its zip directory is damaged"))
        raw_name = bytes(view[name_start:extra_start])
        if 0xFFFFFFFF in (size, compressed, offset):
            size, compressed, offset = _zip64_sizes(view[extra_start:extra_start + extra_len],
                                                    size, compressed, offset, damaged)
        try:
            name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
        except UnicodeDecodeError:
            raise PackageRejected(damaged.format("a part name is not valid text")) from None
        members.append(Member(name.replace("\\", "/"), flags, method, crc, compressed, size,
                              offset + shift, raw_name))
    _check_members(raw, members, limits, kind)
    return members


def _zip64_sizes(extra: memoryview, size: int, compressed: int, offset: int,
                 damaged: str) -> tuple[int, int, int]:
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
    raise PackageRejected(damaged.format("its zip directory is damaged"))


def _check_members(raw: bytes, members: list[Member], limits: Limits, kind: Kind) -> None:
    seen: set[str] = set()
    total = 0
    spans: list[tuple[int, int, str]] = []
    for member in members:
        name = member.name
        parts = name.split("/")
        if ((kind.reject_empty_names and not name) or name.startswith("/") or ".." in parts
                or ":" in parts[0] or "\x00" in name):
            raise PackageRejected(f"holds a part with a suspicious name ({name[:80]!r}), possibly hostile")
        # OPC part names are case-insensitive, and two names differing only in case are one
        # file twice on most disks: either way one part twice.
        key = name.lower()
        if key in seen:
            raise PackageRejected(f"holds the part {name[:80]} twice (damaged or tampered with)")
        seen.add(key)
        if member.flags & 0x1:
            raise PackageRejected(kind.password)
        if member.method not in (0, 8):
            raise PackageRejected(f"uses a kind of compression {kind.writer} does not write (method "
                                  f"{member.method} in {name[:80]}); " + SAVE_AGAIN)
        total += member.size
        if member.size > limits.max_member_bytes or total > limits.max_total_bytes or (
                member.size > 1_000_000 and member.size > limits.max_ratio * max(member.compressed, 1)):
            raise PackageRejected("unpacks to an absurd size (a zip bomb?)")
        if member.method == 0 and member.compressed != member.size:
            raise PackageRejected(kind.damaged.format(f"the stored part {name[:80]} has two sizes"))
        start = member.data_start = _data_start(raw, member, kind.damaged)
        if start + member.compressed > len(raw):
            raise PackageRejected(kind.cut_off)
        spans.append((member.header_offset, start + member.compressed, name))
    # Members sharing compressed data let a small file unpack many times over (a zip bomb).
    spans.sort()
    for (_, end, name), (begin, _, other) in zip(spans, spans[1:]):
        if begin < end:
            raise PackageRejected(f"holds parts that overlap ({name[:60]} and {other[:60]}), "
                                  "possibly a zip bomb")


def _data_start(raw: bytes, member: Member, damaged: str) -> int:
    pos = member.header_offset
    if pos + _LOCAL.size > len(raw) or raw[pos:pos + 4] != b"PK\x03\x04":
        raise PackageRejected(damaged.format(f"the part {member.name[:80]} is missing"))
    *_, name_len, extra_len = _LOCAL.unpack_from(raw, pos)
    name_start = pos + _LOCAL.size
    if raw[name_start:name_start + name_len] != member.raw_name:
        raise PackageRejected(damaged.format("its zip directory does not match its contents"))
    return name_start + name_len + extra_len


# --- package -----------------------------------------------------------------------------------

class Budget:
    """Elements left to parse in the whole package, shared by the parsers of all its parts."""

    def __init__(self, elements: int):
        self.total = elements
        self.left = elements


class Package:
    """The checked members of one package, by the key its reader looks them up with; each is
    unpacked at most once, all of them within the limits."""

    def __init__(self, raw: bytes, members: dict[str, Member], limits: Limits, kind: Kind):
        self.raw = raw
        self.members = members
        self.limits = limits
        self.kind = kind
        self.done: set[str] = set()  # keys unpacked
        self.unpacked = 0  # actual bytes out, all members together
        self.budget = Budget(limits.max_elements)

    def _unpack(self, key: str, sink: Callable[[bytes], object] | None) -> None:
        """Decompress one member in steps, feeding `sink`; stop the moment it grows too large."""
        damaged = self.kind.damaged
        if key in self.done:
            raise PackageRejected(damaged.format(f"part {self.members[key].name[:80]} is used twice"))
        self.done.add(key)
        member = self.members[key]
        name = member.name[:80]
        limits = self.limits
        view = memoryview(self.raw)[member.data_start:member.data_start + member.compressed]
        allowed = min(member.size, limits.max_member_bytes)
        out_total = 0
        crc = 0

        def emit(chunk: bytes) -> None:
            nonlocal out_total, crc
            out_total += len(chunk)
            self.unpacked += len(chunk)
            if out_total > allowed:
                raise PackageRejected(f"part {name} unpacks to more than it declares (a zip bomb?)")
            if self.unpacked > limits.max_total_bytes or (
                    out_total > 1_000_000 and out_total > limits.max_ratio * max(member.compressed, 1)):
                raise PackageRejected("unpacks to an absurd size (a zip bomb?)")
            crc = zlib.crc32(chunk, crc)
            if sink is not None:
                sink(chunk)

        if member.method == 0:
            for pos in range(0, len(view), CHUNK):
                emit(bytes(view[pos:pos + CHUNK]))
        else:
            inflater = zlib.decompressobj(-15)
            pos = 0
            try:
                while not inflater.eof:
                    if inflater.unconsumed_tail:
                        data = inflater.unconsumed_tail
                    elif pos < len(view):
                        data = view[pos:pos + CHUNK]
                        pos += len(data)
                    else:
                        data = b""
                    chunk = inflater.decompress(data, CHUNK)
                    if chunk:
                        emit(chunk)
                    elif not data:
                        break  # input used up and nothing more comes out: the stream is cut short
            except zlib.error:
                raise PackageRejected(damaged.format(f"part {name} cannot be unpacked")) from None
            if not inflater.eof:
                raise PackageRejected(damaged.format(f"part {name} is cut short"))
        if out_total != member.size:
            raise PackageRejected(damaged.format(f"part {name} is shorter than it declares"))
        if crc != member.crc:
            raise PackageRejected(damaged.format(f"bad CRC in {name}"))

    def _feed(self, parser: expat.XMLParserType, part: str,
              feed: Callable[[Callable[[bytes], object]], object], final: bool = True) -> None:
        """`feed(parser.Parse)` (and the end of the input if `final`); any fault of the XML
        becomes a rejection that names the part."""
        damaged = self.kind.damaged
        try:
            feed(parser.Parse)
            if final:
                parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise PackageRejected(damaged.format(
                f"part {part[:80]} is not valid XML: {expat.ErrorString(exc.code)}")) from None
        except (LookupError, ValueError):  # pyexpat asks Python's codecs for a declared encoding
            raise PackageRejected(damaged.format(
                f"part {part[:80]} declares a text encoding that cannot be read")) from None
        except RecursionError:
            raise PackageRejected(damaged.format(f"part {part[:80]} is nested absurdly deep")) from None


class PartGuard:
    """The handler of any XML part: no DTD (entity declarations are how XML bombs work); its
    reader counts elements against the package's budget and distinct names against MAX_NAMES
    (each reader in the way that is fastest for it) and raises what these methods give."""

    part = ""
    budget = Budget(0)

    def attach(self, parser: expat.XMLParserType, part: str, budget: Budget) -> None:
        self.part = part
        self.budget = budget
        parser.StartDoctypeDeclHandler = self._doctype
        parser.EntityDeclHandler = self._doctype
        parser.ExternalEntityRefHandler = self._doctype
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartElementHandler = self._start

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        raise NotImplementedError

    def _doctype(self, *_: object) -> None:
        raise PackageRejected(f"part {self.part[:80]} declares XML entities (possibly hostile)")

    def _over_budget(self) -> PackageRejected:
        return PackageRejected(f"holds far more than a form (over {self.budget.total} XML elements, "
                               f"in {self.part[:80]} and before); possibly hostile")

    def _too_many_names(self) -> PackageRejected:
        return PackageRejected(f"part {self.part[:80]} uses more than {MAX_NAMES} different XML names "
                               "(possibly hostile)")


class PropertiesPart(PartGuard):
    """The part that names the document (docProps/core.xml, meta.xml): the text of its title
    and of when it was last saved. The reader's `_start` calls `_begin` with "title",
    "modified" or None for each element; its `_end` keeps what `buffer` holds."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.current: str | None = None
        self.buffer: list[str] = []
        self.length = 0

    def attach(self, parser: expat.XMLParserType, part: str, budget: Budget) -> None:
        super().attach(parser, part, budget)
        parser.buffer_text = True
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._characters

    def _end(self, name: str) -> None:
        raise NotImplementedError

    def _begin(self, wanted: str | None) -> None:
        self.current = wanted
        self.buffer = []
        self.length = 0

    def _characters(self, data: str) -> None:
        if self.current is not None and self.length < 10_000:  # a title, not a book
            self.buffer.append(data)
            self.length += len(data)

    def title(self) -> str | None:
        return self.values.get("title") or None

    def modified(self) -> datetime | None:
        text = self.values.get("modified", "").strip()
        if not text:
            return None
        try:
            # W3CDTF ("Z" included, Python 3.11+) from Excel; LibreOffice writes local time without a zone
            return datetime.fromisoformat(text)
        except ValueError:
            return None  # a damaged date is no reason to refuse a form
