"""Change since the previous wave, and every wave's value from three waves on (issue 12).

What changes: for the organisation and every department that continues a department of the
previous wave as itself (same name, or renamed: `waves.DepartmentLink.comparable`), every
dimension score, every derived score (the partnership index, werkgeluk, intent to stay) and,
per pace situation, the shares "brakes me" and "speeds me up". A merged or split department
gets no change (the organisation does); the mapping is named (`ChangeResult.links`).

Like for like. A score changes only when every question it rests on has the same trend
fingerprint in both waves (`EarlierWave.comparable`) and it is made of the same questions in
both; and only when every one of those questions is published for the group in both waves
(a score is the mean of its published statement figures, so otherwise the two scores would
be means over different statements). Everything left out is listed (`LeftOut`) for the report
to name.

The statistics (independent samples: the two waves are different sets of answers; people are
not linked across waves, on purpose):

- Scores: the change shown is this wave's shown score minus the previous wave's score for the
  same group, computed the same way (the mean of its statement figures). Its interval has the
  width of Welch's 95 % interval of the two waves' person-level scores
  (`stats.welch_difference`), around the shown change (as the managers' gap in claims.py).
  Intervals are published only from 2k people in each wave (`model.shown_interval`). Its p
  comes from a studentised permutation test (`stats.permutation`: Welch's t, wave labels
  permuted within the group, seeded): Welch's t distribution claimed far too often when one
  wave is small and answers pile at the top (a 5-person team all at the top).
- Shares: the change of a share with Newcombe's hybrid score interval and Fisher's exact test
  (`stats.share_difference`); a share's interval is a function of published counts.
- Claims: one Holm family per kind over every group and variable (scores; shares): a change
  is claimed when its Holm-adjusted p is below `ALPHA`, its interval excludes 0 and (scores)
  the shown change points the same way as the test and its interval is shown (2k people in
  both waves: a claim the reader cannot weigh is not made). So on data without any change a report
  claims one at most at the stated family-wise rate per kind.
- Series (three waves or more): per group and variable each wave's value with its interval
  (scores: the width of the t-interval of the person-level scores around the shown score, from
  2k people; shares: Wilson).

Anonymity across waves (DISCLOSURE.md): the previous wave's figure for a group is a figure over
the previous wave's people. Per earlier wave, one disclosure decision (`disclosure.decide`) over
a register of that wave's candidate figures (the statement figures a score is made of, the
person-level scores behind the test as `claims:<var>`, the pace shares), checked against
everything that wave's store records as published (its own editions and what later waves
published of it), under the larger of the two thresholds. A group hidden in either wave gets no
change. What is shown is recorded in the EARLIER wave's store when this wave publishes
(`record_edition(..., written_by='<wave> (<folder>)#<own edition id>')`, store version 8: tied
to this wave's own edition, so `--replace-earlier` forgets there exactly what belongs to the
own edition it forgets, and nothing when it forgot none): in that store's ids, so closing the
earlier wave renumbers it with the rest, and every later edition of either wave sees it.
"""

from __future__ import annotations

import os

import math
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from survey import disclosure
from survey.analysis.core import PUBLISHERS, SUBJECTS, Subject
from survey.analysis.frame import Scorer, _t975, load_frame
from survey.analysis.model import AnalysisResult, Change, ChangeResult, GroupResult, LeftOut, WavePoint
from survey.disclosure import MANAGERS, ORGANISATION, OTHERS, Figure, Group, Register, Suppression
from survey.errors import ReportError
from survey.questionnaire import model as m
from survey.stats import CannotCompute, claims, share_difference, wilson_interval
from survey.stats.inference import ALPHA
from survey.stats.permutation import permutations_for, welch_permutation
from survey.store import Store

if TYPE_CHECKING:
    from survey.analysis.core import Analysis
    from survey.waves import EarlierWave

OUTCOMES = ("brakes", "speeds_up")  # the pace shares that change (as the pace figures show them)


# --------------------------------------------------------------------------- what a variable rests on


def variables(q: m.Questionnaire) -> list[str]:
    """Every variable that can change: 'dim:<name>', 'derived:<id>', 'pace:<situation>'."""
    found = [f"dim:{name}" for name in q.dimensions] + [f"derived:{d.id}" for d in q.derived]
    return found + [f"pace:{s.id}" for grid in q.grids for s in grid.situations]


