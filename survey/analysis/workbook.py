"""The results workbook: one sheet per table, each figure with the people it rests on."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from survey.analysis.core import publish
from survey.analysis import quality as qu
from survey.analysis.model import (GROUP_KINDS, AnalysisResult, Estimate, GroupResult, ItemShares, Share,
                                   group_label, shown_interval)
from survey.atomic import atomic_path
from survey.disclosure import MANAGERS, ORGANISATION
from survey.questionnaire import model as m


def write_results_workbook(results: AnalysisResult, path: Path) -> Path:
    """The results as an Excel workbook: one sheet per table, each figure with the number of
    people it rests on, hidden groups named with their reason."""
    from survey.textsafety import inert_workbook  # local: keeps this function's change self-contained

    q = results.questionnaire
    k = results.scan.anonymity_threshold
    publish(results, "results workbook")  # before writing: a half-written file is published too
    path.parent.mkdir(parents=True, exist_ok=True)
    groups = results.groups + ([results.managers] if results.managers else [])

    def name(g: GroupResult) -> str:
        return group_label(results, g.key)

    def rounded(value: float | None, digits: int) -> float | None:
        return None if value is None or math.isnan(value) else round(value, digits)

    group_rows = [{"group": name(g), "kind": GROUP_KINDS.get(g.key, "department"), "responses": g.n,
                   "expected": g.expected, "shown": "yes", "reason": ""} for g in groups]
    group_rows += [{"group": group_label(results, h.name) if h.name == MANAGERS else h.name,
                    "kind": "managers" if h.name == MANAGERS else "department", "responses": None,
                    "expected": None, "shown": "no",
                    "reason": f"fewer than {results.scan.anonymity_threshold} answers" if h.reason == "small"
                    else f"hidden so that {', '.join(h.protects)} cannot be worked out"} for h in results.hidden]
    overview = pd.DataFrame([{
        "group": name(g), "responses": g.n,
        **{f"{d.id}": rounded(g.derived[d.id].mean, 2) if d.id in g.derived else None for d in q.derived},
        **{column: value for k in q.dimensions for column, value in (
            (f"{k}", rounded(g.dimensions[k].mean, 2) if k in g.dimensions else None),
            # the people behind the part score (see the dimensions sheet), not the forms
            (f"{k}_n", g.dimension_scores[k].n if k in g.dimension_scores else None))},
    } for g in groups])
    pace = pd.DataFrame([{
        "group": name(g), "situation": s, "n_initiative": c.n_initiative or None,
        **{f"initiative_{k}": round(100 * c.initiative[k], 1) if c.initiative else None
           for k in m.INITIATIVE_CODES},
        "n_effect": c.n_effect or None,
        **{f"effect_{k}": round(100 * c.effect[k], 1) if c.effect else None for k in m.PACE_EFFECT_CODES},
        "balance": rounded(c.balance, 1),
    } for g in groups for s, c in g.pace.items()],
        columns=["group", "situation", "n_initiative", *[f"initiative_{k}" for k in m.INITIATIVE_CODES],
                 "n_effect", *[f"effect_{k}" for k in m.PACE_EFFECT_CODES], "balance"])
    def share_columns(prefix: str, s: Share | None) -> dict[str, float | None]:
        if s is None:
            return {prefix: None, f"{prefix}_low": None, f"{prefix}_high": None}
        return {prefix: round(100 * s.share, 1), f"{prefix}_low": round(100 * s.low, 1),
                f"{prefix}_high": round(100 * s.high, 1)}

    item_columns = ["group", "item", "n", "mean", "ci_low", "ci_high", "score", "score_ci_low", "score_ci_high",
                    *[f"{p}{e}" for p in ("favourable", "insufficient", "good") for e in ("", "_low", "_high")]]
    items = pd.DataFrame([{
        "group": name(g), "item": item_id, "n": e.n, "mean": round(e.mean, 2),
        "ci_low": shown_interval(e, k)[0], "ci_high": shown_interval(e, k)[1],
        **_item_extras(g.item_shares.get(item_id), k, share_columns),
    } for g in groups for item_id, e in g.items.items()], columns=item_columns)
    choices = pd.DataFrame([{
        "group": name(g), "item": item_id, "n": c.n, "option": code, "share": round(100 * share, 1),
    } for g in groups for item_id, c in g.choices.items() for code, share in c.shares.items()],
        columns=["group", "item", "n", "option", "share"])
    breakdowns = pd.DataFrame([{
        "question": b.background, "option": b.option, "responses": b.n,
        "index": rounded(b.index.mean, 2) if b.index else None, "index_n": b.index.n if b.index else None,
    } for b in results.breakdowns], columns=["question", "option", "responses", "index", "index_n"])
    quality = _quality_sheets(results, name)
    suppression = pd.DataFrame([s.__dict__ for s in results.suppressed], columns=["table", "group", "reason"])
    # drivers (survey/analysis/drivers.py): relative importance per outcome and group, on its complete cases
    drivers = pd.DataFrame([{
        "outcome": outcome, "group": name(g), "predictor": w.predictor, "kind": w.kind,
        "importance": round(w.importance, 1), "ci_low": rounded(w.low, 1), "ci_high": rounded(w.high, 1),
        "n": d.n, "r_squared": round(d.r_squared, 3), "current": rounded(w.current, 1),
    } for g in groups for outcome, d in g.drivers.items() for w in d.weights],
        columns=["outcome", "group", "predictor", "kind", "importance", "ci_low", "ci_high", "n", "r_squared",
                 "current"])
    lang = results.scan.language
    labels = _Labels(q, lang)
    pace.insert(2, "situation_text", pace["situation"].map(labels.situation))
    items.insert(2, "question_text", items["item"].map(labels.item))
    choices.insert(2, "question_text", choices["item"].map(labels.item))
    choices.insert(5, "option_label", [labels.option(i, o) for i, o in zip(choices["item"], choices["option"])])
    breakdowns.insert(1, "question_text", breakdowns["question"].map(labels.item))
    breakdowns.insert(3, "option_label", [labels.option(b, o) for b, o in zip(breakdowns["question"],
                                                                                 breakdowns["option"])])
    drivers.insert(1, "outcome_name", drivers["outcome"].map(labels.item))
    drivers.insert(4, "predictor_name", drivers["predictor"].map(labels.item))
    quality["item_quality"].insert(2, "question_text", quality["item_quality"]["item"].map(labels.item))
    quality["distributions"].insert(2, "question_text", quality["distributions"]["item"].map(labels.item))
    sheets = {"groups": pd.DataFrame(group_rows, columns=["group", "kind", "responses", "expected", "shown",
                                                          "reason"]),
              "overview": overview, "pace_map": pace, "items": items, "choices": choices, **quality,
              "breakdowns": breakdowns, "suppression_log": suppression, "drivers": drivers,
              **_change_sheets(results, name, labels),
              "codebook": labels.codebook()}
    quotes = _approved_open_answers(results, labels)
    if quotes is not None:
        sheets["open_answers"] = quotes
    with atomic_path(path) as partial, pd.ExcelWriter(partial, engine="openpyxl") as writer:
        for sheet, frame in sheets.items():
            frame.to_excel(writer, sheet_name=sheet, index=False)
        book = writer.book
        for sheet in sheets:
            format_sheet(book[sheet], sheet, labels if sheet == "overview" else None)
        _read_me(book, results, list(sheets), quotes is not None)
        # pandas hands strings to openpyxl, which makes a group named '=...' a live formula
        inert_workbook(book)
    return path


def _change_sheets(results: AnalysisResult, name, labels: "_Labels") -> dict[str, pd.DataFrame]:
    """survey/analysis/change.py: the change since the previous wave per group (with the n of
    both waves), what has no change and why, and from three waves on every wave's value.
    Scores on their own scale (2 decimals), shares in percent (1 decimal): `unit` says which."""
    change = results.change
    if change is None:
        return {}
    k = results.scan.anonymity_threshold
    groups = results.groups

    def text(variable: str) -> str:
        kind, _, key = variable.partition(":")
        if kind != "pace":
            return labels.item(key)
        situation, _, outcome = key.partition(".")
        grid = next((g for g in labels.q.grids if any(x.id == situation for x in g.situations)), None)
        option = next((o.text(labels.lang) for o in labels.q.scales[grid.effect_scale].options
                       if str(o.code) == outcome), "") if grid is not None else ""
        return f"{labels.situation(situation)}: {option}" if option else labels.situation(situation)

    def units(g, wave: str) -> str:
        """The departments of an earlier wave a group covers, '|'-joined (empty: the whole
        organisation), for `survey audit` to hold that wave's figures against each other.
        The series names the previous wave's links for every earlier wave."""
        if g.key == ORGANISATION or wave == change.waves[-1]:
            return "" if g.key == ORGANISATION else g.key
        return "|".join(change.links.get(g.key, ("same", (g.key,)))[1])

    def unit(variable: str) -> tuple[str, float, int]:
        return ("%", 100.0, 1) if variable.startswith("pace:") else ("score", 1.0, 2)

    rows = []
    for g in groups:
        for variable, c in g.change.items():
            what, scale, digits = unit(variable)
            low, high = c.shown(k)
            rows.append({"group": name(g), "variable": variable, "variable_text": text(variable), "unit": what,
                         "earlier_wave": c.earlier_wave, "earlier_departments": units(g, c.earlier_wave),
                         "earlier": round(scale * c.earlier, digits),
                         "n_earlier": c.n_earlier, "wave": change.waves[-1], "now": round(scale * c.now, digits),
                         "n_now": c.n_now, "change": round(scale * c.estimate, digits),
                         "ci_low": None if low is None else round(scale * low, digits),
                         "ci_high": None if high is None else round(scale * high, digits),
                         "p_adjusted": None if c.p_adjusted is None else round(c.p_adjusted, 4),
                         "claimed": "yes" if c.claimed else "no", "family": c.family})
    sheets = {"change": pd.DataFrame(rows, columns=["group", "variable", "variable_text", "unit", "earlier_wave",
                                                    "earlier_departments", "earlier", "n_earlier", "wave", "now", "n_now", "change",
                                                    "ci_low", "ci_high", "p_adjusted", "claimed", "family"])}
    labels_of = {g.key: name(g) for g in groups}
    sheets["change_left_out"] = pd.DataFrame([{
        "earlier_wave": x.wave, "group": labels_of.get(x.group, x.group) if x.group else None,
        "variable": x.variable, "variable_text": text(x.variable) if x.variable else None, "reason": x.reason,
        "questions_or_departments": ", ".join(x.items), "detail": x.detail,
    } for x in change.left_out], columns=["earlier_wave", "group", "variable", "variable_text", "reason",
                                          "questions_or_departments", "detail"])
    trend = [{"group": name(g), "variable": variable, "variable_text": text(variable), "unit": unit(variable)[0],
              "wave": p.wave, "departments": units(g, p.wave),
              "value": round(unit(variable)[1] * p.value, unit(variable)[2]),
              "ci_low": None if p.low is None else round(unit(variable)[1] * p.low, unit(variable)[2]),
              "ci_high": None if p.high is None else round(unit(variable)[1] * p.high, unit(variable)[2]),
              "n": p.n} for g in groups for variable, points in g.trend.items() for p in points]
    if trend:
        sheets["trend"] = pd.DataFrame(trend)
    return sheets


