"""Disclosure control: one register of every figure any output would publish, one decision.

The analysis first computes every candidate figure that the report (HTML and PDF), the results
workbook or `survey status` would show and registers it here: the variable it is about, the
group, the people behind it (their answers are in it) and the outputs it goes to. `decide`
then rules over the whole register at once, and the outputs render only what it allowed.
See DISCLOSURE.md (shared) for the reasoning; in short:

* Groups. A department with fewer than k employee answers is hidden; when the hidden
  departments together hold 1..k-1 people, the next smallest departments are hidden as well
  (so the organisation minus the shown departments is 0 or at least k people). Hidden
  departments together form one combined group ("Other departments (2)") when it holds at
  least k people: that is exactly what subtraction from the organisation gives anyway.
* One base per variable per group. Every figure of a variable (a statement, the 'how it
  should be' half of a statement, one aspect of a pace situation, a choice question) for a
  group rests on the group's members who answered that variable; no output shows the same
  variable on a second, smaller base (the now-versus-desired table uses the item's base).
* The rule, per variable: every figure rests on at least k people, and every *atom* of the
  family of published sets (a set minus the published sets directly inside it) holds 0 or at
  least k people. Violations are resolved by secondary suppression: greedily the least useful
  figure (the smallest department; the organisation last) is withdrawn until the rule holds.
  The family must be laminar; crossing breakdowns (tenure rows beside departments) are not
  registered as figures at all, only their counts.
* Composite figures (a dimension score, a derived score) are the mean of the group's
  published component figures, so they tell a reader nothing beyond those figures; they are
  published when at least half of their components are.
* Counts and shares. A share is a count, and a count is the sum of an indicator variable
  (ticked this option, yes/no) over the figure's base. The rule above is applied per
  indicator: the base and its atoms must hold 0 or at least k people. A category count of
  1..k-1 over such a base does not tell which people gave that answer, so it is published;
  the same holds for the organisation's counts per tenure or hours band (indicators of a
  background answer over the whole organisation). A figure computed *over* a band would make
  the band a base, and cross the departments: those are not published. A share of 0% or 100%
  tells every member's answer (group disclosure); that is stated in the methods, not hidden.
"""

from __future__ import annotations


import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

ORGANISATION = "__organisation__"
MANAGERS = "__managers__"
OTHERS = "__others__"  # the hidden departments together

OUTPUTS = frozenset({"report", "workbook", "status"})


@dataclass(frozen=True)
class Suppression:
    table: str
    group: str
    reason: str


@dataclass(frozen=True)
class HiddenGroup:
    """A department (or the managers) not shown, and why: 'small' (fewer than k answers) or
    'complement' (hidden so that the groups in `protects` cannot be worked out)."""

    name: str
    reason: str
    n: int
    protects: tuple[str, ...] = ()

    def needs(self, threshold: int) -> int:
        """More answers it needs to be shown by itself (0 for a complementary hide)."""
        return max(0, threshold - self.n) if self.reason == "small" else 0


@dataclass(frozen=True)
class Group:
    """A reported group: which units (departments, or the managers) it is made of."""

    key: str
    kind: str  # organisation | department | combined | managers
    units: frozenset[str]
    members: np.ndarray  # positions of its respondents in the response frame
    usefulness: float  # higher = withdrawn later in secondary suppression


@dataclass
class Figure:
    id: int
    variable: str  # e.g. item:kar_01, item:kar_01.desired, pace:planning_talk.effect, choice:x
    group: str
    kind: str  # mean | shares | count | composite
    n: int  # people behind it
    unit_counts: dict[str, int]  # people behind it per unit (for atoms)
    members: np.ndarray | None  # positions of the people behind it
    outputs: frozenset[str] = OUTPUTS
    parts: tuple[int, ...] = ()  # composite: the figures it is the mean of
    min_parts: int = 0