def _structure(q: m.Questionnaire, var: str) -> object:
    """What the variable is made of, to compare two questionnaires (None: not in this one)."""
    kind, key = var.split(":", 1)
    if kind == "dim":
        return ("dim", tuple(sorted(i.id for i in q.dimension_items(key)))) if key in q.dimensions else None
    if kind == "derived":
        d = next((d for d in q.derived if d.id == key), None)
        if d is None:
            return None
        return ("derived", tuple(_structure(q, _ref_var(q, ref)) if _ref_var(q, ref) else ("item", ref)
                                 for ref in d.of))
    grid = _grid_of(q, key)
    return ("pace", grid.id) if grid else None


def _ref_var(q: m.Questionnaire, ref: str) -> str | None:
    """A derived score's part as a variable ('dim:..', 'derived:..'), None for a question."""
    if ref in q.dimensions:
        return f"dim:{ref}"
    if any(d.id == ref for d in q.derived):
        return f"derived:{ref}"
    return None


def _grid_of(q: m.Questionnaire, situation: str) -> m.SituationGrid | None:
    return next((g for g in q.grids if any(s.id == situation for s in g.situations)), None)


def leaves(q: m.Questionnaire, var: str) -> tuple[str, ...]:
    """The questions (fingerprint keys) a variable rests on: statements and marks; for a pace
    situation '<grid>.<situation>'."""
    kind, key = var.split(":", 1)
    if kind == "dim":
        return tuple(i.id for i in q.dimension_items(key))
    if kind == "pace":
        grid = _grid_of(q, key)
        return (f"{grid.id}.{key}",) if grid else ()
    d = next(d for d in q.derived if d.id == key)
    found: list[str] = []
    for ref in d.of:
        sub = _ref_var(q, ref)
        found += leaves(q, sub) if sub else [ref]
    return tuple(dict.fromkeys(found))


def comparable(q: m.Questionnaire, wave: EarlierWave, var: str) -> LeftOut | None:
    """None when `var` can be compared with `wave`; else why not."""
    if _structure(q, var) is None or _structure(wave.scan.questionnaire, var) != _structure(q, var):
        return LeftOut(wave.wave, var, None, "not_in_both")
    changed = tuple(k for k in leaves(q, var) if k not in wave.comparable)
    return LeftOut(wave.wave, var, None, "changed", changed) if changed else None


def _bounds(q: m.Questionnaire, var: str) -> tuple[float, float]:
    """The range a score can take (for clipping its interval): 0-100 for a dimension, else the
    range of what it averages."""
    kind, key = var.split(":", 1)
    if kind == "dim":
        return 0.0, 100.0
    d = next(d for d in q.derived if d.id == key)
    lows, highs = [], []
    for ref in d.of:
        sub = _ref_var(q, ref)
        if sub:
            low, high = _bounds(q, sub)
        else:
            item = next(i for i in q.items if getattr(i, "id", None) == ref)
            low, high = q.scales[item.scale].numeric_range
        lows.append(low)
        highs.append(high)
    return float(min(lows)), float(max(highs))


# --------------------------------------------------------------------------- one wave's figures


@dataclass
class _Value:
    """One wave's figure of a variable for a group: a score (`value`, and the person-level
    scores behind the test) or a pace situation's counts."""

    value: float | None = None
    person: np.ndarray | None = None
    counts: dict[str, int] = field(default_factory=dict)  # pace: outcome -> people
    n: int = 0


def _mean_value(q: m.Questionnaire, var: str, item_score: dict[str, float], item_raw: dict[str, float],
                done: dict[str, float]) -> float | None:
    """A group's score as core computes it: a dimension the mean of its statements' 0-100
    means, a derived score the mean of its parts (scores, or a question's mean on its scale).
    Every part must be there (like for like across waves)."""
    if var in done:
        return done[var]
    kind, key = var.split(":", 1)
    if kind == "dim":
        parts = [item_score.get(i.id) for i in q.dimension_items(key)]
    else:
        d = next(d for d in q.derived if d.id == key)
        parts = []
        for ref in d.of:
            sub = _ref_var(q, ref)
            parts.append(_mean_value(q, sub, item_score, item_raw, done) if sub else item_raw.get(ref))
    value = None if not parts or any(p is None for p in parts) else float(np.mean(parts))
    if value is not None:
        done[var] = value
    return value