def _item_extras(shares: ItemShares | None, k: int, share_columns) -> dict[str, float | None]:
    """A statement's 0-100 score with its interval, and the conventional shares with theirs."""
    score = shares.score if shares is not None else None
    low, high = shown_interval(score, k) if score is not None else (None, None)
    return {"score": round(score.mean, 1) if score is not None else None, "score_ci_low": low, "score_ci_high": high,
            **share_columns("favourable", shares.favourable if shares else None),
            **share_columns("insufficient", shares.insufficient if shares else None),
            **share_columns("good", shares.good if shares else None)}


def _quality_sheets(results: AnalysisResult, name) -> dict[str, pd.DataFrame]:
    """The sheets of survey/analysis/quality.py: dimension scores with n and interval,
    reliability per dimension, item quality, answer distributions. Each row gives the n
    behind its figure."""
    from survey.i18n import wording

    q = results.questionnaire
    k = results.scan.anonymity_threshold
    lang = results.scan.language
    w = wording(lang)
    groups = results.groups + ([results.managers] if results.managers else [])
    groups_by_key = {g.key: g for g in groups}

    def label(text) -> str:
        return text.get(lang, next(iter(text.values()))) if text else ""

    def number(v: float) -> str:
        return f"{v:.2f}"

    def percent(v: float) -> str:
        return f"{100 * v:.0f}%"

    def r(v: float | None, digits: int) -> float | None:
        return None if v is None or math.isnan(v) else round(v, digits)

    dimensions = pd.DataFrame([{
        "group": name(g), "dimension": key, "name": label(q.dimensions[key].name), "score": r(d.mean, 2),
        "n": d.n, **dict(zip(("ci_low", "ci_high"), shown_interval(Estimate(d.mean, d.ci_low, d.ci_high, d.n), k)
                             if d.ci_low is not None else (None, None))),
        "favourable": r(100 * d.favourable, 1) if d.favourable is not None else None, "statements": d.parts,
    } for g in groups for key, d in g.dimension_scores.items()],
        columns=["group", "dimension", "name", "score", "n", "ci_low", "ci_high", "favourable", "statements"])
    reliability = pd.DataFrame([{
        "group": name(groups_by_key[d.group]), "dimension": d.dimension, "name": label(q.dimensions[d.dimension].name),
        "statements": d.n_items, "n_complete": d.n_complete,
        "alpha": r(d.alpha, 3), "alpha_ci_low": r(d.alpha_ci[0], 3) if d.alpha_ci else None,
        "alpha_ci_high": r(d.alpha_ci[1], 3) if d.alpha_ci else None,
        "omega": r(d.omega, 3), "omega_ci_low": r(d.omega_ci[0], 3) if d.omega_ci else None,
        "omega_ci_high": r(d.omega_ci[1], 3) if d.omega_ci else None,
        "verdict": d.verdict or ("acceptable" if d.alpha is not None or d.omega is not None else None),
        "flag": " ".join(qu.dimension_flag_lines(d, label(q.dimensions[d.dimension].name), w, number)),
    } for d in results.reliability if d.group in groups_by_key],
        columns=["group", "dimension", "name", "statements", "n_complete", "alpha", "alpha_ci_low", "alpha_ci_high",
                 "omega", "omega_ci_low", "omega_ci_high", "verdict", "flag"])
    item_rows = []
    for key, found in results.item_quality.items():
        if key not in groups_by_key:
            continue
        for iq in found:
            item = q.item(iq.item_id)
            dim_name = label(q.dimensions[iq.dimension].name) if iq.dimension else ""
            item_rows.append({
                "group": name(groups_by_key[key]), "item": iq.item_id, "dimension": iq.dimension,
                "n_group": iq.n_group, "n_answered": iq.n_answered,
                "missing_pct": round(100 * iq.n_missing / iq.n_group, 1),
                "dont_know_pct": round(100 * iq.n_dont_know / iq.n_group, 1),
                "declined_pct": round(100 * iq.n_declined / iq.n_group, 1),
                "item_rest": r(iq.item_rest, 3),
                "flag": " ".join(qu.item_flag_lines(iq, label(item.text), dim_name, w, number, percent))})
    item_quality = pd.DataFrame(item_rows, columns=["group", "item", "dimension", "n_group", "n_answered",
                                                    "missing_pct", "dont_know_pct", "declined_pct", "item_rest",
                                                    "flag"])
    distributions = pd.DataFrame([{
        "group": name(g), "item": item_id, "value": value,
        "option": q.scales[q.item(item_id).scale].label(value, lang), "n": s.n,
        "share": round(100 * count / s.n, 1),
    } for g in groups for item_id, s in g.item_shares.items() for value, count in s.counts.items()],
        columns=["group", "item", "value", "option", "n", "share"])
    return {"dimensions": dimensions, "reliability": reliability, "item_quality": item_quality,
            "distributions": distributions}


