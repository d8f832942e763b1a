"""Waves: a scan linked to the scans before it (issue 12).

`survey init NEW --previous OLD` links a new wave to the one before; `DIR/waves.yaml` names
the earlier waves' folders and how departments continue (renamed, merged, split). This module
reads that link into typed data; the change analysis (`survey/analysis/change.py`) and the
disclosure model read earlier waves only through it.

A scan names only the wave right before it; the chain is followed through each folder's
waves.yaml, so a scan can have any number of earlier waves. Department links of a wave two or
more steps back are composed along the chain and given in THIS wave's department names.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from survey.errors import Location, Problem, ScanError
from survey.questionnaire import compare_versions
from survey.questionnaire.versions import Change, ItemChange
from survey.scan import (SCAN_FILE, Department, Handout, Scan, init_scan, load_scan)

WAVES_FILE = "waves.yaml"
MAPPINGS = ("renamed", "merged", "split")


class Continuity(StrEnum):
    same = "same"  # the department has the same name in both waves
    renamed = "renamed"  # one department of the earlier wave, under a new name
    merged = "merged"  # several departments of the earlier wave became this one
    split = "split"  # one department of the earlier wave became several, this among them
    new = "new"  # nothing in the earlier wave


@dataclass(frozen=True)
class DepartmentLink:
    """How a department of this wave continues departments of an earlier wave."""

    department: str  # its name in this wave
    earlier: tuple[str, ...]  # its name(s) in the earlier wave (empty: new)
    continuity: Continuity

    @property
    def comparable(self) -> bool:
        """A change is shown only for a department that stayed itself (same or renamed)."""
        return self.continuity in (Continuity.same, Continuity.renamed)


@dataclass(frozen=True)
class EarlierWave:
    """One earlier wave as this scan sees it."""

    wave: str  # its label, e.g. "2025"
    folder: Path  # its scan folder (read only)
    scan: Scan
    links: tuple[DepartmentLink, ...]  # one per department of THIS wave
    comparable: frozenset[str] = frozenset()  # item keys with the same trend fingerprint in both
    changed: tuple[str, ...] = ()  # item keys present in both whose fingerprint changed: no trend, named
    gone: tuple[str, ...] = field(default=())  # earlier departments that continue nowhere (named)
    steps: int = 1  # 1: the wave right before this one; 2: the one before that, ...

    def link(self, department: str) -> DepartmentLink | None:
        return next((d for d in self.links if d.department == department), None)

    def describe(self) -> str:
        """One line: the wave, its folder and how departments continue (for `survey status`)."""
        counts = {c: sum(1 for d in self.links if d.continuity is c) for c in Continuity}
        parts = [f"{counts[c]} {c.value}" for c in Continuity if counts[c]]
        renamed = [f"{d.earlier[0]} -> {d.department}" for d in self.links if d.continuity is Continuity.renamed]
        merged = [f"{' + '.join(d.earlier)} -> {d.department}" for d in self.links
                  if d.continuity is Continuity.merged]
        split_from = sorted({d.earlier[0] for d in self.links if d.continuity is Continuity.split})
        split = []
        for old in split_from:
            into = [d.department for d in self.links if d.continuity is Continuity.split and d.earlier == (old,)]
            split.append(f"{old} -> {' + '.join(into)}")
        detail = "; ".join(
            ([f"renamed {', '.join(renamed)}"] if renamed else [])
            + ([f"merged {', '.join(merged)}"] if merged else [])
            + ([f"split {', '.join(split)}"] if split else [])
            + ([f"gone {', '.join(self.gone)}"] if self.gone else []))
        trend = f"{len(self.comparable)} questions comparable" + (
            f", {len(self.changed)} changed (no trend: {', '.join(self.changed)})" if self.changed else "")
        return (f"wave {self.wave} ({self.folder}): departments {', '.join(parts) or 'none'}"
                + (f"; {detail}" if detail else "") + f"; {trend}")


class EarlierWaveMissing(ScanError):
    """An earlier wave's folder named in waves.yaml is gone (moved or deleted)."""

    def __init__(self, what: str, *, wave: str = "", folder: Path | None = None, **kwargs):
        super().__init__(what, **kwargs)
        self.wave = wave  # its label as recorded in waves.yaml ('' when not recorded)
        self.folder = folder  # where it was looked for


