"""The .ods reader and .ods forms: a form saved as .ods by LibreOffice collects exactly like
the .xlsx (signature verified, answers read by their tags), a hostile .ods never crashes,
hangs or swells a run, and files that are no form at all (PDF, photos, .xls) are told what to do."""

from __future__ import annotations

import io
import os
import random
import re
import shutil
import struct
import subprocess
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from survey.collect import collect
from survey.demo import fill_form
from survey.forms import META_SHEET, write_forms
from survey.odsread import ODS_MIMETYPE, is_opendocument, read_ods
from survey.scan import Department, init_scan, load_scan
from survey.store import Store
from survey.xlsxread import Limits, PackageRejected, SheetInfo, read_workbook
from tests.conftest import corpus_dir

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
needs_libreoffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed")

ANSWERS = {"plezier": 8, "zingeving": 6, "voldoening": 7,
           "plezier_beter": "Meer tijd voor cliënten & <overleg>  en   spaties\ntweede regel"}

NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
      'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
      'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
      'xmlns:dc="http://purl.org/dc/elements/1.1/" '
      'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" '
      'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
      'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"')
EMPTY_TAIL = ('<table:table-row table:number-rows-repeated="1048570">'
              '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>')


# --------------------------------------------------------------------------- building packages


def content_xml(body: str, styles: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {NS} office:version="1.3">'
            f"<office:automatic-styles>{styles}</office:automatic-styles><office:body><office:spreadsheet>"
            f"{body}</office:spreadsheet></office:body></office:document-content>").encode()


def sheet(name: str, rows: str, style: str = "") -> str:
    style_attr = f' table:style-name="{style}"' if style else ""
    return f'<table:table table:name="{name}"{style_attr}>{rows}{EMPTY_TAIL}</table:table>'


def cell(text: str, kind: str = "string", **attrs: str) -> str:
    extra = "".join(f' {k.replace("__", ":").replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<table:table-cell office:value-type="{kind}"{extra}><text:p>{text}</text:p></table:table-cell>'


def row(*cells: str, repeat: int = 1) -> str:
    attr = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return (f"<table:table-row{attr}>{''.join(cells)}"
            '<table:table-cell table:number-columns-repeated="16000"/></table:table-row>')


def package(members: list[tuple[str, bytes]], mimetype: bytes = ODS_MIMETYPE.encode()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), mimetype, compress_type=zipfile.ZIP_STORED)
        for name, data in members:
            z.writestr(name, data)
    return out.getvalue()


def ods(body: str, styles: str = "", meta: str = "", extra: list[tuple[str, bytes]] | None = None,
        common_styles: str = "") -> bytes:
    meta_xml = f'<?xml version="1.0"?><office:document-meta {NS}><office:meta>{meta}</office:meta></office:document-meta>'
    styles_xml = (f'<?xml version="1.0"?><office:document-styles {NS}><office:styles>{common_styles}'
                  "</office:styles></office:document-styles>")
    manifest = (f'<?xml version="1.0"?><manifest:manifest {NS}><manifest:file-entry manifest:full-path="/" '
                f'manifest:media-type="{ODS_MIMETYPE}"/></manifest:manifest>')
    return package([("content.xml", content_xml(body, styles)), ("styles.xml", styles_xml.encode()),
                    ("meta.xml", meta_xml.encode()), ("META-INF/manifest.xml", manifest.encode()),
                    *(extra or [])])


def members_of(raw: bytes) -> list[tuple[str, bytes]]:
    source = zipfile.ZipFile(io.BytesIO(raw))
    return [(i.filename, source.read(i.filename)) for i in source.infolist()]


def repack(raw: bytes, change) -> bytes:
    """A copy of an .ods with `change(name, data) -> data` applied to every member (mimetype first, stored)."""
    rest = [(n, change(n, d)) for n, d in members_of(raw) if n != "mimetype"]
    return package([(n, d) for n, d in rest if d is not None])


def in_content(raw: bytes, edit) -> bytes:
    return repack(raw, lambda name, data: edit(data) if name == "content.xml" else data)