class _Labels:
    """The text a reader knows for each id of the questionnaire, in the scan's language: beside
    the id columns (kept, so HR's formulas and pivots on ids keep working)."""

    def __init__(self, q: m.Questionnaire, lang: str):
        self.q, self.lang = q, lang
        self.texts: dict[str, str] = {}
        self.scales: dict[str, str] = {}  # question id -> scale id
        for key, d in q.dimensions.items():
            self.texts[key] = self.text(d.name)
        for d in q.derived:
            self.texts[d.id] = self.text(d.name)
        from survey.i18n import wording

        # the report's own wording for its readers where it has one ('de loopbaan', not the
        # form's 'je loopbaan'), as survey/report names them
        words = wording(lang)
        for item in q.items:
            self.texts[item.id] = words.get(f"label.{item.id}") or self.text(item.text)
            if getattr(item, "scale", None):
                self.scales[item.id] = item.scale
            for s in getattr(item, "situations", []):
                self.texts[s.id] = words.get(f"label.{s.id}") or self.text(s.text)
        for b in q.background:
            self.texts[b.id] = self.text(b.text)
            self.scales[b.id] = b.scale

    def text(self, text) -> str:
        return text.get(self.lang, next(iter(text.values()))) if text else ""

    def item(self, key: str) -> str:
        if key in self.texts:
            return self.texts[key]
        base, _, aspect = str(key).rpartition(".")
        if base in self.texts and aspect == "desired":
            from survey.i18n import wording

            return f"{self.texts[base]} ({wording(self.lang)['answer_desired'].lower()})"
        return ""

    def situation(self, key: str) -> str:
        return self.texts.get(key, "")

    def option(self, question: str, code: object) -> str:
        scale = self.q.scales.get(self.scales.get(question, ""))
        if scale is None:
            return ""
        return next((o.text(self.lang) for o in scale.options if str(o.code) == str(code)), "")

    def codebook(self) -> pd.DataFrame:
        """Every id a sheet uses, with its text; each scale's codes once."""
        q = self.q
        rows = [{"kind": "dimension", "id": k, "code": None, "text": self.texts[k], "scale": None, "dimension": None}
                for k in q.dimensions]
        rows += [{"kind": "score", "id": d.id, "code": None, "text": self.texts[d.id], "scale": None,
                  "dimension": None} for d in q.derived]
        for item in q.items:
            rows.append({"kind": item.type, "id": item.id, "code": None, "text": self.texts[item.id],
                         "scale": getattr(item, "scale", None), "dimension": getattr(item, "dimension", None)})
            for s in getattr(item, "situations", []):
                rows.append({"kind": "situation", "id": s.id, "code": None, "text": self.texts[s.id],
                             "scale": f"{item.initiative_scale}, {item.effect_scale}", "dimension": None})
        rows += [{"kind": "background", "id": b.id, "code": None, "text": self.texts[b.id], "scale": b.scale,
                  "dimension": None} for b in q.background]
        for key, scale in q.scales.items():
            rows += [{"kind": "option", "id": key, "code": str(o.code), "text": o.text(self.lang), "scale": key,
                      "dimension": None} for o in scale.options]
            rows += [{"kind": "anchor", "id": key, "code": str(v), "text": self.text(t), "scale": key,
                      "dimension": None} for v, t in sorted(scale.anchors.items())]
        return pd.DataFrame(rows, columns=["kind", "id", "code", "text", "scale", "dimension"])


