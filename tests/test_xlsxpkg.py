"""Personal copies at the zip level: readable by openpyxl, calamine and LibreOffice."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.datavalidation import DataValidation
from python_calamine import CalamineWorkbook

from survey import xlsxpkg
from survey.xlsxpkg import Template, personalise, xml_text

NAME, UNIT, TITLE = b"@@NAME@@", b"@@UNIT@@", b"@@TITLE@@"
HOSTILE = 'Jo <b>&amp; "Ann" O\'Neil – Zoë'


def openpyxl_template() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Form"
    ws["A1"], ws["B1"] = "Respondent", NAME.decode()
    ws["A2"], ws["B2"] = "Unit", UNIT.decode()
    validation = DataValidation(type="whole", operator="between", formula1="1", formula2="5")
    ws.add_data_validation(validation)
    for row in range(4, 60):
        ws.cell(row, 1, f"Statement {row} about the organisation")
        validation.add(ws.cell(row, 2))
    wb.create_sheet("Lists").append(["agree", "disagree"])
    wb.properties.title = TITLE.decode()
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


class _Unseekable(io.RawIOBase):
    """Makes zipfile write data descriptors (flag bit 3), as streaming writers do."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.buffer += data
        return len(data)


def shared_strings_template(filler: int = 0) -> bytes:
    """A minimal workbook the way Excel stores it: strings in xl/sharedStrings.xml,
    one member stored (not deflated), every member with a data descriptor. ``filler``
    unused strings go before and after the placeholders, to make the table large."""
    before = "".join(f"<si><t>filler text number {i} before</t></si>" for i in range(filler))
    after = "".join(f"<si><t>filler text number {i} after</t></si>" for i in range(filler))
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet name="Form" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row><row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>{3 + filler}</v></c></row></sheetData></worksheet>',
        "xl/sharedStrings.xml": f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}" count="{4 + 2 * filler}" uniqueCount="{4 + 2 * filler}"><si><t>Respondent</t></si><si><t>{NAME.decode()}</t></si><si><t>Unit</t></si>{before}<si><t>{UNIT.decode()}</t></si>{after}</sst>',
    }
    sink = _Unseekable()
    with zipfile.ZipFile(sink, "w") as package:
        for name, text in parts.items():
            method = zipfile.ZIP_STORED if name == "_rels/.rels" else zipfile.ZIP_DEFLATED
            package.writestr(name, text, compress_type=method)
    return bytes(sink.buffer)


def first_sheet_rows(data: bytes) -> list[list[object]]:
    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return wb.get_sheet_by_index(0).to_python()


def raw_member(data: bytes, info: zipfile.ZipInfo) -> bytes:
    header = data[info.header_offset : info.header_offset + 30]
    start = info.header_offset + 30 + int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little")
    return data[start : start + info.compress_size]


def test_openpyxl_template_copy_opens_everywhere_and_copies_the_rest_raw():
    source = openpyxl_template()
    template = Template(source)
    # openpyxl >= 3.1 keeps strings inline in the sheet part, not in sharedStrings.
    assert template.members_containing(NAME) == ["xl/worksheets/sheet1.xml"]
    copy = template.personalise({
        "xl/worksheets/sheet1.xml": {NAME: xml_text(HOSTILE), UNIT: xml_text("Sales & Care")},
        "docProps/core.xml": {TITLE: xml_text("Survey – Jo")},
    })
    with zipfile.ZipFile(io.BytesIO(copy)) as package:
        assert package.testzip() is None  # every CRC and size right
        copied = {i.filename: i for i in package.infolist()}
    with zipfile.ZipFile(io.BytesIO(source)) as package:
        original = {i.filename: i for i in package.infolist()}
    assert list(copied) == list(original)
    for name in original.keys() - {"xl/worksheets/sheet1.xml", "docProps/core.xml"}:
        assert raw_member(copy, copied[name]) == raw_member(source, original[name]), name

    wb = load_workbook(io.BytesIO(copy))
    assert (wb["Form"]["B1"].value, wb["Form"]["B2"].value) == (HOSTILE, "Sales & Care")
    assert wb.properties.title == "Survey – Jo"
    assert wb["Form"].data_validations.dataValidation[0].formula1 == "1"
    assert first_sheet_rows(copy)[:2] == [["Respondent", HOSTILE], ["Unit", "Sales & Care"]]


def test_shared_strings_template_with_data_descriptors_and_stored_member():
    source = shared_strings_template()
    assert any(i.flag_bits & 0x8 for i in zipfile.ZipFile(io.BytesIO(source)).infolist())
    copy = personalise(source, {"xl/sharedStrings.xml": {NAME: xml_text(HOSTILE), UNIT: b"Sales"}})
    with zipfile.ZipFile(io.BytesIO(copy)) as package:
        assert package.testzip() is None
        assert not any(i.flag_bits & 0x8 for i in package.infolist())
    assert load_workbook(io.BytesIO(copy))["Form"]["B1"].value == HOSTILE
    assert first_sheet_rows(copy) == [["Respondent", HOSTILE], ["Unit", "Sales"]]


