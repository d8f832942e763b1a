"""The results workbook: one sheet per table, each figure with the people it rests on."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from survey.analysis.core import publish
from survey.analysis.model import GROUP_KINDS, AnalysisResult, GroupResult, group_label, shown_interval
from survey.atomic import atomic_path
from survey.disclosure import MANAGERS
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
        **{f"{k}": rounded(g.dimensions[k].mean, 2) if k in g.dimensions else None for k in q.dimensions},
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
    items = pd.DataFrame([{
        "group": name(g), "item": item_id, "n": e.n, "mean": round(e.mean, 2),
        "ci_low": shown_interval(e, k)[0], "ci_high": shown_interval(e, k)[1],
    } for g in groups for item_id, e in g.items.items()], columns=["group", "item", "n", "mean", "ci_low", "ci_high"])
    choices = pd.DataFrame([{
        "group": name(g), "item": item_id, "n": c.n, "option": code, "share": round(100 * share, 1),
    } for g in groups for item_id, c in g.choices.items() for code, share in c.shares.items()],
        columns=["group", "item", "n", "option", "share"])
    breakdowns = pd.DataFrame([{
        "question": b.background, "option": b.option, "responses": b.n,
        "index": rounded(b.index.mean, 2) if b.index else None, "index_n": b.index.n if b.index else None,
    } for b in results.breakdowns], columns=["question", "option", "responses", "index", "index_n"])
    suppression = pd.DataFrame([s.__dict__ for s in results.suppressed], columns=["table", "group", "reason"])
    # drivers (survey/analysis/drivers.py): relative importance per outcome and group, on its complete cases
    drivers = pd.DataFrame([{
        "outcome": outcome, "group": name(g), "predictor": w.predictor, "kind": w.kind,
        "importance": round(w.importance, 1), "ci_low": rounded(w.low, 1), "ci_high": rounded(w.high, 1),
        "n": d.n, "r_squared": round(d.r_squared, 3), "current": rounded(w.current, 1),
    } for g in groups for outcome, d in g.drivers.items() for w in d.weights],
        columns=["outcome", "group", "predictor", "kind", "importance", "ci_low", "ci_high", "n", "r_squared",
                 "current"])
    with atomic_path(path) as partial, pd.ExcelWriter(partial, engine="openpyxl") as writer:
        pd.DataFrame(group_rows).to_excel(writer, sheet_name="groups", index=False)
        overview.to_excel(writer, sheet_name="overview", index=False)
        pace.to_excel(writer, sheet_name="pace_map", index=False)
        items.to_excel(writer, sheet_name="items", index=False)
        choices.to_excel(writer, sheet_name="choices", index=False)
        breakdowns.to_excel(writer, sheet_name="breakdowns", index=False)
        suppression.to_excel(writer, sheet_name="suppression_log", index=False)
        drivers.to_excel(writer, sheet_name="drivers", index=False)
        # pandas hands strings to openpyxl, which makes a group named '=...' a live formula
        inert_workbook(writer.book)
    return path