def _approved_open_answers(results: AnalysisResult, labels: _Labels) -> pd.DataFrame | None:
    """The open answers the consultant approved in the quote review, from shown groups only
    (`quotes.chosen_quotes`, every approved one); None without a review: then no open answer."""
    from survey.quotes import chosen_quotes, load_review

    reviewed = load_review(results.scan)
    if reviewed is None:
        return None
    rows = []
    for g in [results.organisation_result] + ([results.managers] if results.managers else []):
        for item in results.questionnaire.items:
            if item.id in g.open_answers:
                rows += [{"group": group_label(results, g.key), "question": item.id,
                          "question_text": labels.item(item.id), "text": text}
                         for text in chosen_quotes(results, g, item.id, reviewed, limit=None)]
    return pd.DataFrame(rows, columns=["group", "question", "question_text", "text"])


HEADER_FILL = "DCE6F1"
COUNT, DECIMAL1, DECIMAL2, DECIMAL3 = "0", "0.0", "0.00", "0.000"
PERCENT = '0.0"%"'  # the value stays 0-100 (formulas and the audit read it so); shown with a % sign
SIGNED = "+0.0;-0.0;0.0"
COUNTS = {"responses", "expected", "n", "index_n", "statements", "times_given"}


def number_format(sheet: str, column: str) -> str | None:
    """The display format of a column (the cell keeps its number)."""
    if column in COUNTS or column.endswith("_n") or column.startswith("n_"):
        return COUNT
    if sheet in ("change", "trend"):  # scores and shares in one column: the cells carry their rounding
        return {"p_adjusted": "0.0000"}.get(column)
    if sheet == "drivers":
        return {"importance": PERCENT, "ci_low": PERCENT, "ci_high": PERCENT, "r_squared": DECIMAL3,
                "current": DECIMAL1}.get(column)
    if column.startswith(("alpha", "omega")) or column in ("item_rest", "r_squared"):
        return DECIMAL3
    if column == "balance":
        return SIGNED
    if column.startswith(("initiative_", "effect_", "favourable", "insufficient", "good", "share")) \
            or column.endswith("_pct"):
        return PERCENT
    if column in ("mean", "index") or (sheet in ("overview", "dimensions") and column not in ("group", "dimension",
                                                                                            "name", "ci_low",
                                                                                            "ci_high")):
        return DECIMAL2
    if column.startswith("score") or column in ("ci_low", "ci_high"):
        return DECIMAL1
    return None


