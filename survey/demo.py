"""`survey demo`: the whole pipeline on the bundled sample organisation, in two waves.

The sample organisation (sample_data/organisation.yaml) describes departments with profiles,
and how they differed a wave earlier. Answers are drawn from those profiles with a fixed seed,
written into copies of the real forms as a respondent would (labels picked from the dropdowns),
and then go through the same collect, analyse and report steps as a real scan. The earlier
wave is built first in OUT/<its label>, then the later one in OUT/<its label> with `survey init
--previous` (a renamed department and one reworded question included).
"""

from __future__ import annotations

import io
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from openpyxl import load_workbook
from ruamel.yaml import YAML

from survey.analysis import analyse_scan, write_results_workbook
from survey.collect import collect
from survey.errors import ScanError
from survey.forms import form_words, META_KEYS, META_SHEET, FormSpec, write_forms
from survey.i18n import wording
from survey.questionnaire import model as m
from survey.quotes import approve_unflagged, write_review
from survey.report import ReportFiles, write_outputs
from survey.resources import sample_data_dir
from survey.scan import DEPARTMENTS_FILE, SCAN_FILE, Department, Scan, init_scan, load_scan, write_departments
from survey.xlsxpkg import Template, xml_text

StepCallback = Callable[[str, float], None]

# How much being braked (-1) or helped (+0.5) in a situation moves a demo respondent's marks
# (1-10) and lean towards staying (0-1).
FELT_HAPPINESS = {"workload_roster": 0.7, "progress_talk": 0.3}
FELT_STAY = {"career_step": 0.12, "training_request": 0.06}


@dataclass(frozen=True)
class DepartmentProfile:
    name: str
    headcount: int
    managers: int
    returned: float
    partnership: dict[str, float]
    werkgeluk: float
    stay: float
    brakes: tuple[str, ...]


@dataclass(frozen=True)
class SampleOrganisation:
    organisation: str
    questionnaire: str
    language: str
    wave: str
    seed: int
    anonymity_threshold: int
    departments: tuple[DepartmentProfile, ...]
    open_answers: dict[str, tuple[str, ...]]  # question id (or 'default') -> answers
    previous_wave: SampleOrganisation | None = None  # the same organisation a wave earlier
    renamed: dict[str, str] = field(default_factory=dict)  # name in the previous wave -> name in this one
    reworded: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)  # item -> text key -> texts


@dataclass
class DemoResult:
    scan: Scan  # the last wave
    html: Path
    pdf: Path
    workbook: Path
    steps: list[tuple[str, float]] = field(default_factory=list)
    waves: tuple[Path, ...] = ()  # every wave's folder, oldest first
    files: ReportFiles | None = None  # everything the last wave's report step wrote


def load_sample(language: str | None = None) -> SampleOrganisation:
    folder = sample_data_dir()
    yaml = YAML(typ="safe")
    data = yaml.load((folder / "organisation.yaml").read_text(encoding="utf-8"))
    answers = yaml.load((folder / "open_answers.yaml").read_text(encoding="utf-8"))
    lang = language or data["language"]
    departments = tuple(_profile(d) for d in data["departments"])
    open_answers = {key: tuple(values) for key, values in answers[lang].items()}
    earlier = data.get("previous_wave")
    previous, renamed = None, {}
    if earlier:
        changed = earlier.get("departments") or {}
        before = []
        for d in data["departments"]:  # the later wave's profiles with what differed then
            then = {**d, **{k: v for k, v in (changed.get(d["name"]) or {}).items() if k != "profile"}}
            then["profile"] = {**d["profile"], **((changed.get(d["name"]) or {}).get("profile") or {})}
            if then["name"] != d["name"]:
                renamed[then["name"]] = d["name"]
            before.append(_profile(then))
        previous = SampleOrganisation(data["organisation"], data["questionnaire"], lang, str(earlier["wave"]),
                                      int(earlier["seed"]), int(data["anonymity_threshold"]), tuple(before),
                                      open_answers)
    return SampleOrganisation(data["organisation"], data["questionnaire"], lang, str(data["wave"]),
                              int(data["seed"]), int(data["anonymity_threshold"]), departments, open_answers,
                              previous, renamed, dict(data.get("reworded") or {}))