def everything(sheets: list[SheetInfo]) -> set[str]:
    return {s.name for s in sheets}


def lying_member(raw: bytes, name: bytes = b"Thumbnails/big.png", declared: int = 100,
                 actual: int = 300_000_000) -> bytes:
    """`raw` with one more member that declares `declared` bytes but inflates to `actual`."""
    payload = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = payload.compress(b"\0" * actual) + payload.flush()
    data = bytearray(raw)
    end = data.rfind(b"PK\x05\x06")
    entries, cd_size, cd_offset = struct.unpack("<HII", data[end + 10:end + 20])
    central = bytes(data[cd_offset:cd_offset + cd_size])
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, 0, len(body), declared, len(name), 0) + name
    entry = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, 0, len(body), declared,
                        len(name), 0, 0, 0, 0, 0, cd_offset) + name
    head = bytes(data[:cd_offset]) + local + body
    cd = central + entry
    return head + cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, entries + 1, entries + 1, len(cd), len(head), 0)


# --------------------------------------------------------------------------- the reader, on packages built here


def test_every_kind_of_value_is_read_at_its_position():
    body = sheet("Data", "".join([
        row(cell("tekst"), cell("1.5", "float", office__value="1.5"), cell("50%", "percentage", office__value="0.5"),
            cell("€ 3,00", "currency", office__value="3", office__currency="EUR"),
            cell("WAAR", "boolean", office__boolean_value="true"),
            cell("25-11-2026", "date", office__date_value="2026-11-25"),
            cell("25-11-2026 10:30", "date", office__date_value="2026-11-25T10:30:00"),
            cell("12:30", "time", office__time_value="PT12H30M00S"),
            cell("#N/A", "string", calcext__value_type="error"),
            cell("7", "float", office__value="7", table__formula="of:=3+4")),
        row('<table:table-cell table:number-columns-repeated="3"/>',
            '<table:table-cell office:value-type="string"><text:p>a<text:s text:c="3"/>b<text:span>c</text:span>'
            "<text:line-break/>d</text:p><text:p>e<text:tab/>f</text:p>"
            "<office:annotation><text:p>a comment, not the value</text:p></office:annotation></table:table-cell>",
            '<table:table-cell table:number-columns-spanned="2" office:value-type="string"><text:p>merged</text:p>'
            '</table:table-cell><table:covered-table-cell/>',
            cell("after the merge"),
            '<table:table-cell office:value-type="string" office:string-value="from the attribute"/>'),
        row(repeat=3),
        row(cell("x"), repeat=2),  # a repeated row that holds a value: a value on every row it covers
        row('<table:table-cell office:value-type="float" office:value="2" table:number-columns-repeated="3">'
            "<text:p>2</text:p></table:table-cell>"),
    ]))
    data = read_ods(ods(body), {"Data"})
    cells = data.cells["Data"]
    assert [cells.get((1, c)) for c in range(1, 12)] == [
        "tekst", 1.5, 0.5, 3.0, True, "2026-11-25", "2026-11-25T10:30:00", "12:30:00", None, 7.0, None]
    assert cells[(2, 4)] == "a   bc\nd\ne\tf"
    assert cells[(2, 5)] == "merged" and (2, 6) not in cells and cells[(2, 7)] == "after the merge"
    assert cells[(2, 8)] == "from the attribute"
    assert cells[(6, 1)] == cells[(7, 1)] == "x" and (5, 1) not in cells and (6, 2) not in cells
    assert [cells.get((8, c)) for c in range(1, 5)] == [2.0, 2.0, 2.0, None]
    assert len(cells) == 9 + 4 + 2 + 3  # the error cell holds no value


