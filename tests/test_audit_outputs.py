"""`survey audit` reads every output: the chart files, the export, and signs on the slides."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

from survey.audit import audit, numbers_in


def _copy(demo_run, tmp_path: Path) -> Path:
    # the PNGs are not read by the audit: left out to keep the copy quick
    return demo_run.copy(tmp_path / "scan", ignore=lambda d, names: [n for n in names if n.endswith(".png")])


def _findings(folder: Path) -> list[str]:
    return [str(f) for f in audit(folder).findings]


def test_chart_naming_a_hidden_department_is_a_finding(demo_run, tmp_path):
    wave = _copy(demo_run, tmp_path)
    assert _findings(wave) == []
    svg = wave / "output" / "charts" / "chart-werkgeluk.svg"
    svg.write_text(svg.read_text(encoding="utf-8").replace(
        "</svg>", '<text x="10" y="240">Facilitair</text></svg>'), encoding="utf-8")
    found = _findings(wave)
    assert any("chart-werkgeluk.svg" in f and "Facilitair" in f and "does not show" in f for f in found), found


def test_chart_number_the_report_does_not_show_is_a_finding(demo_run, tmp_path):
    wave = _copy(demo_run, tmp_path)
    report = demo_run.html.read_text(encoding="utf-8")
    svg = next(p for p in sorted((wave / "output" / "charts").glob("chart-pace-*.svg")))
    text = svg.read_text(encoding="utf-8")
    label = next(m for m in re.finditer(r"<text\b[^>]*>(\+\d+)</text>", text) if m.group(1) != "+100")
    new = "+99"  # a pace balance no section of the demo report shows
    assert "99" not in numbers_in(report)
    tampered = text.replace(f">{label.group(1)}</text>", f">{new}</text>", 1)
    assert tampered != text
    svg.write_text(tampered, encoding="utf-8")
    found = _findings(wave)
    assert any(svg.name in f and "99 is not among" in f for f in found), found


def test_slide_number_with_its_sign_flipped_is_a_finding(demo_run, tmp_path):
    wave = _copy(demo_run, tmp_path)
    deck = wave / "output" / "report.pptx"
    with zipfile.ZipFile(deck) as package:
        members = {n: package.read(n) for n in package.namelist()}
    signed = re.compile(rb"(<a:t>[^<]*?\()\+(\d+)(\)[^<]*</a:t>)")
    published = numbers_in(demo_run.html.read_text(encoding="utf-8"))
    # a number the report shows only as positive: written negative, only the sign tells it apart
    number = next(n for n in sorted(published, key=lambda n: (len(n), n))
                  if n.isdigit() and int(n) > 5 and f"-{n}" not in published)
    slide, match = next((n, m) for n in sorted(members) if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)
                        for m in signed.finditer(members[n]))
    members[slide] = (members[slide][:match.start()] + match.group(1) + "\u2212".encode() + number.encode()
                      + match.group(3) + members[slide][match.end():])
    with zipfile.ZipFile(deck, "w") as package:
        for name, data in members.items():
            package.writestr(name, data)
    found = _findings(wave)
    assert any("report.pptx" in f and f"-{number} is not among" in f for f in found), found


def test_slide_naming_a_hidden_department_is_a_finding(demo_run, tmp_path):
    """A line naming a hidden department with numbers the report shows elsewhere: the numbers
    pass, the name does not."""
    wave = _copy(demo_run, tmp_path)
    deck = wave / "output" / "report.pptx"
    with zipfile.ZipFile(deck) as package:
        members = {n: package.read(n) for n in package.namelist()}
    slide = "ppt/slides/slide2.xml"
    members[slide] = members[slide].replace(b"<a:t>", "<a:t>Facilitair (3 medewerkers): ".encode(), 1)
    with zipfile.ZipFile(deck, "w") as package:
        for name, data in members.items():
            package.writestr(name, data)
    found = _findings(wave)
    assert any("report.pptx slide 2" in f and "Facilitair" in f for f in found), found


def test_signs_are_kept():
    assert numbers_in("+42 en \u221242, -7,5 en 0") == {"42", "-42", "-7,5", "0"}


def test_export_with_a_hidden_department_or_a_small_combination_is_a_finding(demo_run, tmp_path):
    import csv

    from survey.export import export_answers

    wave = _copy(demo_run, tmp_path)
    written = export_answers(wave, "csv")
    assert _findings(wave) == []
    text = written.path.read_text(encoding="utf-8-sig").splitlines()
    rows = list(csv.reader(text, delimiter=";"))
    column = rows[0].index("department")
    combined = next(r[column] for r in rows[1:] if r[column].startswith("Andere afdelingen"))
    changed = 0
    for r in rows[1:]:
        if r[column] == combined and changed < 3:
            r[column], changed = "Facilitair", changed + 1
    with written.path.open("w", encoding="utf-8-sig", newline="") as stream:
        csv.writer(stream, delimiter=";").writerows(rows)
    found = _findings(wave)
    assert any("answers.csv" in f and "department=Facilitair" in f and "3 row(s), fewer than 5" in f
               for f in found), found
    assert any("answers.csv" in f and "'Facilitair' (3 rows)" in f and "does not show" in f for f in found), found