def format_sheet(ws, sheet: str, labels: _Labels | None) -> None:
    """Bold, filled, wrapped header; header row and first column frozen; a filter on the
    header; widths from the content; number formats per column. Header texts stay as they
    are (the audit and HR's formulas read them)."""
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold, fill = Font(bold=True), PatternFill("solid", start_color=HEADER_FILL, end_color=HEADER_FILL)
    wrap = Alignment(wrap_text=True, vertical="top")
    for column, cell in enumerate(ws[1], start=1):
        header = str(cell.value)
        cell.font, cell.fill, cell.alignment = bold, fill, wrap
        if labels is not None and labels.item(header.removesuffix("_n")):  # overview: ids as columns
            cell.comment = Comment(labels.item(header.removesuffix("_n")) + (" (n)" if header.endswith("_n")
                                                                               else ""), "survey")
        fmt = number_format(sheet, header)
        letter = get_column_letter(column)
        width = len(header)
        for (value,) in ws.iter_rows(min_row=2, min_col=column, max_col=column, max_row=min(ws.max_row, 500),
                                     values_only=True):
            if value is not None:
                width = max(width, len(value) if isinstance(value, str) else 8)
        ws.column_dimensions[letter].width = min(max(width + 2, 10), 60)
        if fmt is not None:
            for (data,) in ws.iter_rows(min_row=2, min_col=column, max_col=column):
                if isinstance(data.value, (int, float)):
                    data.number_format = fmt
    ws.row_dimensions[1].height = 30
    ws.freeze_panes = "B2"
    if ws.max_row > 1:
        ws.auto_filter.ref = ws.dimensions