def test_sheets_visibility_title_and_saved_time():
    styles = ('<style:style style:name="ta1" style:family="table"><style:table-properties table:display="true"/>'
              '</style:style><style:style style:name="ta2" style:family="table">'
              '<style:table-properties table:display="false"/></style:style>')
    common = ('<style:style style:name="Verborgen" style:family="table">'
              '<style:table-properties table:display="false"/></style:style>')
    body = (sheet("Vragenlijst", row(cell("a")), "ta1") + sheet("_lists", row(cell("b")), "ta2")
            + sheet("_meta", row(cell("c")), "Verborgen"))
    data = read_ods(ods(body, styles, meta="<dc:title>Werkgeluk</dc:title><dc:date>2026-11-25T20:56:00</dc:date>",
                        common_styles=common), lambda sheets: {sheets[0].name, "_meta"})
    assert data.sheets == [SheetInfo("Vragenlijst", "visible", "worksheet"), SheetInfo("_lists", "hidden", "worksheet"),
                           SheetInfo("_meta", "hidden", "worksheet")]
    assert set(data.cells) == {"Vragenlijst", "_meta"} and data.cells["_meta"] == {(1, 1): "c"}
    assert data.title == "Werkgeluk" and data.modified.isoformat() == "2026-11-25T20:56:00"


def test_the_empty_tail_libreoffice_writes_is_never_expanded():
    """A million empty rows of 16,384 empty cells, in every sheet: normal, fast and small."""
    body = "".join(sheet(f"S{n}", row(cell("v")) + EMPTY_TAIL * 3) for n in range(50))
    raw = ods(body)
    tracemalloc.start()
    started = time.process_time()  # CPU time: what the reader spends, whatever else the machine runs
    data = read_ods(raw, everything)
    elapsed = time.process_time() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert all(cells == {(1, 1): "v"} for cells in data.cells.values())
    assert elapsed < 1 and peak < 20_000_000


@pytest.mark.parametrize("rows, reason", [
    (row(repeat=9999) + row(cell("x")), "row 10000"),
    (row(repeat=4999) + row(cell("x"), repeat=2), "row 5001"),  # a repeated row holding a value, past the limit
    (row(cell("x"), repeat=1_048_576), "row 1048576"),  # the classic bomb: an empty-looking tail with a value
    ('<table:table-row><table:table-cell table:number-columns-repeated="100"/>' + cell("x")
     + "</table:table-row>", "column 101"),
    ('<table:table-row><table:table-cell office:value-type="float" office:value="1" '
     'table:number-columns-repeated="16384"/></table:table-row>', "column 16384"),
    (row('<table:table-cell office:value-type="float" office:value="1" table:number-columns-repeated="100"/>',
         repeat=1001), "more than 100000 cells"),
    (row('<table:table-cell table:number-columns-repeated="99999999999"/>'), "repeat count"),
    (row('<table:table-cell table:number-columns-repeated="0"/>'), "repeat count"),
    (row(cell("1x", "float", office__value="1x")), "where a number belongs"),
    (row(cell("x", "date", office__date_value="gisteren")), "where a date belongs"),
    (row(cell("x", "time", office__time_value="PT")), "where a time belongs"),
    (row('<table:table-cell office:value-type="string"><text:p><text:s text:c="40000"/></text:p></table:table-cell>'),
     "longer than"),
    (row('<table:table-cell><table:table table:name="in"/></table:table-cell>'), "holds a table"),
])
def test_values_beyond_the_limits_are_refused_wherever_a_repeat_puts_them(rows, reason):
    with pytest.raises(PackageRejected, match=reason):
        read_ods(ods(sheet("Data", rows) + sheet("Other", row(cell("y")))), {"Other"})  # checked, though not asked for


def test_the_last_row_and_column_within_the_limits_are_read():
    rows = row(repeat=4999) + '<table:table-row><table:table-cell table:number-columns-repeated="99"/>' + cell("x") \
        + "</table:table-row>"
    assert read_ods(ods(sheet("Data", rows)), {"Data"}).cells["Data"] == {(5000, 100): "x"}


def _entity_late(raw: bytes) -> bytes:
    return in_content(raw, lambda d: d.replace(b"<office:document-content", b"<!--" + b"x" * 200_000 + b"-->"
                                                 b"<!DOCTYPE a [<!ENTITY b 'c'>]><office:document-content", 1))