def _profile(d: dict) -> DepartmentProfile:
    return DepartmentProfile(
        name=d["name"], headcount=int(d["headcount"]), managers=int(d["managers"]), returned=float(d["returned"]),
        partnership={k: float(v) for k, v in d["profile"].items() if k not in ("werkgeluk", "stay")},
        werkgeluk=float(d["profile"]["werkgeluk"]), stay=float(d["profile"]["stay"]),
        brakes=tuple(d.get("brakes") or ()))


class Respondent:
    """Draws one respondent's answers (as codes and numbers) from a department profile."""

    def __init__(self, rng: np.random.Generator, profile: DepartmentProfile, role: str,
                 open_answers: dict[str, tuple[str, ...]]):
        self.rng = rng
        self.profile = profile
        self.open_answers = open_answers
        lift = 0.15 if role == "manager" else 0.0  # managers see their department rosier: a finding
        self.lean = {k: float(np.clip(v + lift + rng.normal(0, 0.13), 0.02, 0.98))
                     for k, v in profile.partnership.items()}
        self.general = float(np.mean(list(self.lean.values())))
        self.happiness = float(np.clip(rng.normal(profile.werkgeluk + 1.2 * (self.general - 0.5), 1.0), 1, 10))
        self.stay = float(np.clip(profile.stay + 0.25 * (self.happiness - 7) / 3 + rng.normal(0, 0.15), 0, 1))

    def ordinal(self, scale: m.Scale, lean: float) -> int:
        codes = sorted(int(o.code) for o in scale.options)
        low, high = codes[0], codes[-1]
        value = low + lean * (high - low) + self.rng.normal(0, 0.75)
        return int(np.clip(round(value), low, high))

    def answers(self, q: m.Questionnaire) -> dict[str, object]:
        rng = self.rng
        values: dict[str, object] = {}
        for f in q.answer_fields():
            if f.key == "role":
                continue
            item = q.item(f.item_id) if f.item_id not in {b.id for b in q.background} else None
            scale = q.scales[f.scale] if f.scale else None
            if scale is not None and scale.not_applicable and f.kind is not m.FieldKind.check \
                    and rng.random() < 0.02:
                values[f.key] = None  # 'does not apply'
                continue
            if isinstance(item, m.StatementItem):
                lean = self.lean.get(item.dimension, self.stay) if item.dimension else self.stay
                if f.aspect == "desired":
                    lean = min(0.97, lean + 0.3)
                if item.pole == m.Pole.traditional:
                    lean = 1 - lean
                values[f.key] = self.ordinal(scale, lean)  # type: ignore[arg-type]
            elif isinstance(item, m.ScoreItem):
                shift = 1.0 if f.aspect == "desired" else 0.0
                values[f.key] = int(np.clip(round(self.happiness + shift + rng.normal(0, 0.8)),
                                            scale.min, scale.max))  # type: ignore[union-attr]
            elif isinstance(item, m.SituationGrid):
                values[f.key] = self.situation(f)
            elif f.kind is m.FieldKind.check:
                if rng.random() < 0.3:
                    values[f.key] = True
            elif f.kind is m.FieldKind.open:
                if rng.random() < 0.45:
                    pool = self.open_answers.get(f.item_id) or self.open_answers["default"]
                    values[f.key] = pool[int(rng.integers(len(pool)))]
            elif scale is not None and scale.kind is m.ScaleKind.ordinal:
                values[f.key] = self.ordinal(scale, self.general)
            elif scale is not None and scale.options:
                values[f.key] = scale.options[int(rng.integers(len(scale.options)))].code
        return values

    def situation(self, f: m.AnswerField) -> str:
        lean = self.general
        braking = f.situation in self.profile.brakes
        if f.aspect == "initiative":
            weights = np.array([0.5 * lean, 0.35 * lean + 0.1, 0.6 * (1 - lean), 0.35 * (1 - lean)
                                + (0.3 if braking else 0)])
            return m.INITIATIVE_CODES[int(self.rng.choice(4, p=weights / weights.sum()))]
        weights = np.array([0.15 + 0.6 * lean, 0.35, 0.1 + 0.35 * (1 - lean) + (0.6 if braking else 0)])
        code = m.PACE_EFFECT_CODES[int(self.rng.choice(3, p=weights / weights.sum()))]
        # What people go through weighs on how they feel and whether they stay (the marks and
        # the stay statements come after the pace map on the form): so the demo report's
        # driver analysis has something to find
        sign = {"speeds_up": 0.5, "no_effect": 0.0, "brakes": -1.0}[code]
        self.happiness = float(np.clip(self.happiness + sign * FELT_HAPPINESS.get(str(f.situation), 0.0), 1, 10))
        self.stay = float(np.clip(self.stay + sign * FELT_STAY.get(str(f.situation), 0.0), 0, 1))
        return code