@dataclass
class Register:
    """Every candidate figure of every output."""

    groups: dict[str, Group]
    figures: list[Figure] = field(default_factory=list)

    def add(self, variable: str, group: str, kind: str, members: np.ndarray | None = None,
            unit_counts: dict[str, int] | None = None, outputs: Iterable[str] = OUTPUTS,
            parts: tuple[int, ...] = (), min_parts: int = 0, n: int | None = None) -> Figure:
        if n is None:
            n = int(len(members)) if members is not None else sum((unit_counts or {}).values())
        figure = Figure(len(self.figures), variable, group, kind, n, unit_counts or {}, members,
                        frozenset(outputs), parts, min_parts)
        self.figures.append(figure)
        return figure


@dataclass
class Decision:
    allowed: set[int]
    log: list[Suppression]
    protection: bool = True

    def ok(self, figure: Figure | None) -> bool:
        return figure is not None and figure.id in self.allowed


# --------------------------------------------------------------------------- groups


def hide_groups(counts: dict[str, int], threshold: int) -> dict[str, HiddenGroup]:
    """Departments (name -> employee answers) that are not shown, each with its reason.

    Primary: 1..k-1 answers. Complementary: while the hidden ones together hold 1..k-1 people
    (the organisation's figure minus the shown ones would give them away), hide the next
    smallest department too. A department without answers is simply absent."""
    small = sorted(g for g, n in counts.items() if 0 < n < threshold)
    hidden = {g: HiddenGroup(g, "small", counts[g]) for g in small}
    total = sum(counts[g] for g in small)
    if small and total < threshold:
        for g in sorted((g for g, n in counts.items() if n >= threshold), key=lambda g: (counts[g], g)):
            hidden[g] = HiddenGroup(g, "complement", counts[g], tuple(small))
            total += counts[g]
            if total >= threshold:
                break
    return hidden


# --------------------------------------------------------------------------- the decision


def decide(register: Register, threshold: int, protection: bool = True,
           earlier: Mapping[str, list[tuple[np.ndarray, np.ndarray]]] | None = None,
           ids: np.ndarray | None = None) -> Decision:
    """Rule over the whole register at once; returns the ids of the figures outputs may show.

    `earlier` holds, per variable, the (people behind the figure, people of its group) sets of
    response ids it was published on in earlier editions, as sorted int64 arrays (any
    collection of ids is taken too); `ids` maps positions to response ids.
    `protection=False` allows every registered figure: for tests of the audit only."""
    figures = register.figures
    if not protection:
        return Decision({f.id for f in figures}, [], protection=False)
    log: list[Suppression] = []
    allowed: set[int] = set()
    by_variable: dict[str, list[Figure]] = {}
    groups = register.groups
    counts: dict[str, list[Figure]] = {}
    people = _People(ids) if ids is not None else None  # shared by the variables: mostly the same groups
    for f in figures:
        if f.kind == "count":
            counts.setdefault(f.variable, []).append(f)
        elif f.kind != "composite":
            by_variable.setdefault(f.variable, []).append(f)
    for variable, family in counts.items():
        # counts of people per group or band (see the module docstring); a band's count, set
        # against an earlier edition, would tell a new person's band: checked across editions
        live = family
        if earlier and ids is not None and all(f.members is not None for f in family):
            live = _across_editions(variable, family, earlier.get(variable, []), groups, ids, threshold, log,
                                    people)
        allowed.update(f.id for f in live)
    for variable, family in by_variable.items():
        live = []
        for f in family:
            if f.n < threshold:
                if f.n > 0:
                    log.append(Suppression(variable, f.group, f"fewer than {threshold} answers"))
                continue
            live.append(f)
        live = _secondary(variable, live, groups, threshold, log)
        if earlier and ids is not None and all(f.members is not None for f in live):
            live = _across_editions(variable, live, earlier.get(variable, []), groups, ids, threshold, log, people)
        allowed.update(f.id for f in live)
    for f in figures:  # composites, in registration order (parts come first)
        if f.kind == "composite":
            if sum(p in allowed for p in f.parts) >= max(1, f.min_parts):
                allowed.add(f.id)
            else:
                log.append(Suppression(f.variable, f.group, "too few of its parts can be shown"))
    return Decision(allowed, log)


Published = tuple[np.ndarray, np.ndarray]  # (the people behind a figure, its group's people): sorted int64 ids