# --------------------------------------------------------------------------- waves.yaml


@dataclass(frozen=True)
class _Named:
    """A department name as written in waves.yaml, with where it was written."""

    name: str
    where: Location


@dataclass(frozen=True)
class WavesFile:
    """DIR/waves.yaml as written: the previous wave and the department mappings."""

    path: Path
    folder: Path  # the previous wave's folder, resolved against DIR
    folder_where: Location
    wave: str  # the previous wave's label as recorded
    scan_id: str  # the previous wave's scan id as recorded
    renamed: tuple[tuple[_Named, _Named], ...] = ()  # (old, new)
    merged: tuple[tuple[_Named, tuple[_Named, ...]], ...] = ()  # (new, olds)
    split: tuple[tuple[_Named, tuple[_Named, ...]], ...] = ()  # (old, news)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.width = 100
    return yaml


def _where(path: Path, node, key=None, index=None, value: bool = False) -> Location:
    """The 1-based line and column of a key (or its value) or list item in a ruamel node."""
    try:
        if index is not None:
            line, column = node.lc.item(index)
        elif key is not None and value:
            line, column = node.lc.value(key)
        elif key is not None:
            line, column = node.lc.key(key)
        else:
            line, column = node.lc.line, node.lc.col
        return Location(file=path, line=line + 1, column=column + 1)
    except (AttributeError, KeyError, TypeError, IndexError):
        return Location(file=path)