def fill_form(scan: Scan, form: Path, answers: dict[str, object], out: Path) -> None:
    """Fill a copy of a form the way a respondent does: pick labels, type marks and text."""
    workbook = load_workbook(form)
    meta = workbook[META_SHEET]
    lang = str(meta.cell(row=META_KEYS.index("language") + 1, column=2).value)
    q = scan.form_questionnaire(lang)  # a form in a translated language shows the translated labels
    manager = meta.cell(row=META_KEYS.index("role") + 1, column=2).value == "manager"
    cells = {str(row[0]): str(row[1]) for row in meta.iter_rows(min_row=len(META_KEYS) + 2, values_only=True)
             if row[0]}
    sheet = workbook[workbook.sheetnames[0]]
    fields = {f.key: f for f in q.answer_fields()}
    for key, value in answers.items():
        if key not in cells:
            continue
        f = fields[key]
        scale = q.scales[f.scale] if f.scale else None
        if value is None and scale is not None and scale.not_applicable:
            written: object = scale.not_applicable[lang]
        elif value == m.DECLINED and scale is not None and scale.decline:
            written = scale.decline[lang]  # 'I'd rather not say'
        elif f.kind is m.FieldKind.check:
            written = form_words(scan, lang)["tick_yes"]
        elif f.kind in (m.FieldKind.open, m.FieldKind.score):
            written = value
        else:
            written = scale.label(value, lang, manager)  # type: ignore[union-attr,arg-type]
        sheet[cells[key]] = written
    workbook.save(out)


class PackageFiller:
    """Fills forms the fast way, at the level of the xlsx package: the answer cells of the
    form sheet get values, nothing else changes (what `fill_form` does through openpyxl in
    tens of milliseconds, in about one). The answers are the same labels and marks."""

    def __init__(self, scan: Scan):
        self.scan = scan
        self.fields = {f.key: f for f in scan.questionnaire.answer_fields()}
        self.layouts: dict[tuple[str, str], tuple[dict[str, str], str, bool]] = {}

    def _layout(self, form: Path, key: tuple[str, str]) -> tuple[dict[str, str], str, bool]:
        if key not in self.layouts:
            workbook = load_workbook(form)
            meta = {str(r[0]): r[1] for r in workbook[META_SHEET].iter_rows(values_only=True) if r[0]}
            cells = {str(k): str(v) for k, v in list(meta.items())[len(META_KEYS) + 1:]}
            self.layouts[key] = (cells, str(meta["language"]), meta["role"] == "manager")
        return self.layouts[key]

    def fill(self, form: Path, department: str, role: str, answers: dict[str, object], out: Path) -> None:
        cells, lang, manager = self._layout(form, (department, role))
        q = self.scan.questionnaire
        written: dict[str, object] = {}
        for key, value in answers.items():
            if key not in cells:
                continue
            f = self.fields[key]
            scale = q.scales[f.scale] if f.scale else None
            if value is None and scale is not None and scale.not_applicable:
                written[cells[key]] = scale.not_applicable[lang]
            elif f.kind is m.FieldKind.check:
                written[cells[key]] = wording(lang)["tick_yes"]
            elif f.kind in (m.FieldKind.open, m.FieldKind.score):
                written[cells[key]] = value
            else:
                written[cells[key]] = scale.label(value, lang, manager)  # type: ignore[union-attr,arg-type]
        template = Template(form.read_bytes())
        sheet = template.members_containing(f"={next(iter(cells))}".encode())[0]  # the tagged form sheet
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ").encode()

        def put(xml: bytes) -> bytes:
            def cell(match: re.Match) -> bytes:
                ref = match.group(1).decode()
                value = written[ref]
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    return b'<c r="%s"%s><v>%s</v></c>' % (match.group(1), match.group(2) or b"", str(value).encode())
                return b'<c r="%s"%s t="inlineStr"><is><t xml:space="preserve">%s</t></is></c>' % (
                    match.group(1), match.group(2) or b"", xml_text(str(value)))
            pattern = re.compile(rb'<c r="(' + b"|".join(re.escape(c.encode()) for c in written) +
                                 rb')"( s="\d+")?(?: t="\w+")?\s*(?:/>|></c>)')  # empty either way
            return pattern.sub(cell, xml) if written else xml

        def modified(xml: bytes) -> bytes:
            return re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + now, xml)

        out.write_bytes(template.personalise({sheet: put, "docProps/core.xml": modified}))


