"""The fast path of xlsxread is pinned to the expat handlers: for every real kind of form and
every file of the corpus both give the same WorkbookData (or the same reason), and every
construct the fast path does not fully understand makes it hand the part to expat."""

from __future__ import annotations

import random

import pytest

from survey import xlsxread
from survey.xlsxread import Limits, PackageRejected, read_workbook
from tests.test_xlsxread import (HOSTILE, LISTS, _corpus_files, build_zip, first_visible_and_meta, form,  # noqa: F401
                                 honest, members_of, repack, resaved_by_libreoffice, sheet_xml)

SHEET = "xl/worksheets/sheet1.xml"  # the questionnaire sheet, asked for


def every_sheet(sheets):
    return {s.name for s in sheets}


def outcome(raw, sheets, limits):
    try:
        return read_workbook(raw, sheets, limits)
    except PackageRejected as exc:
        return f"rejected: {exc}"


def both(monkeypatch, raw, sheets=first_visible_and_meta, limits=Limits()):
    """(fast-path outcome, expat-only outcome, parts the fast path handed to expat)."""
    handed: list[str] = []
    expat_read = xlsxread._Package._expat

    def watch(self, member, handler, feed, final):
        if handler.fast_path and xlsxread._FAST_MAX_BYTES >= 0:
            handed.append(member.name)
        return expat_read(self, member, handler, feed, final)

    monkeypatch.setattr(xlsxread._Package, "_expat", watch)
    fast = outcome(raw, sheets, limits)
    monkeypatch.setattr(xlsxread, "_FAST_MAX_BYTES", -1)  # nothing on the fast path
    slow = outcome(raw, sheets, limits)
    monkeypatch.undo()
    return fast, slow, handed


def test_openpyxl_form_reads_the_same_and_on_the_fast_path(form, monkeypatch):
    _, raw = form
    for sheets in (first_visible_and_meta, every_sheet, set()):
        for _ in range(2):  # the second time from what was kept by content
            fast, slow, handed = both(monkeypatch, raw, sheets)
            assert fast == slow and not isinstance(fast, str)
            assert not [p for p in handed if "worksheets" in p or p.endswith(("theme1.xml", "styles.xml"))]


def test_limits_give_the_same_reasons(form, monkeypatch):
    _, raw = form
    for limits in (Limits(max_cells_per_sheet=5), Limits(max_rows_per_sheet=3), Limits(max_row=3),
                   Limits(max_column=1), Limits(max_text_chars=10), Limits(max_elements=500),
                   Limits(max_elements=2_000), Limits(max_shared_strings=0)):
        fast, slow, _ = both(monkeypatch, raw, first_visible_and_meta, limits)
        assert fast == slow


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_packages_give_the_same_reason(form, monkeypatch, case):
    _, raw = form
    fast, slow, _ = both(monkeypatch, HOSTILE[case][0](raw))
    assert isinstance(fast, str) and fast == slow


def test_form_saved_again_by_libreoffice_reads_the_same(form, tmp_path, monkeypatch):
    path, _ = form
    raw = resaved_by_libreoffice(path, tmp_path).read_bytes()
    for sheets in (first_visible_and_meta, every_sheet):
        fast, slow, _ = both(monkeypatch, raw, sheets)
        assert fast == slow and not isinstance(fast, str)


def test_corpus_reads_the_same(monkeypatch):
    files = _corpus_files()
    assert files
    for path in files:
        raw = path.read_bytes()
        for sheets in (lambda s: {s[0].name} if s else set(), every_sheet):
            fast, slow, _ = both(monkeypatch, raw, sheets)
            assert fast == slow, path.name


def _replace_sheet(raw: bytes, old: str, new: str, member: str = SHEET) -> bytes:
    text = members_of(raw)[member].decode()
    assert old in text, old
    return repack(raw, {member: text.replace(old, new, 1).encode()})