class EarlierFigures:
    """One earlier wave as this wave shows it: its candidate figures for the mapped groups,
    one disclosure decision over them (against everything its store records as published),
    and the values that decision allows."""

    def __init__(self, wave: EarlierWave, threshold: int, protection: bool = True,
                 forget_by: str | None = None):
        self.wave, self.k, self.protection = wave, threshold, protection
        self.q = wave.scan.questionnaire
        responses, wide = load_frame(wave.scan)
        self.ids = responses.index.to_numpy(dtype=np.int64)
        self.scorer = Scorer(self.q, wide)
        dept = responses["department"].astype(str).to_numpy()
        employee = responses["role"].astype(str).to_numpy() == "employee"
        self.dept = np.where(employee, dept, None)
        names, sizes = np.unique(dept[employee], return_counts=True)
        self.counts = {str(n): int(c) for n, c in zip(names, sizes)}
        self.hidden = disclosure.hide_groups(self.counts, threshold) if protection else {}
        self.employees = np.flatnonzero(employee)
        self.earlier_sets: object = {}
        if protection:
            with Store(wave.scan.store_path) as store:
                if forget_by is not None:
                    store.forget_last_edition(written_by=forget_by)
                self.earlier_sets = store.earlier_sets()
        self.values: dict[tuple[str, str], _Value] = {}
        self.used: set[int] = set()
        self.log: list[Suppression] = []
        self.withheld: dict[tuple[str, str], str] = {}
        self._figures_of: dict[tuple[str, str], list[int]] = {}  # (group, variable) -> the figures it rests on

    def decide(self, groups: dict[str, frozenset[str]], wanted: dict[str, list[str]]) -> None:
        """Register the figures of `wanted` (group key -> variables) over `groups` (this wave's
        group key -> the EARLIER wave's department names it continues; ORGANISATION: every
        employee of that wave), decide once, and keep the allowed values in `self.values`."""
        q, sc = self.q, self.scorer
        members: dict[str, np.ndarray] = {}
        reg_groups: dict[str, Group] = {}
        for key, units in groups.items():
            if key == ORGANISATION:
                rows, kind, use = self.employees, "organisation", math.inf
            else:
                rows = self.employees[np.isin(self.dept[self.employees].astype(str), sorted(units))]
                kind, use = "department", float(len(rows))
            members[key] = rows.astype(np.int64)
            reg_groups[key] = Group(key, kind, frozenset(units) if key != ORGANISATION else frozenset(self.counts),
                                    members[key], use)
        reg = Register(reg_groups)

        def add(variable: str, key: str, kind: str, answered: np.ndarray, outputs=("report", "workbook")) -> Figure:
            rows = members[key][answered[members[key]]]
            units, counts = np.unique(self.dept[rows].astype(str), return_counts=True)
            return reg.add(variable, key, kind, rows, {str(u): int(c) for u, c in zip(units, counts)}, outputs)

        raw = {i.id: sc.column(i.id).to_numpy(dtype=float) for i in q.items
               if isinstance(i, (m.StatementItem, m.ScoreItem))}
        item_figs: dict[tuple[str, str], Figure] = {}
        plan: list[tuple[str, str, Figure | None, Figure | None, list[Figure]]] = []
        for key, wanted_vars in wanted.items():
            for var in wanted_vars:
                kind, name = var.split(":", 1)
                if kind == "pace":
                    grid = _grid_of(q, name)
                    at = sc.code_index(f"{grid.id}.{name}.effect", list(m.PACE_EFFECT_CODES))
                    f = add(f"pace:{name}.effect", key, "shares", at >= 0)
                    plan.append((key, var, None, f, [f]))
                    continue
                parts = []
                for item_id in leaves(q, var):
                    if (item_id, key) not in item_figs:
                        item_figs[(item_id, key)] = add(f"item:{item_id}", key, "mean", ~np.isnan(raw[item_id]))
                    parts.append(item_figs[(item_id, key)])
                composite = reg.add(var, key, "composite", parts=tuple(p.id for p in parts), min_parts=len(parts),
                                    n=0)
                person = self._person(var)
                f = add(f"claims:{var}", key, "mean", ~np.isnan(person), ("report",))
                plan.append((key, var, composite, f, parts))
        decision = disclosure.decide(reg, self.k, self.protection, self.earlier_sets or None, self.ids)
        self.log = [Suppression(s.table, s.group, s.reason) for s in decision.log]
        reasons = {(s.table, s.group): s.reason for s in decision.log}
        item_score: dict[str, dict[str, float]] = {}
        item_raw: dict[str, dict[str, float]] = {}
        for (item_id, key), f in item_figs.items():
            if decision.ok(f):
                values = raw[item_id][f.members]
                item_raw.setdefault(key, {})[item_id] = float(values.mean())
                item = next(i for i in q.items if getattr(i, "id", None) == item_id)
                low, high = q.scales[item.scale].numeric_range
                scores = (values - low) / (high - low) * 100
                if getattr(item, "pole", None) == m.Pole.traditional:
                    scores = 100 - scores
                item_score.setdefault(key, {})[item_id] = float(scores.mean())
        done: dict[str, dict[str, float]] = {}
        for key, var, composite, f, parts in plan:
            refused = [p for p in parts + ([composite] if composite else []) + [f] if not decision.ok(p)]
            if refused:
                first = refused[0]
                self.withheld[(key, var)] = reasons.get((first.variable, key), "too few of its parts can be shown")
                continue
            if var.startswith("pace:"):
                at = sc.code_index(f"{_grid_of(q, var[5:]).id}.{var[5:]}.effect", list(m.PACE_EFFECT_CODES))[f.members]
                counts = {o: int((at == m.PACE_EFFECT_CODES.index(o)).sum()) for o in OUTCOMES}
                self.values[(key, var)] = _Value(counts=counts, n=f.n)
            else:
                value = _mean_value(q, var, item_score.get(key, {}), item_raw.get(key, {}), done.setdefault(key, {}))
                self.values[(key, var)] = _Value(value, self._person(var)[f.members], n=f.n)
            self._figures_of[(key, var)] = [p.id for p in parts] + [f.id]
        self.register, self.decision, self.members = reg, decision, members

    def _person(self, var: str) -> np.ndarray:
        kind, key = var.split(":", 1)
        if kind == "dim":
            return self.scorer.dimension(key).to_numpy(dtype=float)
        return self.scorer.derived()[key].to_numpy(dtype=float)

    def use(self, key: str, var: str) -> None:
        """Mark a value as shown: its figures are recorded when this wave publishes."""
        self.used.update(self._figures_of.get((key, var), ()))

    def allowed(self) -> frozenset[tuple[str, str]]:
        """(variable, group key) of every figure the decision allowed and a value rests on."""
        if not hasattr(self, "register"):
            return frozenset()
        figures = self.register.figures
        kept = {i for ids in self._figures_of.values() for i in ids}
        kept |= {f.id for f in figures if f.kind == "composite" and self.decision.ok(f)
                 and all(p in kept for p in f.parts)}
        return frozenset((figures[i].variable, figures[i].group) for i in kept)

    def publications(self, shown: set[tuple[str, str]] | None = None) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """(variable, sorted response ids behind it, its group's ids) of every figure shown:
        `shown` (variable, group key) as an output lists them, a composite standing for its
        parts; None: every value used (the results workbook shows them all)."""
        if not hasattr(self, "register"):
            return []
        figures = self.register.figures
        chosen = self.used
        if shown is not None:
            chosen, todo = set(), [f for f in figures if (f.variable, f.group) in shown and self.decision.ok(f)]
            while todo:
                f = todo.pop()
                if f.id not in chosen:
                    chosen.add(f.id)
                    todo += [figures[p] for p in f.parts]
        found = []
        for f in figures:
            if f.id in chosen and f.members is not None:
                found.append((f.variable, np.sort(self.ids[f.members]),
                              np.sort(self.ids[self.register.groups[f.group].members])))
        return found