def _sorted_ids(values) -> np.ndarray:
    """Sorted unique int64 ids from an id array (as stored: sorted already) or any collection."""
    if isinstance(values, np.ndarray):
        found = values.astype(np.int64, copy=False)
        if len(found) < 2 or bool((found[1:] > found[:-1]).all()):
            return found
        return np.unique(found)
    return np.array(sorted(values), dtype=np.int64)


class _People:
    """Everyone in the sets of one check, and where each set's people are among them. Found
    once per distinct array (a group's ids serve all its figures, and the same arrays come
    back for every variable), by a dense table from id to position where ids are compact."""

    def __init__(self, ids: np.ndarray) -> None:
        self.ids = ids  # response id of every position in the analysed frame
        self._people: tuple[tuple[int, ...], np.ndarray, list[np.ndarray]] | None = None
        self._at: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._frame_at: np.ndarray | None = None
        self._lookup: np.ndarray | None = None
        self._groups: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def union(self, arrays: list[np.ndarray]) -> np.ndarray:
        distinct = list({id(a): a for a in arrays}.values())
        key = tuple(sorted(id(a) for a in distinct))
        if self._people is None or self._people[0] != key:  # the last union only: memory stays flat
            people = np.unique(np.concatenate(distinct)) if distinct else np.zeros(0, dtype=np.int64)
            self._people = (key, people, distinct)  # the arrays are kept: their ids stay theirs
            self._at, self._frame_at = {}, None  # positions depend on the people; groups' ids do not
            self._lookup = None
            if len(people) and people[0] >= 0 and people[-1] < 4 * len(people) + 1_000_000:
                self._lookup = np.full(int(people[-1]) + 1, -1, dtype=np.int64)
                self._lookup[people] = np.arange(len(people))
        return self._people[1]

    def at(self, ids: np.ndarray, cache: bool = False) -> np.ndarray | None:
        """Positions of `ids` (sorted) among the people of the last union; None when one of
        them is not there."""
        if cache and id(ids) in self._at and self._at[id(ids)][1] is ids:
            return self._at[id(ids)][0]
        people = self._people[1]
        if not len(ids):
            found = np.zeros(0, dtype=np.int64)
        elif self._lookup is not None:
            if ids[0] < 0 or ids[-1] >= len(self._lookup):
                return None
            found = self._lookup[ids]
            if (found < 0).any():
                return None
        else:
            found = np.searchsorted(people, ids)
            if found[-1] >= len(people) or not np.array_equal(people[found], ids):
                return None
        if cache:
            self._at[id(ids)] = (found, ids)
        return found

    def frame_at(self) -> np.ndarray:
        """Per position of the analysed frame its position among the people (-1: not there)."""
        if self._frame_at is None:
            people = self._people[1]
            if self._lookup is not None:
                inside = (self.ids >= 0) & (self.ids < len(self._lookup))
                self._frame_at = np.where(inside, self._lookup[np.where(inside, self.ids, 0)], -1)
            else:
                at = np.searchsorted(people, self.ids).clip(max=max(len(people) - 1, 0))
                self._frame_at = np.where(people[at] == self.ids, at, -1) if len(people) else \
                    np.full(len(self.ids), -1)
        return self._frame_at

    def group(self, key: str, groups: dict[str, Group]) -> np.ndarray:
        """A group's sorted response ids, once per check."""
        if key not in self._groups:
            self._groups[key] = (_sorted_ids(self.ids[groups[key].members]), groups[key].members)
        return self._groups[key][0]