def _entity_in_meta(raw: bytes) -> bytes:
    return repack(raw, lambda n, d: d.replace(b"<office:document-meta", b'<!DOCTYPE x [<!ENTITY a "aaaa">'
                                              b'<!ENTITY b "&a;&a;&a;">]><office:document-meta', 1)
                  if n == "meta.xml" else d)


def _too_many_members(raw: bytes) -> bytes:
    return package([(n, d) for n, d in members_of(raw) if n != "mimetype"]
                   + [(f"Pictures/{i}.png", b"") for i in range(2100)])


def _bad_crc(raw: bytes) -> bytes:
    data = bytearray(raw)
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46:pos + 46 + name_len] == b"content.xml":
            struct.pack_into("<I", data, pos + 16, struct.unpack_from("<I", data, pos + 16)[0] ^ 1)
        pos = data.find(b"PK\x01\x02", pos + 4)
    return bytes(data)


def _ratio_bomb(raw: bytes) -> bytes:
    return repack(raw, lambda n, d: d + b"<!--" + b" " * 60_000_000 + b"-->" if n == "styles.xml" else d)


def _odt(raw: bytes) -> bytes:
    return package([(n, d) for n, d in members_of(raw) if n != "mimetype"],
                   b"application/vnd.oasis.opendocument.text")