# --------------------------------------------------------------------------- the subject


def _earlier_waves(a: Analysis, missing: list) -> list[EarlierWave]:
    """The waves before this one, oldest first: given to the analysis, or read from the scan
    folder by `survey.waves.earlier_waves`. A wave whose folder is gone (moved, deleted) ends
    the chain and is appended to `missing`: the analysis goes on without it."""
    given = getattr(a, "waves", None)
    if given is not None:
        return list(given)
    from survey.waves import earlier_waves

    return list(earlier_waves(a.scan, missing))


def writer_id(result_scan) -> str:
    """How a later wave names itself in an earlier wave's register of editions."""
    return f"{result_scan.wave} ({Path(result_scan.folder).resolve()})"


class ChangeSubject(Subject):
    def register(self, a: Analysis) -> None:
        self.missing: list = []
        self.waves = _earlier_waves(a, self.missing)
        if not self.waves:
            return
        from survey.analysis.claims import ClaimsSubject

        q = a.q
        keys = [key for key, g in a.groups.items() if g.kind in ("organisation", "department")]
        known = next((s.person_figs for s in a.subjects if isinstance(s, ClaimsSubject)), {})
        self.person: dict[str, np.ndarray] = {}
        self.person_figs: dict[str, dict[str, Figure]] = {}
        for var in (v for v in variables(q) if not v.startswith("pace:")):
            kind, key = var.split(":", 1)
            values = (a.scorer.dimension(key) if kind == "dim" else a.scorer.derived()[key]).to_numpy(dtype=float)
            self.person[var] = values
            # the test's person-level scores: the claims subject's figures where it registered them
            self.person_figs[var] = known.get(var) or a._add(f"claims:{var}", ~np.isnan(values), "mean", keys,
                                                             ("report",))

    def resolve(self, a: Analysis, results: dict[str, GroupResult]) -> None:
        if not self.waves:
            return
        q, ok = a.q, a.decision.ok
        # this wave's values: what the outputs show, for every group that can change
        now: dict[tuple[str, str], _Value] = {}
        groups = [key for key, g in a.groups.items() if g.kind in ("organisation", "department")]
        for key in groups:
            r = results[key]
            for var in variables(q):
                kind, name = var.split(":", 1)
                if kind == "pace":
                    f = a.pace_figs[name][3].get(key)
                    if ok(f):
                        at = a.pace_codes[name][1][f.members]
                        now[(key, var)] = _Value(counts={o: int((at == m.PACE_EFFECT_CODES.index(o)).sum())
                                                         for o in OUTCOMES}, n=f.n)
                    continue
                shown = (r.dimensions if kind == "dim" else r.derived).get(name)
                f = self.person_figs[var].get(key)
                if shown is None or not ok(f) or any(i not in r.items for i in leaves(q, var)):
                    continue
                now[(key, var)] = _Value(shown.mean, self.person[var][f.members], n=f.n)
        self.now = now
        me = writer_id(a.scan)
        left: list[LeftOut] = []
        self.earlier: list[EarlierFigures] = []
        links: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.previous: EarlierFigures | None = None
        for wave in self.waves:
            k = max(a.k, wave.scan.anonymity_threshold)
            try:
                forgotten = getattr(a, "forgotten", None)  # this wave's own edition just forgotten
                figures = EarlierFigures(wave, k, a.protection, None if forgotten is None else f"{me}#{forgotten}")
            except ReportError as exc:  # e.g. its store is gone: that wave has nothing to compare with
                left.append(LeftOut(wave.wave, None, None, "not_computable", detail=exc.message))
                continue
            usable = []
            for var in variables(q):
                why = comparable(q, wave, var)
                if why is None:
                    usable.append(var)
                else:
                    left.append(why)
            mapping: dict[str, frozenset[str]] = {}
            for key in groups:
                if key == ORGANISATION:
                    mapping[key] = frozenset()
                    continue
                link = wave.link(key)
                continuity, earlier_names = ((str(link.continuity), link.earlier) if link is not None else
                                             (("same", (key,)) if key in figures.counts else ("new", ())))
                if wave is self.waves[-1]:
                    links[key] = (continuity, tuple(earlier_names))
                if continuity not in ("same", "renamed") or len(earlier_names) != 1:
                    left.append(LeftOut(wave.wave, None, key, continuity, tuple(earlier_names)))
                elif earlier_names[0] not in figures.counts or earlier_names[0] in figures.hidden:
                    left.append(LeftOut(wave.wave, None, key, "hidden", tuple(earlier_names)))
                else:
                    mapping[key] = frozenset(earlier_names)
            wanted = {key: [v for v in usable if (key, v) in now] for key in mapping}
            figures.decide(mapping, wanted)
            for (key, var), reason in figures.withheld.items():
                left.append(LeftOut(wave.wave, var, key, "withheld", detail=reason))
            self.earlier.append(figures)
            if wave is self.waves[-1]:
                self.previous = figures
        # this wave's hidden departments and the combined group: no change, named with the reason
        # (a hidden department shows nothing; which departments 'other departments' combines
        # differs between waves, so it has no like-for-like comparison)
        label = self.waves[-1].wave
        left += [LeftOut(label, None, h.name, "hidden_now", detail=h.reason) for h in a.hidden
                 if h.name != MANAGERS]
        if OTHERS in a.groups:
            left.append(LeftOut(label, None, OTHERS, "others"))
        self.left = left
        self.links = links
        self._changes(a, results)
        self._series(a, results)

    def _changes(self, a: Analysis, results: dict[str, GroupResult]) -> None:
        """Since the previous wave: the differences, then one Holm family per kind."""
        previous = self.previous
        self.families = {"scores": 0, "shares": 0}
        if previous is None:
            return
        label = previous.wave.wave
        scores: list[tuple[tuple[str, str], object, float, _Value, _Value]] = []
        shares: list[tuple[tuple[str, str], object, float, _Value, _Value]] = []
        n_scores = sum(not var.startswith("pace:") for _, var in previous.values)
        rounds = permutations_for(n_scores, ALPHA)
        for (key, var), then in previous.values.items():
            here = self.now[(key, var)]
            previous.use(key, var)
            if var.startswith("pace:"):
                for outcome in OUTCOMES:
                    d = share_difference(here.counts[outcome], here.n, then.counts[outcome], then.n)
                    shares.append(((key, f"{var}.{outcome}"), d, here.counts[outcome] / here.n - then.counts[outcome]
                                   / then.n, here, then))
            else:  # Welch's t, its p from permuting the wave labels (see the module docstring)
                # sorted: the permutations (seeded) then do not depend on the order of the rows
                d = welch_permutation(np.sort(here.person), np.sort(then.person), rounds,
                                      zlib.crc32(f"{key} {var}".encode()))
                scores.append(((key, var), d, here.value - then.value, here, then))
        self.families = {"scores": sum(not isinstance(d, CannotCompute) for _, d, *_ in scores),
                         "shares": sum(not isinstance(d, CannotCompute) for _, d, *_ in shares)}
        for family, is_share in ((scores, False), (shares, True)):
            # The organisation's change must also hold with the earlier wave weighted to this
            # wave's department mix: its p is the larger of the test's and that comparison's,
            # inside the same Holm family (an uncorrected check beside it let mix-only changes
            # through at 13 % of reports). Judged twice: without the mix check, to tell the
            # reader when it alone stopped a claim.
            mix = {i: self._composition(a, *self._people(a, var), gap)
                   for i, ((key, var), d, gap, _, _) in enumerate(family)
                   if key == ORGANISATION and not isinstance(d, CannotCompute)}
            raw = claims([(f"{key} {var}", d) for (key, var), d, *_ in family], ALPHA)
            judged = claims([(f"{key} {var}", replace(d, p=max(d.p, mix[i])) if i in mix else d)
                             for i, ((key, var), d, *_) in enumerate(family)], ALPHA)
            for i, (((key, var), d, gap, here, then), c) in enumerate(zip(family, judged, strict=True)):
                first = (here.counts[var.rsplit(".", 1)[1]] / here.n) if is_share else here.value
                second = (then.counts[var.rsplit(".", 1)[1]] / then.n) if is_share else then.value
                if isinstance(d, CannotCompute):
                    change = Change(var, key, label, first, second, here.n, then.n, gap, None, None, None, None,
                                    False, c.family_size, c.reason)
                else:
                    if is_share:
                        low, high = d.interval.low, d.interval.high
                    else:  # Welch's width around the shown change (see the module docstring)
                        half = (d.interval.high - d.interval.low) / 2
                        low, high = gap - half, gap + half

                    def supported(claim) -> bool:
                        if is_share:
                            return claim.claimed and d.interval.excludes_zero()
                        # claimed only where its interval is shown: from 2k people in both waves
                        return (claim.claimed and gap * d.estimate > 0 and (low > 0 or high < 0)
                                and min(here.n, then.n) >= 2 * a.k)

                    holds = supported(c)
                    # the mix check alone stopped it: name the departments whose share moved
                    moved = (self._mix_moves(a, *self._people(a, var)) if i in mix and not holds
                             and supported(raw[i]) else None)
                    change = Change(var, key, label, first, second, here.n, then.n, gap, low, high, d.p,
                                    c.p_adjusted, holds, c.family_size, c.reason, moved)
                results[key].change[var] = change

    def _people(self, a: Analysis, var: str) -> tuple[np.ndarray, np.ndarray]:
        """Person-level values of `var` in this wave and the previous one (NaN: no answer): a
        score, or for a share ('pace:S.brakes') 1 where the person chose that outcome, else 0."""
        previous = self.previous
        if not var.startswith("pace:"):
            return self.person[var], previous._person(var)
        name, outcome = var[5:].rsplit(".", 1)
        code = m.PACE_EFFECT_CODES.index(outcome)
        then_at = previous.scorer.code_index(f"{_grid_of(previous.q, name).id}.{name}.effect",
                                             list(m.PACE_EFFECT_CODES))
        return tuple(np.where(at >= 0, (at == code).astype(float), np.nan)
                     for at in (a.pace_codes[name][1], then_at))

    def _composition(self, a: Analysis, person_now: np.ndarray, person_then: np.ndarray, gap: float) -> float:
        """The organisation's change with the previous wave standardised to this wave's
        department mix: per stratum (a department of this wave with the earlier department(s)
        it continues; split parts together; new ones left out) the earlier mean, weighted by
        this wave's respondents in it, against this wave's mean over the same strata; variance
        sum w^2 s^2 / n of both waves; a two-sided normal p (1 when its sign differs from the
        shown change's, 0 when there is nothing to standardise)."""
        previous = self.previous
        strata: dict[frozenset[str], set[str]] = {}
        for link in previous.wave.links:
            if link.earlier and str(link.continuity) != "new":
                strata.setdefault(frozenset(link.earlier), set()).add(link.department)
        unit = a.unit.astype(str)
        dept_then = previous.dept
        rows = []  # (now names, n now, mean now, var now, n then, mean then, var then)
        for earlier, now in strata.items():
            here = person_now[a.is_emp & np.isin(unit, sorted(now))]
            here = here[~np.isnan(here)]
            inside = np.zeros(len(dept_then), dtype=bool)
            inside[previous.employees] = np.isin(dept_then[previous.employees].astype(str), sorted(earlier))
            then = person_then[inside]
            then = then[~np.isnan(then)]
            if len(here) < 2 or len(then) < 2:
                continue
            rows.append((now, len(here), here.mean(), here.var(ddof=1), len(then), then.mean(), then.var(ddof=1)))
        if not rows:
            return 0.0
        total_now = sum(r[1] for r in rows)
        diff = variance = 0.0
        for _, n1, m1, v1, n0, m0, v0 in rows:
            w = n1 / total_now
            diff += w * (m1 - m0)
            variance += w * w * (v1 / n1 + v0 / n0)
        if diff * gap <= 0:
            p = 1.0
        elif variance <= 0:
            p = 0.0
        else:
            p = float(2 * stats.norm.sf(abs(diff) / math.sqrt(variance)))
        return p

    def _mix_moves(self, a: Analysis, person_now: np.ndarray, person_then: np.ndarray) -> tuple[str, ...]:
        """The departments whose share of the answering employees moved most since the previous
        wave, two (and any that moved as much as the second): this wave's (a new one from 0; a
        merged or split one together with the earlier departments it continues) and the previous
        wave's that are gone (to 0). Only names the reader may see: shown now, or (gone ones)
        shown then."""
        previous = self.previous
        unit = a.unit.astype(str)
        answered_now = a.is_emp & ~np.isnan(person_now)
        inside_then = np.zeros(len(previous.dept), dtype=bool)
        inside_then[previous.employees] = True
        then_units = previous.dept[inside_then & ~np.isnan(person_then)].astype(str)
        now_units = unit[answered_now]
        total_now, total_then = max(len(now_units), 1), max(len(then_units), 1)
        groups: dict[frozenset[str], set[str]] = {}
        for link in previous.wave.links:
            key = frozenset(link.earlier) if link.earlier else frozenset({"\x00new " + link.department})
            groups.setdefault(key, set()).add(link.department)
        shown = set(a.shown)
        moves = []
        for earlier, now in groups.items():
            share_now = int(np.isin(now_units, sorted(now)).sum()) / total_now
            share_then = int(np.isin(then_units, sorted(earlier)).sum()) / total_then
            moves.append((abs(share_now - share_then), sorted(n for n in now if n in shown)))
        for name in previous.wave.gone:
            if name not in previous.hidden:
                moves.append((int((then_units == name).sum()) / total_then, [name]))
        named: list[str] = []
        last = None
        for move, names in sorted(moves, key=lambda m_: (-m_[0], m_[1])):
            if move <= 0 or (len(named) >= 2 and move < last - 1e-9):  # two, and any tied with the second
                break
            named += names
            last = move
        return tuple(named)

    def _series(self, a: Analysis, results: dict[str, GroupResult]) -> None:
        """Every wave's value per group and variable, from three waves on."""
        if len(self.waves) < 2:
            return
        k = a.k
        for (key, var), here in self.now.items():
            found: list[tuple[str, _Value, int]] = []
            for figures in self.earlier:
                then = figures.values.get((key, var))
                if then is not None:
                    figures.use(key, var)
                    found.append((figures.wave.wave, then, figures.k))
            if not found:
                continue
            found.append((a.scan.wave, here, k))
            if var.startswith("pace:"):
                for outcome in OUTCOMES:
                    results[key].trend[f"{var}.{outcome}"] = tuple(_share_point(w, v, outcome) for w, v, _ in found)
            else:
                bounds = _bounds(a.q, var)
                results[key].trend[var] = tuple(_mean_point(w, v, t, bounds) for w, v, t in found)

    def finish(self, a: Analysis, result: AnalysisResult) -> None:
        # paths as seen from this scan folder: the report is read on other machines
        gone = [LeftOut(e.wave or Path(str(e.folder)).name, None, None, "missing",
                        detail=_relative(e.folder, a.scan.folder),
                        items=(_relative(e.where.file, a.scan.folder), str(e.where.line or "")))
                for e in self.missing]
        if not self.waves:
            if gone:  # the previous wave itself is gone: no change, said once
                result.change = ChangeResult(waves=(a.scan.wave,), previous=gone[0].wave, alpha=ALPHA,
                                             families={"scores": 0, "shares": 0}, changed_items={},
                                             left_out=gone, missing=self.missing[0].message)
            return
        suppressed = [Suppression(f"{s.table} (wave {f.wave.wave})", s.group, s.reason)
                      for f in self.earlier for s in f.log]
        result.change = ChangeResult(
            waves=tuple(w.wave for w in self.waves) + (a.scan.wave,), previous=self.waves[-1].wave, alpha=ALPHA,
            families=self.families, changed_items={w.wave: tuple(w.changed) for w in self.waves},
            left_out=self.left + gone, links=self.links, suppressed=suppressed,
            allowed={f.wave.wave: f.allowed() for f in self.earlier},
            missing=self.missing[0].message if self.missing else "")
        # what this wave shows of each earlier wave's people, recorded there when it publishes
        result.change_publications = [(f.wave.scan.store_path, f) for f in self.earlier]