def _across_editions(variable: str, live: list[Figure], earlier: list[Published], groups: dict[str, Group],
                     ids: np.ndarray, threshold: int, log: list[Suppression],
                     people_cache: _People | None = None) -> list[Figure]:
    """Published outputs stay in readers' hands, so a new figure is checked against everything
    this variable was published on before, in every earlier edition and under any group name.
    A figure tells a reader two sums: the variable over the people behind it, and how many of
    its group answered (its n, with the group's size from any count or `survey status`). So
    both sets take part: every cell of the Venn partition of all of them, earlier and new,
    holds 0 or at least k people. Then every sum a reader can derive, by any combination of
    figures, covers at least k people. New figures (a figure is new unless both its sets were
    published before) are withdrawn, the one whose withdrawal leaves the fewest people in small
    cells first, then the smallest, until that holds; earlier figures cannot be withdrawn.

    Sets are sorted id arrays; a person's cell is the set of sets they are in, written as a
    random-weighted sum (equal sums mean the same sets, with negligible chance of a collision)."""
    if not earlier:
        return live
    cache = people_cache if people_cache is not None and people_cache.ids is ids else _People(ids)
    bases = {f.id: cache.group(f.group, groups) for f in live}
    fixed = [(_sorted_ids(s), _sorted_ids(r)) for s, r in earlier]
    by_size: dict[tuple[int, int], list[Published]] = {}
    for s, r in fixed:
        by_size.setdefault((len(s), len(r)), []).append((s, r))

    def is_old(f: Figure) -> bool:
        r = bases[f.id]
        same_size = by_size.get((len(f.members), len(r)), ())
        if not same_size:
            return False
        s = _sorted_ids(ids[f.members])
        return any(np.array_equal(s, s0) and np.array_equal(r, r0) for s0, r0 in same_size)

    old = {f.id for f in live if is_old(f)}
    # a figure's people are members of its group: the union of the bases is everyone
    cache.union([r for _, r in fixed] + list(bases.values()))
    found: dict[int, np.ndarray] = {}
    frame_at = cache.frame_at()
    where: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    complete = True
    for s, r in fixed:
        for members in (s, r):
            at = cache.at(members, cache=members is r)
            if at is None:
                complete = False
                break
            found[id(members)] = at
    for f in live if complete else ():
        s_at = frame_at[f.members]
        r_at = frame_at[groups[f.group].members]
        if (len(s_at) and s_at.min() < 0) or (len(r_at) and r_at.min() < 0):
            complete = False
            break
        where[f.id] = (s_at, r_at)
    if not complete:  # a set outside the bases (not made by the analysis): everyone, the slow way
        sets = [m for pair in fixed for m in pair] + [_sorted_ids(ids[f.members]) for f in live] + list(bases.values())
        people = np.unique(np.concatenate(sets))
        found = {id(m): np.searchsorted(people, m) for pair in fixed for m in pair}
        where = {f.id: (np.searchsorted(people, _sorted_ids(ids[f.members])), np.searchsorted(people, bases[f.id]))
                 for f in live}
        size = len(people)
    else:
        size = len(cache.union([r for _, r in fixed] + list(bases.values())))
    rng = np.random.default_rng(0)
    base = np.zeros(size, dtype=np.int64)  # the earlier sets' part of each person's signature
    for s, r in fixed:
        for members in (s, r):
            base[found[id(members)]] += int(rng.integers(1, 2**62))
    weights = {f.id: (int(rng.integers(1, 2**62)), int(rng.integers(1, 2**62))) for f in live}
    labels, _ = pd.factorize(base)
    labels = labels.astype(np.int64)
    sizes = np.bincount(labels)

    def small(counts: np.ndarray) -> int:
        return int(counts[(counts > 0) & (counts < threshold)].sum())

    base_small = small(sizes)

    def small_alone(f: Figure) -> int:
        """People in small cells with the earlier sets and this figure's two: only the cells
        of the people in its group change (its members lie in its group)."""
        s_at, r_at = where[f.id]
        inside = np.searchsorted(r_at, s_at)
        if len(s_at) and (inside.max() >= len(r_at) or not np.array_equal(r_at[inside], s_at)):
            return small_cells([f])  # members outside the group, or unsorted (not made by the analysis)
        in_s = np.zeros(len(r_at), dtype=np.int64)
        in_s[inside] = 1
        touched = labels[r_at]
        if len(sizes) <= 4 * len(r_at) + 1024:  # few cells: count by label, no sorting
            inside_counts = np.bincount(touched, minlength=len(sizes))
            cells = np.flatnonzero(inside_counts)
            split = np.bincount(touched * 2 + in_s, minlength=2 * len(sizes))
            rest = sizes[cells] - inside_counts[cells]
        else:
            split = np.unique(touched * 2 + in_s, return_counts=True)[1]
            cells, inside_counts = np.unique(touched, return_counts=True)
            rest = sizes[cells] - inside_counts
        return base_small - small(sizes[cells]) + small(rest) + small(split)

    def small_cells(figures: list[Figure]) -> int:
        """People in Venn cells of 1..k-1, with the earlier sets and these figures' sets."""
        signature = base.copy()
        for f in figures:
            (w_s, w_r), (s_at, r_at) = weights[f.id], where[f.id]
            signature[s_at] += w_s
            signature[r_at] += w_r
        return small(np.bincount(pd.factorize(signature)[0]))

    def withdraw(victim: Figure) -> None:
        log.append(Suppression(variable, victim.group, "hidden too, so that it cannot be compared with results "
                                                       "written earlier to work out a few answers"))

    # first each new figure on its own against what was published before (most are decided
    # here, cheaply), then the greedy search over the rest together
    kept = []
    for f in live:
        if f.id not in old and small_alone(f):
            withdraw(f)
        else:
            kept.append(f)
    live = kept
    while True:
        new = [f for f in live if f.id not in old]
        if not new:
            return live  # only what was published before: nothing new to check or withdraw
        bad = small_cells(live)
        if not bad:
            return live
        victim = min(new, key=lambda f: (small_cells([g for g in live if g is not f]), f.n, f.group))
        withdraw(victim)
        live = [f for f in live if f is not victim]