def test_large_member_is_spliced_and_still_exact():
    # A table over 16 KB is deflated only between its first and last key, per copy.
    source = shared_strings_template(filler=2_000)
    template = Template(source)
    plain = template.plain("xl/sharedStrings.xml")
    assert len(plain) > 100_000 and plain.find(NAME) < 1000 < plain.find(UNIT) - 50_000
    for value in ["short", "a much longer value " * 40 + "end", ""]:
        copy = template.personalise({"xl/sharedStrings.xml": {NAME: xml_text(value), UNIT: b"Sales"}})
        with zipfile.ZipFile(io.BytesIO(copy)) as package:
            assert package.testzip() is None
            assert package.read("xl/sharedStrings.xml") == plain.replace(NAME, value.encode()).replace(UNIT, b"Sales")
        assert first_sheet_rows(copy) == [["Respondent", value], ["Unit", "Sales"]]
    assert len(template._plans) == 1  # cut once, reused
    with pytest.raises(ValueError, match="does not contain"):
        template.personalise({"xl/sharedStrings.xml": {NAME: b"x", b"@@NOPE@@": b"y"}})


def test_many_copies_from_one_template_differ_only_where_asked():
    template = Template(openpyxl_template())
    names = [f"person {i}" for i in range(50)]
    copies = [template.personalise({"xl/worksheets/sheet1.xml": {NAME: xml_text(n), UNIT: b"u"}}) for n in names]
    assert [load_workbook(io.BytesIO(c))["Form"]["B1"].value for c in copies[::10]] == names[::10]


def test_callable_transformation():
    template = Template(openpyxl_template())
    copy = template.personalise({"docProps/core.xml": lambda data: data.replace(TITLE, b"Called")})
    assert load_workbook(io.BytesIO(copy)).properties.title == "Called"
    with pytest.raises(TypeError):
        template.personalise({"docProps/core.xml": lambda data: "text"})


def test_substitutions_happen_in_one_pass():
    # A value that looks like another key is not replaced again.
    template = Template(openpyxl_template())
    copy = template.personalise({"xl/worksheets/sheet1.xml": {NAME: UNIT, UNIT: b"Sales"}})
    ws = load_workbook(io.BytesIO(copy))["Form"]
    assert (ws["B1"].value, ws["B2"].value) == ("@@UNIT@@", "Sales")


def test_a_missing_key_or_member_is_refused():
    template = Template(openpyxl_template())
    with pytest.raises(ValueError, match="does not contain b'@@NOPE@@'"):
        template.personalise({"xl/worksheets/sheet1.xml": {NAME: b"x", b"@@NOPE@@": b"y"}})
    with pytest.raises(ValueError, match="no member 'xl/sharedStrings.xml'"):
        template.personalise({"xl/sharedStrings.xml": {NAME: b"x"}})
    with pytest.raises(ValueError, match="empty key"):
        template.personalise({"xl/worksheets/sheet1.xml": {b"": b"x"}})


def test_templates_that_are_no_zip_or_need_zip64_are_refused(monkeypatch):
    with pytest.raises(ValueError, match="not a valid xlsx"):
        Template(b"PK\x03\x04 this is not a workbook")
    source = openpyxl_template()
    monkeypatch.setattr(xlsxpkg, "_ZIP32_MAX", 4_000)  # stands in for 4 GiB
    with pytest.raises(ValueError, match="zip64"):
        Template(source)


def test_xml_text_escapes_and_refuses_control_characters():
    assert xml_text("a & b <c> \"d\" 'e' é") == "a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; é".encode()
    assert xml_text("tab\tnewline\n") == b"tab\tnewline\n"
    with pytest.raises(ValueError, match="U\\+0007"):
        xml_text("bell\x07")


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_reads_personalised_copies(tmp_path: Path):
    profile = f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}"

    def soffice(target: str, *files: Path) -> None:
        outdir = tmp_path / target.split(":")[0]
        subprocess.run(["soffice", profile, "--headless", "--convert-to", target, "--outdir",
                        str(outdir), *map(str, files)], check=True, capture_output=True, timeout=120)

    inline = tmp_path / "inline.xlsx"
    inline.write_bytes(openpyxl_template())
    soffice("xlsx", inline)  # LibreOffice saves strings in xl/sharedStrings.xml
    resaved = Template((tmp_path / "xlsx" / "inline.xlsx").read_bytes())
    assert resaved.members_containing(NAME) == ["xl/sharedStrings.xml"]
    copies = {
        "a.xlsx": Template(inline.read_bytes()).personalise({"xl/worksheets/sheet1.xml": {NAME: xml_text(HOSTILE)}}),
        "b.xlsx": resaved.personalise({"xl/sharedStrings.xml": {NAME: xml_text("Shared Ann")}}),
    }
    for name, data in copies.items():
        (tmp_path / name).write_bytes(data)
    # Comma, double quote, UTF-8 (76): the hostile value must survive byte for byte.
    soffice("csv:Text - txt - csv (StarCalc):44,34,76", tmp_path / "a.xlsx", tmp_path / "b.xlsx")
    a = (tmp_path / "csv" / "a.csv").read_text(encoding="utf-8").splitlines()
    b = (tmp_path / "csv" / "b.csv").read_text(encoding="utf-8").splitlines()
    assert a[0] == 'Respondent,"Jo <b>&amp; ""Ann"" O\'Neil – Zoë"'
    assert b[0] == "Respondent,Shared Ann"