def _mean_point(wave: str, v: _Value, threshold: int, bounds: tuple[float, float]) -> WavePoint:
    """The shown score with the width of the t-interval of the person-level scores around it,
    from 2k people (`model.shown_interval`), within the score's range."""
    person = v.person[~np.isnan(v.person)]
    n = len(person)
    if n < max(2, 2 * threshold):
        return WavePoint(wave, v.value, None, None, n)
    half = _t975(n - 1) * float(person.std(ddof=1)) / math.sqrt(n)
    return WavePoint(wave, v.value, round(max(bounds[0], v.value - half), 1), round(min(bounds[1], v.value + half), 1),
                     n)


def _share_point(wave: str, v: _Value, outcome: str) -> WavePoint:
    s = wilson_interval(v.counts[outcome], v.n)
    return WavePoint(wave, s.share, s.interval.low, s.interval.high, v.n)


def publish_earlier(result: AnalysisResult, output: str,
                    earlier_shown: set[tuple[str, str, str]] | None = None) -> None:
    """Record in each earlier wave's store the figures of its people this output shows (before
    the output is written), as a later wave's edition (`written_by`). `earlier_shown`: (wave,
    variable, group key) as the output lists them (the report model); None: every value the
    change and the series use (the results workbook)."""
    if not result.protection or result.change is None:
        return
    # tied to this wave's own edition: forgetting that one forgets exactly these (--replace-earlier)
    me = f"{writer_id(result.scan)}#{getattr(result, 'edition', None)}"
    for store_path, earlier in getattr(result, "change_publications", []):
        shown = None if earlier_shown is None else {(v, k) for w, v, k in earlier_shown if w == earlier.wave.wave}
        figures = earlier.publications(shown)
        if figures:
            with Store(store_path) as store:
                store.record_edition(iter(figures), f"{output} of wave {result.scan.wave}", written_by=me)


SUBJECTS.append(ChangeSubject)
PUBLISHERS.append(publish_earlier)

__all__ = ["ChangeSubject", "EarlierFigures", "OUTCOMES", "comparable", "leaves", "publish_earlier", "variables"]


def _relative(path, folder: Path) -> str:
    """`path` relative to the scan folder (`../2025`), as waves.yaml writes it."""
    try:
        return os.path.relpath(Path(str(path)), folder)
    except ValueError:  # another drive (Windows): only the absolute path is left
        return str(path)