def _read_me(book, results: AnalysisResult, sheets: list[str], with_quotes: bool) -> None:
    """The first sheet, in the scan's language: what each sheet holds, what n means, why
    small groups are missing, where the definitions are."""
    from openpyxl.styles import Alignment, Font, PatternFill

    from survey.i18n import wording
    from survey.textsafety import text_cell

    scan = results.scan
    w = wording(scan.language)
    k = scan.anonymity_threshold
    ws = book.create_sheet(w["workbook_readme"], 0)
    book.active = 0
    wrap = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 100
    ws.sheet_properties.pageSetUpPr.fitToPage = True  # printed: one page wide
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    title = text_cell(ws.cell(1, 1), w["workbook_readme_title"].format(organisation=scan.organisation,
                                                                      wave=scan.wave))
    title.font = Font(bold=True, size=14)
    paragraphs = [w["workbook_readme_intro"], w["workbook_readme_n"], w["workbook_readme_hidden"].format(threshold=k),
                  w["workbook_readme_ids"], w["workbook_readme_numbers"].format(double=2 * k),
                  w["workbook_readme_methods"].format(methods=w["methods"]),
                  w["workbook_readme_quotes" if with_quotes else "workbook_readme_no_quotes"]]
    row = 3
    for text in paragraphs:
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
        text_cell(ws.cell(row, 1), text).alignment = wrap
        ws.row_dimensions[row].height = 15 * (1 + len(text) // 110)
        row += 1
    row += 1
    fill = PatternFill("solid", start_color=HEADER_FILL, end_color=HEADER_FILL)
    for column, header in enumerate((w["workbook_readme_sheet"], w["workbook_readme_holds"]), start=1):
        cell = text_cell(ws.cell(row, column), header)
        cell.font, cell.fill = Font(bold=True), fill
    for sheet in sheets:
        row += 1
        text_cell(ws.cell(row, 1), sheet)
        text_cell(ws.cell(row, 2), w.get(f"workbook_sheet.{sheet}", "")).alignment = wrap