def run_demo(out: Path, on_step: StepCallback | None = None, progress=None,
             language: str | None = None) -> DemoResult:
    """Build the sample organisation's scans in `out` (made anew): the previous wave in
    OUT/<label>, then this wave, linked to it, in OUT/<label>; every step of each."""
    sample = load_sample(language)
    waves = [w for w in (sample.previous_wave, sample) if w is not None]
    _clear(out, [w.wave for w in waves])
    steps: list[tuple[str, float]] = []

    def step(name: str, started: float) -> None:
        seconds = time.perf_counter() - started
        steps.append((name, seconds))
        if on_step:
            on_step(name, seconds)

    results: list[DemoResult] = []
    if sample.previous_wave is not None:
        started = time.perf_counter()
        first = init_scan(out / sample.previous_wave.wave, sample.organisation, sample.questionnaire,
                          sample.language, sample.previous_wave.wave, sample.anonymity_threshold,
                          [Department(d.name, d.headcount, d.managers) for d in sample.previous_wave.departments])
        step(f"{first.wave}: init scan folder", started)
        # the earlier wave's report is read on screen: its PDF would only cost time here
        results.append(_pipeline(first, sample.previous_wave, step, progress, pdf=False))
        started = time.perf_counter()
        scan = _next_wave(out, first, sample)
        step(f"{scan.wave}: init --previous {first.wave}", started)
    else:
        started = time.perf_counter()
        scan = init_scan(out / sample.wave, sample.organisation, sample.questionnaire, sample.language,
                         sample.wave, sample.anonymity_threshold,
                         [Department(d.name, d.headcount, d.managers) for d in sample.departments])
        step(f"{scan.wave}: init scan folder", started)
    last = _pipeline(scan, sample, step, progress, pdf=True)
    return DemoResult(last.scan, last.html, last.pdf, last.workbook, steps,
                      tuple(r.scan.folder for r in results) + (last.scan.folder,), last.files)


def _clear(out: Path, labels: list[str]) -> None:
    """The demo makes `out` anew, but never removes what it did not write."""
    if not out.exists():
        return
    ours = set(labels) | {REWORDED_FILE}
    names = {p.name for p in out.iterdir()}
    is_demo = (out / SCAN_FILE).is_file() or (
        names <= ours and any((out / label / SCAN_FILE).is_file() for label in labels))
    if not is_demo:
        raise ScanError(f"{out} exists and is not a demo folder",
                        fix="pass --out with a new folder name; the demo never overwrites other files")
    shutil.rmtree(out)


REWORDED_FILE = "organisatiescan-reworded.yaml"


