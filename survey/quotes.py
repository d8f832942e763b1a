"""Open answers reviewed before they are quoted.

Candidates come only from members of shown groups: the organisation's quotes leave out the
hidden departments' members, the managers' quotes exist only when the managers' group is
shown (see `analysis._Analysis._open_answers`). Nothing is quoted before a review; then per
question the approved answers given most often, ties alphabetically: the same every run.

`survey quotes DIR` writes DIR/quotes.xlsx: every candidate with a decision (publish / leave
out), room for an edited text, and a flag on texts that look identifying (a personal name,
an e-mail address, a phone number, a role with a team name, a department name). Once that
file exists, every output quotes only what it approves.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.datavalidation import DataValidation

from survey.analysis import AnalysisResult, GroupResult
from survey.disclosure import MANAGERS
from survey.errors import Location, ReportError
from survey.scan import Scan
from survey.textsafety import inert_workbook

REVIEW_FILE = "quotes.xlsx"
SHEET = "quotes"
COLUMNS = ("group", "question", "question_text", "text", "times_given", "flags", "decision", "edited_text")
PUBLISH, LEAVE_OUT = "publish", "leave out"
PER_QUESTION = 5

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE = re.compile(r"(\+\d{2}[\s-]?|\b0)\d([\s-]?\d){7,9}\b")
ROLE = re.compile(r"\b(team ?leider|teamleader|team leader|leidinggevende|manager|co[oö]rdinator|directeur|director|"
                  r"afdelingshoofd|supervisor|locatiemanager|hoofd)\b", re.IGNORECASE)
WORD = re.compile(r"\b[^\W\d_][^\W\d_'’-]*\b")
NOT_NAMES = {"I", "I'm", "Ik", "HR", "ICT", "OK", "Oké", "Ok", "De", "Het", "Een", "The", "A", "An", "We", "Wij",
             "Mijn", "My", "Er", "Dat", "Die", "Dit", "Als", "If", "En", "And", "Maar", "But"}


COMMON_OPENERS = {w.casefold() for w in """
    ik je jij we wij zij ze hij het de een er dat die dit deze als en maar of omdat want dus daarom soms vaak
    meer minder geen niet nooit altijd wel graag goed slecht tijd ruimte werk mijn onze ons jullie hoe wat wie
    waar wanneer waarom door met van voor na bij in op over om te zo ook nog al alle veel weinig iedereen
    niemand samen eerst daarna echt heel zeer beter duidelijk duidelijker betere minder opleiding scholing
    cursus training overleg gesprek gesprekken begeleiding ondersteuning feedback vertrouwen waardering
    i you we they he she it the a an there that this these if and but or because so often sometimes more
    less no not never always good bad time space work my our us your how what who where when why with
    from for after at in on about to also still all many few everyone nobody together first really very
    better clear clearer training course courses meeting meetings support trust appreciation
    """.split()}
COMMON_WORDS = COMMON_OPENERS | {"is", "was", "zegt", "says", "doet", "does", "heeft", "has", "en", "and"}
ROLE_THEN_WORD = re.compile(r"\b(manager|leidinggevende|collega|colleague|teamleider|team leader|coördinator|"
                            r"coordinator|directeur|director|baas|boss)\s+([^\W\d_][^\W\d_'’-]+)", re.IGNORECASE)
UNIQUE = re.compile(r"\b(de enige|als enige|the only|only one)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Candidate:
    group: str  # 'organisation' or 'managers'
    question: str
    text: str
    times: int


def group_token(key: str) -> str:
    return "managers" if key == MANAGERS else "organisation"


def candidates(results: AnalysisResult, group: GroupResult, question: str) -> list[Candidate]:
    """Every distinct answer, most frequent first, ties alphabetically (deterministic)."""
    counted = Counter(group.open_answers.get(question, []))
    ordered = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0].casefold(), kv[0]))
    return [Candidate(group_token(group.key), question, text, times) for text, times in ordered]


def flags(text: str, department_names: list[str]) -> list[str]:
    """Why a text may identify someone (empty when nothing is found)."""
    found = []
    if EMAIL.search(text):
        found.append("e-mail address")
    if PHONE.search(text):
        found.append("phone number")
    named = [d for d in department_names
             if d and re.search(rf"\b{re.escape(d)}\b", text, 0 if len(d) < 4 else re.IGNORECASE)]
    if named:
        found.append(f"names a department ({', '.join(named)})")
    names = []
    for sentence in re.split(r"(?<=[.!?])\s+|\n", text):
        words = WORD.findall(sentence)
        for position, word in enumerate(words):
            # a capital anywhere, the first word too ("Piet never listens"), unless it is a
            # common sentence opener: flagging too much only costs the reviewer a look
            if word[:1].isupper() and not word.isupper() and word not in NOT_NAMES \
                    and (position > 0 or word.casefold() not in COMMON_OPENERS) \
                    and not any(word in d.split() for d in department_names):
                names.append(word)
    for match in ROLE_THEN_WORD.finditer(text):  # 'my manager piet', 'collega jan'
        if match.group(2).casefold() not in COMMON_WORDS:
            names.append(match.group(2))
    if names:
        found.append(f"possible personal name ({', '.join(dict.fromkeys(names))})")
    if ROLE.search(text) and (named or names):
        found.append("a role together with a name or team")
    if UNIQUE.search(text):
        found.append("describes someone as the only one of a kind")
    return found


def write_review(scan: Scan, results: AnalysisResult, path: Path | None = None) -> tuple[Path, int, int]:
    """Write the review workbook; returns (path, candidates, flagged). An existing review is
    kept: its decisions and edits are carried over for texts that are still candidates."""
    path = path or scan.folder / REVIEW_FILE
    previous = _read(path) if path.exists() else {}
    departments = [d.name for d in scan.departments]
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET
    sheet.append(list(COLUMNS))
    total = flagged = 0
    for group in [results.organisation_result] + ([results.managers] if results.managers else []):
        for item in results.questionnaire.items:
            if item.id not in group.open_answers:
                continue
            question_text = item.text.get(scan.language, next(iter(item.text.values())))
            for c in candidates(results, group, item.id):
                found = flags(c.text, departments)
                # nothing is published unless the consultant says so: a flagger never finds
                # every name ('samenwerken met jan'), so every candidate starts as 'leave out'
                decision, edited = previous.get((c.group, c.question, c.text), (LEAVE_OUT, None))
                sheet.append([c.group, c.question, question_text, c.text, c.times, "; ".join(found),
                              decision, edited])
                total += 1
                flagged += bool(found)
    choice = DataValidation(type="list", formula1=f'"{PUBLISH},{LEAVE_OUT}"', allow_blank=False)
    sheet.add_data_validation(choice)
    choice.add(f"G2:G{max(2, total + 1)}")
    for column, width in zip("ABCDEFGH", (14, 16, 40, 70, 8, 40, 12, 60)):
        sheet.column_dimensions[column].width = width
    inert_workbook(book)  # answers are data: '=HYPERLINK(...)' stays text
    book.save(path)
    return path, total, flagged


def approve_unflagged(path: Path) -> None:
    """Set 'publish' for every candidate without a flag: what the demo's consultant does after
    reading them. A real review reads every text."""
    book = load_workbook(path)
    sheet = book[SHEET]
    for row in sheet.iter_rows(min_row=2):
        if row[3].value is not None and not row[5].value:
            row[6].value = PUBLISH
    inert_workbook(book)
    book.save(path)


def _read(path: Path) -> dict[tuple[str, str, str], tuple[str, str | None]]:
    try:
        book = load_workbook(path, read_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same advice
        raise ReportError(f"the quote review cannot be read ({exc})", where=Location(file=path),
                          fix=f"save it again as .xlsx from Excel or LibreOffice, or delete it and run: "
                              f"survey quotes {path.parent}") from None
    if SHEET not in book.sheetnames:
        raise ReportError(f"there is no sheet '{SHEET}'", where=Location(file=path),
                          fix=f"delete the file and run: survey quotes {path.parent}")
    rows = list(book[SHEET].iter_rows(values_only=True))
    book.close()
    header = tuple(str(v) if v is not None else "" for v in (rows[0] if rows else ()))
    if header[:len(COLUMNS)] != COLUMNS:
        raise ReportError(f"the first row should be the column names {', '.join(COLUMNS)}",
                          where=Location(file=path, sheet=SHEET, cell="A1"),
                          fix=f"put the column names back, or delete the file and run: survey quotes {path.parent}")
    found = {}
    for number, row in enumerate(rows[1:], start=2):
        group, question, _, text, _, _, decision, edited = (list(row) + [None] * len(COLUMNS))[:len(COLUMNS)]
        if text is None:
            continue
        decision_text = str(decision or "").strip().casefold()
        if decision_text not in (PUBLISH, LEAVE_OUT):
            raise ReportError(f"the decision '{decision or ''}' is not '{PUBLISH}' or '{LEAVE_OUT}'",
                              where=Location(file=path, sheet=SHEET, cell=f"G{number}"),
                              fix="choose one of the two from the list in that cell")
        found[(str(group), str(question), str(text))] = (decision_text, str(edited).strip() if edited else None)
    return found


def load_review(scan: Scan) -> dict[tuple[str, str, str], tuple[str, str | None]] | None:
    """The reviewed decisions, or None when no review exists yet."""
    path = scan.folder / REVIEW_FILE
    return _read(path) if path.exists() else None


def chosen_quotes(results: AnalysisResult, group: GroupResult, question: str,
                  reviewed: dict[tuple[str, str, str], tuple[str, str | None]] | None,
                  limit: int | None = PER_QUESTION) -> list[str]:
    """The quotes an output may show for one question: at most `limit` (the report: five; the
    results workbook: every approved one), the same every run. Nothing is quoted before the
    consultant has reviewed the candidates (`survey quotes`)."""
    chosen: list[str] = []
    if reviewed is None:
        return chosen
    for c in candidates(results, group, question):
        decision, edited = reviewed.get((c.group, c.question, c.text), (LEAVE_OUT, None))
        if decision == PUBLISH:
            chosen.append(edited or c.text)
        if len(chosen) == limit:
            break
    return chosen
