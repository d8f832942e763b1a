"""`survey export DIR --format csv|xlsx|sav|parquet`: the anonymous answers for HR's own analysis.

One row per counted response, under the answer-level rules of the anonymity work:

- Department as the report shows it: hidden departments together under the report's own
  label for them (never a department the report hides), managers as one group, and left
  out altogether when the report does not show them.
- The quasi-identifiers (department, role, the background questions that are reported, the
  form's language) are made k-anonymous by `survey.microdata.k_anonymise` (k = the scan's
  threshold): coarsened for everyone, background first, department last; a value becomes a
  category of at least k people ('not shown separately') or one value for all ('everyone'),
  never a blank that marks a small group.
- No form id, no store id (rows are renumbered in an order drawn from the scan id, so a
  re-export matches), no time, no open answer on a row: the approved open answers of the
  quote review go on a sheet or a file of their own, unlinked to the rows.

Each file has a read-me beside it (`<file>.readme.txt`, the scan's language) that says what
was generalised. 'Don't know' and 'declined' are user-missing codes 98 and 99 in .sav and
blank elsewhere.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from survey.errors import Location, ReportError
from survey.microdata import NOT_ANSWERED, everything, k_anonymise, merge_small
from survey.questionnaire import model as m

FORMATS = ("csv", "xlsx", "sav", "parquet")
DONT_KNOW, DECLINED = 98, 99  # user-missing codes in .sav
DATA_SHEET, CODEBOOK_SHEET, OPEN_SHEET = "answers", "codebook", "open_answers"


@dataclass(frozen=True)
class Variable:
    """One column: its name, the question it holds, and its codes (for .sav and the codebook)."""

    name: str
    label: str
    kind: str  # "number" (scores, ticks), "category" (a choice, a quasi-identifier), "row"
    codes: dict[str, int] = field(default_factory=dict)  # category label -> code in .sav
    value_labels: dict[int, str] = field(default_factory=dict)  # numbers: value -> label


@dataclass
class Export:
    path: Path
    readme: Path
    rows: int
    variables: list[Variable]
    quasi_identifiers: list[str]
    generalised: list[str]  # quasi-identifiers coarsened (a column name each)
    smallest: int
    threshold: int
    open_answers: Path | None


def export_answers(folder: Path, fmt: str, out: Path | None = None) -> Export:
    """Write the anonymous answers of the scan in `folder` as `fmt`; returns what was written."""
    from survey.analysis import analyse_scan
    from survey.analysis.frame import Scorer, load_frame
    from survey.scan import load_scan

    if fmt not in FORMATS:
        raise ReportError(f"'{fmt}' is not an export format", fix=f"use one of: {', '.join(FORMATS)}")
    scan = load_scan(folder)
    results = analyse_scan(scan)  # the hidden groups: the export shows no group the report hides
    responses, wide = load_frame(scan)
    table, variables, quasi, notes = _rows(scan, results, responses, Scorer(scan.questionnaire, wide))
    k = scan.anonymity_threshold
    hierarchies, w = {}, _w(scan)
    for column in quasi:
        hierarchies[column] = ([merge_small(w["export_not_shown"])] if column not in ("role", "language") else []) \
            + [everything(w["export_everyone"])]
    # background first (last asked first), then language, role, department: department is what
    # HR analyses by, and role follows from it (managers are one 'department')
    order = [c for c in reversed(quasi) if c not in ("department", "role", "language")] + ["language", "role",
                                                                                           "department"]
    anonymous = k_anonymise(table, hierarchies, k, order=[c for c in order if c in quasi])
    data = anonymous.rows
    generalised = []
    for column in quasi:
        data[column] = data[column].replace({NOT_ANSWERED: w["export_not_answered"]})
        before = table[column].map(lambda v: w["export_not_answered"] if v is None or v == "" else str(v))
        if (data[column] != before).any():
            generalised.append(column)
    # the random order and row numbers: drawn from the scan id, so a re-export gives the same file
    seed = int.from_bytes(hashlib.sha256(f"export:{scan.scan_id}".encode()).digest()[:8], "big")
    data = data.iloc[np.random.default_rng(seed).permutation(len(data))].reset_index(drop=True)
    data.insert(0, "row", np.arange(1, len(data) + 1))
    missing = {c.split(":", 1)[1]: data.pop(c).to_numpy() for c in list(data.columns) if c.startswith("\x00missing:")}
    variables = [Variable("row", w["export_row"], "row")] + [
        _categories(v, data[v.name]) if v.name in quasi else v for v in variables]

    path = out or scan.output_dir / f"answers.{fmt}"
    if path.suffix.lower() != f".{fmt}":
        path = path.with_name(path.name + f".{fmt}")
    path.parent.mkdir(parents=True, exist_ok=True)
    open_answers = _open_answers(results)
    open_path = None
    if open_answers is not None and len(open_answers) and fmt != "xlsx":
        open_path = path.with_name(path.stem + ".open_answers.csv")
    readme_lines = _readme(scan, results, len(data), quasi, variables, generalised, anonymous.smallest, notes,
                           open_answers, open_path.name if open_path else (f"{path.name}, {OPEN_SHEET}" if open_answers is not None
                                                        and len(open_answers) else None), fmt)
    writer = {"csv": _csv, "xlsx": _xlsx, "sav": _sav, "parquet": _parquet}[fmt]
    writer(path, data, variables, readme_lines, open_answers, scan.language, missing)
    if open_path is not None:
        _csv(open_path, open_answers, [Variable(c, c, "category") for c in open_answers.columns], [], None,
             scan.language, {})
    readme = path.with_name(path.name + ".readme.txt")
    from survey.atomic import atomic_path

    with atomic_path(readme) as partial:
        partial.write_text("\n\n".join(readme_lines) + "\n", encoding="utf-8")
    return Export(path, readme, len(data), variables, quasi, generalised, anonymous.smallest, k, open_path)


def _w(scan) -> dict[str, str]:
    from survey.i18n import wording

    return wording(scan.language)


def _text(text, lang: str) -> str:
    return text.get(lang, next(iter(text.values()))) if text else ""


def _name(key: str) -> str:
    """A column name every format takes (SPSS: letters, digits, '_', at most 64)."""
    return key.replace(".", "_")[:64]


def _rows(scan, results, responses: pd.DataFrame, scorer) -> tuple[pd.DataFrame, list[Variable], list[str],
                                                                   list[str]]:
    """The answers as columns (before k-anonymity), their variables, the quasi-identifiers,
    and notes for the read-me."""
    from survey.analysis.model import group_label
    from survey.disclosure import MANAGERS, OTHERS
    from survey.store import Store

    q, lang, w = scan.questionnaire, scan.language, _w(scan)
    notes = []
    role = responses["role"].astype(str).to_numpy()
    department = responses["department"].astype(str).to_numpy(dtype=object)
    shown = {g.key for g in results.departments}
    others = group_label(results, OTHERS) if results.others else w["export_not_shown"]
    keep = role == "employee"
    label = np.where(np.isin(department, list(shown)), department, others).astype(object)
    if results.managers is not None:
        keep |= role == "manager"
        label[role == "manager"] = group_label(results, MANAGERS)
        notes.append(w["export_readme_managers"].format(managers=group_label(results, MANAGERS)))
    elif (role == "manager").any():
        notes.append(w["export_readme_managers_left_out"].format(threshold=scan.anonymity_threshold))
    if results.hidden_departments:
        notes.append(w["export_readme_departments"].format(others=others))
    with Store(scan.store_path) as store:
        languages = dict(store.db.execute("SELECT id, language FROM responses WHERE counted = 1").fetchall())
    columns: dict[str, object] = {
        "department": label,
        "role": np.where(role == "manager", w["role_manager"], w["role_employee"]),
        "language": np.array([languages.get(int(i), "") for i in responses.index], dtype=object),
    }
    variables = [Variable("department", w["export_department"], "category"),
                 Variable("role", w["export_role"], "category")]
    quasi = ["department", "role"]
    for b in q.background:
        if b.source == "form" or b.reporting is m.Reporting.none:
            continue  # role is its own column; 'none': collected, never reported
        name = _name(b.id)
        columns[name] = _labelled(scorer, b.id, q.scales[b.scale], lang)
        variables.append(Variable(name, _text(b.text, lang), "category"))
        quasi.append(name)
    if len(set(columns["language"])) > 1 or len(scan.form_languages) > 1:
        variables.append(Variable("language", w["export_language"], "category"))
        quasi.append("language")
    else:
        del columns["language"]
    for f in q.answer_fields():
        if f.kind is m.FieldKind.open or f.item_id in {b.id for b in q.background}:
            continue
        item = q.item(f.item_id)
        text = _text(item.text, lang)
        name = _name(f.key)
        if f.situation:
            situation = next(s for s in item.situations if s.id == f.situation)
            text = f"{_text(situation.text, lang)}: {w['grid_initiative' if f.aspect == 'initiative' else 'grid_effect']}"
        elif f.aspect == "desired":
            text = f"{text} ({w['answer_desired'].lower()})"
        scale = q.scales[f.scale] if f.scale else None
        if f.kind in (m.FieldKind.ordinal, m.FieldKind.score):
            columns[name] = scorer.column(f.key).to_numpy(dtype=float)
            labels = {int(o.code): o.text(lang) for o in scale.options} if scale.kind is m.ScaleKind.ordinal \
                else {int(v): _text(t, lang) for v, t in scale.anchors.items()}
            if scale.not_applicable:
                labels[DONT_KNOW] = _text(scale.not_applicable, lang)
            if scale.decline:
                labels[DECLINED] = _text(scale.decline, lang)
            missing = scorer.column(f.key, "text").astype(object).to_numpy()
            variables.append(Variable(name, text, "number", value_labels=labels,
                                      codes={"n/a": DONT_KNOW, "declined": DECLINED}))
            columns[f"\x00missing:{name}"] = missing  # for .sav's user-missing codes
        elif f.kind is m.FieldKind.check:
            option = next(o for o in scale.options if str(o.code) == f.key.rsplit(".", 1)[1])
            ticks = {g.key: scorer.column(g.key).to_numpy(dtype=float) for g in q.answer_fields()
                     if g.item_id == f.item_id}
            any_tick = np.nansum(np.column_stack([v > 0 for v in ticks.values()]), axis=1) > 0
            mine = scorer.column(f.key).to_numpy(dtype=float) > 0
            columns[name] = np.where(any_tick, mine.astype(float), np.nan)
            variables.append(Variable(name, f"{text}: {option.text(lang)}", "number",
                                      value_labels={0: w["export_no"], 1: w["tick_yes"]}))
        else:  # a single choice or a pace-grid answer: its option's label
            columns[name] = _labelled(scorer, f.key, scale, lang, blank=None)
            variables.append(Variable(name, text, "category",
                                      codes={o.text(lang): n for n, o in enumerate(scale.options, start=1)}
                                      | ({_text(scale.not_applicable, lang): DONT_KNOW} if scale.not_applicable
                                         else {})
                                      | ({_text(scale.decline, lang): DECLINED} if scale.decline else {})))
    # the '\x00missing:' columns (why a score is blank) travel with their rows until written
    return pd.DataFrame(columns, index=responses.index)[keep].reset_index(drop=True), variables, quasi, notes


def _labelled(scorer, key: str, scale: m.Scale, lang: str, blank: object = None) -> np.ndarray:
    """Per respondent the label of their answer ('n/a' and 'declined' as the scale's own words)."""
    labels = {str(o.code): o.text(lang) for o in scale.options}
    if scale.not_applicable:
        labels["n/a"] = _text(scale.not_applicable, lang)
    if scale.decline:
        labels["declined"] = _text(scale.decline, lang)
    codes = scorer.codes(key).to_numpy(dtype=object)
    return np.array([labels.get(str(c), blank) if c is not None else blank for c in codes], dtype=object)


def _categories(v: Variable, column: pd.Series) -> Variable:
    """A quasi-identifier's codes for .sav: its values after k-anonymity, in sorted order."""
    return Variable(v.name, v.label, v.kind, {value: n for n, value in enumerate(sorted(column.unique()), start=1)})


def _open_answers(results) -> pd.DataFrame | None:
    from survey.analysis.model import group_label
    from survey.quotes import chosen_quotes, load_review

    reviewed = load_review(results.scan)
    if reviewed is None:
        return None
    lang = results.scan.language
    rows = []
    for g in [results.organisation_result] + ([results.managers] if results.managers else []):
        for item in results.questionnaire.items:
            if item.id in g.open_answers:
                rows += [{"group": group_label(results, g.key), "question": item.id,
                          "question_text": _text(item.text, lang), "text": t}
                         for t in chosen_quotes(results, g, item.id, reviewed, limit=None)]
    return pd.DataFrame(rows, columns=["group", "question", "question_text", "text"])


def _readme(scan, results, rows: int, quasi: list[str], variables: list[Variable], generalised: list[str],
            smallest: int, notes: list[str], open_answers, open_where: str | None, fmt: str) -> list[str]:
    w = _w(scan)
    k = scan.anonymity_threshold
    labels = {v.name: v.label for v in variables}
    lines = [w["export_readme_title"].format(organisation=scan.organisation, wave=scan.wave, rows=rows),
             w["export_readme_rows"],
             w["export_readme_k"].format(quasi=", ".join(labels[c] for c in quasi), threshold=k, smallest=smallest),
             *notes,
             w["export_readme_generalised"].format(columns=", ".join(labels[c] for c in generalised), threshold=k)
             if generalised else w["export_readme_nothing_generalised"],
             w["export_readme_missing"],
             w["export_readme_open"].format(where=open_where) if open_where else w["export_readme_no_open"],
             w["export_readme_methods"].format(methods=w["methods"])]
    if fmt == "csv":
        lines.append(w["export_readme_csv"].format(separator=csv_separator(scan.language)))
    return lines


def csv_separator(lang: str) -> str:
    """Dutch Excel splits a CSV on ';' (its decimal mark is the comma), English Excel on ','."""
    return ";" if lang == "nl" else ","


def _plain(frame: pd.DataFrame) -> list[list[object]]:
    """Cells as Python values: whole numbers as int, NaN as blank."""
    def cell(v: object) -> object:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return int(v)
        if isinstance(v, np.integer):
            return int(v)
        return v
    return [[cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]


def _csv(path: Path, data: pd.DataFrame, variables, readme, open_answers, lang: str,
         missing: dict[str, np.ndarray]) -> None:
    from survey.atomic import atomic_path
    from survey.textsafety import csv_writer

    with atomic_path(path) as partial, partial.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv_writer(stream, delimiter=csv_separator(lang))
        writer.writerow(list(data.columns))
        writer.writerows([["" if v is None else v for v in row] for row in _plain(data)])


def _xlsx(path: Path, data: pd.DataFrame, variables, readme, open_answers, lang: str,
          missing: dict[str, np.ndarray]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from survey.analysis.workbook import format_sheet
    from survey.atomic import atomic_path
    from survey.i18n import wording
    from survey.textsafety import inert_workbook

    w = wording(lang)
    book = Workbook()
    about = book.active
    about.title = w["workbook_readme"]
    about.column_dimensions["A"].width = 120
    for number, line in enumerate(readme, start=1):
        about.cell(number, 1, line).alignment = Alignment(wrap_text=True, vertical="top")
    about["A1"].font = Font(bold=True, size=14)
    sheet = book.create_sheet(DATA_SHEET)
    sheet.append(list(data.columns))
    for row in _plain(data):
        sheet.append(row)
    format_sheet(sheet, DATA_SHEET, None)
    codebook = book.create_sheet(CODEBOOK_SHEET)
    codebook.append(["variable", "label", "values"])
    for v in variables:
        codebook.append([v.name, v.label, _values_text(v)])
    format_sheet(codebook, CODEBOOK_SHEET, None)
    if open_answers is not None and len(open_answers):
        quotes = book.create_sheet(OPEN_SHEET)
        quotes.append(list(open_answers.columns))
        for row in _plain(open_answers):
            quotes.append(row)
        format_sheet(quotes, OPEN_SHEET, None)
    inert_workbook(book)  # a department named '=...' or an approved answer stays text
    with atomic_path(path) as partial:
        book.save(partial)


def _values_text(v: Variable) -> str:
    if v.kind == "number":
        return "; ".join(f"{k} = {t}" for k, t in sorted(v.value_labels.items()) if k not in (DONT_KNOW, DECLINED))
    return ""


def _sav(path: Path, data: pd.DataFrame, variables, readme, open_answers, lang: str,
         missing: dict[str, np.ndarray]) -> None:
    try:
        import pyreadstat
    except ImportError:
        raise ReportError("writing SPSS files needs the package pyreadstat", where=Location(file=path),
                          fix="install it (pip install pyreadstat), or export as csv, xlsx or parquet") from None
    from survey.atomic import atomic_path

    frame = pd.DataFrame(index=data.index)
    value_labels, user_missing = {}, {}
    by_name = {v.name: v for v in variables}
    for column in data.columns:
        v = by_name[column]
        if v.kind == "category":
            frame[column] = data[column].map(lambda x: v.codes.get(x) if x is not None else None).astype(float)
            value_labels[column] = {float(code): text for text, code in v.codes.items()}
            if any(code in (DONT_KNOW, DECLINED) for code in v.codes.values()):
                user_missing[column] = [float(code) for code in v.codes.values() if code in (DONT_KNOW, DECLINED)]
        else:
            values = data[column].astype(float)
            reasons = missing.get(column)
            if reasons is not None and v.codes:
                coded = pd.Series(reasons).map(v.codes).astype(float).to_numpy()
                values = values.where(values.notna(), coded)
                present = sorted({c for c in v.codes.values() if c in v.value_labels})
                if present:
                    user_missing[column] = [float(c) for c in present]
            frame[column] = values
            if v.value_labels:
                value_labels[column] = {float(k): t for k, t in v.value_labels.items()}
    with atomic_path(path) as partial:
        pyreadstat.write_sav(frame, str(partial), column_labels=[by_name[c].label[:255] for c in data.columns],
                             variable_value_labels=value_labels, missing_ranges=user_missing,
                             file_label=readme[0][:64] if readme else None)


def _parquet(path: Path, data: pd.DataFrame, variables, readme, open_answers, lang: str,
             missing: dict[str, np.ndarray]) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ReportError("writing Parquet files needs the package pyarrow", where=Location(file=path),
                          fix="install it (pip install pyarrow), or export as csv, xlsx or sav") from None
    from survey.atomic import atomic_path

    frame = data.copy()
    by_name = {v.name: v for v in variables}
    for column in frame.columns:
        if by_name[column].kind == "category":
            frame[column] = pd.Categorical(frame[column])
    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"survey.labels"] = json.dumps({v.name: v.label for v in variables}, ensure_ascii=False).encode()
    meta[b"survey.value_labels"] = json.dumps({v.name: v.value_labels for v in variables if v.value_labels},
                                              ensure_ascii=False).encode()
    meta[b"survey.readme"] = "\n\n".join(readme).encode()
    with atomic_path(path) as partial:
        pq.write_table(table.replace_schema_metadata(meta), str(partial))