# Each is well-formed XML that the expat handler reads; the fast path must decline it.
DECLINED = {
    "namespace prefix": lambda raw: repack(raw, {LISTS: sheet_xml("").replace(
        b"<worksheet xmlns=", b"<x:worksheet xmlns:x=").replace(b"<sheetData></sheetData></worksheet>",
        b'<x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>')}),
    "CDATA": lambda raw: repack(raw, {LISTS: sheet_xml(
        '<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[a<b]]></t></is></c></row>')}),
    "comment": lambda raw: repack(raw, {LISTS: sheet_xml('<row r="1"><!-- x --><c r="A1"><v>1</v></c></row>')}),
    "processing instruction": lambda raw: repack(raw, {LISTS: sheet_xml('<?pi x?><row r="1"></row>')}),
    "comment in the theme": lambda raw: repack(raw, {"xl/theme/theme1.xml": members_of(raw)[
        "xl/theme/theme1.xml"].replace(b"?>", b"?><!-- x -->", 1)}),
    "attributes in another order": lambda raw: _replace_sheet(raw, '<c r="A1" s="1" t="inlineStr">',
                                                             '<c t="inlineStr" r="A1" s="1">'),
    "unknown cell attribute": lambda raw: _replace_sheet(raw, '<c r="A1" s="1"', '<c r="A1" s="1" foo="1"'),
    "single quotes": lambda raw: _replace_sheet(raw, '<c r="A1" s="1" t="inlineStr">',
                                                "<c r='A1' s='1' t='inlineStr'>"),
    "reference in an attribute": lambda raw: _replace_sheet(raw, '<row r="1" ', '<row r="&#49;" '),
    "character reference in text": lambda raw: _replace_sheet(raw, "<t>Werkgeluk", "<t>&#87;erkgeluk"),
    "rich text runs": lambda raw: _replace_sheet(raw, "<is><t>Werkgeluk", "<is><r><t>Werk</t></r><r><t>geluk"),
    "white space inside a cell": lambda raw: _replace_sheet(raw, '<c r="A1" s="1" t="inlineStr"><is>',
                                                            '<c r="A1" s="1" t="inlineStr">\n  <is>'),
    "lower-case reference": lambda raw: _replace_sheet(raw, '<c r="A1" ', '<c r="a1" '),
    "sheetData twice": lambda raw: repack(raw, {LISTS: sheet_xml('<row r="1"/>').replace(
        b"</worksheet>", b"<sheetData/></worksheet>")}),
    "cell after sheetData": lambda raw: repack(raw, {LISTS: sheet_xml('<row r="1"/>').replace(
        b"</worksheet>", b'<extra><c r="A1"><v>1</v></c></extra></worksheet>')}),
    "DOCTYPE": lambda raw: repack(raw, {LISTS: b'<!DOCTYPE worksheet>' + sheet_xml('<row r="1"/>')}),
    "another encoding": lambda raw: repack(raw, {LISTS: sheet_xml('<row r="1"/>').replace(
        b'encoding="UTF-8"', b'encoding="ISO-8859-1"')}),
}


@pytest.mark.parametrize("case", list(DECLINED))
def test_what_the_fast_path_does_not_understand_goes_to_expat(form, monkeypatch, case):
    _, raw = form
    changed = DECLINED[case](raw)
    fast, slow, handed = both(monkeypatch, changed, every_sheet)
    assert fast == slow
    assert handed, "the fast path took a construct it should have declined"


# Read on the fast path too, and the same.
UNDERSTOOD = {
    "row without a number": lambda raw: _replace_sheet(raw, '<row r="2"', "<row"),
    "cell without a reference": lambda raw: _replace_sheet(raw, '<c r="A1" ', "<c "),
    "entities and line ends in text": lambda raw: _replace_sheet(raw, "<t>Werkgeluk", "<t>&lt;Werk&amp;\r\ngeluk&gt;"),
    "empty rows and cells": lambda raw: _replace_sheet(raw, '<row r="2"', '<row r="2"/><row r="3"></row><row r="4"><c r="A4"/><c r="B4"></c></row><row r="5"'),
}


@pytest.mark.parametrize("case", list(UNDERSTOOD))
def test_plain_variants_read_the_same_on_the_fast_path(form, monkeypatch, case):
    _, raw = form
    fast, slow, handed = both(monkeypatch, UNDERSTOOD[case](raw), every_sheet)
    assert fast == slow and not isinstance(fast, str)
    assert SHEET not in handed


def test_mutated_forms_read_the_same(form, monkeypatch):
    _, raw = form
    rng = random.Random(20261126)
    parts = members_of(raw)
    xml_parts = [n for n in parts if n.endswith((".xml", ".rels"))]
    tokens = [b"<", b">", b'"', b"&", b"&amp;", b"&#1;", b"<!DOCTYPE x>", b"<!-- c -->", b' r="99999"', b' r="A0"',
              b' r="\xd9\xa3"', b"<row>", b"<c>", b"</row>", b"<row r=\"3\"/>", b' t="s"', b' t="b"', b' t="n"',
              b"<v>x</v>", b"<v>999999</v>", b"<v>1</v>", b"_xD800_", b"\x00", b"\x01", b"\xc3", b"\r\n", b"]]>",
              b' s="1" s="2"', b' ht="1" ht="2"', b"\xef\xbf\xbf", b'<?xml version="1.0" encoding="EBCDIC"?>']
    compared = 0
    for _ in range(400):
        changed = dict(parts)
        for _ in range(rng.randint(1, 3)):
            name = rng.choice(xml_parts + [SHEET, SHEET, LISTS])
            data = bytearray(changed[name])
            at = rng.randrange(len(data))
            if rng.random() < 0.3:
                del data[at:at + rng.randint(1, 30)]
            else:
                data[at:at] = rng.choice(tokens)
            changed[name] = bytes(data)
        damaged = build_zip([honest(n, d) for n, d in changed.items()])
        fast, slow, _ = both(monkeypatch, damaged, every_sheet)
        assert fast == slow
        compared += 1
    assert compared == 400