def _mimetype_not_first(raw: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in reversed(members_of(raw)):
            z.writestr(name, data)
    return out.getvalue()


def _encrypted(raw: bytes) -> bytes:
    return repack(raw, lambda n, d: d.replace(b"</manifest:manifest>", b'<manifest:file-entry manifest:full-path='
                                              b'"content.xml"><manifest:encryption-data/></manifest:file-entry>'
                                              b"</manifest:manifest>") if n == "META-INF/manifest.xml" else d)


def _traversal(raw: bytes) -> bytes:
    return package([(n, d) for n, d in members_of(raw) if n != "mimetype"] + [("../../evil.xml", b"<a/>")])


HOSTILE = {
    "lying sizes": (lambda raw: lying_member(raw), "more than it declares"),
    "entity late in content.xml": (_entity_late, "entities"),
    "entity in meta.xml": (_entity_in_meta, "entities"),
    "entity inside the body": (lambda raw: in_content(raw, lambda d: d.replace(
        b"<office:spreadsheet>", b"<office:spreadsheet><!ENTITY a 'b'>", 1)), "not valid XML"),
    "entity reference undeclared": (lambda raw: in_content(raw, lambda d: d.replace(
        b"<text:p>a</text:p>", b"<text:p>&lol9;</text:p>", 1)), "not valid XML"),
    "too many members": (_too_many_members, "parts"),
    "bad CRC": (_bad_crc, "CRC"),
    "ratio bomb": (_ratio_bomb, "zip bomb"),
    "cut off": (lambda raw: raw[: len(raw) // 2], "cut off|incomplete"),
    "text document": (_odt, "text document"),
    "mimetype not first": (_mimetype_not_first, "mimetype"),
    "encrypted": (_encrypted, "password"),
    "path traversal": (_traversal, "suspicious name"),
    "no content": (lambda raw: repack(raw, lambda n, d: None if n == "content.xml" else d), "no content.xml"),
    "sheet twice": (lambda raw: in_content(raw, lambda d: d.replace(b'table:name="Other"', b'table:name="DATA"')),
                    "two sheets"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_or_damaged_package_is_rejected_with_its_reason(case):
    raw = ods(sheet("Data", row(cell("a"))) + sheet("Other", row(cell("b"))))
    assert read_ods(raw, everything).cells == {"Data": {(1, 1): "a"}, "Other": {(1, 1): "b"}}
    make, reason = HOSTILE[case]
    started = time.process_time()
    with pytest.raises(PackageRejected, match=reason):
        read_ods(make(raw), everything)
    assert time.process_time() - started < 5


def test_lying_bomb_is_stopped_fast_in_little_memory():
    raw = lying_member(ods(sheet("Data", row(cell("a")))), b"content2.xml", 100, 300_000_000)
    tracemalloc.start()
    started = time.process_time()
    with pytest.raises(PackageRejected):
        read_ods(raw, everything)
    assert time.process_time() - started < 2 and tracemalloc.get_traced_memory()[1] < 10_000_000
    tracemalloc.stop()


def test_compressed_spaces_and_repeats_cannot_swell_memory_across_sheets():
    """text:s and repeats compress: a small content.xml must not become gigabytes of values."""
    spaces = ('<table:table-cell office:value-type="string"><text:p><text:s text:c="32000"/></text:p>'
              "</table:table-cell>")
    many_texts = "".join(sheet(f"S{n}", row(spaces * 100) * 2) for n in range(10))  # under 1 MB: no ratio check
    block = ('<table:table-cell office:value-type="float" office:value="1" table:number-columns-repeated="100"/>')
    many_values = "".join(sheet(f"S{n}", row(block, repeat=1000)) for n in range(12))
    for body, reason in ((many_texts, "far more text"), (many_values, "cells in all sheets together")):
        raw = ods(body)
        assert len(raw) < 100_000
        tracemalloc.start()
        with pytest.raises(PackageRejected, match=reason):
            read_ods(raw, everything)
        assert tracemalloc.get_traced_memory()[1] < 200_000_000
        tracemalloc.stop()


def test_bounds_follow_the_limits_given():
    raw = ods(sheet("Data", row(repeat=19) + row(cell("x"))))
    assert read_ods(raw, everything).cells["Data"] == {(20, 1): "x"}
    with pytest.raises(PackageRejected, match="row 20"):
        read_ods(raw, everything, Limits(max_row=19))
    with pytest.raises(PackageRejected, match="XML elements"):
        read_ods(raw, everything, Limits(max_elements=10))


def test_mutated_packages_are_read_or_rejected_never_anything_else():
    raw = ods(sheet("Data", row(cell("a"), cell("1", "float", office__value="1"))) + sheet("Other", row(cell("b"))))
    rng = random.Random(13)
    for _ in range(400):
        data = bytearray(raw)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            read_ods(bytes(data), everything)
        except PackageRejected as exc:
            assert str(exc)


def test_empty_parts_older_libreoffice_writes_are_accepted():
    raw = ods(sheet("Data", row(cell("a"))), extra=[("Configurations2/accelerator/current.xml", b"")])
    assert read_ods(raw, everything).cells == {"Data": {(1, 1): "a"}}


def test_realworld_ods_named_xlsx_is_read_as_ods_and_refused_as_no_form(made, tmp_path):
    path = corpus_dir("realworld-xlsx") / "ods-named-xlsx__type_openoffice.xlsx"
    raw = path.read_bytes()
    assert is_opendocument(raw) and read_ods(raw, everything).cells
    scan = fresh_scan(made, tmp_path)
    shutil.copy(path, scan.inbox / path.name)
    [outcome] = collect(scan).outcomes
    assert outcome.outcome == "rejected" and "not a form of this scan" in outcome.reason


def test_opendocument_is_told_by_content():
    assert is_opendocument(ods(sheet("Data", row(cell("a")))))
    assert not is_opendocument(b"PK\x03\x04" + bytes(60)) and not is_opendocument(b"")


# --------------------------------------------------------------------------- real forms, through collect


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A scan; a filled form as .xlsx and, if LibreOffice is here, the same file saved as .ods."""
    folder = tmp_path_factory.mktemp("ods")
    scan = init_scan(folder / "scan", "Org", "werkgeluk", "nl", "2026", 5,
                     [Department("Zorg", 6, 1), Department("Keuken", 3, 0)])
    forms = [f for f in write_forms(scan).forms if f.meta.role == "employee"]
    filled = []
    for number, spec in enumerate(forms[:4]):
        target = folder / f"form-{number}.xlsx"
        fill_form(scan, spec.path, {**ANSWERS, "plezier": 3 + number}, target)
        filled.append(target)
    converted = None
    if SOFFICE is not None:
        subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{folder / 'lo-profile'}",
                        "--convert-to", "ods", "--outdir", str(folder / "ods"), str(filled[0])],
                       check=True, capture_output=True, timeout=180)
        converted = folder / "ods" / "form-0.ods"
    return load_scan(scan.folder), filled, converted


def fresh_scan(made, tmp_path) -> object:
    scan, _, _ = made
    shutil.copytree(scan.folder, tmp_path / "scan")
    return load_scan(tmp_path / "scan")


def stored(scan) -> tuple[list, list]:
    with Store(scan.store_path) as store:
        responses = [(r.form_id, r.department, r.role) for r in store.responses()]
        answers = sorted((a.field, a.value_num, a.value_text) for a in store.answers())
    return responses, answers


@needs_libreoffice
def test_form_saved_as_ods_by_libreoffice_collects_like_the_xlsx(made, tmp_path):
    _, filled, converted = made
    raw = converted.read_bytes()
    assert is_opendocument(raw)
    # the reader gives the very cells the .xlsx reader gives for the file LibreOffice was given
    ods_book = read_ods(raw, everything)
    xlsx_book = read_workbook(filled[0].read_bytes(), everything)
    assert ods_book.cells == xlsx_book.cells
    assert [s.name for s in ods_book.sheets] == [s.name for s in xlsx_book.sheets]
    assert next(s for s in ods_book.sheets if s.name == META_SHEET).state == "hidden"
    results = []
    for name, source in (("form.xlsx", filled[0]), ("form.ods", converted)):
        scan = fresh_scan(made, tmp_path / name)
        shutil.copy(source, scan.inbox / name)
        result = collect(scan)
        assert [o.outcome for o in result.outcomes] == ["accepted"], result.outcomes
        results.append(stored(scan))
    assert results[0] == results[1]
    responses, answers = results[1]
    assert len(responses) == 1 and ("plezier", 3.0, None) in answers
    assert ("plezier_beter", None, ANSWERS["plezier_beter"]) in answers


@needs_libreoffice
def test_ods_whose_hidden_information_was_edited_is_rejected(made, tmp_path):
    _, _, converted = made
    raw = converted.read_bytes()

    def move_to_keuken(content: bytes) -> bytes:
        start = content.index(b'table:name="_meta"')
        meta = content[start:].replace(b"<text:p>Zorg</text:p>", b"<text:p>Keuken</text:p>", 1)
        assert meta != content[start:]
        return content[:start] + meta

    scan = fresh_scan(made, tmp_path)
    (scan.inbox / "edited.ods").write_bytes(in_content(raw, move_to_keuken))
    shutil.copy(converted, scan.inbox / "genuine.ods")
    outcomes = {o.path.name: o for o in collect(scan).outcomes}
    assert outcomes["genuine.ods"].outcome == "accepted"
    assert outcomes["edited.ods"].outcome == "rejected"
    assert "hidden information was changed" in outcomes["edited.ods"].reason


def _real_hostile(raw: bytes) -> dict[str, bytes]:
    """Hostile copies of a real .ods form: each must be refused, the genuine forms beside it kept."""
    def meta_tail_with_value(content: bytes) -> bytes:
        start = content.index(b'table:name="_meta"')
        tail = content.index(b"table:number-rows-repeated=", start)
        row_start = content.rindex(b"<table:table-row", 0, tail)
        row_end = content.index(b"</table:table-row>", tail) + len(b"</table:table-row>")
        bomb = (b'<table:table-row table:number-rows-repeated="1048555"><table:table-cell office:value-type="string">'
                b"<text:p>x</text:p></table:table-cell></table:table-row>")
        return content[:row_start] + bomb + content[row_end:]

    def value_at_row_10000(content: bytes) -> bytes:
        first = content.index(b"</table:table>")
        row_start = content.rindex(b"<table:table-row", 0, content.rindex(b"number-rows-repeated=", 0, first))
        return content[:row_start] + (b'<table:table-row table:number-rows-repeated="9980"><table:table-cell/>'
                                      b'</table:table-row><table:table-row><table:table-cell office:value-type='
                                      b'"float" office:value="1"><text:p>1</text:p></table:table-cell>'
                                      b"</table:table-row>") + content[first:]

    return {
        "repeated-rows-bomb.ods": in_content(raw, meta_tail_with_value),
        "late-entity.ods": _entity_late(raw),
        "lying-sizes.ods": lying_member(raw),
        "too-many-members.ods": _too_many_members(raw),
        "row-10000.ods": in_content(raw, value_at_row_10000),
    }


@needs_libreoffice
def test_hostile_ods_files_are_refused_and_real_forms_beside_them_still_count(made, tmp_path):
    _, filled, converted = made
    scan = fresh_scan(made, tmp_path)
    shutil.copy(converted, scan.inbox / "genuine.ods")
    for path in filled[1:]:
        shutil.copy(path, scan.inbox / path.name)
    hostile = _real_hostile(converted.read_bytes())
    for name, data in hostile.items():
        (scan.inbox / name).write_bytes(data)
    started = time.perf_counter()
    outcomes = {o.path.name: o for o in collect(scan).outcomes}
    assert time.perf_counter() - started < 60
    assert {outcomes[n].outcome for n in ["genuine.ods", *(p.name for p in filled[1:])]} == {"accepted"}
    reasons = {}
    for name in hostile:
        assert outcomes[name].outcome == "rejected", outcomes[name]
        reasons[name] = outcomes[name].reason
    assert "row 1048" in reasons["repeated-rows-bomb.ods"] and "far outside" in reasons["repeated-rows-bomb.ods"]
    assert "entities" in reasons["late-entity.ods"]
    assert "more than it declares" in reasons["lying-sizes.ods"]
    assert "parts" in reasons["too-many-members.ods"]
    assert re.search(r"row 1[0-9]{4}\b", reasons["row-10000.ods"]) and "far outside" in reasons["row-10000.ods"]
    assert len(stored(scan)[0]) == 4


def test_pdf_photos_old_excel_and_word_files_are_told_what_to_do(made, tmp_path):
    _, filled, _ = made
    scan = fresh_scan(made, tmp_path)
    shutil.copy(filled[1], scan.inbox / "genuine.xlsx")
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    files = {
        "scan.pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        "photo.png": b"\x89PNG\r\n\x1a\n" + bytes(200),
        "photo.jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200),
        "IMG_0001.HEIC": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200),
        "form.xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(2000),
        "photo-named.xlsx": b"\xff\xd8\xff\xe1" + bytes(100),  # the name lies; the content tells
        "answers.docx": docx.getvalue(),
        "notes.txt": b"plezier: 8",
    }
    for name, data in files.items():
        (scan.inbox / name).write_bytes(data)
    outcomes = {o.path.name: o for o in collect(scan).outcomes}
    assert outcomes["genuine.xlsx"].outcome == "accepted"
    assert all(outcomes[name].outcome == "rejected" for name in files)
    reason = {name: outcomes[name].reason for name in files}
    paper = "typed in with the entry workbook (survey forms --entry-workbook)"
    back = "a form must come back as the .xlsx (or .ods) file"
    assert reason["scan.pdf"].startswith("is a PDF") and paper in reason["scan.pdf"] and back in reason["scan.pdf"]
    for name, kind in (("photo.png", "PNG"), ("photo.jpg", "JPEG"), ("IMG_0001.HEIC", "HEIC"),
                       ("photo-named.xlsx", "JPEG")):
        assert reason[name].startswith(f"is a photo or scan of a form ({kind} image)"), reason[name]
        assert paper in reason[name] and back in reason[name]
    assert "old .xls" in reason["form.xls"] and "save it as .xlsx" in reason["form.xls"]
    assert "File > Save as > Excel workbook" in reason["form.xls"]
    assert reason["answers.docx"].startswith("is a Word document") and back in reason["answers.docx"]
    assert reason["notes.txt"].startswith("is not a form (.txt file)") and back in reason["notes.txt"]