def read_waves_file(folder: Path) -> WavesFile | None:
    """DIR/waves.yaml, checked for its shape (names are checked against departments later);
    None when the scan is a first wave."""
    path = folder / WAVES_FILE
    if not path.is_file():
        return None
    try:
        data = _yaml().load(path.read_text(encoding="utf-8"))
    except (YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScanError(f"{WAVES_FILE} cannot be read: {getattr(exc, 'problem', None) or exc}".splitlines()[0],
                        where=Location(file=path, line=mark.line + 1 if mark else None),
                        fix="fix the YAML (indent with spaces; a name with ':' in quotes)") from None
    if not isinstance(data, dict):
        raise ScanError("this is not a waves file (it should hold 'previous:' and 'departments:')",
                        where=Location(file=path), fix="write it again with survey init NEW --previous OLD")
    for key in data:
        if key not in ("previous", "departments", "questionnaire"):
            raise ScanError(f"unknown entry '{key}'", where=_where(path, data, key),
                            fix="use previous, departments (renamed, merged, split) and questionnaire")
    previous = data.get("previous")
    if not isinstance(previous, dict) or not previous.get("folder"):
        raise ScanError("'previous:' with the 'folder:' of the previous wave is missing",
                        where=_where(path, data, "previous") if "previous" in data else Location(file=path),
                        fix="write 'previous:' and under it 'folder: ../2025' (the previous wave's scan folder)")
    raw_folder = Path(str(previous["folder"])).expanduser()
    resolved = raw_folder if raw_folder.is_absolute() else Path(os.path.normpath(folder / raw_folder))
    departments = data.get("departments") or {}
    if not isinstance(departments, dict):
        raise ScanError("'departments:' must hold renamed, merged and split",
                        where=_where(path, data, "departments"), fix="see the comments in this file")
    for key in departments:
        if key not in MAPPINGS:
            raise ScanError(f"unknown entry '{key}' under departments", where=_where(path, departments, key),
                            fix="use renamed: {old: new}, merged: {new: [old, old]} or split: {old: [new, new]}")

    def mapping(kind: str) -> dict:
        value = departments.get(kind)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ScanError(f"'{kind}' must be a mapping of names", where=_where(path, departments, kind),
                            fix={"renamed": "write renamed: {old name: new name}",
                                 "merged": "write merged: {new name: [old name, old name]}",
                                 "split": "write split: {old name: [new name, new name]}"}[kind])
        return value

    def name(value, where: Location) -> _Named:
        if not isinstance(value, (str, int)) or not str(value).strip():
            raise ScanError(f"'{value}' is not a department name", where=where, fix="write the name as text")
        return _Named(str(value).strip(), where)

    renames = mapping("renamed")
    renamed = tuple((name(old, _where(path, renames, old)), name(new, _where(path, renames, old, value=True)))
                    for old, new in renames.items())

    def many(kind: str, one: str, several: str) -> tuple:
        result = []
        for key, value in mapping(kind).items():
            where = _where(path, mapping(kind), key)
            if not isinstance(value, list):
                raise ScanError(f"'{key}' under {kind} must list {several} names, like [A, B]", where=where,
                                fix=f"write {key}: [name, name]")
            names = tuple(name(v, _where(path, value, index=i)) for i, v in enumerate(value))
            if len(names) < 2:
                raise ScanError(f"{kind} '{key}' names {len(names)} {several} department(s); "
                                f"{'a merge joins' if kind == 'merged' else 'a split makes'} two or more",
                                where=where, fix=f"for one {one} name use 'renamed' (or nothing when the name "
                                                 "stayed the same)")
            result.append((name(key, where), names))
        return tuple(result)

    return WavesFile(path, resolved, _where(path, previous, "folder"), str(previous.get("wave") or ""),
                     str(previous.get("scan_id") or ""), renamed,
                     many("merged", "earlier", "earlier"), many("split", "new", "new"))


def link_departments(waves: WavesFile, later: list[Department] | tuple[Department, ...],
                     earlier: list[Department] | tuple[Department, ...],
                     earlier_label: str = "") -> tuple[tuple[DepartmentLink, ...], tuple[str, ...]]:
    """One link per department of the later wave to the earlier wave's departments (named in
    the later wave's terms), and the earlier departments that continue nowhere."""
    later_names = {d.name.casefold(): d.name for d in later}
    earlier_names = {d.name.casefold(): d.name for d in earlier}
    label = f"wave {earlier_label}" if earlier_label else "the previous wave"
    earlier_file = waves.folder / "departments.csv"
    later_file = waves.path.parent / "departments.csv"

    def old(n: _Named) -> str:
        found = earlier_names.get(n.name.casefold())
        if found is None:
            raise ScanError(f"'{n.name}' is not a department of {label} ({earlier_file})", where=n.where,
                            fix=f"use one of: {', '.join(d.name for d in earlier) or '(none listed)'}")
        return found

    def new(n: _Named) -> str:
        found = later_names.get(n.name.casefold())
        if found is None:
            raise ScanError(f"'{n.name}' is not a department of this wave ({later_file})", where=n.where,
                            fix=f"use one of: {', '.join(d.name for d in later) or '(none listed)'}; or add "
                                "it to departments.csv")
        return found

    mapped_old: dict[str, str] = {}  # earlier name -> the mapping it is in
    mapped_new: dict[str, str] = {}
    links: dict[str, DepartmentLink] = {}

    def claim(seen: dict[str, str], name: str, n: _Named, kind: str, side: str) -> None:
        if name in seen:
            raise ScanError(f"'{name}' ({side}) is named twice: in {seen[name]} and in {kind}", where=n.where,
                            fix="name each department once: a department that was both merged and split "
                                "cannot be compared; leave it out of one of them")
        seen[name] = kind

    for o, n in waves.renamed:
        before, after = old(o), new(n)
        claim(mapped_old, before, o, "renamed", f"wave {earlier_label or 'before'}")
        claim(mapped_new, after, n, "renamed", "this wave")
        links[after] = DepartmentLink(after, (before,), Continuity.same if before == after else Continuity.renamed)
    for n, olds in waves.merged:
        after = new(n)
        claim(mapped_new, after, n, "merged", "this wave")
        befores = []
        for o in olds:
            before = old(o)
            claim(mapped_old, before, o, "merged", f"wave {earlier_label or 'before'}")
            befores.append(before)
        links[after] = DepartmentLink(after, tuple(befores), Continuity.merged)
    for o, news in waves.split:
        before = old(o)
        claim(mapped_old, before, o, "split", f"wave {earlier_label or 'before'}")
        for n in news:
            after = new(n)
            claim(mapped_new, after, n, "split", "this wave")
            links[after] = DepartmentLink(after, (before,), Continuity.split)
    # unmentioned departments: by stable key first (a rename in departments.csv keeps the key),
    # then by name
    by_key = {d.key.casefold(): d.name for d in earlier if d.key and d.name not in mapped_old}
    taken = set(mapped_old)
    for d in later:
        if d.name in links or not d.key or d.key.casefold() not in by_key:
            continue
        before = by_key[d.key.casefold()]
        taken.add(before)
        links[d.name] = DepartmentLink(d.name, (before,),
                                       Continuity.same if before == d.name else Continuity.renamed)
    for d in later:
        if d.name in links:
            continue
        before = earlier_names.get(d.name.casefold())
        if before is not None and before not in taken:
            taken.add(before)
            links[d.name] = DepartmentLink(d.name, (before,), Continuity.same)
        else:
            links[d.name] = DepartmentLink(d.name, (), Continuity.new)
    gone = tuple(d.name for d in earlier if d.name not in taken)
    return tuple(links[d.name] for d in later), gone


# --------------------------------------------------------------------------- the chain


@dataclass(frozen=True)
class _Step:
    scan: Scan  # the earlier wave
    links: tuple[DepartmentLink, ...]  # departments of the wave after it, linked to it
    gone: tuple[str, ...]


def _chain(scan: Scan, missing: list[EarlierWaveMissing] | None = None) -> list[_Step]:
    """Every earlier wave, newest first, with the links of each step. `missing` given: a wave
    whose folder is gone ends the chain there (and is appended to it) instead of raising."""
    steps: list[_Step] = []
    seen = {scan.folder.resolve(): scan.folder}
    current = scan
    while (waves := read_waves_file(current.folder)) is not None:
        target = waves.folder.resolve()
        if target in seen:
            raise ScanError(f"the previous wave {waves.folder} is this wave or a later one ({seen[target]}): "
                            "the waves form a loop", where=waves.folder_where,
                            fix="point 'folder:' at the scan folder of the wave before this one")
        if not (waves.folder / SCAN_FILE).is_file():
            gone = "is gone" if not waves.folder.exists() else f"is not a scan folder (no {SCAN_FILE})"
            error = EarlierWaveMissing(f"the previous wave's folder {waves.folder} {gone}", where=waves.folder_where,
                                       fix="put the folder back, or point 'folder:' at where it is now "
                                           "(a path relative to this scan folder)",
                                       wave=waves.wave, folder=waves.folder)
            if missing is None:
                raise error
            missing.append(error)
            break
        earlier = load_scan(waves.folder)
        if waves.scan_id and earlier.scan_id != waves.scan_id:
            raise ScanError(f"{waves.folder} holds another scan (scan id {earlier.scan_id}) than the previous "
                            f"wave recorded here (scan id {waves.scan_id})", where=waves.folder_where,
                            fix="point 'folder:' at the right scan folder; if that scan was started anew on "
                                "purpose, set 'scan_id:' to its id")
        links, gone = link_departments(waves, current.departments, earlier.departments, earlier.wave)
        steps.append(_Step(earlier, links, gone))
        seen[target] = waves.folder
        current = earlier
    return steps


def earlier_waves(scan: Scan, missing: list[EarlierWaveMissing] | None = None) -> list[EarlierWave]:
    """The scan's earlier waves, oldest first, each with its departments linked to this wave's
    (names of THIS wave) and the questions whose trend can be shown. A scan without waves.yaml
    has none. Earlier scans are only read (a closed scan is fine). `missing` given: a wave whose
    folder is gone ends the chain (the waves after it are still returned) and is appended to it;
    else it raises `EarlierWaveMissing`. Every other problem of waves.yaml raises."""
    steps = _chain(scan, missing)
    result: list[EarlierWave] = []
    # per department of this wave: its names in the wave reached so far, and every kind of step
    state = {d.name: ((d.name,), set()) for d in scan.departments}
    for number, step in enumerate(steps, start=1):
        by_name = {link.department: link for link in step.links}
        composed: dict[str, tuple[tuple[str, ...], set[Continuity]]] = {}
        for department, (names, kinds) in state.items():
            reached: list[str] = []
            kinds = set(kinds)
            for name in names:
                link = by_name[name]
                kinds.add(link.continuity)
                reached += [e for e in link.earlier if e not in reached]
            order = [d.name for d in step.scan.departments]
            composed[department] = (tuple(sorted(reached, key=order.index)), kinds)
        state = composed
        links = []
        for d in scan.departments:
            names, kinds = state[d.name]
            if not names:
                continuity = Continuity.new
            elif kinds <= {Continuity.same, Continuity.renamed}:
                continuity = Continuity.same if names == (d.name,) else Continuity.renamed
            elif Continuity.merged in kinds or len(names) > 1:
                continuity = Continuity.merged
            else:
                continuity = Continuity.split
            links.append(DepartmentLink(d.name, names, continuity))
        reached_all = {n for names, _ in state.values() for n in names}
        # the same wording in every language both waves carry, translation files included
        compared = [c for c in compare_versions(step.scan.questionnaire, scan.questionnaire,
                                                _translated(step.scan), _translated(scan))
                    if c.change in (Change.same, Change.reworded)]
        result.append(EarlierWave(
            wave=step.scan.wave, folder=step.scan.folder, scan=step.scan, links=tuple(links),
            comparable=frozenset(c.key for c in compared if c.change is Change.same),
            changed=tuple(c.key for c in compared if c.change is Change.reworded),
            gone=tuple(d.name for d in step.scan.departments if d.name not in reached_all), steps=number))
    return list(reversed(result))


def _translated(scan: Scan) -> dict:
    """language -> the questionnaire with a translation file's texts (complete ones only)."""
    found = {}
    for lang in scan.translations:
        if lang not in scan.questionnaire.languages:
            try:
                found[lang] = scan.form_questionnaire(lang)
            except ValueError:  # an incomplete translation: no form was issued in it
                continue
    return found


def check_waves(folder: Path) -> list[Problem]:
    """What `survey validate DIR` and `survey status` say about the link to earlier waves:
    a folder that is gone is a warning (the scan itself works), anything else an error."""
    try:
        earlier_waves(load_scan(folder))
    except EarlierWaveMissing as exc:
        return [Problem(exc.what, exc.where or Location(file=folder / WAVES_FILE), exc.fix, severity="warning")]
    except ScanError as exc:
        return [Problem(exc.what, exc.where or Location(file=folder / WAVES_FILE), exc.fix)]
    return []


# --------------------------------------------------------------------------- the next wave


@dataclass(frozen=True)
class NextWave:
    """What `survey init NEW --previous OLD` did."""

    scan: Scan
    previous: Scan
    waves_file: Path
    changes: tuple[ItemChange, ...] = ()  # compare_versions(previous, new); empty when carried over
    carried: tuple[str, ...] = ()  # settings taken from the previous wave

    @property
    def new_questionnaire(self) -> bool:
        return bool(self.changes)

    @property
    def broken(self) -> tuple[ItemChange, ...]:
        return tuple(c for c in self.changes if c.trend_broken)


def start_next_wave(folder: Path, previous: Path, questionnaire: str | Path | None = None,
                    wave: str | None = None, organisation: str | None = None, language: str | None = None,
                    anonymity_threshold: int | None = None, handout: Handout | None = None,
                    force: bool = False) -> NextWave:
    """Start the wave after the scan in `previous`: its settings, frozen questionnaire (or
    `questionnaire`, compared with it) and departments (with their keys) are carried over, and
    DIR/waves.yaml links the two. Options given override what is carried over."""
    if folder.resolve() == previous.resolve():
        raise ScanError(f"the new wave's folder {folder} is the previous wave's folder",
                        fix="give the new wave a folder of its own, e.g. next to it")
    old = load_scan(previous)
    try:
        labels = [old.wave] + [e.wave for e in earlier_waves(old)]
    except ScanError as exc:
        raise ScanError(f"the earlier waves of {previous} cannot be followed: {exc.message}",
                        fix="repair that scan's waves.yaml first") from None
    label = str(wave or date.today().year)
    if label in labels:
        raise ScanError(f"wave '{label}' is already the label of an earlier wave ({', '.join(labels)})",
                        fix="give this wave its own label with --wave, e.g. --wave "
                            f"{label}-2 or the year it runs")
    given = handout or Handout()
    carried = [name for name, value in (("organisation", organisation), ("language", language),
                                        ("anonymity threshold", anonymity_threshold),
                                        ("return_to", given.return_to), ("contact", given.contact),
                                        ("questionnaire", questionnaire)) if not value] + ["departments"]
    settings = Handout(given.deadline, given.return_to or old.handout.return_to, given.contact or old.handout.contact)
    source = questionnaire if questionnaire is not None else Path(old.questionnaire.sources[-1])
    departments = [Department(d.name, d.expected_headcount, d.managers, d.key, d.language) for d in old.departments]
    scan = init_scan(folder, organisation or old.organisation, source, language or old.language, label,
                     anonymity_threshold or old.anonymity_threshold, departments, force=force, handout=settings)
    changes = tuple(compare_versions(old.questionnaire, scan.questionnaire)) if questionnaire is not None else ()
    path = write_waves_file(scan, old, changes)
    return NextWave(scan, old, path, changes, tuple(c for c in carried if c))


def _relative(target: Path, start: Path) -> str:
    try:
        return Path(os.path.relpath(target.resolve(), start.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return str(target.resolve())


def write_waves_file(scan: Scan, previous: Scan, changes: tuple[ItemChange, ...] = ()) -> Path:
    def dump(data) -> str:
        buffer = io.StringIO()
        _yaml().dump(data, buffer)
        return buffer.getvalue()

    previous_block = dump({"previous": {"folder": _relative(previous.folder, scan.folder),
                                        "wave": previous.wave, "scan_id": previous.scan_id}})
    text = (
        "# This scan is the next wave of an earlier scan (written by survey init --previous).\n"
        "# The folder is relative to this scan folder; if you move the earlier scan, change it.\n"
        "# The earlier scan is only read (it may be closed with survey close). The earlier scan's own\n"
        "# waves.yaml leads to the waves before it.\n"
        + previous_block +
        "\n# How the departments of the previous wave continue in this one (departments.csv).\n"
        "# A department with the same key (departments.csv column 'key') or the same name in both\n"
        "# waves is the same department; a new name with the same key is a rename. Write here only\n"
        "# what else changed, with the names as in the two departments.csv files:\n"
        "#   renamed:  {old name: new name}\n"
        "#   merged:   {new name: [old name, old name]}   (two or more became one)\n"
        "#   split:    {old name: [new name, new name]}   (one became two or more)\n"
        "# A department only in this wave is new; one of the previous wave that continues nowhere is\n"
        "# gone. Only departments that stayed themselves (same or renamed) show their own change;\n"
        "# merged and split ones count in the organisation's change.\n"
        "departments:\n  renamed: {}\n  merged: {}\n  split: {}\n")
    if changes:
        broken: dict[str, list[str]] = {c.value: [] for c in (Change.reworded, Change.added, Change.removed)}
        for c in changes:
            if c.trend_broken:
                broken[c.change.value].append(c.key)
        old_q, new_q = previous.questionnaire, scan.questionnaire
        text += (
            "\n# Written by survey init: this wave uses another questionnaire version than the previous\n"
            "# one. Questions whose wording, answers, pole or dimension changed (reworded), or that are\n"
            "# new (added) or left out (removed), have no trend (survey compare). For information: the\n"
            "# analysis compares the two frozen questionnaires itself.\n"
            + dump({"questionnaire": {
                "previous": f"{old_q.id} {old_q.version} ({old_q.content_hash[:12]})",
                "this": f"{new_q.id} {new_q.version} ({new_q.content_hash[:12]})",
                "comparable": sum(1 for c in changes if not c.trend_broken),
                "no_trend": broken}}))
    path = scan.folder / WAVES_FILE
    path.write_text(text, encoding="utf-8")
    return path
