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
    with atomic_path(path) as partial, pd.ExcelWriter(partial, engine="openpyxl") as writer:
        pd.DataFrame(group_rows).to_excel(writer, sheet_name="groups", index=False)
        overview.to_excel(writer, sheet_name="overview", index=False)
        pace.to_excel(writer, sheet_name="pace_map", index=False)
        items.to_excel(writer, sheet_name="items", index=False)
        choices.to_excel(writer, sheet_name="choices", index=False)
        for sheet, frame in quality.items():
            frame.to_excel(writer, sheet_name=sheet, index=False)
        breakdowns.to_excel(writer, sheet_name="breakdowns", index=False)
        suppression.to_excel(writer, sheet_name="suppression_log", index=False)
        drivers.to_excel(writer, sheet_name="drivers", index=False)
        # pandas hands strings to openpyxl, which makes a group named '=...' a live formula
        inert_workbook(writer.book)
    return path


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
