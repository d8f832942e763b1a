"""Read questionnaire YAML, validate it, and resolve includes into one `Questionnaire`.

Parse (ruamel, which keeps line numbers) -> validate the shape (pydantic) -> check the
meaning (references, translations, poles) -> merge includes. Every finding carries the
file, line and column; errors stop the load, warnings are collected and returned.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from survey.errors import Location, Problem, QuestionnaireError
from survey.questionnaire import model as m
from survey.questionnaire import plain
from survey.questionnaire.plain import LanguageSummary
from survey.resources import questionnaires_dir

MAX_FILE_BYTES = 2_000_000
MAX_NODES = 200_000
LANGUAGE_NAMES = {"nl": "Dutch", "en": "English", "de": "German", "fr": "French"}
TEXT_KEYS = {"title", "introduction", "text", "manager_text", "intro", "manager_intro", "name", "description",
             "label", "manager_label", "not_applicable", "decline", "help"}


def _all_field_names() -> list[str]:
    names: set[str] = set()
    for obj in vars(m).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            names.update(obj.model_fields)
    return sorted(names)


KNOWN_KEYS = _all_field_names()


def did_you_mean(word: object, choices: list[str] | set[str] | tuple[str, ...]) -> str | None:
    matches = difflib.get_close_matches(str(word), sorted(map(str, choices)), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


def _one_of(choices: list[str] | tuple[str, ...]) -> str:
    return "use one of: " + ", ".join(map(str, choices))


# --------------------------------------------------------------------------- YAML reading

@dataclass
class SourceFile:
    """A parsed YAML file with the line and column of every node."""

    path: Path
    root: Any  # ruamel CommentedMap
    data: dict

    def where(self, path: tuple) -> Location:
        line, column = _locate(self.root, path)
        return Location(file=self.path, line=line, column=column)


def read_yaml(path: Path) -> SourceFile:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise QuestionnaireError([Problem("file not found", Location(file=path),
                                          "check the path, or run 'survey questionnaires' for the bundled ones")])
    except OSError as exc:
        raise QuestionnaireError([Problem(f"cannot read the file ({exc.strerror})", Location(file=path))])
    if len(raw) > MAX_FILE_BYTES:
        raise QuestionnaireError([Problem(f"the file is {len(raw) // 1000} kB, more than a questionnaire can be",
                                          Location(file=path), "check that this is the right file")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QuestionnaireError([Problem(f"the file is not UTF-8 text (byte {exc.start})", Location(file=path),
                                          "save it as UTF-8 in your editor")])
    yaml = YAML(typ="rt")
    try:
        root = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = str(exc.problem or exc.context)
        what = f"YAML syntax error: {problem}"
        where = Location(file=path, line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None)
        if "duplicate key" in problem:
            fix = "a key may appear only once in the same block: remove or rename one of them"
        elif "\\t" in problem or "\t" in problem:
            fix = "indent with spaces, not tabs"
        else:
            fix = "check indentation, colons and quotes on this line and the one above"
        raise QuestionnaireError([Problem(what, where, fix)])
    except YAMLError as exc:
        raise QuestionnaireError([Problem(f"YAML error: {exc}", Location(file=path))])
    if root is None:
        raise QuestionnaireError([Problem("the file is empty", Location(file=path),
                                          "start from a bundled questionnaire: survey init writes one")])
    if not isinstance(root, dict):
        kind = "a list" if isinstance(root, list) else f"a single value ({type(root).__name__})"
        raise QuestionnaireError([Problem(f"the file holds {kind}, not a questionnaire",
                                          Location(file=path, line=1, column=1),
                                          "a questionnaire is a mapping that starts with 'id:', 'version:', ...")])
    counter = [0]
    data = _plain(root, counter, path)
    return SourceFile(path=path, root=root, data=data)


def _plain(node: Any, counter: list[int], path: Path) -> Any:
    """Copy ruamel nodes into plain Python, refusing absurd trees (alias bombs)."""
    counter[0] += 1
    if counter[0] > MAX_NODES:
        raise QuestionnaireError([Problem("the file has too many entries (are YAML aliases nested?)",
                                          Location(file=path), "write the questionnaire without '&' and '*'")])
    if isinstance(node, dict):
        return {_scalar(k): _plain(v, counter, path) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v, counter, path) for v in node]
    return _scalar(node)


def _scalar(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def _locate(root: Any, path: tuple) -> tuple[int, int]:
    """1-based line and column of the deepest node of `path` that exists."""
    node = root
    line, column = (root.lc.line, root.lc.col) if hasattr(root, "lc") else (0, 0)
    for part in path:
        if part == "[key]":
            break
        if isinstance(node, dict):
            if part in node:
                try:
                    line, column = node.lc.key(part)
                    child = node[part]
                    if not isinstance(child, (dict, list)):
                        line, column = node.lc.value(part)
                except (AttributeError, KeyError, TypeError):
                    child = node[part]
                node = child
                continue
            if isinstance(part, str) and node.get("type") == part:
                continue  # the discriminator tag pydantic puts in error paths
            if isinstance(part, str) and part.startswith("function-"):
                continue
            break
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            try:
                line, column = node.lc.item(part)
            except (AttributeError, KeyError, TypeError):
                pass
            node = node[part]
            continue
        break
    return line + 1, column + 1


# --------------------------------------------------------------------------- shape (pydantic)

def _field_name(loc: tuple) -> str:
    for part in reversed(loc):
        if isinstance(part, str) and part != "[key]" and part not in (
                "statement", "score", "single_choice", "multiple_choice", "open", "situation_grid"):
            return part
    return "entry"


def _shape_problems(exc: ValidationError, source: SourceFile) -> list[Problem]:
    problems: list[Problem] = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        kind = error["type"]
        ctx = error.get("ctx") or {}
        name = _field_name(loc)
        value = error.get("input")
        fix: str | None = None
        where = source.where(loc)
        if kind == "missing":
            what = f"'{name}' is missing"
            fix = f"add '{name}:' here"
        elif kind == "extra_forbidden":
            what = f"unknown key '{name}'"
            fix = did_you_mean(name, KNOWN_KEYS) or "remove it, or see docs/questionnaire-format.md"
        elif kind == "union_tag_invalid":
            tag = ctx.get("tag")
            expected = ctx.get("expected_tags", "")
            what = f"unknown item type '{tag}'"
            hint = did_you_mean(tag, [t.strip(" '") for t in str(expected).split(",")])
            fix = hint or f"use one of: {expected}"
            where = source.where(loc + ("type",))
        elif kind == "union_tag_not_found":
            what = "this item has no 'type'"
            fix = "add 'type: statement' (or score, single_choice, multiple_choice, open, situation_grid)"
        elif kind in ("literal_error", "enum"):
            expected = str(ctx.get("expected", ""))
            what = f"'{value}' is not allowed for '{name}'"
            options = [e.strip(" '") for e in expected.replace(" or ", ",").split(",") if e.strip(" '")]
            fix = did_you_mean(value, options) or f"use one of: {', '.join(options)}"
        elif kind == "string_pattern_mismatch":
            if "[a-z]{2}" in str(ctx.get("pattern", "")):
                what = f"'{value}' is not a language code"
                fix = "use a two-letter code such as nl or en"
            else:
                what = f"'{value}' is not a valid id"
                fix = "use lower-case letters, digits and _, starting with a letter (e.g. kar_01)"
        elif kind == "too_short":
            what = f"'{name}' is empty"
            fix = "add at least one entry"
        elif kind == "dict_type" and name in TEXT_KEYS | {"anchors"}:
            what = f"'{name}' needs a text per language, not a single text"
            fix = f"write it as {name}: {{nl: ..., en: ...}}"
        elif kind in ("bool_type", "bool_parsing"):
            what = f"'{name}' must be true or false (found {value!r})"
        elif kind == "value_error":
            what = str(error["msg"]).removeprefix("Value error, ")
        else:
            what = f"'{name}': {error['msg'].lower()} (found {value!r})" if not isinstance(
                value, (dict, list)) else f"'{name}': {error['msg'].lower()}"
        problems.append(Problem(what, where, fix))
    return problems


def parse_file(path: Path) -> tuple[m.QuestionnaireFile, SourceFile]:
    source = read_yaml(path)
    try:
        qfile = m.QuestionnaireFile.model_validate(source.data)
    except ValidationError as exc:
        raise QuestionnaireError(_shape_problems(exc, source), path)
    return qfile, source


# --------------------------------------------------------------------------- finding files

def bundled_paths() -> list[Path]:
    from survey.questionnaire.translation import is_translation_file

    return sorted(p for p in questionnaires_dir().glob("*.yaml") if not is_translation_file(p))


def find_questionnaire(name_or_path: str | Path, *, relative_to: Path | None = None) -> Path:
    """A path as given, a file beside `relative_to`, or a bundled questionnaire by id."""
    candidate = Path(name_or_path)
    if relative_to is None and candidate.is_file():
        return candidate
    if relative_to is not None:
        for suffix in ("", ".yaml", ".yml"):
            near = relative_to / f"{name_or_path}{suffix}"
            if near.is_file():
                return near
    if candidate.is_file():
        return candidate
    bundled = questionnaires_dir() / f"{name_or_path}.yaml"
    if bundled.is_file():
        return bundled
    names = [p.stem for p in bundled_paths()]
    hint = did_you_mean(name_or_path, names)
    raise QuestionnaireError([Problem(
        f"no questionnaire '{name_or_path}' (not a file, not a bundled one)", Location(file=relative_to),
        (hint + " " if hint else "") + "bundled: " + ", ".join(names))])


# --------------------------------------------------------------------------- meaning and merge

@dataclass
class LoadResult:
    questionnaire: m.Questionnaire
    warnings: list[Problem] = field(default_factory=list)


@dataclass
class _Part:
    qfile: m.QuestionnaireFile
    source: SourceFile


def _collect_parts(path: Path, stack: tuple[Path, ...], parts: list[_Part], problems: list[Problem],
                   include_where: Location | None = None) -> None:
    resolved = path.resolve()
    if resolved in stack:
        chain = " -> ".join(p.name for p in stack + (resolved,))
        problems.append(Problem(f"questionnaires include each other in a circle ({chain})",
                                include_where or Location(file=path), "remove one of the includes"))
        return
    if any(p.source.path.resolve() == resolved for p in parts):
        return  # included twice through different routes: take it once
    qfile, source = parse_file(path)
    for index, name in enumerate(qfile.include):
        where = source.where(("include", index))
        try:
            child = find_questionnaire(name, relative_to=path.parent)
        except QuestionnaireError as exc:
            problems.extend(Problem(p.what, where, p.fix) for p in exc.problems)
            continue
        _collect_parts(child, stack + (resolved,), parts, problems, where)
    parts.append(_Part(qfile, source))


def load_questionnaire(name_or_path: str | Path) -> LoadResult:
    """Load, validate and resolve a questionnaire; raise `QuestionnaireError` on any error."""
    path = find_questionnaire(name_or_path)
    parts: list[_Part] = []
    problems: list[Problem] = []
    _collect_parts(path, (), parts, problems)
    if problems:
        raise QuestionnaireError(problems, path)
    checker = _Checker(parts)
    questionnaire = checker.run()
    errors = [p for p in checker.problems if p.severity == "error"]
    if errors:
        raise QuestionnaireError(errors + [p for p in checker.problems if p.severity != "error"], path)
    assert questionnaire is not None
    return LoadResult(questionnaire, [p for p in checker.problems if p.severity != "error"])


class _Checker:
    """Checks what the shape cannot: references, translations, keys, duplicates."""

    def __init__(self, parts: list[_Part]):
        self.parts = parts
        self.top = parts[-1]
        self.problems: list[Problem] = []

    def error(self, part: _Part, path: tuple, what: str, fix: str | None = None) -> None:
        self.problems.append(Problem(what, part.source.where(path), fix))

    def warn(self, part: _Part, path: tuple, what: str, fix: str | None = None) -> None:
        self.problems.append(Problem(what, part.source.where(path), fix, severity="warning"))

    def run(self) -> m.Questionnaire | None:
        languages = self.top.qfile.languages
        for part in self.parts:
            self._check_translations(part, part.source.data, (), part.qfile.languages)
            if part is not self.top:
                missing = [lang for lang in languages if lang not in part.qfile.languages]
                if missing:
                    self.error(self.top, ("include",), f"'{part.qfile.id}' is not available in "
                               f"{', '.join(missing)}", "add those languages to it, or drop them here")
        scales = self._merge_named("scales", "scale")
        dimensions = self._merge_named("dimensions", "dimension")
        for part in self.parts:
            for name, scale in part.qfile.scales.items():
                self._check_scale(part, name, scale)
        self._check_items(scales, dimensions)
        background = self._merge_listed("background", "background question")
        derived = self._merge_listed("derived", "derived score")
        self._check_background(background, scales)
        self._check_derived(derived, scales, dimensions)
        self._check_unused(scales, dimensions)
        if any(p.severity == "error" for p in self.problems):
            return None
        top = self.top.qfile
        return m.Questionnaire(
            id=top.id, version=top.version, languages=top.languages, title=top.title,
            introduction=top.introduction, include=top.include,
            scales={name: scale for name, (scale, _) in scales.items()},
            dimensions={name: dim for name, (dim, _) in dimensions.items()},
            sections=[s for part in self.parts for s in part.qfile.sections],
            background=[b for b, _, _ in background], derived=[d for d, _, _ in derived],
            sources=[str(p.source.path) for p in self.parts],
        )

    # -- translations
    def _check_translations(self, part: _Part, node: Any, path: tuple, languages: list[str]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in TEXT_KEYS and isinstance(value, dict):
                    self._check_text(part, value, path + (key,), languages)
                elif key == "anchors" and isinstance(value, dict):
                    for anchor, text in value.items():
                        if isinstance(text, dict):
                            self._check_text(part, text, path + (key, anchor), languages)
                else:
                    self._check_translations(part, value, path + (key,), languages)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                self._check_translations(part, value, path + (index,), languages)

    def _check_text(self, part: _Part, text: dict, path: tuple, languages: list[str]) -> None:
        for lang in languages:
            value = text.get(lang)
            if value is None or (isinstance(value, str) and not value.strip()):
                name = LANGUAGE_NAMES.get(lang, lang)
                self.error(part, path, f"missing the {name} text ('{lang}') of '{path[-1]}'",
                           f"add '{lang}: ...' under '{path[-1]}'")
        for lang in text:
            if lang not in languages:
                self.warn(part, path + (lang,), f"text in '{lang}', which is not one of this "
                          f"questionnaire's languages ({', '.join(languages)})",
                          did_you_mean(lang, languages) or f"add '{lang}' to 'languages' or remove the text")

    # -- named and listed definitions across includes
    def _merge_named(self, key: str, noun: str) -> dict[str, tuple[Any, _Part]]:
        merged: dict[str, tuple[Any, _Part]] = {}
        for part in self.parts:
            for name, definition in getattr(part.qfile, key).items():
                if name in merged and merged[name][0] != definition:
                    first = merged[name][1]
                    self.error(part, (key, name), f"{noun} '{name}' is defined differently in "
                               f"{first.source.path.name} and {part.source.path.name}",
                               "give one of them another name, or make them the same")
                merged.setdefault(name, (definition, part))
        return merged

    def _merge_listed(self, key: str, noun: str) -> list[tuple[Any, _Part, int]]:
        merged: dict[str, tuple[Any, _Part, int]] = {}
        for part in self.parts:
            for index, definition in enumerate(getattr(part.qfile, key)):
                if definition.id in merged:
                    if merged[definition.id][0] != definition:
                        self.error(part, (key, index, "id"), f"{noun} '{definition.id}' is defined twice, "
                                   "differently", "give one of them another id")
                    continue
                merged[definition.id] = (definition, part, index)
        return list(merged.values())

    # -- scales
    def _check_scale(self, part: _Part, name: str, scale: m.Scale) -> None:
        path = ("scales", name)
        if scale.kind in (m.ScaleKind.ordinal, m.ScaleKind.nominal):
            if not scale.options:
                self.error(part, path, f"scale '{name}' has no labels",
                           "add 'options:' with a code and a label per answer")
                return
            codes = [o.code for o in scale.options]
            for index, code in enumerate(codes):
                if codes.index(code) != index:
                    self.error(part, path + ("options", index, "code"),
                               f"scale '{name}' uses code '{code}' twice", "give every option its own code")
            self._check_labels_distinct(part, path, name, scale)
            if scale.kind is m.ScaleKind.ordinal and not all(isinstance(c, int) for c in codes):
                self.error(part, path + ("options",), f"ordinal scale '{name}' needs numbers as codes",
                           "number the options from low to high, e.g. 1 to 5")
            if scale.min is not None or scale.max is not None or scale.anchors:
                self.error(part, path, f"'min', 'max' and 'anchors' belong to score scales, not to "
                           f"'{name}' ({scale.kind.value})", "remove them, or set 'kind: score'")
        else:
            if scale.min is None or scale.max is None:
                self.error(part, path, f"score scale '{name}' needs 'min' and 'max'", "add e.g. 'min: 1' and 'max: 10'")
                return
            if scale.min >= scale.max:
                self.error(part, path + ("min",), f"score scale '{name}': min ({scale.min}) is not below "
                           f"max ({scale.max})", "swap them")
            if not scale.anchors:
                self.error(part, path, f"scale '{name}' has no labels",
                           f"add 'anchors:' with labels for at least {scale.min} and {scale.max}")
            for anchor in scale.anchors:
                if not scale.min <= anchor <= scale.max:
                    self.error(part, path + ("anchors", anchor), f"anchor {anchor} is outside "
                               f"{scale.min}-{scale.max}", "label a value inside the range")
            if scale.options:
                self.error(part, path + ("options",), f"score scale '{name}' takes 'anchors', not 'options'",
                           "use 'kind: ordinal' for labelled points")

    def _check_labels_distinct(self, part: _Part, path: tuple, name: str, scale: m.Scale) -> None:
        """Returned forms are read by label: one text may stand for one answer only."""
        meaning: dict[str, object] = {}
        for index, option in enumerate(scale.options):
            texts = [str(option.code), *option.label.values(), *(option.manager_label or {}).values()]
            for text in {t.strip().casefold() for t in texts}:
                if meaning.setdefault(text, option.code) != option.code:
                    self.error(part, path + ("options", index), f"scale '{name}': '{text}' stands for two "
                               f"answers ('{meaning[text]}' and '{option.code}')",
                               "give every answer its own label")
        for lang, text in (scale.not_applicable or {}).items():
            if text.strip().casefold() in meaning:
                self.error(part, path + ("not_applicable", lang), f"scale '{name}': the 'does not apply' "
                           f"label '{text}' is also an answer", "give it a label of its own")
        others = meaning.keys() | {t.strip().casefold() for t in (scale.not_applicable or {}).values()}
        for lang, text in (scale.decline or {}).items():
            if text.strip().casefold() in others:
                self.error(part, path + ("decline", lang), f"scale '{name}': the 'rather not say' label "
                           f"'{text}' is also another answer", "give it a label of its own")

    def _scale_ref(self, part: _Part, path: tuple, name: str, scales: dict, kinds: tuple[m.ScaleKind, ...],
                   what_for: str) -> m.Scale | None:
        if name not in scales:
            self.error(part, path, f"unknown scale '{name}'",
                       did_you_mean(name, scales.keys()) or _one_of(sorted(scales)) if scales
                       else "define it under 'scales:'")
            return None
        scale = scales[name][0]
        if scale.kind not in kinds:
            self.error(part, path, f"{what_for} needs a {' or '.join(k.value for k in kinds)} scale; "
                       f"'{name}' is {scale.kind.value}", "pick another scale")
            return None
        return scale

    # -- items
    def _check_items(self, scales: dict, dimensions: dict) -> None:
        seen_ids: dict[str, Location] = {}
        seen_sections: dict[str, Location] = {}
        for part in self.parts:
            for s_index, section in enumerate(part.qfile.sections):
                s_path = ("sections", s_index)
                if section.id in seen_sections:
                    self.error(part, s_path + ("id",), f"section id '{section.id}' is used twice "
                               f"(first at {seen_sections[section.id]})", "give each section its own id")
                seen_sections.setdefault(section.id, part.source.where(s_path + ("id",)))
                if not section.items:
                    self.error(part, s_path + ("items",), f"section '{section.id}' has no questions",
                               "add items, or remove the section")
                for i_index, item in enumerate(section.items):
                    path = s_path + ("items", i_index)
                    if item.id in seen_ids:
                        self.error(part, path + ("id",), f"item id '{item.id}' is used twice "
                                   f"(first at {seen_ids[item.id]})", "give every item its own id")
                    seen_ids.setdefault(item.id, part.source.where(path + ("id",)))
                    self._check_item(part, path, item, scales, dimensions)

    def _check_item(self, part: _Part, path: tuple, item: Any, scales: dict, dimensions: dict) -> None:
        if isinstance(item, m.StatementItem):
            self._scale_ref(part, path + ("scale",), item.scale, scales, (m.ScaleKind.ordinal,),
                            f"statement '{item.id}'")
        elif isinstance(item, m.ScoreItem):
            self._scale_ref(part, path + ("scale",), item.scale, scales, (m.ScaleKind.score,), f"score '{item.id}'")
        elif isinstance(item, m.ChoiceItem):
            scale = self._scale_ref(part, path + ("scale",), item.scale, scales,
                                    (m.ScaleKind.nominal, m.ScaleKind.ordinal), f"choice '{item.id}'")
            if scale is not None and item.type == "multiple_choice" and scale.decline:
                self.warn(part, path + ("scale",), f"multiple-choice question '{item.id}' does not offer the "
                          f"'rather not say' answer of scale '{item.scale}': every option is a tick box of its "
                          "own, and a question left blank counts as skipped",
                          "to tell 'none applies' from skipped, give the scale an option 'none of these' with "
                          "'exclusive: true'")
            if scale is not None and item.type == "single_choice" and any(o.exclusive for o in scale.options):
                self.warn(part, path + ("scale",), f"'exclusive' options of scale '{item.scale}' mean "
                          f"nothing on single-choice question '{item.id}' (one answer is exclusive anyway)",
                          "leave 'exclusive' out, or use the scale for multiple-choice questions only")
        elif isinstance(item, m.SituationGrid):
            for key, codes in (("initiative_scale", m.INITIATIVE_CODES), ("effect_scale", m.PACE_EFFECT_CODES)):
                scale = self._scale_ref(part, path + (key,), getattr(item, key), scales, (m.ScaleKind.nominal,),
                                        f"the situation grid's {key}")
                if scale is None:
                    continue
                for index, option in enumerate(scale.options):
                    if option.code not in codes:
                        self.problems.append(Problem(
                            f"the {key.replace('_', ' ')} '{getattr(item, key)}' has code '{option.code}', "
                            "which the pace map does not know",
                            self._scale_part(getattr(item, key), scales).source.where(
                                ("scales", getattr(item, key), "options", index, "code")),
                            did_you_mean(option.code, codes) or _one_of(codes)))
            ids: set[str] = set()
            for index, situation in enumerate(item.situations):
                if situation.id in ids:
                    self.error(part, path + ("situations", index, "id"),
                               f"situation id '{situation.id}' is used twice in '{item.id}'",
                               "give every situation its own id")
                ids.add(situation.id)
        if isinstance(item, (m.StatementItem, m.ScoreItem)) and item.dimension is not None:
            if item.dimension not in dimensions:
                self.error(part, path + ("dimension",), f"unknown dimension '{item.dimension}'",
                           did_you_mean(item.dimension, dimensions.keys())
                           or (_one_of(sorted(dimensions)) if dimensions else "define it under 'dimensions:'"))
            if isinstance(item, m.StatementItem) and item.pole is None:
                self.error(part, path + ("dimension",), f"statement '{item.id}' counts towards "
                           f"'{item.dimension}' but has no 'pole'",
                           "add 'pole: partnership' or 'pole: traditional' (what agreeing points to)")

    def _scale_part(self, name: str, scales: dict) -> _Part:
        return scales[name][1]

    # -- background and derived
    def _check_background(self, background: list, scales: dict) -> None:
        for question, part, index in background:
            scale = self._scale_ref(part, ("background", index, "scale"), question.scale, scales,
                                    (m.ScaleKind.nominal, m.ScaleKind.ordinal), f"background question '{question.id}'")
            if question.source == "form":
                codes = {str(o.code) for o in scale.options} if scale else set()
                if question.id != "role" or not {"employee", "manager"} <= codes:
                    self.error(part, ("background", index, "source"), f"only the 'role' question (with options "
                               f"employee and manager) can be filled in by the form, not '{question.id}'",
                               "use 'source: respondent'")
        if not any(q.id == "role" for q, _, _ in background) and self.top.qfile.background:
            self.warn(self.top, ("background",), "no background question 'role': managers and employees "
                      "cannot be compared", "add a 'role' question with options employee and manager")

    def _check_derived(self, derived: list, scales: dict, dimensions: dict) -> None:
        bases: dict[str, str] = {}  # id -> what it is measured on: a scale name or '0-100'
        reversed_items: set[str] = set()
        for item in (i for part in self.parts for s in part.qfile.sections for i in s.items):
            if isinstance(item, (m.StatementItem, m.ScoreItem)):
                bases[item.id] = item.scale
                if getattr(item, "pole", None) == m.Pole.traditional:
                    reversed_items.add(item.id)
        for name in dimensions:
            bases[name] = "0-100"
        for score, part, index in derived:
            found: set[str] = set()
            for o_index, ref in enumerate(score.of):
                if ref not in bases:
                    self.error(part, ("derived", index, "of", o_index), f"derived score '{score.id}' uses "
                               f"'{ref}', which is not a statement, score, dimension or earlier derived score",
                               did_you_mean(ref, bases.keys()) or "check the id")
                    continue
                found.add(bases[ref])
                if ref in reversed_items:
                    self.error(part, ("derived", index, "of", o_index), f"derived score '{score.id}' averages "
                               f"'{ref}' as answered, but it is traditional-keyed and would not be reversed",
                               "average its dimension instead, or leave it out")
            if len(found) > 1:
                self.error(part, ("derived", index, "of"), f"derived score '{score.id}' mixes answers on "
                           f"different scales ({', '.join(sorted(found))})", "average only like with like")
            if score.id in bases:
                self.error(part, ("derived", index, "id"), f"derived score id '{score.id}' is already used",
                           "give it its own id")
            bases[score.id] = found.pop() if len(found) == 1 else "?"

    def _check_unused(self, scales: dict, dimensions: dict) -> None:
        used: set[str] = set()
        for part in self.parts:
            for section in part.qfile.sections:
                for item in section.items:
                    for key in ("scale", "initiative_scale", "effect_scale"):
                        if getattr(item, key, None):
                            used.add(getattr(item, key))
            used.update(q.scale for q in part.qfile.background)
        for name, (_, part) in scales.items():
            if name not in used:
                self.warn(part, ("scales", name), f"scale '{name}' is not used by any question",
                          "remove it or use it")
        for name, (_, part) in dimensions.items():
            items = [i for p in self.parts for s in p.qfile.sections for i in s.items
                     if isinstance(i, (m.StatementItem, m.ScoreItem)) and i.dimension == name]
            if not items:
                self.warn(part, ("dimensions", name), f"dimension '{name}' has no questions",
                          "add statements with 'dimension: " + name + "'")
            elif not any(getattr(i, "pole", None) == m.Pole.traditional for i in items):
                self.warn(part, ("dimensions", name), f"dimension '{name}' has no reverse-keyed "
                          "(pole: traditional) statement, so agreeing with everything inflates its score",
                          "add at least one statement where agreeing points to the traditional model")


# --------------------------------------------------------------------------- many files

@dataclass
class ValidationReport:
    path: Path
    questionnaire: m.Questionnaire | None
    errors: list[Problem]
    warnings: list[Problem]
    plain: list[LanguageSummary] = field(default_factory=list)  # per-language plain-language summary

    @property
    def ok(self) -> bool:
        return not self.errors


def validate(path: Path, *, plain_language: bool = True, strict: bool = False) -> ValidationReport:
    """Load and check a questionnaire and the translation files beside it (or beside the files
    it includes); given a translation file, the questionnaire it translates is validated. With
    `plain_language`, also check every text a respondent reads (its own and the form wording)
    for B1 readers. `strict` makes every warning an error."""
    from survey.questionnaire import translation

    match = translation._NAME.match(Path(path).name)
    if match and (Path(path).parent / f"{match['stem']}.yaml").is_file():
        path = Path(path).parent / f"{match['stem']}.yaml"
    try:
        result = load_questionnaire(path)
    except QuestionnaireError as exc:
        return ValidationReport(path, None, [p for p in exc.problems if p.severity == "error"],
                                [p for p in exc.problems if p.severity != "error"])
    errors: list[Problem] = []
    warnings = list(result.warnings)
    try:
        found = translation.find_translations(result.questionnaire)
    except QuestionnaireError as exc:
        return ValidationReport(path, None, exc.problems, warnings)
    for t in found.values():
        for problem in translation.check_translation(result.questionnaire, t):
            (errors if problem.severity == "error" else warnings).append(problem)
    summaries: list[LanguageSummary] = []
    if plain_language:
        q = result.questionnaire
        units = []
        extra = []
        for source_path in q.sources:
            qfile, source = parse_file(Path(source_path))
            units += plain.questionnaire_units(source, q.languages, top=source_path == q.sources[-1])
            if qfile.plain_language is not None:
                extra.append(qfile.plain_language.jargon)
        units += plain.wording_units(q.languages)
        checked = plain.check_units(units, plain.merged_jargon(extra))
        warnings += checked.warnings
        summaries = checked.summaries
    if strict and warnings:
        errors += [Problem(p.what, p.where, p.fix, severity="error") for p in warnings]
        warnings = []
    return ValidationReport(path, None if errors else result.questionnaire, errors, warnings, summaries)


def bundled_questionnaires() -> list[m.Questionnaire]:
    return [load_questionnaire(path).questionnaire for path in bundled_paths()]


def json_schema() -> dict:
    schema = m.QuestionnaireFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