def _secondary(variable: str, live: list[Figure], groups: dict[str, Group], threshold: int,
               log: list[Suppression]) -> list[Figure]:
    """Withdraw figures until every atom of the family holds 0 or at least k people."""
    while True:
        atoms = atoms_of(live, groups)
        bad = [(f, size) for f, size, _ in atoms if 0 < size < threshold]
        if not bad:
            return live
        node, size = bad[0]
        children = [c for c in live if c is not node and _parent(c, live, groups) is node]
        candidates = children + ([node] if _parent(node, live, groups) is not None or not children else [])
        victim = min(candidates, key=lambda f: (groups[f.group].usefulness, f.n, f.group))
        inside = ", ".join(sorted(c.group for c in children)) or "-"
        log.append(Suppression(variable, victim.group,
                               f"hidden too, so that {size} answer(s) cannot be worked out by subtraction "
                               f"({node.group} minus {inside})"))
        live = [f for f in live if f is not victim]


def _parent(f: Figure, live: list[Figure], groups: dict[str, Group]) -> Figure | None:
    units = groups[f.group].units
    best = None
    for g in live:
        if g is f:
            continue
        other = groups[g.group].units
        if units < other or (units == other and g.n > f.n):
            if best is None or len(other) < len(groups[best.group].units):
                best = g
        elif units & other and not units <= other and not other <= units:
            raise ValueError(f"crossing groups {f.group} and {g.group} registered for {f.variable}")
    return best


def atoms_of(live: list[Figure], groups: dict[str, Group]) -> list[tuple[Figure, int, frozenset[str]]]:
    """(figure, people in its atom, units of its atom): the figure's set minus the published
    sets directly inside it. Sets are unions of units, so atoms are counted per unit."""
    parent = {f.id: _parent(f, live, groups) for f in live}
    covered: dict[int, set[str]] = {f.id: set() for f in live}
    for f in live:
        p = parent[f.id]
        if p is not None:
            covered[p.id] |= groups[f.group].units
    result = []
    for f in live:
        rest = groups[f.group].units - covered[f.id]
        result.append((f, sum(f.unit_counts.get(u, 0) for u in rest), frozenset(rest)))
    return result


def mean_of(values: list[float | None], min_parts: int) -> float | None:
    """A composite figure: the mean of the component figures that may be shown."""
    shown = [v for v in values if v is not None and not math.isnan(v)]
    if len(shown) < max(1, min_parts):
        return None
    return float(sum(shown) / len(shown))


def apart(inner: int, outer: int, threshold: int) -> bool:
    """Whether a statistic over a subset of another figure's people (complete cases, people
    who answered both halves of a statement) may be published beside it: the register checks
    sets per variable, but such a statistic, combined with the other figure's counts, sums and
    sums of squares, reveals the people left out. So the two sets must be equal or differ by at
    least the threshold (the attack: a paired gap over 5 beside a statement over 6 gives the
    sixth person's answer)."""
    return outer - inner == 0 or outer - inner >= threshold