def _next_wave(out: Path, first: Scan, sample: SampleOrganisation) -> Scan:
    """`survey init OUT/<label> --previous OUT/<earlier label>`, as a consultant does it: with the
    reworded questionnaire, then departments.csv updated by HR (this wave's headcounts; a renamed
    department keeps its key)."""
    from survey.waves import start_next_wave

    questionnaire = None
    if sample.reworded:
        content = first.questionnaire.content()
        for section in content["sections"]:
            for item in section["items"]:
                for key, texts in sample.reworded.get(item["id"], {}).items():
                    item[key] = dict(texts)
        content["version"] = f"{content['version']}-{sample.wave}"
        questionnaire = out / REWORDED_FILE
        buffer = io.StringIO()
        YAML().dump(content, buffer)
        questionnaire.write_text(f"# The questionnaire of wave {sample.wave}: {', '.join(sample.reworded)} "
                                 "reworded (sample_data/organisation.yaml).\n" + buffer.getvalue(), encoding="utf-8")
    scan = start_next_wave(out / sample.wave, first.folder, questionnaire, sample.wave).scan
    profiles = {d.name: d for d in sample.departments}
    updated = []
    for d in scan.departments:
        name = sample.renamed.get(d.name, d.name)
        p = profiles[name]
        updated.append(Department(name, p.headcount, p.managers, d.key, d.language))
    updated += [Department(p.name, p.headcount, p.managers) for p in sample.departments
                if p.name not in {d.name for d in updated}]
    from survey.scan import with_keys

    write_departments(scan.folder / DEPARTMENTS_FILE, with_keys(updated))
    return load_scan(scan.folder)


def _pipeline(scan: Scan, sample: SampleOrganisation, step, progress, pdf: bool) -> DemoResult:
    """Forms, returned forms, collect, analyse, quotes review, workbook and report of one wave."""
    def bar(label: str):
        return progress(label) if progress else None

    label = scan.wave
    started = time.perf_counter()
    forms = write_forms(scan, progress=bar("Writing forms"))
    step(f"{label}: write {len(forms.forms)} forms", started)

    started = time.perf_counter()
    returned = _fill_returned(scan, sample, forms.forms, bar("Filling forms"))
    step(f"{label}: fill {returned} returned forms", started)

    started = time.perf_counter()
    collected = collect(scan, progress=bar("Reading forms"))
    step(f"{label}: collect ({collected.count('accepted')} accepted)", started)

    started = time.perf_counter()
    results = analyse_scan(scan)
    step(f"{label}: analyse", started)

    started = time.perf_counter()
    # the consultant's review of open answers, as the demo's consultant leaves it: texts flagged
    # as possibly identifying left out, the rest approved (in a real scan: read every text)
    review, _, _ = write_review(scan, results)
    approve_unflagged(review)
    step(f"{label}: quotes review (quotes.xlsx)", started)

    started = time.perf_counter()
    # after the review: the workbook's open answers are the approved ones
    workbook = write_results_workbook(results, scan.output_dir / "results.xlsx")
    step(f"{label}: results workbook", started)

    started = time.perf_counter()
    # the earlier wave (no PDF) gets its report only; the last one also what the team
    # dialogue needs (team sheets, slides, chart files)
    files = write_outputs(scan, results=results, pdf=pdf, dialogue=pdf)
    step(f"{label}: report (HTML{' and PDF' if pdf else ''}){', team sheets, slides, charts' if pdf else ''}", started)
    return DemoResult(scan, files.html, files.pdf or scan.output_dir / "report.pdf", workbook, files=files)


def _fill_returned(scan: Scan, sample: SampleOrganisation, forms: list[FormSpec], progress) -> int:
    """Draw every respondent's answers in order (same seed, same numbers), then fill the
    forms on all cores."""
    rng = np.random.default_rng(sample.seed)
    profiles = {d.name: d for d in sample.departments}
    chosen = [spec for spec in forms if rng.random() < profiles[spec.meta.department].returned]
    filler = PackageFiller(scan)
    chosen_iter = iter(chosen)
    for spec in progress(chosen_iter) if progress else chosen_iter:
        answers = Respondent(rng, profiles[spec.meta.department], spec.meta.role, sample.open_answers) \
            .answers(scan.questionnaire)
        filler.fill(spec.path, spec.meta.department, spec.meta.role, answers, scan.inbox / spec.path.name)
    return len(chosen)
