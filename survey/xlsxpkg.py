"""Personal copies of one xlsx template, made at the level of the zip package.

An xlsx file is a zip of XML parts. A personal form differs from its template in a few
strings only (a name, a unit, a code), so instead of loading and saving a workbook per copy
(tens of milliseconds with openpyxl) the parts that change are rewritten and every other
part's compressed bytes are copied as they are. Parse the template once with
:class:`Template` and make thousands of copies from it.

Placing a value in a workbook built with openpyxl
-------------------------------------------------
1. When building the template, write a unique placeholder where the value goes, e.g.
   ``meta["B7"] = "@@FORM_ID@@"``: letters, digits and ``@_-`` only, so that it is stored
   as is, and no other text of the workbook may contain it. For the document title set
   ``wb.properties.title = "@@TITLE@@"`` (it lands in ``docProps/core.xml``).
2. Find the member that holds the placeholder. openpyxl 3.1 and later write every string
   *inline* in its sheet part, ``xl/worksheets/sheetN.xml``, as
   ``<c r="B7" t="inlineStr"><is><t>@@FORM_ID@@</t></is></c>``; openpyxl before 3.1, Excel
   and LibreOffice put strings in the shared-string table ``xl/sharedStrings.xml`` as
   ``<si><t>@@FORM_ID@@</t></si>`` and the cell only holds its number (every cell showing
   the same placeholder then shares that one entry). :meth:`Template.members_containing`
   tells which member it is.
3. Per copy, replace the placeholder with the XML-escaped value::

       template = Template(template_bytes)
       sheet = template.members_containing(b"@@FORM_ID@@")[0]
       data = template.personalise({
           sheet: {b"@@FORM_ID@@": xml_text(form_id)},
           "docProps/core.xml": {b"@@TITLE@@": xml_text(f"Survey - {form_id}")},
       })

Escaping is the caller's job: pass every value through :func:`xml_text` (``&``, ``<``,
``>`` and quotes). The cell stays a text cell: a number put in this way is text to Excel.
Excel trims leading and trailing spaces of a ``<t>`` without ``xml:space="preserve"``, and
a cell holds at most 32,767 characters.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from io import BytesIO

Replacement = Callable[[bytes], bytes] | Mapping[bytes, bytes]

_LOCAL = struct.Struct("<IHHHHHIIIHH")  # local file header, without name and extra field
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")  # central directory entry, fixed part
_END = struct.Struct("<IHHHHIIH")  # end of central directory record
_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = 0x04034B50, 0x02014B50, 0x06054B50
_ZIP32_MAX = 0xFFFFFFFF
_ENTRIES_MAX = 0xFFFF
_FLAG_ENCRYPTED = 0x1
_FLAG_DATA_DESCRIPTOR = 0x8  # sizes after the data: we always know them, so we clear it
_FLAG_UTF8 = 0x800
_READABLE = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
# Below this a member is simply deflated whole: splicing would save next to nothing.
_SPLIT_MIN_BYTES = 16 * 1024
_PLANS_MAX = 64  # each holds a deflate state (~270 KB): bound them
_VERSION_DEFLATE = 20  # "2.0": what deflate needs to extract

_XML_ESCAPES = {
    ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;", ord("'"): "&apos;",
}
# XML 1.0 allows tab, newline and carriage return among the control characters, no others.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: str) -> bytes:
    """``value`` escaped for XML text or an attribute, UTF-8 encoded.

    Control characters that XML 1.0 forbids (Excel would call the file damaged) raise
    ValueError instead of being dropped silently.
    """
    bad = _XML_FORBIDDEN.search(value)
    if bad:
        code = ord(bad.group())
        raise ValueError(f"{value!r} holds a control character (U+{code:04X}) that XML cannot hold")
    return value.translate(_XML_ESCAPES).encode("utf-8")


@dataclass(frozen=True)
class _Member:
    name: str
    name_bytes: bytes
    flags: int
    method: int
    dos_time: int
    dos_date: int
    crc: int
    compressed_size: int
    size: int
    raw: bytes  # the compressed data as stored in the template
    made_by: int  # system and version that wrote the member: says how to read external_attr
    external_attr: int
    local_header: bytes  # ready to write when the member is copied unchanged
    central_fixed: tuple[int, ...]  # central directory fields before the offset


class Template:
    """An xlsx (or any zip) template, parsed once for many :meth:`personalise` calls."""

    def __init__(self, template: bytes, *, level: int = 6) -> None:
        """Parse ``template``; ValueError if it is no zip, is encrypted or needs zip64.

        ``level`` is the deflate level for the rewritten members (1 fastest, 9 smallest).
        """
        self.level = level
        try:
            with zipfile.ZipFile(BytesIO(template)) as package:
                infos = package.infolist()
        except zipfile.BadZipFile as exc:
            raise ValueError(f"the template is not a valid xlsx (zip) file: {exc}") from None
        if len(infos) > _ENTRIES_MAX or len(template) > _ZIP32_MAX:
            raise ValueError("the template is too large for a plain zip (it would need zip64)")
        view = memoryview(template)
        members: list[_Member] = []
        for info in infos:
            if max(info.compress_size, info.file_size, info.header_offset) > _ZIP32_MAX:
                raise ValueError(f"member {info.filename} is too large for a plain zip (zip64)")
            if info.flag_bits & _FLAG_ENCRYPTED:
                raise ValueError(f"member {info.filename} is encrypted")
            members.append(self._member(view, info))
        self.members = members
        self._by_name = {m.name: i for i, m in enumerate(members)}
        self._plain: dict[str, bytes] = {}  # decompressed members, read on first use
        self._plans: dict[tuple[str, tuple[bytes, ...]], _SplicePlan] = {}

    @staticmethod
    def _member(view: memoryview, info: zipfile.ZipInfo) -> _Member:
        offset = info.header_offset
        fields = _LOCAL.unpack_from(view, offset)
        if fields[0] != _LOCAL_SIG:
            raise ValueError(f"member {info.filename}: no local header where the directory points")
        name_length, extra_length = fields[9], fields[10]
        name_start = offset + _LOCAL.size
        name_bytes = bytes(view[name_start : name_start + name_length])
        data_start = name_start + name_length + extra_length
        raw = bytes(view[data_start : data_start + info.compress_size])
        if len(raw) != info.compress_size:
            raise ValueError(f"member {info.filename} is cut short")
        flags = info.flag_bits & ~_FLAG_DATA_DESCRIPTOR
        dos_date = (info.date_time[0] - 1980) << 9 | info.date_time[1] << 5 | info.date_time[2]
        dos_time = info.date_time[3] << 11 | info.date_time[4] << 5 | info.date_time[5] // 2
        member = _Member(
            name=info.filename,
            name_bytes=name_bytes,
            flags=flags,
            method=info.compress_type,
            dos_time=dos_time,
            dos_date=dos_date,
            crc=info.CRC,
            compressed_size=info.compress_size,
            size=info.file_size,
            raw=raw,
            made_by=info.create_system << 8 | info.create_version,
            external_attr=info.external_attr,
            local_header=b"",
            central_fixed=(),
        )
        return _with_headers(member)

    def plain(self, name: str) -> bytes:
        """The decompressed bytes of member ``name``."""
        if name not in self._plain:
            member = self.members[self._index(name)]
            if member.method == zipfile.ZIP_STORED:
                data = member.raw
            elif member.method == zipfile.ZIP_DEFLATED:
                data = zlib.decompress(member.raw, -15)
            else:
                raise ValueError(f"member {name} uses a compression this module cannot rewrite")
            if zlib.crc32(data) != member.crc:
                raise ValueError(f"member {name} of the template is damaged (CRC mismatch)")
            self._plain[name] = data
        return self._plain[name]

    def members_containing(self, needle: bytes) -> list[str]:
        """Names of the members whose decompressed bytes contain ``needle``."""
        return [
            m.name for m in self.members if m.method in _READABLE and needle in self.plain(m.name)
        ]

    def _index(self, name: str) -> int:
        try:
            return self._by_name[name]
        except KeyError:
            raise ValueError(f"the template has no member {name!r}") from None

    def personalise(self, replacements: Mapping[str, Replacement]) -> bytes:
        """A copy of the template with the named members transformed.

        For each member named in ``replacements`` the decompressed bytes are passed to the
        callable, or every key of the mapping is replaced by its value (each key must occur,
        else ValueError; all occurrences are replaced in one pass, so a value is never
        itself searched for later keys). Those members are deflated anew; every other
        member is copied compressed as it is.
        """
        changed: dict[int, _Member] = {}
        for name, replacement in replacements.items():
            index = self._index(name)
            plain = self.plain(name)
            if not callable(replacement) and replacement and len(plain) >= _SPLIT_MIN_BYTES:
                changed[index] = self._spliced(self.members[index], plain, replacement)
            else:
                data = _apply(name, plain, replacement)
                changed[index] = self._rewritten(self.members[index], data)
        chunks: list[bytes] = []
        central: list[bytes] = []
        offset = 0
        for index, member in enumerate(self.members):
            member = changed.get(index, member)
            chunks.append(member.local_header)
            chunks.append(member.raw)
            central.append(_CENTRAL.pack(*member.central_fixed, offset))
            central.append(member.name_bytes)
            offset += len(member.local_header) + len(member.raw)
        directory = b"".join(central)
        if offset + len(directory) > _ZIP32_MAX:
            raise ValueError("the personalised copy is too large for a plain zip (zip64)")
        count = len(self.members)
        chunks.append(directory)
        chunks.append(_END.pack(_END_SIG, 0, 0, count, count, len(directory), offset, 0))
        return b"".join(chunks)

    def _spliced(
        self, member: _Member, plain: bytes, replacement: Mapping[bytes, bytes]
    ) -> _Member:
        """Like ``_rewritten(_apply(...))``, deflating only the stretch the keys lie in."""
        keys = tuple(sorted(replacement))
        plan = self._plans.get((member.name, keys))
        if plan is None:
            _apply(member.name, plain, replacement)  # the same checks: every key occurs, none empty
            plan = _SplicePlan.make(plain, keys, self.level)
            if len(self._plans) >= _PLANS_MAX:
                self._plans.clear()
            self._plans[(member.name, keys)] = plan
        middle = _apply(member.name, plain[plan.start : plan.end], replacement)
        compressor = plan.after_prefix.copy()
        # A sync flush ends on a byte boundary; the suffix was deflated on its own (it
        # refers to nothing before it), so the three pieces form one valid stream.
        raw = b"".join((
            plan.prefix_raw,
            compressor.compress(middle),
            compressor.flush(zlib.Z_SYNC_FLUSH),
            plan.suffix_raw,
        ))
        crc = zlib.crc32(plan.suffix, zlib.crc32(middle, plan.prefix_crc))
        size = plan.start + len(middle) + len(plan.suffix)
        return self._with_data(member, raw, crc, size)

    def _rewritten(self, member: _Member, data: bytes) -> _Member:
        compressor = zlib.compressobj(self.level, zlib.DEFLATED, -15)
        raw = compressor.compress(data) + compressor.flush()
        return self._with_data(member, raw, zlib.crc32(data), len(data))

    def _with_data(self, member: _Member, raw: bytes, crc: int, size: int) -> _Member:
        if max(len(raw), size) > _ZIP32_MAX:
            raise ValueError(f"member {member.name} would be too large for a plain zip (zip64)")
        updated = replace(
            member,
            flags=member.flags & ~0x6,  # bits 1-2 described the old deflate options
            method=zipfile.ZIP_DEFLATED,
            crc=crc,
            compressed_size=len(raw),
            size=size,
            raw=raw,
        )
        return _with_headers(updated)


@dataclass(frozen=True)
class _SplicePlan:
    """A large member cut around its keys: the parts before the first key and after the
    last one are deflated once, per copy only the stretch between them.

    A shared-string table holds every text of the workbook (100 KB and more) while the
    placeholders sit together, usually near its end: deflating all of it per copy costs
    milliseconds, the stretch microseconds.
    """

    start: int  # where the first key occurs
    end: int  # where the last key occurrence ends
    prefix_raw: bytes  # plain[:start] deflated, ended by a sync flush
    prefix_crc: int
    after_prefix: Any  # zlib compressor state right after the prefix: copied per copy
    suffix: bytes  # plain[end:]
    suffix_raw: bytes  # plain[end:] deflated on its own, with the final block

    @staticmethod
    def make(plain: bytes, keys: tuple[bytes, ...], level: int) -> _SplicePlan:
        start = min(plain.find(key) for key in keys)
        end = max(plain.rfind(key) + len(key) for key in keys)
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        prefix_raw = compressor.compress(plain[:start]) + compressor.flush(zlib.Z_SYNC_FLUSH)
        suffix_compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        suffix = plain[end:]
        suffix_raw = suffix_compressor.compress(suffix) + suffix_compressor.flush()
        prefix_crc = zlib.crc32(plain[:start])
        return _SplicePlan(start, end, prefix_raw, prefix_crc, compressor, suffix, suffix_raw)


def _with_headers(member: _Member) -> _Member:
    """``member`` with its local header and fixed central-directory fields filled in."""
    version = _VERSION_DEFLATE
    local_header = _LOCAL.pack(
        _LOCAL_SIG, version, member.flags, member.method, member.dos_time, member.dos_date,
        member.crc, member.compressed_size, member.size, len(member.name_bytes), 0,
    ) + member.name_bytes
    central_fixed = (
        _CENTRAL_SIG,
        member.made_by,
        version,  # needed to extract
        member.flags, member.method, member.dos_time, member.dos_date,
        member.crc, member.compressed_size, member.size,
        len(member.name_bytes), 0, 0,  # name length, no extra field, no comment
        0, 0,  # disk number, internal attributes
        member.external_attr,
    )
    return replace(member, local_header=local_header, central_fixed=central_fixed)


def _apply(name: str, data: bytes, replacement: Replacement) -> bytes:
    if callable(replacement):
        result = replacement(data)
        if not isinstance(result, bytes | bytearray):
            kind = type(result).__name__
            raise TypeError(f"the transformation of {name} returned {kind}, not bytes")
        return bytes(result)
    if not replacement:
        return data
    if b"" in replacement:
        raise ValueError(f"an empty key cannot be replaced in {name}")
    missing = [key for key in replacement if key not in data]
    if missing:
        shown = ", ".join(repr(key) for key in missing)
        raise ValueError(f"member {name} does not contain {shown}")
    if len(replacement) == 1:
        ((key, value),) = replacement.items()
        return data.replace(key, value)
    # Longest key first, so a key that is a prefix of another does not cut it up.
    keys = sorted(replacement, key=len, reverse=True)
    pattern = re.compile(b"|".join(re.escape(key) for key in keys))
    return pattern.sub(lambda match: replacement[match.group()], data)


def personalise(template: bytes, replacements: Mapping[str, Replacement]) -> bytes:
    """One personal copy of ``template``; see :meth:`Template.personalise`.

    Parses the template on each call: for many copies, make one :class:`Template`.
    """
    return Template(template).personalise(replacements)
